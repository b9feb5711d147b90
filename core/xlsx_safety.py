"""Checks on an uploaded workbook before openpyxl parses it, and cell-level type checks.

An .xlsx file is a zip of XML parts. Before anything is parsed in full, the
archive itself is inspected with bounded reads:

* it is a zip at all, with the parts of a workbook (``[Content_Types].xml``,
  ``xl/workbook.xml``), not a macro-enabled or encrypted file;
* the number of entries and their declared uncompressed size stay under
  ``XLSX_MAX_ENTRIES`` and ``XLSX_MAX_UNCOMPRESSED_BYTES`` (a zip bomb; the
  declared sizes bind, because Python's zip reader never inflates an entry past
  its declared size), and the file itself under ``XLSX_MAX_UPLOAD_BYTES``;
* no XML part declares a DTD or entities (billion laughs, external entities),
  looked for before the root element of every part;
* no external links, OLE objects or other external relationships (a workbook
  that would fetch or refresh data from elsewhere).

Then the cells are read either by openpyxl (``workbook_open``: read-only, with
``defusedxml`` installed, which openpyxl uses when present) or, for large
uploads, by ``CheckedWorkbook``, a streaming reader that keeps only the cells
asked for and whose parser refuses DTDs and entities too. Both keep formulas as
formulas, so the importers can refuse a formula where a number belongs
(``cell_number``). Every refusal is a ``DomainError`` (code ``xlsx_refused``)
whose message names the problem.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import defusedxml.ElementTree as SafeET
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 2000
# A DTD must come before the root element, so the first bytes of a part tell.
PROLOG_BYTES = 4096
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
HYPERLINK_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _refuse(message: str, problem: str, **details: Any) -> DomainError:
    return DomainError(
        message,
        code="xlsx_refused",
        field="file",
        details=[{"problem": problem, "message": message, **details}],
    )


def _read_upload(upload: Any) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    limit = _limit("XLSX_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    return data


def workbook_check(upload: Any) -> bytes:
    """The upload's bytes once the archive passed every check; raises ``DomainError``.

    Reads nothing of a part beyond its first ``PROLOG_BYTES``, except the small
    relationship parts, which are parsed with defusedxml.
    """
    data = _read_upload(upload)
    max_upload = _limit("XLSX_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
    if len(data) > max_upload:
        raise _refuse(
            _("The file is larger than %(limit)d MB; split it or remove what is not needed.")
            % {"limit": max_upload // 2**20},
            "too_large",
        )
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise _refuse(
            _(
                "The file is an encrypted or old-format (.xls) workbook; save it as an "
                "unprotected Excel workbook (.xlsx)."
            ),
            "not_xlsx",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _refuse(_("The file is not an Excel workbook (.xlsx)."), "not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _refuse(
            _("The workbook is damaged: %(error)s.") % {"error": error}, "damaged"
        ) from None
    with archive:
        _check_entries(entries)
        names = {entry.filename for entry in entries}
        missing = [part for part in REQUIRED_PARTS if part not in names]
        if missing:
            raise _refuse(
                _("The file is not an Excel workbook (.xlsx): it has no %(part)s.")
                % {"part": missing[0]},
                "not_xlsx",
            )
        for entry in entries:
            _check_entry(archive, entry)
    return data


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    max_entries = _limit("XLSX_MAX_ENTRIES", DEFAULT_MAX_ENTRIES)
    if len(entries) > max_entries:
        raise _refuse(
            _(
                "The workbook has %(count)d parts, more than the %(limit)d allowed "
                "(a zip bomb?); it was not opened."
            )
            % {"count": len(entries), "limit": max_entries},
            "zip_bomb",
            entries=len(entries),
        )
    max_size = _limit("XLSX_MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES)
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > max_size:
            raise _refuse(
                _(
                    "The workbook would unpack to more than %(limit)d MB (a zip bomb?); "
                    "it was not opened."
                )
                % {"limit": max_size // 2**20},
                "zip_bomb",
                part=entry.filename,
            )
        if entry.flag_bits & 0x1:
            raise _refuse(_("The workbook is encrypted; save it without a password."), "encrypted")


def _check_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    name = entry.filename
    lowered = name.lower()
    if lowered.startswith("xl/externallinks/"):
        raise _refuse(
            _(
                "The workbook links to another workbook (external link in %(part)s); "
                "remove the link (Data → Edit Links → Break Link) and upload again."
            )
            % {"part": name},
            "external_link",
            part=name,
        )
    if lowered.endswith("vbaproject.bin"):
        raise _refuse(
            _("The workbook contains macros; save it as a plain .xlsx workbook."),
            "macros",
            part=name,
        )
    if lowered.startswith(("xl/embeddings/", "xl/activex/")):
        raise _refuse(
            _("The workbook contains embedded objects (%(part)s); remove them.") % {"part": name},
            "embedded_object",
            part=name,
        )
    if not lowered.endswith((".xml", ".rels", ".vml")):
        return
    try:
        with archive.open(entry) as stream:
            prolog = _prolog(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _refuse(
            _("The workbook is damaged (%(part)s: %(error)s).") % {"part": name, "error": error},
            "damaged",
            part=name,
        ) from None
    if _DTD.search(prolog):
        raise _refuse(
            _(
                "Part %(part)s declares a DTD or XML entities (an entity-expansion "
                "“billion laughs” attack?); the workbook was refused."
            )
            % {"part": name},
            "xml_entities",
            part=name,
        )
    if lowered.endswith(".rels"):
        _check_relationships(archive, entry)


def _prolog(stream: Any) -> bytes:
    """The bytes of an XML part before its root element (where a DTD would be).

    Read in chunks until an element starts; a part padded with megabytes of
    whitespace or comments is read no further than its declared size allows.
    """
    prolog = b""
    while chunk := stream.read(PROLOG_BYTES):
        prolog += chunk
        body = _COMMENT.sub(b"", prolog)
        if _ROOT.search(body):
            return body
    return _COMMENT.sub(b"", prolog)


def _check_relationships(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    try:
        root = SafeET.fromstring(archive.read(entry))
    except Exception as error:  # defusedxml's and the parser's errors alike
        raise _refuse(
            _("The workbook is damaged (%(part)s: %(error)s).")
            % {"part": entry.filename, "error": error},
            "damaged",
            part=entry.filename,
        ) from None
    for relationship in root.iter(f"{_RELS_NS}Relationship"):
        external = relationship.get("TargetMode", "").lower() == "external"
        if external and relationship.get("Type") != HYPERLINK_TYPE:
            kind = (relationship.get("Type") or "").rsplit("/", 1)[-1]
            raise _refuse(
                _(
                    "The workbook has an external link (%(kind)s to %(target)s in "
                    "%(part)s); remove it and upload again."
                )
                % {
                    "kind": kind,
                    "target": relationship.get("Target", "")[:80],
                    "part": entry.filename,
                },
                "external_link",
                part=entry.filename,
            )


def workbook_open(upload: Any, *, read_only: bool = True) -> Any:
    """Check the upload (``workbook_check``) and open it with openpyxl.

    Formulas stay formulas (``data_only=False``) so importers see them.
    """
    from openpyxl import load_workbook

    data = workbook_check(upload)
    try:
        return load_workbook(
            io.BytesIO(data), read_only=read_only, data_only=False, keep_links=False
        )
    except DomainError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise _refuse(
            _("The workbook could not be read: %(error)s.") % {"error": error}, "damaged"
        ) from None


# ---------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True)
class CellProblem:
    """Why a cell's content is not what the column needs."""

    code: str  # "formula", "wrong_type", "not_a_number"
    message: str


