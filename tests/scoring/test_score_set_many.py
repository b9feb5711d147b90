"""score_set_many: the rules and audit events of score_set, for many scores at once."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from core.audit import audit_verify
from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from reports.workbook import FIRST_ROW, POINTS, REASON, score_workbook_export, score_workbook_import
from rounds import services as round_services
from rounds.enums import RoundPhase
from rounds.models import Assignment, Indicator
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import Score
from scoring.services import ScoreEntry
from tests.factories import SchoolFactory, UserFactory, make_framework, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sheets(bureau_admin):
    """A round in expert scoring, one evaluator assigned to two schools, a draft sheet for each.

    The framework has 20 observation points: A1.1 … D1.5, 5 points each.
    """
    schools = [SchoolFactory(), SchoolFactory()]
    framework = make_framework(leaves_per_indicator=5, actor=bureau_admin)
    round = make_round(framework=framework, schools=schools, actor=bureau_admin)
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    round_services.evaluation_group_member_add(round=round, actor=bureau_admin, user=evaluator)
    for school in schools:
        round_services.assignment_create(
            round=round, actor=bureau_admin, school=school, evaluator=evaluator
        )
    round.phase = RoundPhase.EXPERT_SCORING
    round.save()
    sheets = [
        services.score_sheet_open(round=round, school=school, actor=evaluator) for school in schools
    ]
    return round, evaluator, sheets


def leaves(round) -> list[Indicator]:  # noqa: ANN001
    return list(
        Indicator.objects.filter(framework=round.framework, children__isnull=True).order_by(
            "order", "code"
        )
    )


def rows(sheet) -> list[tuple]:  # noqa: ANN001
    return [
        (s.indicator.code, s.points, s.max_points, s.not_applicable, s.deduction_reason, s.comment)
        for s in Score.objects.filter(sheet=sheet)
        .select_related("indicator")
        .order_by("indicator__code")
    ]


def score_events(sheet) -> list[tuple]:  # noqa: ANN001
    """The sheet's score.set events in order, without what differs between two sheets."""
    events = AuditEvent.objects.filter(action="score.set", school_id=sheet.school_id).order_by(
        "sequence"
    )
    scores = {str(s.pk): s.indicator.code for s in Score.objects.filter(sheet=sheet)}
    return [
        (
            e.action,
            e.object_type,
            scores[e.object_id],
            e.object_repr,
            e.actor_id,
            e.round_id,
            e.before,
            e.after,
        )
        for e in events
    ]


def one_by_one(sheet, actor, entries: list[ScoreEntry]) -> None:  # noqa: ANN001
    for entry in entries:
        services.score_set(
            sheet=sheet,
            actor=actor,
            indicator=entry.indicator,
            points=entry.points,
            not_applicable=entry.not_applicable,
            deduction_reason=entry.deduction_reason,
            comment=entry.comment,
        )


def test_the_bulk_path_stores_and_audits_what_score_set_does_one_by_one(two_sheets):
    round, evaluator, (sheet_one, sheet_two) = two_sheets
    points = leaves(round)
    earlier = [
        ScoreEntry("A1.1", "3", deduction_reason="旧原因"),
        ScoreEntry("A1.2", "5"),
        ScoreEntry("A1.3", "4.5", deduction_reason="扣分", comment="原备注"),
    ]
    entries = [
        ScoreEntry("A1.1", "5", deduction_reason=" 满分时不留原因 "),  # reason cleared
        ScoreEntry("A1.2", Decimal("5"), comment="  只改备注  "),  # no event, comment stripped
        ScoreEntry("A1.3", "4.5", deduction_reason="扣分", comment="原备注"),  # nothing changes
        ScoreEntry("B1.1", "2.25", deduction_reason="  材料不全  "),
        ScoreEntry("B1.2", None, not_applicable=True, deduction_reason="保留"),
        ScoreEntry(points[10], 4.5, deduction_reason="按对象给出"),  # an Indicator
        ScoreEntry(points[11].pk, "0", deduction_reason="按编号给出"),  # an id
    ]
    for sheet in (sheet_one, sheet_two):
        one_by_one(sheet, evaluator, earlier)

    one_by_one(sheet_one, evaluator, entries)
    stored = services.score_set_many(sheet=sheet_two, actor=evaluator, entries=entries)

    assert rows(sheet_two) == rows(sheet_one)
    assert score_events(sheet_two) == score_events(sheet_one)
    assert [s.indicator.code for s in stored] == [
        "A1.1",
        "A1.2",
        "A1.3",
        "B1.1",
        "B1.2",
        points[10].code,
        points[11].code,
    ]
    assert [s.pk for s in stored] == [
        Score.objects.get(sheet=sheet_two, indicator=s.indicator).pk for s in stored
    ]
    assert len(score_events(sheet_two)) == 3 + 5  # the earlier three, and every change
    assert set(
        AuditEvent.objects.filter(school_id=sheet_two.school_id, action="score.set").values_list(
            "round_id", flat=True
        )
    ) == {round.pk}
    assert audit_verify(in_database=False).ok
    if connection.vendor == "postgresql":
        assert audit_verify().ok


