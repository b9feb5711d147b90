"""Reading an indicator framework from CSV text into ``IndicatorData`` rows.

The format is the one of ``rounds/fixtures_data/sample-framework-2025.csv``:
UTF-8 (a leading byte-order mark is accepted), comma-separated, one row per
node of the tree, parents before their children, with the columns

``code``, ``parent`` (empty for a dimension), ``title_zh``, ``title_en``,
``max_points``, ``method`` (on observation points), ``veto`` (``yes`` or
empty), ``tags`` (focus points by their Chinese names, ``;``-separated),
``guidance_zh`` and ``evidence_zh`` (``；``-separated).

Two further columns, ``weight`` and ``veto_pass_mark``, may be added for
frameworks that weight children or set a veto pass mark below full points.

This module checks the *format* (columns, numbers, known methods and tags, row
order) and reports every problem at once, by row and column. Whether the tree
adds up (four dimensions, points summing to the total, methods on leaves) is
checked by ``rounds.services.framework_create``, which the rows are meant for.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

from core.errors import DomainError
from rounds.enums import FOCUS_TAG_BY_CHINESE, FocusTag, IndicatorMethod
from rounds.models import Indicator
from rounds.services import IndicatorData

REQUIRED_COLUMNS: tuple[str, ...] = (
    "code",
    "parent",
    "title_zh",
    "max_points",
    "method",
    "veto",
    "tags",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "title_en",
    "guidance_zh",
    "evidence_zh",
    "weight",
    "veto_pass_mark",
)
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)

VETO_YES = frozenset({"yes", "是"})
VETO_NO = frozenset({"", "no", "否"})
# Full-width separators are what a Chinese keyboard types; both are accepted.
TAG_SEPARATORS = (";", "；")
EVIDENCE_SEPARATORS = ("；", ";")
POINT_PLACES = 2
WEIGHT_PLACES = 4
# The largest value the indicator's DecimalField (7 digits, 2 places) holds.
MAX_POINTS = Decimal("99999.99")


def _field_max_length(name: str) -> int:
    return Indicator._meta.get_field(name).max_length


def _split(value: str, separators: tuple[str, ...]) -> list[str]:
    for separator in separators[1:]:
        value = value.replace(separator, separators[0])
    return [part.strip() for part in value.split(separators[0]) if part.strip()]


class _Problems:
    """Collects problems as ``{"row", "column", "code", "message", "value"}`` dicts."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def add(self, row: int | None, column: str, code: str, message: str, value: str = "") -> None:
        self.items.append(
            {"row": row, "column": column, "code": code, "message": message, "value": value}
        )


def _decimal(
    raw: str,
    *,
    row: int,
    column: str,
    places: int,
    problems: _Problems,
    upper: Decimal = MAX_POINTS,
    zero_allowed: bool = False,
) -> Decimal | None:
    """A decimal above 0 (or from 0 with ``zero_allowed``) up to ``upper``, at most
    ``places`` decimal places; None, with the problem recorded, otherwise."""

    def refuse(message: str) -> None:
        values = {"row": row, "column": column, "value": raw, "places": places, "upper": upper}
        problems.add(row, column, "bad_number", message % values, raw)

    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        refuse(_("Row %(row)d, column %(column)s: “%(value)s” is not a number."))
        return None
    if value < 0 or value > upper or (value == 0 and not zero_allowed):
        refuse(
            _("Row %(row)d, column %(column)s: %(value)s must lie between 0 and %(upper)s.")
            if zero_allowed
            else _(
                "Row %(row)d, column %(column)s: %(value)s must be above 0 and at most %(upper)s."
            )
        )
        return None
    if value != value.quantize(Decimal(1).scaleb(-places)):
        refuse(
            _("Row %(row)d, column %(column)s: %(value)s has more than %(places)d decimal places.")
        )
        return None
    return value


