"""The database itself refuses impossible scores and duplicate sheets."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from rounds.models import Indicator
from scoring.enums import SheetStatus
from scoring.models import AuditScore, Score, ScoreSheet, SelfAssessment, SelfScore
from tests.factories import SchoolFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet():
    school = SchoolFactory()
    round = make_round(schools=[school])
    return ScoreSheet.objects.create(round=round, school=school, evaluator=UserFactory())


def leaf(round) -> Indicator:  # noqa: ANN001
    return Indicator.objects.get(framework=round.framework, code="B1.1")


def test_score_above_maximum_is_refused_by_the_database(sheet):
    point = leaf(sheet.round)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            sheet=sheet,
            indicator=point,
            points=point.max_points + Decimal("0.01"),
            max_points=point.max_points,
        )
    assert Score.objects.count() == 0


def test_negative_score_is_refused_by_the_database(sheet):
    point = leaf(sheet.round)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            sheet=sheet, indicator=point, points=Decimal("-0.5"), max_points=point.max_points
        )


def test_score_at_bounds_is_accepted(sheet):
    point = leaf(sheet.round)
    Score.objects.create(
        sheet=sheet, indicator=point, points=point.max_points, max_points=point.max_points
    )
    other = Indicator.objects.get(framework=sheet.round.framework, code="B1.2")
    Score.objects.create(
        sheet=sheet, indicator=other, points=Decimal(0), max_points=other.max_points
    )
    assert Score.objects.count() == 2


def test_not_applicable_score_cannot_carry_points(sheet):
    point = leaf(sheet.round)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            sheet=sheet,
            indicator=point,
            points=Decimal(1),
            max_points=point.max_points,
            not_applicable=True,
        )


def test_same_point_twice_on_one_sheet_is_refused(sheet):
    point = leaf(sheet.round)
    Score.objects.create(
        sheet=sheet, indicator=point, points=Decimal(1), max_points=point.max_points
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            sheet=sheet, indicator=point, points=Decimal(2), max_points=point.max_points
        )


def test_duplicate_sheet_for_same_evaluator_and_school_is_refused(sheet):
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreSheet.objects.create(round=sheet.round, school=sheet.school, evaluator=sheet.evaluator)
    assert ScoreSheet.objects.count() == 1


def test_submitted_sheet_needs_a_submission_time(sheet):
    sheet.status = SheetStatus.SUBMITTED
    with pytest.raises(IntegrityError), transaction.atomic():
        sheet.save()


def test_self_and_audit_scores_are_range_checked_too(sheet):
    point = leaf(sheet.round)
    assessment = SelfAssessment.objects.create(round=sheet.round, school=sheet.school)
    with pytest.raises(IntegrityError), transaction.atomic():
        SelfScore.objects.create(
            self_assessment=assessment,
            indicator=point,
            points=Decimal(99),
            max_points=point.max_points,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditScore.objects.create(
            round=sheet.round,
            school=sheet.school,
            indicator=point,
            points=Decimal(99),
            max_points=point.max_points,
            auditor=sheet.evaluator,
            reason="复核",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditScore.objects.create(
            round=sheet.round,
            school=sheet.school,
            indicator=point,
            points=Decimal(1),
            max_points=point.max_points,
            auditor=sheet.evaluator,
            reason="",
        )
    assert SelfScore.objects.count() == 0
    assert AuditScore.objects.count() == 0


def test_a_row_reads_its_nodes_in_both_stored_formats():
    from scoring.models import EMPTY_NODE, ResultRow

    row = ResultRow(
        indicator_scores={
            "A": ["20.70", "scored", None],
            "A1.1": [None, "not_applicable", "expert"],
            # the first format, as rows computed before the compact one hold it
            "B": {"score": "3.00", "max": "12.50", "status": "scored", "layer": "audit"},
        }
    )
    assert row.node("A") == ("20.70", "scored", None)
    assert row.node("A1.1").status == "not_applicable"
    assert row.node("A1.1").score is None
    assert row.node("B") == ("3.00", "scored", "audit")
    assert row.node("Z9") is EMPTY_NODE
    assert ResultRow().node("A") == (None, "", None)