def test_nothing_given_writes_nothing(two_sheets):
    _round, evaluator, (sheet, _other) = two_sheets
    events = AuditEvent.objects.count()
    assert services.score_set_many(sheet=sheet, actor=evaluator, entries=[]) == []
    assert (Score.objects.count(), AuditEvent.objects.count()) == (0, events)


BAD_ENTRIES = [
    (ScoreEntry("A1.2", "13"), "out_of_range"),
    (ScoreEntry("A1.2", "-1", deduction_reason="x"), "out_of_range"),
    (ScoreEntry("A1.2", "abc"), "invalid_number"),
    (ScoreEntry("A1.2", "1.234", deduction_reason="x"), "invalid_number"),
    (ScoreEntry("A1.2", ""), "required"),
    (ScoreEntry("A1.2", "4"), "reason_required"),
    (ScoreEntry("A1.2", "4", deduction_reason="   "), "reason_required"),
    (ScoreEntry("A1", "5"), "unknown_indicator"),  # an indicator, not an observation point
    (ScoreEntry("Z9.9", "5"), "unknown_indicator"),
]


@pytest.mark.parametrize(("entry", "code"), BAD_ENTRIES)
def test_a_bad_entry_is_refused_with_score_sets_code_and_nothing_is_written(
    two_sheets, entry, code
):
    _round, evaluator, (sheet, _other) = two_sheets
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as single:
        one_by_one(sheet, evaluator, [entry])
    assert single.value.code == code
    good = ScoreEntry("A1.1", "5")
    with pytest.raises(DomainError) as bulk:
        services.score_set_many(
            sheet=sheet, actor=evaluator, entries=[good, entry, ScoreEntry("A1.3", "5")]
        )
    assert bulk.value.code == "scores_refused"
    assert bulk.value.details == [
        {
            "index": 1,
            "indicator": entry.indicator,
            "code": code,
            "field": single.value.field,
            "message": str(single.value),
        }
    ]
    assert (Score.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_every_bad_entry_is_reported_at_once(two_sheets):
    round, evaluator, (sheet, _other) = two_sheets
    services.score_set(sheet=sheet, actor=evaluator, indicator="A1.1", points="5")
    before, events = rows(sheet), AuditEvent.objects.count()
    entries = [
        ScoreEntry("A1.1", "1", deduction_reason="有原因"),  # valid
        ScoreEntry("A1.2", "13"),
        ScoreEntry("A1.3", "abc"),
        ScoreEntry("A1.4", "4"),
        ScoreEntry("Z9.9", "5"),
        ScoreEntry("B1.1", "5"),  # valid
        ScoreEntry("A1.1", "5"),  # given twice
        ScoreEntry(leaves(round)[19], "5.5"),
    ]
    with pytest.raises(DomainError) as error:
        services.score_set_many(sheet=sheet, actor=evaluator, entries=entries)
    assert [(p["index"], p["indicator"], p["code"]) for p in error.value.details] == [
        (1, "A1.2", "out_of_range"),
        (2, "A1.3", "invalid_number"),
        (3, "A1.4", "reason_required"),
        (4, "Z9.9", "unknown_indicator"),
        (6, "A1.1", "duplicate_indicator"),
        (7, "D1.5", "out_of_range"),
    ]
    assert str(error.value) == "6 score(s) were refused; nothing was saved."
    assert error.value.details[4]["message"] == "Code A1.1 appears more than once."
    assert (rows(sheet), AuditEvent.objects.count()) == (before, events)


def _not_owner(round, evaluator, sheet, bureau_admin):  # noqa: ANN001, ANN202
    return UserFactory(roles=[Role.EVALUATOR])


def _submitted(round, evaluator, sheet, bureau_admin):  # noqa: ANN001, ANN202
    sheet.status, sheet.submitted_at = SheetStatus.SUBMITTED, "2025-06-01T00:00:00Z"
    sheet.save()
    return evaluator


def _scoring_closed(round, evaluator, sheet, bureau_admin):  # noqa: ANN001, ANN202
    round.phase = RoundPhase.CONSOLIDATION
    round.save()
    return evaluator


def _recused(round, evaluator, sheet, bureau_admin):  # noqa: ANN001, ANN202
    assignment = Assignment.objects.get(round=round, school=sheet.school, evaluator=evaluator)
    round_services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="亲属任职")
    return evaluator


