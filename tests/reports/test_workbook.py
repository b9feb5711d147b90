"""Offline scoring workbooks: export, edit offline, import back under the score rules."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.errors import DomainError
from core.models import AuditEvent
from reports.workbook import (
    FIRST_ROW,
    NOT_APPLICABLE,
    POINTS,
    REASON,
    score_workbook_export,
    score_workbook_import,
)
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoring_round(expert_scoring_round):
    """The small round in expert scoring with expert 1's sheets as drafts."""
    small_round = expert_scoring_round
    ScoreSheet.objects.filter(round=small_round.round, evaluator=small_round.experts[1]).update(
        status=SheetStatus.DRAFT, submitted_at=None
    )
    return small_round


def _edit(data: bytes, sheet: str, changes: dict[tuple[int, int], object]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    for (row, column), value in changes.items():
        workbook[sheet].cell(row=row, column=column).value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _scores(round, evaluator):  # noqa: ANN001, ANN202
    return {
        (s.sheet.school_id, s.indicator.code): (s.points, s.not_applicable, s.deduction_reason)
        for s in Score.objects.filter(
            sheet__round=round, sheet__evaluator=evaluator
        ).select_related("sheet", "indicator")
    }


def test_the_workbook_is_prefilled_protected_and_validated(scoring_round):
    expert = scoring_round.experts[1]
    school = scoring_round.schools[0]
    data = score_workbook_export(round=scoring_round.round, evaluator=expert, schools=[school])
    workbook = load_workbook(io.BytesIO(data))
    assert workbook["_meta"].sheet_state == "veryHidden"
    assert workbook.security.lockStructure
    sheet = workbook[school.code]
    assert sheet.protection.sheet
    assert sheet.freeze_panes == f"D{FIRST_ROW}"
    assert [c.value for c in sheet[FIRST_ROW - 1]][:7] == [
        "编码",
        "维度 / 指标",
        "观测点",
        "评分标准",
        "评估方式",
        "满分",
        "得分",
    ]
    types = {dv.type for dv in sheet.data_validations.dataValidation}
    assert types == {"decimal", "list"}
    assert sheet.cell(row=FIRST_ROW, column=POINTS).protection.locked is False
    assert sheet.cell(row=FIRST_ROW, column=1).protection.locked is True
    stored = _scores(scoring_round.round, expert)
    code = sheet.cell(row=FIRST_ROW, column=1).value
    assert (
        Decimal(str(sheet.cell(row=FIRST_ROW, column=POINTS).value)) == stored[(school.pk, code)][0]
    )


def test_a_round_trip_changes_exactly_the_edited_scores(scoring_round):
    round, expert = scoring_round.round, scoring_round.experts[1]
    schools = scoring_round.schools[:2]
    before = _scores(round, expert)
    data = score_workbook_export(round=round, evaluator=expert, schools=schools)
    # untouched workbook: nothing changes, nothing is audited
    events = AuditEvent.objects.count()
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(data))
    assert summary.changed == 0 and summary.unchanged == 16
    assert _scores(round, expert) == before
    assert AuditEvent.objects.count() == events

    sheet_one, sheet_two = schools[0].code, schools[1].code
    workbook = load_workbook(io.BytesIO(data))
    code_one = workbook[sheet_one].cell(row=FIRST_ROW + 1, column=1).value
    code_two = workbook[sheet_two].cell(row=FIRST_ROW + 3, column=1).value
    edited = _edit(
        data, sheet_one, {(FIRST_ROW + 1, POINTS): 3.5, (FIRST_ROW + 1, REASON): "线下复核后扣分"}
    )
    edited = _edit(
        edited, sheet_two, {(FIRST_ROW + 3, NOT_APPLICABLE): "是", (FIRST_ROW + 3, POINTS): None}
    )
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(edited))
    assert summary.changed == 2

    after = _scores(round, expert)
    expected = dict(before)
    expected[(schools[0].pk, code_one)] = (Decimal("3.50"), False, "线下复核后扣分")
    # the reason cell kept its text; score_set keeps a reason on a not-applicable point
    expected[(schools[1].pk, code_two)] = (None, True, before[(schools[1].pk, code_two)][2])
    assert after == expected
    assert AuditEvent.objects.filter(action="score.set").count() >= 2


