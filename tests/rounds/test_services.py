"""Round services: atomic, audited, and refusing what the rules forbid."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rounds import services
from rounds.enums import AssignmentStatus, ConflictKind, FrameworkStatus, GroupRole, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, Framework, Indicator, Round
from tests.factories import SchoolFactory, UserFactory, make_framework, make_round, small_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(bureau_admin):
    schools = [SchoolFactory(), SchoolFactory()]
    round = make_round(schools=schools, actor=bureau_admin)
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    services.evaluation_group_member_add(round=round, actor=bureau_admin, user=evaluator)
    return round, schools, evaluator


def test_framework_create_is_all_or_nothing(bureau_admin):
    rows = small_tree()
    rows[-1] = dataclasses.replace(rows[-1], method="")
    with pytest.raises(DomainError) as error:
        services.framework_create(
            actor=bureau_admin,
            name="坏体系",
            policy_title="办法",
            valid_from=dt.date(2025, 1, 1),
            valid_to=dt.date(2029, 12, 31),
            indicators=rows,
        )
    assert error.value.code == "framework_invalid"
    assert [d["indicator_code"] for d in error.value.details] == ["D1.2"]
    assert Framework.objects.count() == 0
    assert Indicator.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_framework_create_stores_the_tree_and_an_audit_event(bureau_admin):
    framework = make_framework(actor=bureau_admin)
    assert framework.indicators.count() == 16  # 4 dimensions, 4 indicators, 8 points
    assert framework.indicators.get(code="A1.1").level == 3
    assert framework.indicators.get(code="A1.1").parent.code == "A1"
    event = AuditEvent.objects.get(action="framework.create")
    assert event.actor == bureau_admin
    assert event.object_id == str(framework.pk)


def test_a_conflicting_assignment_is_refused(setting, bureau_admin):
    round, (school, _other), evaluator = setting
    services.conflict_record(
        actor=evaluator, evaluator=evaluator, school=school, reason="曾任该校教师"
    )
    with pytest.raises(DomainError) as error:
        services.assignment_create(
            round=round, actor=bureau_admin, school=school, evaluator=evaluator
        )
    assert error.value.code == "conflict_of_interest"
    assert "曾任该校教师" in str(error.value)
    assert Assignment.objects.count() == 0


def test_an_affiliation_with_the_school_is_detected_as_a_conflict(bureau_admin):
    school = SchoolFactory()
    round = make_round(schools=[school], actor=bureau_admin)
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=evaluator,
        affiliation="该校副校长",
        affiliated_school=school,
    )
    with pytest.raises(DomainError) as error:
        services.assignment_create(
            round=round, actor=bureau_admin, school=school, evaluator=evaluator
        )
    assert error.value.code == "conflict_of_interest"
    assert Assignment.objects.count() == 0


def test_a_declared_conflict_recuses_an_existing_assignment(setting, bureau_admin):
    round, (school, other), evaluator = setting
    assignment = services.assignment_create(
        round=round, actor=bureau_admin, school=school, evaluator=evaluator
    )
    services.assignment_create(round=round, actor=bureau_admin, school=other, evaluator=evaluator)
    services.conflict_record(
        actor=evaluator,
        evaluator=evaluator,
        school=school,
        reason="亲属在该校任职",
        kind=ConflictKind.DECLARED,
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.RECUSED
    assert "亲属在该校任职" in assignment.recusal_reason
    assert Assignment.objects.get(school=other).status == AssignmentStatus.ACTIVE
    assert AuditEvent.objects.filter(action="assignment.recuse").count() == 1


def test_assignment_requires_group_membership_and_scope(setting, bureau_admin):
    round, (school, _other), _evaluator = setting
    outsider = UserFactory(roles=[Role.EVALUATOR])
    with pytest.raises(DomainError) as error:
        services.assignment_create(
            round=round, actor=bureau_admin, school=school, evaluator=outsider
        )
    assert error.value.code == "not_in_group"
    with pytest.raises(DomainError) as error:
        services.assignment_create(
            round=round, actor=bureau_admin, school=SchoolFactory(), evaluator=_evaluator
        )
    assert error.value.code == "out_of_scope"


def test_a_group_has_one_leader(setting, bureau_admin):
    round, _schools, _evaluator = setting
    services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=UserFactory(), role=GroupRole.LEADER
    )
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_add(
            round=round, actor=bureau_admin, user=UserFactory(), role=GroupRole.LEADER
        )
    assert error.value.field == "role"


def test_opening_a_round_freezes_its_framework_and_a_frozen_framework_refuses_edits(
    setting, bureau_admin
):
    round, _schools, _evaluator = setting
    services.round_phase_advance(round=round, actor=bureau_admin)
    round.refresh_from_db()
    framework = round.framework
    framework.refresh_from_db()
    assert round.phase == RoundPhase.SELF_ASSESSMENT
    assert framework.status == FrameworkStatus.FROZEN

    with pytest.raises(DomainError) as error:
        services.framework_update(framework=framework, actor=bureau_admin, name="改名")
    assert error.value.code == "framework_frozen"
    point = framework.indicators.get(code="A1.1")
    with pytest.raises(DomainError) as error:
        services.indicator_update(indicator=point, actor=bureau_admin, max_points=Decimal(20))
    assert error.value.code == "framework_frozen"
    point.refresh_from_db()
    assert point.max_points == Decimal("12.5")
    framework.refresh_from_db()
    assert framework.name != "改名"


def test_a_draft_framework_can_be_edited(bureau_admin):
    framework = make_framework(actor=bureau_admin)
    services.framework_update(framework=framework, actor=bureau_admin, policy_title="新办法")
    framework.refresh_from_db()
    assert framework.policy_title == "新办法"


def test_a_round_outside_the_framework_validity_is_refused(bureau_admin):
    framework = make_framework(actor=bureau_admin)
    with pytest.raises(DomainError) as error:
        services.round_create(
            actor=bureau_admin,
            framework=framework,
            name="越界",
            cycle_start=2028,
            cycle_end=2030,
            schools=[],
        )
    assert error.value.code == "outside_validity"
    with pytest.raises(DomainError) as error:
        services.round_create(
            actor=bureau_admin,
            framework=framework,
            name="越界2",
            cycle_start=2025,
            cycle_end=2027,
            schools=[],
            phase_windows={
                RoundPhase.SELF_ASSESSMENT: (dt.date(2024, 12, 1), dt.date(2025, 1, 31))
            },
        )
    assert error.value.field == "starts_on"
    assert Round.objects.count() == 0


def test_phase_advance_walks_every_phase_and_stops_at_closed(setting, bureau_admin):
    round, _schools, _evaluator = setting
    phases = []
    for _ in range(7):
        round = services.round_phase_advance(round=round, actor=bureau_admin)
        phases.append(round.phase)
    assert phases == list(RoundPhase.values)[1:]
    with pytest.raises(DomainError) as error:
        services.round_phase_advance(round=round, actor=bureau_admin)
    assert error.value.code == "round_closed"
    assert AuditEvent.objects.filter(action="round.phase_advance").count() == 7


def test_conflict_needs_a_reason(setting):
    _round, (school, _other), evaluator = setting
    with pytest.raises(DomainError) as error:
        services.conflict_record(actor=evaluator, evaluator=evaluator, school=school, reason="  ")
    assert error.value.field == "reason"
    assert ConflictOfInterest.objects.count() == 0


def test_framework_create_accepts_children_listed_before_their_parents(bureau_admin):
    rows = list(reversed(small_tree()))
    framework = services.framework_create(
        actor=bureau_admin,
        name="倒序",
        policy_title="办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=rows,
    )
    point = framework.indicators.get(code="A1.1")
    assert (point.level, point.parent.code, point.parent.parent.code) == (3, "A1", "A")
    assert services.framework_validate(framework=framework) == []


@pytest.mark.parametrize(
    "role", [None, Role.EVALUATOR, Role.GROUP_LEADER, Role.SCHOOL_STAFF, Role.SUPERVISOR]
)
def test_only_the_bureau_advances_a_phase(setting, role):
    round, _schools, _evaluator = setting
    actor = None if role is None else UserFactory(roles=[role])
    with pytest.raises(DomainError) as error:
        services.round_phase_advance(round=round, actor=actor)
    assert error.value.code == "not_allowed"
    round.refresh_from_db()
    round.framework.refresh_from_db()
    assert (round.phase, round.framework.is_frozen) == (RoundPhase.DRAFT, False)
    assert AuditEvent.objects.filter(action="round.phase_advance").count() == 0