@pytest.mark.parametrize(
    ("situation", "code"),
    [
        (_not_owner, "not_owner"),
        (_submitted, "sheet_locked"),
        (_scoring_closed, "phase_closed"),
        (_recused, "not_assigned"),
    ],
)
def test_a_sheet_that_cannot_be_changed_is_refused_as_score_set_refuses_it(
    two_sheets, bureau_admin, situation, code
):
    round, evaluator, (sheet, _other) = two_sheets
    actor = situation(round, evaluator, sheet, bureau_admin)
    events = AuditEvent.objects.count()
    entries = [ScoreEntry("A1.1", "5"), ScoreEntry("A1.2", "1")]  # the second lacks a reason
    with pytest.raises(DomainError) as single:
        one_by_one(sheet, actor, entries[:1])
    with pytest.raises(DomainError) as bulk:
        services.score_set_many(sheet=sheet, actor=actor, entries=entries)
    assert (bulk.value.code, str(bulk.value)) == (single.value.code, str(single.value))
    assert bulk.value.code == code
    assert (Score.objects.count(), AuditEvent.objects.count()) == (0, events)


def count_queries(sheet, actor, entries: list[ScoreEntry]) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as captured:
        services.score_set_many(sheet=sheet, actor=actor, entries=entries)
    return len(captured.captured_queries)


def test_the_queries_do_not_grow_with_the_scores(two_sheets):
    round, evaluator, (small, large) = two_sheets
    points = leaves(round)
    assert len(points) == 20

    def entries(count: int, value: str) -> list[ScoreEntry]:
        return [ScoreEntry(point, value, deduction_reason="扣分") for point in points[:count]]

    new = (
        count_queries(small, evaluator, entries(2, "4")),
        count_queries(large, evaluator, entries(20, "4")),
    )
    changed = (
        count_queries(small, evaluator, entries(2, "3")),
        count_queries(large, evaluator, entries(20, "3")),
    )
    assert new[0] == new[1]
    assert changed[0] == changed[1]
    # lock and check the sheet, load its points and scores, write, append to the chain
    assert max(new + changed) <= 12
    assert Score.objects.filter(sheet=large, points=Decimal("3")).count() == 20
    assert AuditEvent.objects.filter(action="score.set").count() == 2 * (2 + 20)


def test_a_workbook_upload_writes_each_sheet_through_the_bulk_path(two_sheets):
    round, evaluator, sheets = two_sheets
    schools = [sheet.school for sheet in sheets]
    data = score_workbook_export(round=round, evaluator=evaluator, schools=schools)

    def filled(school, count: int) -> io.BytesIO:  # noqa: ANN001
        workbook = load_workbook(io.BytesIO(data))
        for row in range(FIRST_ROW, FIRST_ROW + count):
            workbook[school.code].cell(row=row, column=POINTS).value = 4
            workbook[school.code].cell(row=row, column=REASON).value = "线下扣分"
        buffer = io.BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        return buffer

    counts = []
    for school, count in ((schools[0], 2), (schools[1], 20)):
        upload = filled(school, count)
        with CaptureQueriesContext(connection) as captured:
            summary = score_workbook_import(round=round, actor=evaluator, upload=upload)
        assert summary.changed == count
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert [len(rows(sheet)) for sheet in sheets] == [2, 20]
    assert AuditEvent.objects.filter(action="score.set").count() == 22