def test_every_bad_cell_is_reported_and_nothing_is_saved(scoring_round):
    round, expert = scoring_round.round, scoring_round.experts[1]
    school = scoring_round.schools[0]
    before = _scores(round, expert)
    data = score_workbook_export(round=round, evaluator=expert, schools=[school])
    edited = _edit(
        data,
        school.code,
        {
            (FIRST_ROW, POINTS): 1,  # a deduction … (valid with a reason)
            (FIRST_ROW, REASON): "有扣分原因",
            (FIRST_ROW + 1, POINTS): "=1+1",  # formula
            (FIRST_ROW + 2, POINTS): "很好",  # not a number
            (FIRST_ROW + 3, POINTS): 99,  # above the maximum
            (FIRST_ROW + 4, POINTS): 0.5,  # deduction without a reason
            (FIRST_ROW + 4, REASON): None,
            (FIRST_ROW + 5, NOT_APPLICABLE): "也许",
            (FIRST_ROW + 6, POINTS): dt.datetime(2025, 3, 1),  # a date
            (FIRST_ROW + 7, POINTS): True,  # a true/false value
        },
    )
    with pytest.raises(DomainError) as caught:
        score_workbook_import(round=round, actor=expert, upload=io.BytesIO(edited))
    by_cell = {p["cell"]: p["code"] for p in caught.value.details}
    assert by_cell == {
        f"G{FIRST_ROW + 1}": "formula",
        f"G{FIRST_ROW + 2}": "not_a_number",
        f"G{FIRST_ROW + 3}": "out_of_range",
        f"I{FIRST_ROW + 4}": "reason_required",
        f"H{FIRST_ROW + 5}": "wrong_type",
        f"G{FIRST_ROW + 6}": "wrong_type",
        f"G{FIRST_ROW + 7}": "wrong_type",
    }
    assert all(p["sheet"] == school.code for p in caught.value.details)
    assert _scores(round, expert) == before  # the valid first cell was not saved either


def test_a_refusal_by_the_service_rolls_everything_back(scoring_round):
    round, expert = scoring_round.round, scoring_round.experts[1]
    schools = scoring_round.schools[:2]
    data = score_workbook_export(round=round, evaluator=expert, schools=schools)
    # the second school's sheet gets submitted meanwhile: score_set refuses it
    ScoreSheet.objects.filter(round=round, evaluator=expert, school=schools[1]).update(
        status=SheetStatus.SUBMITTED, submitted_at="2025-06-01T00:00:00Z"
    )
    before = _scores(round, expert)
    edited = _edit(data, schools[0].code, {(FIRST_ROW, POINTS): 0, (FIRST_ROW, REASON): "未达标"})
    edited = _edit(edited, schools[1].code, {(FIRST_ROW, POINTS): 0, (FIRST_ROW, REASON): "未达标"})
    with pytest.raises(DomainError) as caught:
        score_workbook_import(round=round, actor=expert, upload=io.BytesIO(edited))
    assert [p["code"] for p in caught.value.details] == ["sheet_locked"]
    assert caught.value.details[0]["sheet"] == schools[1].code
    assert _scores(round, expert) == before


def test_submit_locks_the_sheets(scoring_round):
    round, expert = scoring_round.round, scoring_round.experts[1]
    school = scoring_round.schools[2]
    data = score_workbook_export(round=round, evaluator=expert, schools=[school])
    summary = score_workbook_import(round=round, actor=expert, upload=io.BytesIO(data), submit=True)
    assert summary.submitted == 1
    sheet = ScoreSheet.objects.get(round=round, evaluator=expert, school=school)
    assert sheet.status == SheetStatus.SUBMITTED


def test_another_evaluators_workbook_is_refused(scoring_round):
    round = scoring_round.round
    data = score_workbook_export(
        round=round, evaluator=scoring_round.experts[1], schools=[scoring_round.schools[0]]
    )
    with pytest.raises(DomainError) as caught:
        score_workbook_import(round=round, actor=scoring_round.experts[2], upload=io.BytesIO(data))
    assert caught.value.details[0]["code"] == "wrong_evaluator"


def test_a_renamed_heading_is_refused(scoring_round):
    round, expert = scoring_round.round, scoring_round.experts[1]
    school = scoring_round.schools[0]
    data = score_workbook_export(round=round, evaluator=expert, schools=[school])
    edited = _edit(data, school.code, {(FIRST_ROW - 1, POINTS): "分数"})
    with pytest.raises(DomainError) as caught:
        score_workbook_import(round=round, actor=expert, upload=io.BytesIO(edited))
    assert caught.value.details[0]["code"] == "wrong_header"
    assert caught.value.details[0]["cell"] == f"G{FIRST_ROW - 1}"
