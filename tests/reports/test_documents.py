"""The documents a bureau sends as they are: numbers, the notice, the summary, the report.

Read back from the rendered PDFs with poppler, as a reader would read them.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from reports import selectors, services
from reports.enums import ReportKind
from reports.models import DocumentNumber, DocumentNumberCounter, ReportArtifact
from rounds.enums import AssignmentStatus, ConflictKind
from rounds.models import Assignment, ConflictOfInterest
from schools.models import School
from scoring.models import Score
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db

ROUNDING_NOTE = "各分项得分与总分分别四舍五入保留两位小数，分项之和与总分可能在最后一位相差"


def _compact(text: str) -> str:
    return "".join(text.split())


def _render(result_set_id: int, kind: str, school_id: int | None = None) -> str:
    artifact = services.report_artifact_render(
        result_set_id=result_set_id, kind=kind, school_id=school_id
    )
    return _compact(pdf_text(Path(artifact.file.path)))


# ------------------------------------------------------------ document numbers


def test_numbers_run_per_kind_and_year_of_issue_and_are_kept(small_round):
    result_set = small_round.result_set
    first, second, third = small_round.schools
    dec = dt.date(2026, 12, 5)

    a = services.document_number_issue(
        result_set=result_set, kind=ReportKind.SCHOOL_REPORT, school_id=first.pk, today=dec
    )
    b = services.document_number_issue(
        result_set=result_set, kind=ReportKind.SCHOOL_REPORT, school_id=second.pk, today=dec
    )
    notice = services.document_number_issue(
        result_set=result_set, kind=ReportKind.RECTIFICATION_NOTICE, school_id=second.pk, today=dec
    )
    next_year = services.document_number_issue(
        result_set=result_set,
        kind=ReportKind.SCHOOL_REPORT,
        school_id=third.pk,
        today=dt.date(2027, 1, 4),
    )
    again = services.document_number_issue(
        result_set=result_set,
        kind=ReportKind.SCHOOL_REPORT,
        school_id=first.pk,
        today=dt.date(2027, 2, 1),
    )

    assert (a.year, a.number) == (2026, 1)
    assert (b.year, b.number) == (2026, 2)
    assert (notice.year, notice.number) == (2026, 1)
    assert (next_year.year, next_year.number) == (2027, 1)
    assert again.pk == a.pk and again.issued_on == dec  # issued once, kept
    assert a.text == "厦人社评报〔2026〕1号"
    assert notice.text == "厦人社评整〔2026〕1号"
    counters = {
        (counter.kind, counter.year): counter.last_number
        for counter in DocumentNumberCounter.objects.all()
    }
    assert counters == {
        (ReportKind.SCHOOL_REPORT, 2026): 2,
        (ReportKind.RECTIFICATION_NOTICE, 2026): 1,
        (ReportKind.SCHOOL_REPORT, 2027): 1,
    }


def test_the_database_refuses_a_number_twice(small_round):
    issued = services.document_number_issue(
        result_set=small_round.result_set,
        kind=ReportKind.SCHOOL_REPORT,
        school_id=small_round.schools[0].pk,
    )
    duplicate = DocumentNumber(
        result_set=small_round.result_set,
        kind=issued.kind,
        school=small_round.schools[1],
        year=issued.year,
        number=issued.number,
        prefix=issued.prefix,
        issued_on=issued.issued_on,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentNumberCounter.objects.create(kind=issued.kind, year=issued.year)


def test_the_prefix_comes_from_the_settings(small_round, settings):
    settings.DOCUMENT_NUMBER_PREFIX = {ReportKind.RECTIFICATION_NOTICE: "厦人社评"}
    notice = services.document_number_issue(
        result_set=small_round.result_set,
        kind=ReportKind.RECTIFICATION_NOTICE,
        school_id=small_round.schools[1].pk,
        today=dt.date(2026, 12, 5),
    )
    assert notice.text == "厦人社评〔2026〕1号"
    settings.DOCUMENT_NUMBER_PREFIX = "榕人社评"
    summary = services.document_number_issue(
        result_set=small_round.result_set,
        kind=ReportKind.ROUND_SUMMARY,
        today=dt.date(2026, 12, 5),
    )
    assert summary.text == "榕人社评汇〔2026〕1号"


# ------------------------------------------------------- rectification notice


def test_the_notice_shows_consolidated_scores_deadline_and_consequence(small_round):
    failing = small_round.schools[1]
    result_set = small_round.result_set
    text = _render(result_set.pk, ReportKind.RECTIFICATION_NOTICE, failing.pk)

    document = selectors.document_number_of(
        result_set_id=result_set.pk, kind=ReportKind.RECTIFICATION_NOTICE, school_id=failing.pk
    )
    issued = document.issued_on
    assert _compact(document.text) in text
    assert f"〔{issued.year}〕" in text  # the year of issue, not the round's cycle
    assert f"{issued.year}年{issued.month}月{issued.day}日" in text
    # no expert by label or with an individual score
    assert re.search(r"专家\d", text) is None, text
    assert "分）：" not in text
    # the failed veto item with its consolidated score, and the group's reason
    context = selectors.rectification_notice_context(result_set=result_set, school_id=failing.pk)
    veto = next(line for line in context["items"] if line.indicator.code == "A1.1")
    assert f"{veto.score}/{veto.max_points}" in text
    assert "未达标" in text
    for line in context["items"]:
        assert f"{line.score}/{line.max_points}" in text
        for reason in line.reasons:
            assert _compact(reason) in text
    deadline = context["deadline"]
    assert f"请于{deadline.year}年{deadline.month}月{deadline.day}日前完成整改" in text
    assert "逾期或复查不合格的后果" in text and "吊销" in text
    assert "整改要求" in text


# ---------------------------------------------------------------- the summary


# the reliability method's name and the result version (v1) are codes, not words
ALLOWED_LATIN = {"ICC", "K"}
INDICATOR_CODE = re.compile(r"^(?:[A-Z](?:\d+(?:\.\d+)*)?|v\d+)$")


def test_the_summary_speaks_chinese_explains_the_icc_and_lists_each_recusal_once(demo_round):
    round, result_set = demo_round
    recused = Assignment.objects.filter(round=round, status=AssignmentStatus.RECUSED)
    assert any(a.recusal_reason.startswith("Conflict of interest") for a in recused)
    # a recusal whose conflict was recorded too: one fact, one row
    assert any(
        ConflictOfInterest.objects.filter(evaluator=a.evaluator, school=a.school).exists()
        for a in recused
    )

    text = _render(result_set.pk, ReportKind.ROUND_SUMMARY)

    codes = set(School.objects.values_list("code", flat=True))
    words = {
        word
        for word in re.findall(r"[A-Za-z][A-Za-z0-9.\-]*", text)
        if word not in ALLOWED_LATIN
        and not INDICATOR_CODE.match(word)
        and not any(word.startswith(code) for code in codes)
    }
    assert words == set(), words
    assert "Conflict" not in text
    assert "评分者信度" in text
    reliability = selectors.reliability_reading(result_set.statistics["reliability"])
    assert _compact(reliability["meaning"]) in text
    assert "为负值或无法计算时，说明这些评分不足以估计一致性" in text
    recusal_table = text[text.index("回避记录") :]
    for assignment in recused:
        name = f"{assignment.evaluator.last_name}{assignment.evaluator.first_name}"
        assert recusal_table.count(name + _compact(assignment.school.name_zh)) == 1
    assert ROUNDING_NOTE in text


@pytest.mark.parametrize(
    ("stored", "estimable", "says"),
    [
        ({"value": -0.16, "k": 5, "targets": 40}, False, "无法从这些评分估计专家之间的一致性"),
        ({"value": None, "reason": "scores do not vary"}, False, "无法估计专家之间的一致性"),
        ({"value": None, "reason": "fewer than 2 raters"}, False, "少于 2 位"),
        ({"value": 0.62, "k": 5, "targets": 40}, True, "一致性一般"),
        ({"value": 0.944, "k": 5, "targets": 40}, True, "一致性很好"),
    ],
)
def test_the_icc_is_read_in_words(stored, estimable, says):
    reading = selectors.reliability_reading(stored)
    assert reading["estimable"] is estimable
    assert says in reading["meaning"]
    assert not re.search(r"[A-Za-z]{3,}", reading["meaning"])


def test_a_recorded_conflict_and_its_recusal_make_one_row(small_round):
    expert, school = small_round.experts[2], small_round.schools[0]
    conflict = ConflictOfInterest.objects.create(
        evaluator=expert, school=school, kind=ConflictKind.DECLARED, reason="曾在该校任职"
    )
    assignment = Assignment.objects.get(round=small_round.round, evaluator=expert, school=school)
    assignment.status = AssignmentStatus.RECUSED
    assignment.recusal_reason = "Conflict of interest: 曾在该校任职"
    rows = selectors.recusal_rows(
        recused=[assignment], conflicts=[conflict], names={expert.pk: "张三"}
    )
    assert rows == [
        {
            "name": "张三",
            "school": school,
            "reason": "利益冲突（本人申报）：曾在该校任职",
            "action": "已回避，撤回评估任务",
        }
    ]
    alone = selectors.recusal_rows(recused=[assignment], conflicts=[], names={})
    assert alone[0]["reason"] == "利益冲突：曾在该校任职"


# ------------------------------------------------------------ the school report


def test_each_reason_once_in_a_school_report_with_the_rounding_note(small_round):
    failing = small_round.schools[1]
    result_set = small_round.result_set
    # one distinct reason per observation point, given by every expert who deducted
    for score in Score.objects.filter(sheet__school=failing, sheet__round=small_round.round):
        if score.points is not None and score.points < score.max_points:
            score.deduction_reason = f"缺少{score.indicator.code}的佐证"
            score.save(update_fields=["deduction_reason"])

    text = _render(result_set.pk, ReportKind.SCHOOL_REPORT, failing.pk)

    context = selectors.school_report_context(result_set=result_set, school_id=failing.pk)
    assert context["rectify"], "the failing school has items to rectify"
    shown = [line for line in context["lines"] if line.is_leaf and line.reasons]
    assert shown
    for line in shown:
        assert len(line.reasons) == 1
        reason = f"缺少{line.indicator.code}的佐证"
        assert line.reasons[0].startswith(reason)
        assert text.count(reason) == 1, (reason, text.count(reason))
    assert re.search(r"专家\d", text) is None
    assert "怎样阅读本报告" in text
    assert "组内平均" in text and "学校在该维度的平均得分" in text
    assert "自评差" in text and "学校自评分减去最终得分" in text
    assert ROUNDING_NOTE in text
    assert text.count("总分") >= 2
    assert ReportArtifact.objects.filter(kind=ReportKind.SCHOOL_REPORT).get().page_count <= 6


def test_reasons_of_points_that_lost_nothing_are_left_out(small_round):
    school = small_round.schools[0]
    context = selectors.school_report_context(
        result_set=small_round.result_set, school_id=school.pk
    )
    for line in context["lines"]:
        if line.is_leaf and line.score is not None and line.score >= line.max_points:
            assert line.reasons == ()
    assert context["grade_bands"] == "优秀 ≥ 90 分，良好 ≥ 80 分，合格 ≥ 60 分，不合格 < 60 分"
    assert context["dimension_total"] == context["total"]
    assert isinstance(context["group_average_total"], Decimal | None)
