"""Predicates about rounds: managing them, assignments, the group's leader, evidence."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists

from core.api import role_permission
from core.permissions import (
    is_bureau_admin,
    is_evaluator,
    is_group_leader,
    is_school_staff,
    is_supervisor,
    school_ids_of,
)
from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
from rounds.models import Assignment, GroupMember, Round
from schools.models import School
from schools.permissions import can_view_school_internals


def can_manage_rounds(user: Any) -> bool:
    return is_bureau_admin(user)


def can_score(user: Any) -> bool:
    """Score the schools one is assigned to: evaluators and group leaders (which school and
    when: ``has_active_assignment`` and ``scoring.permissions.can_score_school``)."""
    return is_evaluator(user)


def can_lead_evaluation_groups(user: Any) -> bool:
    """Lead a round's evaluation group (consensus scores, the group's opinion, re-checks):
    group leaders (which round's group: ``leads_round_group``)."""
    return is_group_leader(user)


def can_fill_self_assessment(user: Any) -> bool:
    """Fill in a school's self-assessment and upload its evidence: school staff (which
    school and when: ``can_edit_self_assessment``)."""
    return is_school_staff(user)


def can_view_every_assignment(user: Any) -> bool:
    """Every round's assignments, not only one's own: the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_every_evidence(user: Any) -> bool:
    """Every school's evidence in every round, not only one's own school's or assigned
    schools': the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_upload_evidence(user: Any, round: Round, school: School) -> bool:
    return can_edit_self_assessment(user, round, school)


def has_active_assignment(user: Any, round: Round, school: School) -> bool:

    if not is_evaluator(user):
        return False
    return Assignment.objects.filter(
        round=round, school=school, evaluator=user, status=AssignmentStatus.ACTIVE
    ).exists()


def active_assignment_exists(*, round: Any, school: Any, evaluator: Any) -> Exists:
    """The assignment half of ``has_active_assignment`` as an expression, for a query
    that loads a row anyway (a score sheet under its lock); the arguments may be
    ``OuterRef``s. The caller has checked the role."""
    return Exists(
        Assignment.objects.filter(
            round=round, school=school, evaluator=evaluator, status=AssignmentStatus.ACTIVE
        )
    )


def can_view_evidence(user: Any, round: Round, school: School) -> bool:
    return can_view_school_internals(user, school) or has_active_assignment(user, round, school)


def can_monitor_rounds(user: Any) -> bool:
    """Round pages read-only: list, detail, monitoring (the supervisor checks fairness)."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_assignments(user: Any) -> bool:
    return is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)


def can_view_evidence_metadata(user: Any) -> bool:
    """Evidence metadata: own school (staff), assigned schools (evaluators), all (bureau)."""
    return (
        is_school_staff(user) or is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)
    )


def can_import_frameworks(user: Any) -> bool:
    return is_bureau_admin(user)


def leads_round_group(user: Any, round_id: int) -> bool:
    """Whether the user leads the round's evaluation group, whatever the phase: the one
    rule behind consensus scores, the group's opinion and rectification re-checks."""
    if not is_group_leader(user):
        return False
    return GroupMember.objects.filter(
        group__round_id=round_id, user_id=user.pk, role=GroupRole.LEADER
    ).exists()


# DRF permission classes over the predicates above.
CanViewAssignments = role_permission("CanViewAssignments", read=can_view_assignments)
CanViewEvidence = role_permission("CanViewEvidence", read=can_view_evidence_metadata)


def can_edit_self_assessment(user: Any, round: Round, school: School) -> bool:

    return school.pk in school_ids_of(user) and round.phase == RoundPhase.SELF_ASSESSMENT


def can_view_drafts(user: Any) -> bool:
    """Draft rounds and frameworks not yet in use: the bureau roles only."""
    return is_bureau_admin(user) or is_supervisor(user)
