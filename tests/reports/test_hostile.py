"""Hostile workbooks are refused before they are parsed, with a message naming the problem."""

import datetime as dt
import io

import pytest

from core.errors import DomainError
from core.xlsx_safety import cell_number, workbook_check, workbook_open

ARCHIVE_PROBLEMS = [
    ("zip_bomb.xlsx", "zip_bomb", "zip bomb"),
    ("many_parts.xlsx", "zip_bomb", "parts"),
    ("billion_laughs.xlsx", "xml_entities", "billion laughs"),
    ("external_link.xlsx", "external_link", "external link"),
]


@pytest.mark.parametrize(("name", "problem", "words"), ARCHIVE_PROBLEMS)
def test_the_archive_checks_refuse(hostile_dir, name, problem, words):
    with pytest.raises(DomainError) as caught:
        workbook_check((hostile_dir / name).read_bytes())
    assert caught.value.code == "xlsx_refused"
    assert caught.value.details[0]["problem"] == problem
    assert words in str(caught.value)


@pytest.mark.parametrize(("name", "problem", "words"), ARCHIVE_PROBLEMS)
@pytest.mark.django_db
def test_both_importers_refuse(hostile_dir, name, problem, words, small_round):
    from reports.framework_xlsx import framework_import_xlsx
    from reports.workbook import score_workbook_import

    data = (hostile_dir / name).read_bytes()
    with pytest.raises(DomainError, match=words):
        _framework_import(framework_import_xlsx, data)
    with pytest.raises(DomainError, match=words):
        score_workbook_import(
            round=small_round.round, actor=small_round.experts[0], upload=io.BytesIO(data)
        )


def test_the_limits_come_from_the_settings(hostile_dir, settings):
    settings.XLSX_MAX_UNCOMPRESSED_BYTES = 1000
    with pytest.raises(DomainError, match="zip bomb"):
        workbook_check((hostile_dir / "formula.xlsx").read_bytes())


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all", b"\xd0\xcf\x11\xe0" + b"\0" * 100, b"PK\x03\x04broken"],
)
def test_files_that_are_no_workbook_are_refused(data):
    with pytest.raises(DomainError) as caught:
        workbook_open(io.BytesIO(data))
    assert caught.value.code == "xlsx_refused"


def test_numbers_are_read_strictly():
    import datetime as dt
    from decimal import Decimal

    assert cell_number(8.3) == Decimal("8.3")
    assert cell_number("８．５") == Decimal("8.5")
    assert cell_number(None) is None
    assert cell_number("=SUM(A1:A2)").code == "formula"
    assert cell_number(5, "f").code == "formula"
    assert cell_number(dt.date(2025, 1, 1)).code == "wrong_type"
    assert cell_number(True).code == "wrong_type"
    assert cell_number("abc").code == "not_a_number"
    assert cell_number("nan").code == "not_a_number"


def _with_sheet(sheet_xml: bytes) -> bytes:
    import zipfile

    from tests.fixtures.make_hostile import _normalised, framework_rows, workbook_bytes

    base = workbook_bytes(framework_rows())
    assert zipfile.is_zipfile(io.BytesIO(base))
    return _normalised(base, replace={"xl/worksheets/sheet1.xml": sheet_xml})


ENTITY_SHEET = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
    "</sheetData></worksheet>"
)


def test_a_dtd_behind_padding_is_still_found():
    padded = ('<?xml version="1.0"?>' + "<!-- " + "x" * 20_000 + " -->" + ENTITY_SHEET).encode()
    with pytest.raises(DomainError) as caught:
        workbook_check(_with_sheet(padded))
    assert caught.value.details[0]["problem"] == "xml_entities"


@pytest.mark.django_db
def test_a_dtd_the_scan_misses_is_refused_by_the_parsers(small_round):
    from reports.framework_xlsx import framework_import_xlsx
    from reports.workbook import score_workbook_import

    # a processing instruction that looks like an element makes the scan stop early
    sneaky = ('<?xml version="1.0"?><?note <a?>' + " " * 10_000 + ENTITY_SHEET).encode()
    data = _with_sheet(sneaky)
    workbook_check(data)  # passes the scan …
    with pytest.raises(DomainError) as caught:  # … but not the parser
        _framework_import(framework_import_xlsx, data)
    assert caught.value.code == "xlsx_refused"
    from core.xlsx_safety import CheckedWorkbook

    workbook = CheckedWorkbook(io.BytesIO(data))
    with pytest.raises(DomainError) as caught:
        list(workbook.rows("指标体系"))
    assert caught.value.details[0]["problem"] == "xml_entities"
    assert score_workbook_import  # the offline import reads through CheckedWorkbook


def _framework_import(framework_import_xlsx, data: bytes) -> None:  # noqa: ANN001
    framework_import_xlsx(
        actor=None,
        upload=io.BytesIO(data),
        name="恶意文件",
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
    )
