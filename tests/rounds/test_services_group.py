"""Removing a member from a round's evaluation group: who, when, and what holds a member back."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rounds import services
from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
from rounds.models import Assignment, GroupMember, Round
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet
from tests.factories import SchoolFactory, UserFactory, make_round, round_to_phase

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(bureau_admin) -> tuple[Round, list[Any], GroupMember, GroupMember]:
    """A draft round of two schools, with a leader and an evaluator affiliated with school 2."""
    schools = [SchoolFactory(), SchoolFactory()]
    round = make_round(schools=schools, actor=bureau_admin)
    leader = services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=UserFactory(roles=[Role.GROUP_LEADER]),
        role=GroupRole.LEADER,
    )
    evaluator = services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=UserFactory(roles=[Role.EVALUATOR]),
        affiliation="第二校教师",
        affiliated_school=schools[1],
    )
    return round, schools, leader, evaluator


def set_phase(round: Round, phase: str) -> None:
    round_to_phase(round, phase)


def removal_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="group_member.remove").order_by("sequence"))


def test_a_member_is_removed_with_an_audit_event(group, bureau_admin):
    round, schools, _leader, evaluator = group
    member_id, user = evaluator.pk, evaluator.user

    services.evaluation_group_member_remove(member=evaluator, actor=bureau_admin)

    assert not GroupMember.objects.filter(pk=member_id).exists()
    (event,) = removal_events()
    assert (event.actor, event.object_type, event.object_id, event.round_id) == (
        bureau_admin,
        "rounds.groupmember",
        str(member_id),
        round.pk,
    )
    assert event.before == {
        "group_id": round.evaluation_group.pk,
        "user_id": user.pk,
        "role": GroupRole.EVALUATOR,
        "affiliation": "第二校教师",
        "affiliated_school_id": schools[1].pk,
    }
    assert event.after is None
    # The person can join again, e.g. after a mistaken removal.
    services.evaluation_group_member_add(round=round, actor=bureau_admin, user=user)


def test_the_leader_is_replaced_by_removing_them_and_adding_another(group, bureau_admin):
    round, _schools, leader, _evaluator = group

    services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    successor = services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=UserFactory(roles=[Role.GROUP_LEADER]),
        role=GroupRole.LEADER,
    )

    assert list(
        GroupMember.objects.filter(group__round=round, role=GroupRole.LEADER).values_list(
            "pk", flat=True
        )
    ) == [successor.pk]
    assert removal_events()[0].before["role"] == GroupRole.LEADER


@pytest.mark.parametrize("role", [None, Role.EVALUATOR, Role.GROUP_LEADER, Role.SUPERVISOR])
def test_only_the_bureau_removes_members(group, role):
    _round, _schools, _leader, evaluator = group
    actor = None if role is None else UserFactory(roles=[role])
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=evaluator, actor=actor)
    assert error.value.code == "not_allowed"
    assert GroupMember.objects.filter(pk=evaluator.pk).exists()
    assert removal_events() == []


@pytest.mark.parametrize(
    "phase", [RoundPhase.DRAFT, RoundPhase.SELF_ASSESSMENT, RoundPhase.EXPERT_SCORING]
)
def test_members_leave_until_expert_scoring_ends(group, bureau_admin, phase):
    round, _schools, _leader, evaluator = group
    set_phase(round, phase)
    services.evaluation_group_member_remove(member=evaluator, actor=bureau_admin)
    assert not GroupMember.objects.filter(pk=evaluator.pk).exists()


@pytest.mark.parametrize(
    "phase",
    [
        RoundPhase.CONSOLIDATION,
        RoundPhase.PUBLIC_NOTICE,
        RoundPhase.PUBLISHED,
        RoundPhase.RECTIFICATION,
        RoundPhase.CLOSED,
    ],
)
def test_from_consolidation_on_the_group_stays_as_it_evaluated(group, bureau_admin, phase):
    round, _schools, leader, _evaluator = group
    set_phase(round, phase)
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    assert error.value.code == "phase_closed"
    assert str(error.value) == (
        "Members can leave the evaluation group only until expert scoring ends; "
        f"the round is in the phase “{RoundPhase(phase).label}”."
    )
    assert GroupMember.objects.filter(pk=leader.pk).exists()
    assert removal_events() == []


def test_an_active_assignment_holds_a_member_back_until_it_is_recused(group, bureau_admin):
    round, schools, leader, _evaluator = group
    assignment = services.assignment_create(
        round=round, actor=bureau_admin, school=schools[0], evaluator=leader.user
    )

    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=leader, actor=bureau_admin)

    assert error.value.code == "has_active_assignments"
    assert str(error.value) == (
        f"{leader.user} is still assigned to {schools[0].name_zh} in this round; "
        "recuse those assignments first."
    )
    assert GroupMember.objects.filter(pk=leader.pk).exists()
    assert removal_events() == []

    services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="调离评估工作")
    services.evaluation_group_member_remove(member=leader, actor=bureau_admin)

    assert not GroupMember.objects.filter(pk=leader.pk).exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.RECUSED  # the recusal stays on record
    assert len(removal_events()) == 1


def test_every_active_assignment_is_named(group, bureau_admin):
    round, schools, leader, _evaluator = group
    for school in reversed(schools):
        services.assignment_create(
            round=round, actor=bureau_admin, school=school, evaluator=leader.user
        )
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    assert f"assigned to {schools[0].name_zh}、{schools[1].name_zh} in this round" in str(
        error.value
    )


def test_a_submitted_score_sheet_keeps_its_evaluator_in_the_group(group, bureau_admin):
    round, schools, leader, _evaluator = group
    set_phase(round, RoundPhase.EXPERT_SCORING)
    assignment = services.assignment_create(
        round=round, actor=bureau_admin, school=schools[0], evaluator=leader.user
    )
    ScoreSheet.objects.create(
        round=round,
        school=schools[0],
        evaluator=leader.user,
        status=SheetStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )

    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    # Both reasons are given at once, so the bureau does not find the second after the first.
    assert error.value.code == "has_active_assignments"
    assert str(error.value) == (
        f"{leader.user} is still assigned to {schools[0].name_zh} in this round; "
        "recuse those assignments first. "
        f"{leader.user} has submitted score sheets for {schools[0].name_zh} in this round; "
        "members who scored stay in the evaluation group."
    )

    services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="回避")
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    assert error.value.code == "has_submitted_sheets"
    assert GroupMember.objects.filter(pk=leader.pk).exists()
    assert removal_events() == []


def test_a_draft_sheet_of_a_recused_assignment_does_not_hold_a_member_back(group, bureau_admin):
    round, schools, leader, _evaluator = group
    set_phase(round, RoundPhase.EXPERT_SCORING)
    assignment = services.assignment_create(
        round=round, actor=bureau_admin, school=schools[0], evaluator=leader.user
    )
    ScoreSheet.objects.create(round=round, school=schools[0], evaluator=leader.user)
    services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="回避")

    services.evaluation_group_member_remove(member=leader, actor=bureau_admin)

    assert not GroupMember.objects.filter(pk=leader.pk).exists()
    assert ScoreSheet.objects.filter(round=round, evaluator=leader.user).count() == 1


def test_work_in_another_round_does_not_hold_a_member_back(group, bureau_admin):
    round, schools, leader, _evaluator = group
    other = make_round(schools=schools, actor=bureau_admin)
    services.evaluation_group_member_add(round=other, actor=bureau_admin, user=leader.user)
    services.assignment_create(
        round=other, actor=bureau_admin, school=schools[0], evaluator=leader.user
    )

    services.evaluation_group_member_remove(member=leader, actor=bureau_admin)

    assert not GroupMember.objects.filter(pk=leader.pk).exists()
    assert GroupMember.objects.filter(group__round=other, user=leader.user).exists()
    assert Assignment.objects.filter(round=other, status=AssignmentStatus.ACTIVE).count() == 1


def test_a_member_removed_already_is_refused(group, bureau_admin):
    _round, _schools, _leader, evaluator = group
    services.evaluation_group_member_remove(member=evaluator, actor=bureau_admin)
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_remove(member=evaluator, actor=bureau_admin)
    assert error.value.code == "not_in_group"
    assert len(removal_events()) == 1


# --------------------------------------------------------------------- adding


def addition_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="group_member.add").order_by("sequence"))


@pytest.mark.parametrize("role", [None, Role.EVALUATOR, Role.GROUP_LEADER, Role.SUPERVISOR])
def test_only_the_bureau_adds_members(group, role):
    round, _schools, _leader, _evaluator = group
    actor = None if role is None else UserFactory(roles=[role])
    events_before = len(addition_events())
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_add(round=round, actor=actor, user=UserFactory())
    assert error.value.code == "not_allowed"
    assert GroupMember.objects.filter(group__round=round).count() == 2
    assert len(addition_events()) == events_before


@pytest.mark.parametrize(
    "phase", [RoundPhase.DRAFT, RoundPhase.SELF_ASSESSMENT, RoundPhase.EXPERT_SCORING]
)
def test_members_join_until_expert_scoring_ends(group, bureau_admin, phase):
    round, _schools, _leader, _evaluator = group
    set_phase(round, phase)
    member = services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=UserFactory(roles=[Role.EVALUATOR])
    )
    assert addition_events()[-1].object_id == str(member.pk)
    assert addition_events()[-1].actor == bureau_admin


@pytest.mark.parametrize(
    "phase",
    [
        RoundPhase.CONSOLIDATION,
        RoundPhase.PUBLIC_NOTICE,
        RoundPhase.PUBLISHED,
        RoundPhase.RECTIFICATION,
        RoundPhase.CLOSED,
    ],
)
@pytest.mark.parametrize("role", [GroupRole.EVALUATOR, GroupRole.LEADER])
def test_nobody_joins_a_group_that_has_a_leader_after_expert_scoring(
    group, bureau_admin, phase, role
):
    round, _schools, _leader, _evaluator = group
    set_phase(round, phase)
    events_before = len(addition_events())
    with pytest.raises(DomainError) as error:
        services.evaluation_group_member_add(
            round=round, actor=bureau_admin, user=UserFactory(), role=role
        )
    assert error.value.code == "phase_closed"
    assert GroupMember.objects.filter(group__round=round).count() == 2
    assert len(addition_events()) == events_before


def test_a_group_without_a_leader_gets_one_until_consolidation_ends(group, bureau_admin):
    round, _schools, leader, _evaluator = group
    services.evaluation_group_member_remove(member=leader, actor=bureau_admin)
    set_phase(round, RoundPhase.CONSOLIDATION)

    with pytest.raises(DomainError) as error:  # an evaluator no longer joins
        services.evaluation_group_member_add(round=round, actor=bureau_admin, user=UserFactory())
    assert error.value.code == "phase_closed"
    successor = services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=UserFactory(roles=[Role.GROUP_LEADER]),
        role=GroupRole.LEADER,
    )
    assert successor.role == GroupRole.LEADER
    assert addition_events()[-1].object_id == str(successor.pk)

    # A group left without a leader after consolidation (older data) gets none any more.
    GroupMember.objects.filter(pk=successor.pk).delete()
    set_phase(round, RoundPhase.PUBLIC_NOTICE)
    with pytest.raises(DomainError) as error:  # after consolidation, not even a leader
        services.evaluation_group_member_add(
            round=round, actor=bureau_admin, user=UserFactory(), role=GroupRole.LEADER
        )
    assert error.value.code == "phase_closed"