def is_formula(value: Any, data_type: str | None = None) -> bool:
    return data_type == "f" or (isinstance(value, str) and value.startswith("="))


def cell_text(value: Any, data_type: str | None = None) -> str | CellProblem:
    """A cell as text: strings stripped, whole numbers without “.0”; formulas refused."""
    if value is None:
        return ""
    if is_formula(value, data_type):
        return CellProblem(
            "formula",
            _("holds a formula (%(formula)s); type the text itself") % {"formula": str(value)[:40]},
        )
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def cell_number(value: Any, data_type: str | None = None) -> Decimal | None | CellProblem:
    """A cell as a Decimal (None when empty); formulas, dates, booleans and text refused.

    Numbers typed as text (“8.5”) are accepted: spreadsheets often store them so.
    Floats are taken by their shortest representation, so 8.3 stays 8.3.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if is_formula(value, data_type):
        return CellProblem(
            "formula",
            _("holds a formula (%(formula)s) where a number belongs; type the number itself")
            % {"formula": str(value)[:40]},
        )
    if isinstance(value, bool | dt.datetime | dt.date | dt.time):
        return CellProblem(
            "wrong_type",
            _("holds a %(type)s (%(value)s) where a number belongs")
            % {
                "type": _("true/false value") if isinstance(value, bool) else _("date or time"),
                "value": value,
            },
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    # Full-width digits and point (“８．５”) are what a Chinese keyboard may type.
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return CellProblem(
            "not_a_number", _("“%(value)s” is not a number") % {"value": str(value)[:40]}
        )
    return number


# ------------------------------------------------------- streaming reader

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _expat_parser() -> Any:
    """An expat parser that refuses any DTD or entity declaration (as defusedxml does)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: Any) -> None:
        raise _refuse(_("The workbook declares XML entities; it was refused."), "xml_entities")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    return parser


