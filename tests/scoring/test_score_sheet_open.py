"""Opening one's score sheet: created while scoring, given back later, refused once recused."""

import pytest

from core.enums import Role
from core.errors import DomainError
from rounds import services as round_services
from rounds.enums import RoundPhase
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet
from tests.factories import SchoolFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db

LEAVES = ["A1.1", "A1.2", "B1.1", "B1.2", "C1.1", "C1.2", "D1.1", "D1.2"]


@pytest.fixture
def assigned(bureau_admin):
    school = SchoolFactory()
    round = make_round(schools=[school], actor=bureau_admin)
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    round_services.evaluation_group_member_add(round=round, actor=bureau_admin, user=evaluator)
    assignment = round_services.assignment_create(
        round=round, actor=bureau_admin, school=school, evaluator=evaluator
    )
    round.phase = RoundPhase.EXPERT_SCORING
    round.save()
    return round, school, evaluator, assignment


def test_an_evaluator_recused_after_beginning_a_sheet_cannot_open_it(assigned, bureau_admin):
    round, school, evaluator, assignment = assigned
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    round_services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="前雇主")

    with pytest.raises(DomainError) as refused:
        services.score_sheet_open(round=round, school=school, actor=evaluator)

    assert refused.value.code == "not_assigned"
    assert ScoreSheet.objects.filter(pk=sheet.pk).count() == 1


def test_a_recused_evaluator_without_a_sheet_gets_none(assigned, bureau_admin):
    round, school, evaluator, assignment = assigned
    round_services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="前雇主")

    with pytest.raises(DomainError) as refused:
        services.score_sheet_open(round=round, school=school, actor=evaluator)

    assert refused.value.code == "not_assigned"
    assert ScoreSheet.objects.filter(round=round).count() == 0


def test_a_submitted_sheet_is_given_back_after_scoring_closed(assigned):
    round, school, evaluator, _assignment = assigned
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    for code in LEAVES:
        services.score_set(sheet=sheet, actor=evaluator, indicator=code, not_applicable=True)
    services.score_sheet_submit(sheet=sheet, actor=evaluator)
    round.phase = RoundPhase.CONSOLIDATION
    round.save()

    opened = services.score_sheet_open(round=round, school=school, actor=evaluator)

    assert (opened.pk, opened.status) == (sheet.pk, SheetStatus.SUBMITTED)
