"""Frameworks imported from workbooks, and the downloadable template."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from core.errors import DomainError
from reports.framework_xlsx import (
    COLUMNS,
    framework_csv_path,
    framework_import_xlsx,
    framework_template_workbook,
)
from rounds.framework_csv import framework_rows_from_csv
from rounds.models import Framework, Indicator
from tests.fixtures.make_hostile import framework_rows, workbook_bytes

pytestmark = pytest.mark.django_db


def _import(data: bytes, name: str = "导入测试") -> Framework:
    return framework_import_xlsx(
        actor=None,
        upload=io.BytesIO(data),
        name=name,
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
    )


def test_the_template_imports_as_the_sample_csv_does():
    template = framework_template_workbook()
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["指标体系"]
    assert [cell.value for cell in sheet[1]] == [zh for _name, zh, _width in COLUMNS]
    assert sheet.freeze_panes == "C2"
    assert {dv.formula1 for dv in sheet.data_validations.dataValidation} >= {'"是,否"'}
    assert "说明" in workbook.sheetnames

    from_csv = framework_rows_from_csv(framework_csv_path().read_text(encoding="utf-8"))
    framework = _import(template)
    imported = Indicator.objects.filter(framework=framework).select_related("parent")
    assert sorted(
        (row.code, row.parent.code if row.parent else None, row.max_points) for row in imported
    ) == sorted((row.code, row.parent_code, row.max_points) for row in from_csv)
    leaf = Indicator.objects.get(framework=framework, code="A1.1")
    assert leaf.is_veto and leaf.method == "document_review"
    assert leaf.tags == ["compliant_operation"]
    assert len(leaf.required_evidence) == 3


def test_every_problem_is_reported_with_sheet_row_and_column_and_nothing_is_imported():
    rows = framework_rows()
    rows[2][3] = -1  # A1.1 points: row 4, column D
    rows[3][4] = "拍脑袋"  # A1.2 method: row 5, column E
    rows[5][1] = "X9"  # B's indicator under an unknown parent: row 7, column B
    with pytest.raises(DomainError) as caught:
        _import(workbook_bytes(rows))
    problems = caught.value.details
    cells = {(p["sheet"], p["cell"], p["code"]) for p in problems}
    assert ("指标体系", "D4", "bad_number") in cells
    assert ("指标体系", "E5", "unknown_method") in cells
    assert ("指标体系", "B7", "unknown_parent") in cells
    assert all(p["message"].startswith("Sheet “指标体系”, cell ") for p in problems)
    assert not Framework.objects.exists()


def test_tree_problems_point_at_the_row_of_the_indicator():
    rows = framework_rows()
    rows[2][3] = 10  # A1.1: 10 + 12.5 ≠ 25
    with pytest.raises(DomainError) as caught:
        _import(workbook_bytes(rows))
    assert caught.value.code == "xlsx_invalid"
    assert any(p.get("row") for p in caught.value.details)
    assert not Framework.objects.exists()


@pytest.mark.parametrize(
    ("name", "problem", "words"),
    [
        ("formula.xlsx", "formula", "formula"),
        ("wrong_type.xlsx", "wrong_type", "date or time"),
        ("wrong_header.xlsx", "wrong_header", "分数"),
    ],
)
def test_bad_cells_are_refused_naming_the_problem(hostile_dir, name, problem, words):
    with pytest.raises(DomainError) as caught:
        _import((hostile_dir / name).read_bytes())
    details = caught.value.details
    assert problem in {p["code"] for p in details}
    assert any(words in p["message"] for p in details)
    assert not Framework.objects.exists()


def test_wrong_type_names_both_cells(hostile_dir):
    with pytest.raises(DomainError) as caught:
        _import((hostile_dir / "wrong_type.xlsx").read_bytes())
    by_cell = {p["cell"]: p for p in caught.value.details}
    assert by_cell["D4"]["code"] == "wrong_type"
    assert by_cell["D5"]["code"] == "not_a_number"
