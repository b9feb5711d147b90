"""Use cases for a round's people: the evaluation group, its members, their assignments to
schools, and conflicts of interest (recusals).

Every function here validates, writes inside one transaction, and records an audit event; a
broken rule raises ``DomainError`` and leaves nothing written. Frameworks, rounds and their
phases are in ``rounds.services``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from rounds import selectors
from rounds.enums import AssignmentStatus, ConflictKind, GroupRole, RoundPhase
from rounds.hooks import member_removal_refusals
from rounds.models import Assignment, ConflictOfInterest, EvaluationGroup, GroupMember, Round
from rounds.permissions import can_manage_rounds
from schools.models import School

# ---------------------------------------------------------- evaluation group

# Phases in which members may join or leave the evaluation group. From consolidation on the
# group forms its consensus scores and opinions and the reports name its members, so the
# group stays as it evaluated.
GROUP_MEMBER_ADD_PHASES = (
    RoundPhase.DRAFT,
    RoundPhase.SELF_ASSESSMENT,
    RoundPhase.EXPERT_SCORING,
)
# A group still without a leader may get one up to the end of consolidation, when the
# leader's work (consensus scores, the group's opinion) is done.
GROUP_LEADER_LATE_ADD_PHASES = (RoundPhase.CONSOLIDATION,)


@transaction.atomic
def evaluation_group_member_add(
    *,
    round: Round,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    role: str = GroupRole.EVALUATOR,
    affiliation: str = "",
    affiliated_school: School | None = None,
    group_name: str = "",
) -> GroupMember:
    """Add a member (leader or evaluator) to the round's evaluation group.

    Creates the group on the first member and the ``GroupMember`` row; records
    ``group_member.add``. Enforces: only a bureau admin adds; members join only
    until expert scoring ends (``GROUP_MEMBER_ADD_PHASES``), except that a
    group without a leader may still get one during consolidation
    (``GROUP_LEADER_LATE_ADD_PHASES``), since the leader's own work is done
    then; one leader per group; nobody twice.
    """
    if not can_manage_rounds(actor):
        raise DomainError(
            _("Only the bureau adds members to an evaluation group."), code="not_allowed"
        )
    if role not in GroupRole.values:
        raise DomainError(
            _("Unknown group role “%(role)s”.") % {"role": role}, code="invalid", field="role"
        )
    # Locks the round row, so the phase cannot move on while the member joins.
    round = Round.objects.select_for_update().get(pk=round.pk)
    has_leader = GroupMember.objects.filter(group__round=round, role=GroupRole.LEADER).exists()
    late_leader = (
        role == GroupRole.LEADER and not has_leader and round.phase in GROUP_LEADER_LATE_ADD_PHASES
    )
    if round.phase not in GROUP_MEMBER_ADD_PHASES and not late_leader:
        raise DomainError(
            _(
                "Members can join the evaluation group only until expert scoring ends, and a "
                "leader, while the group has none, until consolidation ends; the round is in "
                "the phase “%(phase)s”."
            )
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    group, _created = EvaluationGroup.objects.get_or_create(
        round=round,
        defaults={"name": group_name or _("Evaluation group of %(round)s") % {"round": round.name}},
    )
    if GroupMember.objects.filter(group=group, user=user).exists():
        raise DomainError(
            _("%(user)s is already in the evaluation group.") % {"user": user},
            code="duplicate",
            field="user",
        )
    if role == GroupRole.LEADER and has_leader:
        raise DomainError(
            _("The evaluation group already has a leader."), code="duplicate", field="role"
        )
    member = GroupMember.objects.create(
        group=group,
        user=user,
        role=role,
        affiliation=affiliation,
        affiliated_school=affiliated_school,
    )
    audit_record(
        actor=actor,
        action="group_member.add",
        obj=member,
        after=model_snapshot(member),
        round_id=round.pk,
    )
    return member


# Phases in which a member may still leave the evaluation group: those in which one may join.
GROUP_MEMBER_REMOVE_PHASES = GROUP_MEMBER_ADD_PHASES


@transaction.atomic
def evaluation_group_member_remove(*, member: GroupMember, actor: AbstractBaseUser | None) -> None:
    """Remove a member (leader or evaluator) from their round's evaluation group.

    Deletes the ``GroupMember`` row and records ``group_member.remove`` with the
    removed row as ``before``. Enforces: only a bureau admin removes; only until
    expert scoring ends (``GROUP_MEMBER_REMOVE_PHASES``); not while the member is
    still actively assigned to a school of the round (their sheets would stop
    counting without anyone deciding so: recuse the assignments first, which
    records why), nor once they submitted a score sheet in the round (their
    scores stay attributable to a member of the group). Recused assignments and
    draft sheets of recused assignments do not hold a member back.

    The leader may be removed like any member: the group has at most one leader,
    so a leader is replaced by removing them and adding the new one, and the
    leader's own work (consensus scores, the group's opinion) only begins at
    consolidation, when the group no longer changes.
    """
    if not can_manage_rounds(actor):
        raise DomainError(
            _("Only the bureau removes members from an evaluation group."), code="not_allowed"
        )
    # Locks the round row too, so the phase cannot move on while the member leaves.
    locked = (
        GroupMember.objects.select_for_update(of=("self", "group__round"))
        .select_related("group__round", "user")
        .filter(pk=member.pk)
        .first()
    )
    if locked is None:
        raise DomainError(
            _("%(user)s is not a member of the round's evaluation group.") % {"user": member.user},
            code="not_in_group",
        )
    member, round = locked, locked.group.round
    if round.phase not in GROUP_MEMBER_REMOVE_PHASES:
        raise DomainError(
            _(
                "Members can leave the evaluation group only until expert scoring ends; "
                "the round is in the phase “%(phase)s”."
            )
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    assigned = [
        str(assignment.school)
        for assignment in Assignment.objects.filter(
            round=round, evaluator_id=member.user_id, status=AssignmentStatus.ACTIVE
        )
        .select_related("school")
        .order_by("school__code")
    ]
    reasons = []
    codes = []
    if assigned:
        reasons.append(
            _(
                "%(user)s is still assigned to %(schools)s in this round; "
                "recuse those assignments first."
            )
            % {"user": member.user, "schools": "、".join(assigned)}
        )
        codes.append("has_active_assignments")
    for code, message in member_removal_refusals(member):
        reasons.append(message)
        codes.append(code)
    if reasons:
        raise DomainError(
            " ".join(reasons),
            code=codes[0],
        )
    audit_record(
        actor=actor,
        action="group_member.remove",
        obj=member,
        before=model_snapshot(member),
        round_id=round.pk,
    )
    member.delete()


# ------------------------------------------------------ conflicts, assignments


def assignment_conflict_reason(
    *, round: Round, school: School, evaluator: AbstractBaseUser
) -> str | None:
    """Why ``evaluator`` may not score ``school`` in ``round``, or None.

    A conflict is declared (a ConflictOfInterest row) or detected (the
    evaluator's affiliation in the group is that school).
    """
    conflict = selectors.conflicts_between(
        evaluator_id=evaluator.pk, school_ids=[school.pk]
    ).first()
    if conflict is not None:
        return _("conflict of interest (%(kind)s): %(reason)s") % {
            "kind": conflict.get_kind_display(),
            "reason": conflict.reason,
        }
    member = selectors.round_member(round=round, user_id=evaluator.pk)
    if member is not None and member.affiliated_school_id == school.pk:
        return _("the evaluator's affiliation is this school (%(affiliation)s)") % {
            "affiliation": member.affiliation or school.name_zh
        }
    return None


@transaction.atomic
def assignment_create(
    *, round: Round, actor: AbstractBaseUser | None, school: School, evaluator: AbstractBaseUser
) -> Assignment:
    """Assign an evaluator of the round's group to a school in scope.

    Refused when the evaluator is not in the group, the school is out of
    scope, the pair exists already, or there is a conflict of interest.
    """
    if round.phase in (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION, RoundPhase.CLOSED):
        raise DomainError(
            _("Assignments cannot change once results are published."), code="phase_closed"
        )
    if not round.schools.filter(pk=school.pk).exists():
        raise DomainError(
            _("%(school)s is not in the scope of this round.") % {"school": school},
            code="out_of_scope",
            field="school",
        )
    if selectors.round_member(round=round, user_id=evaluator.pk) is None:
        raise DomainError(
            _("%(user)s is not a member of the round's evaluation group.") % {"user": evaluator},
            code="not_in_group",
            field="evaluator",
        )
    reason = assignment_conflict_reason(round=round, school=school, evaluator=evaluator)
    if reason is not None:
        raise DomainError(
            _("%(user)s cannot be assigned to %(school)s: %(reason)s.")
            % {"user": evaluator, "school": school, "reason": reason},
            code="conflict_of_interest",
            field="evaluator",
        )
    if Assignment.objects.filter(round=round, school=school, evaluator=evaluator).exists():
        raise DomainError(
            _("%(user)s is already assigned to %(school)s.")
            % {"user": evaluator, "school": school},
            code="duplicate",
            field="evaluator",
        )
    assignment = Assignment.objects.create(round=round, school=school, evaluator=evaluator)
    audit_record(
        actor=actor,
        action="assignment.create",
        obj=assignment,
        after=model_snapshot(assignment),
        round_id=round.pk,
        school_id=school.pk,
    )
    return assignment


@transaction.atomic
def assignment_recuse(
    *, assignment: Assignment, actor: AbstractBaseUser | None, reason: str
) -> Assignment:
    """Withdraw an evaluator from a school (回避); the sheet can no longer be scored."""
    if not reason.strip():
        raise DomainError(_("A recusal needs a reason."), code="invalid", field="reason")
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status == AssignmentStatus.RECUSED:
        return assignment
    before = model_snapshot(assignment)
    assignment.status = AssignmentStatus.RECUSED
    assignment.recusal_reason = reason.strip()
    assignment.save(update_fields=["status", "recusal_reason"])
    audit_record(
        actor=actor,
        action="assignment.recuse",
        obj=assignment,
        before=before,
        after=model_snapshot(assignment),
        round_id=assignment.round_id,
        school_id=assignment.school_id,
    )
    return assignment


@transaction.atomic
def conflict_record(
    *,
    actor: AbstractBaseUser | None,
    evaluator: AbstractBaseUser,
    school: School,
    reason: str,
    kind: str = ConflictKind.DECLARED,
) -> ConflictOfInterest:
    """Record a conflict of interest and recuse the evaluator's open assignments there."""
    if kind not in ConflictKind.values:
        raise DomainError(
            _("Unknown conflict kind “%(kind)s”.") % {"kind": kind}, code="invalid", field="kind"
        )
    if not reason.strip():
        raise DomainError(
            _("A conflict of interest needs a reason."), code="invalid", field="reason"
        )
    if ConflictOfInterest.objects.filter(evaluator=evaluator, school=school).exists():
        raise DomainError(
            _("This conflict of interest is recorded already."), code="duplicate", field="school"
        )
    conflict = ConflictOfInterest.objects.create(
        evaluator=evaluator, school=school, kind=kind, reason=reason.strip()
    )
    audit_record(
        actor=actor,
        action="conflict.record",
        obj=conflict,
        after=model_snapshot(conflict),
        school_id=school.pk,
    )
    open_assignments = Assignment.objects.filter(
        evaluator=evaluator, school=school, status=AssignmentStatus.ACTIVE
    ).exclude(round__phase__in=[RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION, RoundPhase.CLOSED])
    for assignment in open_assignments:
        assignment_recuse(
            assignment=assignment,
            actor=actor,
            reason=_("Conflict of interest: %(reason)s") % {"reason": conflict.reason},
        )
    return conflict
