"""Score sheets, self-assessments, consensus and audit scores through the services."""

from decimal import Decimal

import pytest

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rounds import services as round_services
from rounds.enums import GroupRole, RoundPhase
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import AuditScore, ConsensusScore, Score, SelfScore
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db

LEAVES = ["A1.1", "A1.2", "B1.1", "B1.2", "C1.1", "C1.2", "D1.1", "D1.2"]


@pytest.fixture
def scoring_round(bureau_admin):
    school = SchoolFactory()
    round = make_round(schools=[school], actor=bureau_admin)
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    leader = UserFactory(roles=[Role.GROUP_LEADER, Role.EVALUATOR])
    round_services.evaluation_group_member_add(round=round, actor=bureau_admin, user=evaluator)
    round_services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=leader, role=GroupRole.LEADER
    )
    round_services.assignment_create(
        round=round, actor=bureau_admin, school=school, evaluator=evaluator
    )
    round.phase = RoundPhase.EXPERT_SCORING
    round.save()
    return round, school, evaluator, leader


def test_scores_are_entered_changed_and_audited(scoring_round):
    round, school, evaluator, _leader = scoring_round
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    services.score_set(sheet=sheet, actor=evaluator, indicator="A1.2", points="12.5")
    services.score_set(
        sheet=sheet, actor=evaluator, indicator="A1.2", points="10", deduction_reason="制度不全"
    )
    score = Score.objects.get(sheet=sheet)
    assert (score.points, score.deduction_reason) == (Decimal("10.00"), "制度不全")
    events = AuditEvent.objects.filter(action="score.set").order_by("id")
    assert [e.after["points"] for e in events] == ["12.50", "10.00"]
    assert events[1].before["points"] == "12.50"


@pytest.mark.parametrize(
    ("points", "reason", "code"),
    [
        ("13", "", "out_of_range"),
        ("-1", "x", "out_of_range"),
        ("abc", "", "invalid_number"),
        ("1.234", "x", "invalid_number"),
        ("", "", "required"),
        ("5", "", "reason_required"),
    ],
)
def test_bad_scores_are_refused_and_nothing_changes(scoring_round, points, reason, code):
    round, school, evaluator, _leader = scoring_round
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    with pytest.raises(DomainError) as error:
        services.score_set(
            sheet=sheet, actor=evaluator, indicator="A1.2", points=points, deduction_reason=reason
        )
    assert error.value.code == code
    assert Score.objects.count() == 0


def test_only_assigned_evaluators_in_the_scoring_phase(scoring_round):
    round, school, evaluator, leader = scoring_round
    with pytest.raises(DomainError) as error:
        services.score_sheet_open(round=round, school=school, actor=leader)
    assert error.value.code == "not_assigned"
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    with pytest.raises(DomainError) as error:
        services.score_set(sheet=sheet, actor=leader, indicator="A1.1", points="12.5")
    assert error.value.code == "not_owner"
    round.phase = RoundPhase.CONSOLIDATION
    round.save()
    with pytest.raises(DomainError) as error:
        services.score_set(sheet=sheet, actor=evaluator, indicator="A1.1", points="12.5")
    assert error.value.code == "phase_closed"


def test_submit_needs_every_point_then_locks_the_sheet(scoring_round):
    round, school, evaluator, _leader = scoring_round
    sheet = services.score_sheet_open(round=round, school=school, actor=evaluator)
    for code in LEAVES[:-1]:
        services.score_set(sheet=sheet, actor=evaluator, indicator=code, points="12.5")
    with pytest.raises(DomainError) as error:
        services.score_sheet_submit(sheet=sheet, actor=evaluator)
    assert (error.value.code, error.value.details) == ("incomplete", ["D1.2"])
    services.score_set(sheet=sheet, actor=evaluator, indicator="D1.2", not_applicable=True)
    sheet = services.score_sheet_submit(sheet=sheet, actor=evaluator)
    assert sheet.status == SheetStatus.SUBMITTED and sheet.submitted_at is not None
    with pytest.raises(DomainError) as error:
        services.score_set(
            sheet=sheet, actor=evaluator, indicator="A1.1", points="1", deduction_reason="x"
        )
    assert error.value.code == "sheet_locked"
    assert Score.objects.get(sheet=sheet, indicator__code="A1.1").points == Decimal("12.50")


def test_self_assessment_by_own_staff_only(scoring_round):
    round, school, _evaluator, _leader = scoring_round
    round.phase = RoundPhase.SELF_ASSESSMENT
    round.save()
    staff = StaffMembershipFactory(school=school, user__roles=[Role.SCHOOL_STAFF]).user
    other = StaffMembershipFactory(user__roles=[Role.SCHOOL_STAFF]).user
    with pytest.raises(DomainError) as error:
        services.self_score_set(
            round=round, school=school, actor=other, indicator="A1.1", points="10"
        )
    assert error.value.code == "not_staff"
    for code in LEAVES:
        services.self_score_set(
            round=round, school=school, actor=staff, indicator=code, points="11"
        )
    services.self_assessment_submit(round=round, school=school, actor=staff)
    with pytest.raises(DomainError) as error:
        services.self_score_set(
            round=round, school=school, actor=staff, indicator="A1.1", points="12"
        )
    assert error.value.code == "sheet_locked"
    assert SelfScore.objects.filter(points=Decimal("11")).count() == 8


def test_consensus_by_leader_and_audit_by_bureau_need_reasons(scoring_round, bureau_admin):
    round, school, evaluator, leader = scoring_round
    round.phase = RoundPhase.CONSOLIDATION
    round.save()
    with pytest.raises(DomainError) as error:
        services.consensus_score_set(
            round=round,
            school=school,
            actor=evaluator,
            indicator="A1.1",
            points="10",
            justification="合议",
        )
    assert error.value.code == "not_allowed"
    with pytest.raises(DomainError) as error:
        services.consensus_score_set(
            round=round,
            school=school,
            actor=leader,
            indicator="A1.1",
            points="10",
            justification=" ",
        )
    assert error.value.code == "reason_required"
    services.consensus_score_set(
        round=round,
        school=school,
        actor=leader,
        indicator="A1.1",
        points="10",
        justification="专家组合议",
    )
    services.audit_score_set(
        round=round, school=school, actor=bureau_admin, indicator="A1.1", points="9", reason="复核"
    )
    assert ConsensusScore.objects.get().points == Decimal("10")
    assert AuditScore.objects.get().points == Decimal("9")
    with pytest.raises(DomainError) as error:
        services.audit_score_set(
            round=round,
            school=school,
            actor=bureau_admin,
            indicator="A1",
            points="9",
            reason="复核",
        )
    assert error.value.code == "unknown_indicator"