def framework_rows_from_csv(text: str) -> list[IndicatorData]:
    """Parse CSV text into indicator rows for ``framework_create``, in file order.

    Rows are numbered as a spreadsheet shows them: the header is row 1, the
    first indicator row 2.

    Tags: a row that has no tags takes those of its parent. The sample CSV tags
    every indicator (second level); an observation point left untagged thus
    carries its indicator's focus points, so results can be sliced by tag at
    any level below the dimensions. Dimensions stay untagged unless the file
    tags them.

    Raises ``DomainError`` (code ``csv_invalid``) whose ``details`` lists every
    problem found — missing or unknown columns, rows with too many or too few
    cells, empty or duplicate codes, parents on a later row, bad numbers,
    unknown methods, veto values and tags, over-long texts — each with its
    row number and column; nothing is returned half-parsed.
    """
    problems = _Problems()
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        header = None
        problems.add(1, "", "bad_csv", _("Row 1: %(error)s") % {"error": error})
    if header is None:
        if not problems.items:
            problems.add(None, "", "empty", _("The file is empty: it has no header row."))
        raise _csv_invalid(problems)

    columns = [name.strip() for name in header]
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.add(
                1,
                name,
                "missing_column",
                _("The header has no column “%(column)s”.") % {"column": name},
            )
    for name in columns:
        if name not in KNOWN_COLUMNS:
            problems.add(
                1,
                name,
                "unknown_column",
                _("Unknown column “%(column)s”; the known columns are %(known)s.")
                % {"column": name, "known": ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)},
            )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    for name in duplicated:
        problems.add(
            1,
            name,
            "duplicate_column",
            _("Column “%(column)s” appears more than once.") % {"column": name},
        )
    if problems.items:
        # Without a usable header every cell would be misread; report the header only.
        raise _csv_invalid(problems)

    rows: list[IndicatorData] = []
    tags_by_code: dict[str, tuple[str, ...]] = {}
    first_row_of: dict[str, int] = {}
    row_number = 1
    try:
        for cells in reader:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            item = _parse_row(cells, columns, row_number, problems, tags_by_code, first_row_of)
            if item is not None:
                rows.append(item)
    except csv.Error as error:
        problems.add(
            row_number + 1,
            "",
            "bad_csv",
            _("Row %(row)d: %(error)s") % {"row": row_number + 1, "error": error},
        )
    if not rows and not problems.items:
        problems.add(None, "", "empty", _("The file has a header but no indicator rows."))
    if problems.items:
        raise _csv_invalid(problems)
    return rows