class CheckedWorkbook:
    """Cells of a checked workbook, streamed from its XML without building cell objects.

    For large uploads (an evaluator's workbook of hundreds of sheets) openpyxl's
    read-only mode spends most of its time creating a cell object per cell; this
    reader keeps only the columns asked for, as ``(value, data_type)`` pairs like
    openpyxl's (``"f"`` for a formula, whose value is its text with “=”, ``"d"``
    for a date, ``"n"``, ``"s"``, ``"b"``, ``"e"``). Every part is parsed with a
    parser that refuses DTDs and entities.
    """

    def __init__(self, upload: Any) -> None:
        self.data = workbook_check(upload)
        self.archive = zipfile.ZipFile(io.BytesIO(self.data))
        try:
            self._paths = self._sheet_paths()
            self._strings = self._shared_strings()
            self._date_styles = self._date_style_indices()
        except DomainError:
            raise
        except Exception as error:  # a broken part of any kind
            raise _refuse(
                _("The workbook could not be read: %(error)s.") % {"error": error}, "damaged"
            ) from None

    @property
    def sheetnames(self) -> list[str]:
        return list(self._paths)

    def close(self) -> None:
        self.archive.close()

    def _parse(self, name: str) -> Any:
        return SafeET.fromstring(self.archive.read(name))

    def _sheet_paths(self) -> dict[str, str]:
        rels = self._parse("xl/_rels/workbook.xml.rels")
        targets = {
            rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_RELS_NS}Relationship")
        }
        workbook = self._parse("xl/workbook.xml")
        paths = {}
        for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
            target = targets.get(sheet.get(_REL_ID), "")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            paths[sheet.get("name", "")] = target
        return paths

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.archive.namelist():
            return []
        strings: list[str] = []
        for item in self._parse("xl/sharedStrings.xml").iter(f"{{{_MAIN_NS}}}si"):
            strings.append("".join(t.text or "" for t in item.iter(f"{{{_MAIN_NS}}}t")))
        return strings

    def _date_style_indices(self) -> frozenset[int]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        if "xl/styles.xml" not in self.archive.namelist():
            return frozenset()
        styles = self._parse("xl/styles.xml")
        formats = dict(BUILTIN_FORMATS)
        for fmt in styles.iter(f"{{{_MAIN_NS}}}numFmt"):
            formats[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        dates = set()
        cell_xfs = next(styles.iter(f"{{{_MAIN_NS}}}cellXfs"), None)
        for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
            if is_date_format(formats.get(int(xf.get("numFmtId", "0")), "")):
                dates.add(index)
        return frozenset(dates)

    def rows(
        self, sheet: str, *, columns: set[int] | None = None
    ) -> Any:  # Iterator[tuple[int, dict[int, tuple[Any, str]]]]
        """``(row number, {column number: (value, data_type)})`` for every row with cells."""
        from openpyxl.utils.cell import column_index_from_string

        ready: list[tuple[int, dict[int, tuple[Any, str]]]] = []
        state: dict[str, Any] = {"row": 0, "cells": {}, "col": 0, "text": None}
        parser = _expat_parser()

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _local(name)
            if tag == "row":
                state["row"] = int(attrs["r"]) if "r" in attrs else state["row"] + 1
                state["cells"], state["col"] = {}, 0
            elif tag == "c":
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    state["col"] = column_index_from_string(letters)
                else:
                    state["col"] += 1
                state["type"] = attrs.get("t", "n")
                state["style"] = int(attrs.get("s", "0"))
                state["value"], state["formula"] = None, None
            elif tag in ("v", "t", "f"):
                state["text"] = []

        def text(data: str) -> None:
            if state["text"] is not None:
                state["text"].append(data)

        def end(name: str) -> None:
            tag = _local(name)
            if tag in ("v", "t", "f"):
                content = "".join(state["text"] or ())
                state["text"] = None
                if tag == "f":
                    state["formula"] = content
                elif tag == "t":
                    state["value"] = (state["value"] or "") + content
                else:
                    state["value"] = content
            elif tag == "c":
                col = state["col"]
                if columns is None or col in columns:
                    state["cells"][col] = self._cell(state)
            elif tag == "row":
                ready.append((state["row"], state["cells"]))

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        parser.buffer_text = True
        try:
            with self.archive.open(self._paths[sheet]) as stream:
                while chunk := stream.read(256 * 1024):
                    parser.Parse(chunk, False)
                    yield from ready
                    ready.clear()
                parser.Parse(b"", True)
                yield from ready
        except DomainError:
            raise
        except Exception as error:  # expat, zip or value errors of a broken part
            raise _refuse(
                _("Sheet “%(sheet)s” could not be read: %(error)s.")
                % {"sheet": sheet, "error": error},
                "damaged",
            ) from None

    def _cell(self, state: dict[str, Any]) -> tuple[Any, str]:
        if state["formula"] is not None:
            return "=" + state["formula"], "f"
        kind, value = state["type"], state["value"]
        if value is None:
            return None, "n"
        if kind == "s":
            return self._strings[int(value)], "s"
        if kind in ("inlineStr", "str"):
            return value, "s"
        if kind == "b":
            return value == "1", "b"
        if kind == "e":
            return value, "e"
        number = float(value)
        if state["style"] in self._date_styles:
            from openpyxl.utils.datetime import from_excel

            return from_excel(number), "d"
        return (int(number) if number.is_integer() and "." not in value else number), "n"
