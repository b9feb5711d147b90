"""The ranking, score-matrix and consistency spreadsheets of a result set."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports.export import consistency_workbook, ranking_workbook, score_matrix_workbook
from scoring.models import ResultRow

pytestmark = pytest.mark.django_db


def test_the_ranking(small_round):
    result_set = small_round.result_set
    workbook = load_workbook(io.BytesIO(ranking_workbook(result_set=result_set)))
    sheet = workbook["排名"]
    assert sheet.freeze_panes == "F4"
    header = [c.value for c in sheet[3]]
    assert header[:7] == ["名次", "组内名次", "组别", "学校编码", "学校名称", "总分", "等级"]
    assert sheet.column_dimensions["E"].width == 34
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    stored = list(ResultRow.objects.filter(result_set=result_set).order_by("rank", "school__code"))
    assert [(r[0], r[3], Decimal(str(r[5])).quantize(Decimal("0.01"))) for r in rows] == [
        (row.rank, row.school.code, row.total) for row in stored
    ]
    assert sheet.cell(row=4, column=6).number_format == "0.00"
    assert "不合格" in {r[6] for r in rows}


def test_the_score_matrix_has_every_school_point_and_evaluator(small_round):
    workbook = load_workbook(io.BytesIO(score_matrix_workbook(result_set=small_round.result_set)))
    sheet = workbook["评分矩阵"]
    assert sheet.freeze_panes == "E4"
    header = [c.value for c in sheet[3]]
    assert len(header) == 5 + 5 + 2
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 3 * 8  # schools × observation points
    assert all(all(v is not None for v in row[5:10]) for row in rows)


def test_the_consistency_workbook(small_round):
    workbook = load_workbook(io.BytesIO(consistency_workbook(result_set=small_round.result_set)))
    assert workbook.sheetnames == ["专家一致性", "分歧观测点", "信度"]
    sheet = workbook["专家一致性"]
    assert [c.value for c in sheet[3]][0] == "专家"
    assert len(list(sheet.iter_rows(min_row=4))) == 5
    assert sheet.cell(row=4, column=5).number_format == "0.0%"