def _parse_row(
    cells: list[str],
    columns: list[str],
    row: int,
    problems: _Problems,
    tags_by_code: dict[str, tuple[str, ...]],
    first_row_of: dict[str, int],
) -> IndicatorData | None:
    """One row as ``IndicatorData``, or None when it has a problem (recorded)."""
    before = len(problems.items)
    if len(cells) != len(columns):
        problems.add(
            row,
            "",
            "cell_count",
            _("Row %(row)d has %(found)d cells; the header has %(expected)d.")
            % {"row": row, "found": len(cells), "expected": len(columns)},
        )
        return None
    value = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}

    code = value["code"]
    if not code:
        problems.add(row, "code", "required", _("Row %(row)d: the code is empty.") % {"row": row})
    elif code in first_row_of:
        problems.add(
            row,
            "code",
            "duplicate_code",
            _("Row %(row)d: code %(code)s is used already on row %(first)d.")
            % {"row": row, "code": code, "first": first_row_of[code]},
            code,
        )
    _check_length(value, "code", row, problems)

    parent = value["parent"] or None
    if parent is not None and parent not in first_row_of:
        problems.add(
            row,
            "parent",
            "unknown_parent",
            _("Row %(row)d: parent %(parent)s does not appear on an earlier row.")
            % {"row": row, "parent": parent},
            parent,
        )

    if not value["title_zh"]:
        problems.add(
            row,
            "title_zh",
            "required",
            _("Row %(row)d: the Chinese title is empty.") % {"row": row},
        )
    _check_length(value, "title_zh", row, problems)
    _check_length(value, "title_en", row, problems)

    max_points = _decimal(
        value["max_points"],
        row=row,
        column="max_points",
        places=POINT_PLACES,
        problems=problems,
    )
    weight = None
    if value.get("weight"):
        weight = _decimal(
            value["weight"],
            row=row,
            column="weight",
            places=WEIGHT_PLACES,
            problems=problems,
            upper=Decimal(1),
            zero_allowed=True,
        )
    veto_pass_mark = None
    if value.get("veto_pass_mark"):
        veto_pass_mark = _decimal(
            value["veto_pass_mark"],
            row=row,
            column="veto_pass_mark",
            places=POINT_PLACES,
            problems=problems,
            upper=max_points if max_points is not None else MAX_POINTS,
            zero_allowed=True,
        )

    method = value["method"]
    if method and method not in IndicatorMethod.values:
        problems.add(
            row,
            "method",
            "unknown_method",
            _("Row %(row)d: unknown method “%(method)s”; use one of %(known)s.")
            % {"row": row, "method": method, "known": ", ".join(IndicatorMethod.values)},
            method,
        )

    veto_raw = value["veto"].lower()
    if veto_raw not in VETO_YES | VETO_NO:
        problems.add(
            row,
            "veto",
            "bad_veto",
            _("Row %(row)d: veto must be “yes” or empty, not “%(value)s”.")
            % {"row": row, "value": value["veto"]},
            value["veto"],
        )

    tags: list[str] = []
    for name in _split(value["tags"], TAG_SEPARATORS):
        tag = FOCUS_TAG_BY_CHINESE.get(name) or (name if name in FocusTag.values else None)
        if tag is None:
            problems.add(
                row,
                "tags",
                "unknown_tag",
                _("Row %(row)d: unknown focus tag “%(tag)s”; use %(known)s.")
                % {"row": row, "tag": name, "known": "、".join(FOCUS_TAG_BY_CHINESE)},
                name,
            )
        elif tag not in tags:
            tags.append(str(tag))
    if not tags and parent is not None:
        tags = list(tags_by_code.get(parent, ()))

    if code and code not in first_row_of:
        first_row_of[code] = row
        tags_by_code[code] = tuple(tags)
    if len(problems.items) > before:
        return None
    return IndicatorData(
        code=code,
        parent_code=parent,
        title_zh=value["title_zh"],
        title_en=value.get("title_en", ""),
        max_points=max_points,
        weight=weight,
        method=method,
        is_veto=veto_raw in VETO_YES,
        veto_pass_mark=veto_pass_mark,
        tags=tuple(tags),
        guidance=value.get("guidance_zh", ""),
        required_evidence=tuple(_split(value.get("evidence_zh", ""), EVIDENCE_SEPARATORS)),
    )


def _check_length(value: dict[str, str], column: str, row: int, problems: _Problems) -> None:
    text = value.get(column, "")
    limit = _field_max_length(column)
    if len(text) > limit:
        problems.add(
            row,
            column,
            "too_long",
            _("Row %(row)d, column %(column)s: at most %(limit)d characters, not %(length)d.")
            % {"row": row, "column": column, "limit": limit, "length": len(text)},
            text[:50],
        )


def _csv_invalid(problems: _Problems) -> DomainError:
    return DomainError(
        _("The CSV file has %(count)d problem(s); nothing was imported.")
        % {"count": len(problems.items)},
        code="csv_invalid",
        field="file",
        details=problems.items,
    )


def sample_framework_path() -> Path:
    """The sample framework shipped with the project (the demo's and the xlsx template's)."""
    return Path(__file__).resolve().parent / "fixtures_data" / "sample-framework-2025.csv"
