"""Named permission predicates: ``can_<verb>_<thing>(user, obj) -> bool``.

Views, DRF permission classes, templates and services use these and nothing
else to decide who may do what to which object. Roles are Django groups
(``xm_eval.enums.Role``); object scope comes from staff memberships (school
staff) and assignments (evaluators).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import Role

if TYPE_CHECKING:
    from rounds.models import Round
    from schools.models import School


def _roles(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_xm_eval_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._xm_eval_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return role in _roles(user) or bool(getattr(user, "is_superuser", False) and user.is_active)


def is_bureau_admin(user: Any) -> bool:
    return has_role(user, Role.BUREAU_ADMIN)


def is_supervisor(user: Any) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_evaluator(user: Any) -> bool:
    return has_role(user, Role.EVALUATOR) or has_role(user, Role.GROUP_LEADER)


def is_group_leader(user: Any) -> bool:
    return has_role(user, Role.GROUP_LEADER)


def is_school_staff(user: Any) -> bool:
    return has_role(user, Role.SCHOOL_STAFF)


def school_ids_of(user: Any) -> frozenset[int]:
    """The schools ``user`` works for (school staff)."""
    if not is_school_staff(user):
        return frozenset()
    cached = getattr(user, "_xm_eval_school_ids", None)
    if cached is None:
        cached = frozenset(user.school_memberships.values_list("school_id", flat=True))
        user._xm_eval_school_ids = cached
    return cached


def can_manage_rounds(user: Any) -> bool:
    return is_bureau_admin(user)


def can_edit_framework(user: Any, framework: Any) -> bool:
    return is_bureau_admin(user) and not framework.is_frozen


def can_view_school_internals(user: Any, school: School) -> bool:
    """Self-assessment, evidence and unpublished details of a school."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return school.pk in school_ids_of(user)


def can_edit_self_assessment(user: Any, round: Round, school: School) -> bool:
    from rounds.enums import RoundPhase

    return school.pk in school_ids_of(user) and round.phase == RoundPhase.SELF_ASSESSMENT


def can_upload_evidence(user: Any, round: Round, school: School) -> bool:
    return can_edit_self_assessment(user, round, school)


def has_active_assignment(user: Any, round: Round, school: School) -> bool:
    from rounds.enums import AssignmentStatus
    from rounds.models import Assignment

    if not is_evaluator(user):
        return False
    return Assignment.objects.filter(
        round=round, school=school, evaluator=user, status=AssignmentStatus.ACTIVE
    ).exists()


def can_view_evidence(user: Any, round: Round, school: School) -> bool:
    return can_view_school_internals(user, school) or has_active_assignment(user, round, school)


def can_score_school(user: Any, round: Round, school: School) -> bool:
    """An evaluator scores a school only when assigned, not recused, in the scoring phase."""
    from rounds.enums import RoundPhase

    return round.phase == RoundPhase.EXPERT_SCORING and has_active_assignment(user, round, school)


def can_give_consensus_score(user: Any, round: Round) -> bool:
    from rounds.enums import GroupRole, RoundPhase
    from rounds.models import GroupMember

    if round.phase != RoundPhase.CONSOLIDATION or not is_group_leader(user):
        return False
    return GroupMember.objects.filter(group__round=round, user=user, role=GroupRole.LEADER).exists()


def can_give_audit_score(user: Any, round: Round) -> bool:
    from rounds.enums import RoundPhase

    return is_bureau_admin(user) and round.phase == RoundPhase.CONSOLIDATION


def can_view_peer_scores(user: Any, round: Round) -> bool:
    from rounds.enums import PHASE_ORDER, RoundPhase

    if is_bureau_admin(user) or is_supervisor(user):
        return True
    consolidation = PHASE_ORDER.index(RoundPhase.CONSOLIDATION)
    return (
        is_evaluator(user)
        and round.peer_scores_visible
        and PHASE_ORDER.index(round.phase) >= consolidation
    )


def can_view_results(user: Any, result_set: Any, school: School | None = None) -> bool:
    """Published results are public; unpublished ones only for the bureau roles."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return bool(result_set.is_published)


def can_view_audit_trail(user: Any) -> bool:
    return is_supervisor(user) or is_bureau_admin(user)
