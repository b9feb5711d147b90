"""Use cases for frameworks, rounds, evaluation groups, assignments and conflicts.

Every function here validates, writes inside one transaction, and records an
audit event; a broken rule raises ``DomainError`` and leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from rounds import selectors
from rounds.enums import (
    PHASE_ORDER,
    AssignmentStatus,
    ConflictKind,
    ConsolidationMethod,
    FrameworkStatus,
    GroupRole,
    RoundPhase,
)
from rounds.hooks import member_removal_refusals
from rounds.models import (
    Assignment,
    ConflictOfInterest,
    EvaluationGroup,
    Framework,
    GroupMember,
    Indicator,
    PhaseWindow,
    Round,
)
from rounds.permissions import can_manage_rounds
from rounds.validation import NodeSpec, Problem, validate_nodes
from schools.models import School

# ---------------------------------------------------------------- frameworks


def framework_validate(*, framework: Framework) -> list[Problem]:
    """Every problem of a stored framework (not just the first); empty when valid."""
    return validate_nodes(
        selectors.framework_node_specs(framework=framework),
        total_points=framework.total_points,
        grade_bands=framework.grade_bands,
    )


# The phases of a round that fix its framework: every phase after draft.
FRAMEWORK_FIXING_PHASES = tuple(phase for phase in PHASE_ORDER if phase != RoundPhase.DRAFT)


def framework_is_frozen(*, framework: Framework) -> bool:
    """The frozen-framework rule: frozen once marked so, or once a round using it has left
    its draft phase.

    ``round_phase_advance`` marks the framework frozen when its round opens; a
    round past draft on a framework not marked (a round moved before freezing
    existed) fixes it all the same, since scores refer to its indicators. The
    services refuse changes to a frozen framework and the admin shows it read-only.
    """
    if framework.is_frozen:
        return True
    return (
        framework.pk is not None
        and framework.rounds.filter(phase__in=FRAMEWORK_FIXING_PHASES).exists()
    )


def frameworks_not_frozen() -> QuerySet[Framework]:
    """The frameworks ``framework_is_frozen`` says may still change."""
    return Framework.objects.exclude(status=FrameworkStatus.FROZEN).exclude(
        rounds__phase__in=FRAMEWORK_FIXING_PHASES
    )


def _refuse_if_frozen(framework: Framework) -> None:
    if framework_is_frozen(framework=framework):
        raise DomainError(
            _("Framework “%(name)s” is frozen because a round uses it; it cannot change.")
            % {"name": framework.name},
            code="framework_frozen",
        )


@dataclass(frozen=True, slots=True)
class IndicatorData:
    """One indicator as it is imported or entered."""

    code: str
    parent_code: str | None
    title_zh: str
    max_points: Decimal
    title_en: str = ""
    weight: Decimal | None = None
    method: str = ""
    is_veto: bool = False
    veto_pass_mark: Decimal | None = None
    tags: tuple[str, ...] = ()
    guidance: str = ""
    required_evidence: tuple[str, ...] = field(default_factory=tuple)

    def as_spec(self) -> NodeSpec:
        return NodeSpec(
            code=self.code,
            parent_code=self.parent_code,
            max_points=self.max_points,
            weight=self.weight,
            method=self.method,
            is_veto=self.is_veto,
            veto_pass_mark=self.veto_pass_mark,
            tags=self.tags,
        )


@transaction.atomic
def framework_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    policy_title: str,
    valid_from: dt.date,
    valid_to: dt.date,
    indicators: Sequence[IndicatorData],
    total_points: Decimal = Decimal("100"),
    grade_bands: list[dict[str, str]] | None = None,
) -> Framework:
    """Create a draft framework with its whole indicator tree, or nothing.

    The tree is validated first; any problem raises ``DomainError`` with
    ``details`` listing every problem.
    """
    if valid_to <= valid_from:
        raise DomainError(
            _("The end of validity must come after its start."), code="invalid", field="valid_to"
        )
    if Framework.objects.filter(name=name).exists():
        raise DomainError(
            _("A framework named “%(name)s” exists already.") % {"name": name},
            code="duplicate",
            field="name",
        )
    framework = Framework(
        name=name,
        policy_title=policy_title,
        valid_from=valid_from,
        valid_to=valid_to,
        total_points=total_points,
    )
    if grade_bands is not None:
        framework.grade_bands = grade_bands
    problems = validate_nodes(
        [item.as_spec() for item in indicators],
        total_points=total_points,
        grade_bands=framework.grade_bands,
    )
    if problems:
        raise DomainError(
            _("The framework has %(count)d problem(s); nothing was saved.")
            % {"count": len(problems)},
            code="framework_invalid",
            details=[problem.as_dict() for problem in problems],
        )
    framework.save()
    by_code: dict[str, Indicator] = {}
    order_of = {item.code: order for order, item in enumerate(indicators)}
    for item in _parents_first(indicators):
        order = order_of[item.code]
        parent = by_code[item.parent_code] if item.parent_code else None
        indicator = Indicator.objects.create(
            framework=framework,
            parent=parent,
            code=item.code,
            level=(parent.level + 1) if parent else 1,
            title_zh=item.title_zh,
            title_en=item.title_en,
            max_points=item.max_points,
            weight=item.weight,
            guidance=item.guidance,
            required_evidence=list(item.required_evidence),
            method=item.method,
            is_veto=item.is_veto,
            veto_pass_mark=item.veto_pass_mark,
            tags=list(item.tags),
            order=order,
        )
        by_code[item.code] = indicator
    audit_record(
        actor=actor,
        action="framework.create",
        obj=framework,
        after={**model_snapshot(framework), "indicators": len(indicators)},
    )
    return framework


def _parents_first(indicators: Sequence[IndicatorData]) -> list[IndicatorData]:
    """The indicators reordered so every parent comes before its children.

    The rows may list a child before its parent (a spreadsheet sorted by
    title, say); the tree is already validated, so every parent exists.
    """
    placed: set[str] = set()
    pending = list(indicators)
    ordered: list[IndicatorData] = []
    while pending:
        waiting = []
        for item in pending:
            if item.parent_code is None or item.parent_code in placed:
                ordered.append(item)
                placed.add(item.code)
            else:
                waiting.append(item)
        if len(waiting) == len(pending):  # unreachable after validation; never loop forever
            raise DomainError(_("The indicator tree has a cycle."), code="framework_invalid")
        pending = waiting
    return ordered


@transaction.atomic
def framework_update(
    *, framework: Framework, actor: AbstractBaseUser | None, **changes: Any
) -> Framework:
    """Change a draft framework's own fields; a frozen framework refuses."""
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    _refuse_if_frozen(framework)
    allowed = {"name", "policy_title", "valid_from", "valid_to", "total_points", "grade_bands"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="invalid",
        )
    before = model_snapshot(framework)
    for name, value in changes.items():
        setattr(framework, name, value)
    if framework.valid_to <= framework.valid_from:
        raise DomainError(
            _("The end of validity must come after its start."), code="invalid", field="valid_to"
        )
    framework.save()
    framework.refresh_from_db()  # the trail has the values as stored (100 → 100.00)
    audit_record(
        actor=actor,
        action="framework.update",
        obj=framework,
        before=before,
        after=model_snapshot(framework),
    )
    return framework


@transaction.atomic
def indicator_update(
    *, indicator: Indicator, actor: AbstractBaseUser | None, **changes: Any
) -> Indicator:
    """Change an indicator of a framework that is not frozen (``framework_is_frozen``).

    Any field but its framework and level may change; a new parent must be of
    the same framework and not the indicator or one of its descendants. The
    level follows the parent, for the indicator and its descendants. Records
    ``indicator.update`` (before and after), and one ``indicator.update`` with
    the level for each descendant whose level changed.
    """
    indicator = (
        Indicator.objects.select_related("framework").select_for_update().get(pk=indicator.pk)
    )
    _refuse_if_frozen(indicator.framework)
    fixed = {"framework", "framework_id", "level", "id", "pk"} & set(changes)
    if fixed:
        raise DomainError(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(fixed))},
            code="invalid",
        )
    levels = dict(
        Indicator.objects.filter(framework_id=indicator.framework_id).values_list("pk", "level")
    )
    parent_of = dict(
        Indicator.objects.filter(framework_id=indicator.framework_id).values_list("pk", "parent_id")
    )
    before = model_snapshot(indicator)
    for name, value in changes.items():
        setattr(indicator, name, value)
    parent_of[indicator.pk] = indicator.parent_id
    if indicator.parent_id is not None:
        ancestor, seen = indicator.parent_id, set()
        while ancestor is not None and ancestor not in seen:
            seen.add(ancestor)
            ancestor = parent_of.get(ancestor)
        if indicator.parent_id not in levels or indicator.pk in seen:
            raise DomainError(
                _(
                    "The parent must be another indicator of the same framework, "
                    "not one below this indicator."
                ),
                code="invalid",
                field="parent",
            )
    depth = {}
    for pk in parent_of:
        level, current, seen = 0, pk, set()
        while current is not None and current not in seen:
            seen.add(current)
            level += 1
            current = parent_of.get(current)
        depth[pk] = level
    indicator.level = depth[indicator.pk]
    indicator.save()
    indicator.refresh_from_db()  # the trail has the values as stored (10 → 10.00)
    audit_record(
        actor=actor,
        action="indicator.update",
        obj=indicator,
        before=before,
        after=model_snapshot(indicator),
    )
    moved = [
        pk for pk, level in sorted(depth.items()) if pk != indicator.pk and levels[pk] != level
    ]
    for other in Indicator.objects.filter(pk__in=moved).order_by("pk"):
        previous = other.level
        other.level = depth[other.pk]
        other.save(update_fields=["level"])
        audit_record(
            actor=actor,
            action="indicator.update",
            obj=other,
            before={"level": previous},
            after={"level": other.level},
        )
    return indicator


@transaction.atomic
def framework_freeze(*, framework: Framework, actor: AbstractBaseUser | None) -> Framework:
    """Freeze a valid framework so it can no longer change."""
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    if framework.is_frozen:
        return framework
    problems = framework_validate(framework=framework)
    if problems:
        raise DomainError(
            _("The framework has %(count)d problem(s) and cannot be used.")
            % {"count": len(problems)},
            code="framework_invalid",
            details=[problem.as_dict() for problem in problems],
        )
    framework.status = FrameworkStatus.FROZEN
    framework.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="framework.freeze",
        obj=framework,
        before={"status": FrameworkStatus.DRAFT},
        after={"status": FrameworkStatus.FROZEN},
    )
    return framework


# -------------------------------------------------------------------- rounds


def _check_inside_validity(framework: Framework, cycle_start: int, cycle_end: int) -> None:
    if cycle_end < cycle_start:
        raise DomainError(
            _("The cycle must end in or after the year it starts."),
            code="invalid",
            field="cycle_end",
        )
    if cycle_start < framework.valid_from.year or cycle_end > framework.valid_to.year:
        raise DomainError(
            _(
                "The cycle %(start)d–%(end)d lies outside the framework's validity "
                "(%(from)s to %(to)s)."
            )
            % {
                "start": cycle_start,
                "end": cycle_end,
                "from": framework.valid_from,
                "to": framework.valid_to,
            },
            code="outside_validity",
            field="cycle_start",
        )


def phase_window_check(
    *, framework: Framework, phase: str, starts_on: dt.date, ends_on: dt.date
) -> None:
    """The rule for a phase's dates: a known phase, ending on or after its start, inside the
    framework's validity. Raises ``DomainError`` naming the field; forms check with it too."""
    if phase not in PHASE_ORDER:
        raise DomainError(
            _("Unknown phase “%(phase)s”.") % {"phase": phase}, code="invalid", field="phase"
        )
    if ends_on < starts_on:
        raise DomainError(
            _("Phase “%(phase)s” ends before it starts.") % {"phase": RoundPhase(phase).label},
            code="invalid",
            field="ends_on",
        )
    if starts_on < framework.valid_from or ends_on > framework.valid_to:
        raise DomainError(
            _("Phase “%(phase)s” lies outside the framework's validity (%(from)s to %(to)s).")
            % {
                "phase": RoundPhase(phase).label,
                "from": framework.valid_from,
                "to": framework.valid_to,
            },
            code="outside_validity",
            field="starts_on",
        )


@transaction.atomic
def round_create(
    *,
    actor: AbstractBaseUser | None,
    framework: Framework,
    name: str,
    cycle_start: int,
    cycle_end: int,
    schools: Iterable[School],
    consolidation_method: str = ConsolidationMethod.TRIMMED_MEAN,
    phase_windows: Mapping[str, tuple[dt.date, dt.date]] | None = None,
) -> Round:
    """Create a round in its draft phase over the given schools.

    Refuses a framework with problems and a cycle or phase dates outside the
    framework's validity.
    """
    _check_inside_validity(framework, cycle_start, cycle_end)
    if consolidation_method not in ConsolidationMethod.values:
        raise DomainError(
            _("Unknown consolidation method “%(method)s”.") % {"method": consolidation_method},
            code="invalid",
            field="consolidation_method",
        )
    problems = framework_validate(framework=framework)
    if problems:
        raise DomainError(
            _("The framework has %(count)d problem(s) and cannot be used.")
            % {"count": len(problems)},
            code="framework_invalid",
            details=[problem.as_dict() for problem in problems],
        )
    if Round.objects.filter(name=name).exists():
        raise DomainError(
            _("A round named “%(name)s” exists already.") % {"name": name},
            code="duplicate",
            field="name",
        )
    for phase, (starts_on, ends_on) in (phase_windows or {}).items():
        phase_window_check(framework=framework, phase=phase, starts_on=starts_on, ends_on=ends_on)
    round = Round.objects.create(
        framework=framework,
        name=name,
        cycle_start=cycle_start,
        cycle_end=cycle_end,
        consolidation_method=consolidation_method,
    )
    round.schools.set(list(schools))
    PhaseWindow.objects.bulk_create(
        PhaseWindow(round=round, phase=phase, starts_on=starts_on, ends_on=ends_on)
        for phase, (starts_on, ends_on) in (phase_windows or {}).items()
    )
    audit_record(
        actor=actor,
        action="round.create",
        obj=round,
        after={**model_snapshot(round), "schools": sorted(s.pk for s in round.schools.all())},
        round_id=round.pk,
    )
    return round


@transaction.atomic
def round_phase_window_set(
    *,
    round: Round,
    actor: AbstractBaseUser | None,
    phase: str,
    starts_on: dt.date,
    ends_on: dt.date,
) -> PhaseWindow:
    """Set the dates of one phase of a round (creating its window or moving it).

    Enforces ``phase_window_check`` and refuses a closed round; records
    ``round.phase_window_set`` with before (None for a new window) and after.
    """
    _refuse_if_closed(round)
    phase_window_check(framework=round.framework, phase=phase, starts_on=starts_on, ends_on=ends_on)
    window = PhaseWindow.objects.filter(round=round, phase=phase).first()
    before = model_snapshot(window) if window else None
    window, _created = PhaseWindow.objects.update_or_create(
        round=round, phase=phase, defaults={"starts_on": starts_on, "ends_on": ends_on}
    )
    audit_record(
        actor=actor,
        action="round.phase_window_set",
        obj=window,
        before=before,
        after=model_snapshot(window),
        round_id=round.pk,
    )
    return window


def _refuse_if_closed(round: Round) -> None:
    if Round.objects.filter(pk=round.pk, phase=RoundPhase.CLOSED).exists():
        raise DomainError(
            _("Round “%(name)s” is closed: it is read-only.") % {"name": round.name},
            code="round_closed",
        )


@transaction.atomic
def round_phase_window_remove(*, window: PhaseWindow, actor: AbstractBaseUser | None) -> None:
    """Remove the dates of one phase of a round (the phase then has no dates).

    Refuses a closed round; records ``round.phase_window_remove`` with the removed row.
    """
    window = PhaseWindow.objects.select_related("round").get(pk=window.pk)
    _refuse_if_closed(window.round)
    audit_record(
        actor=actor,
        action="round.phase_window_remove",
        obj=window,
        before=model_snapshot(window),
        round_id=window.round_id,
    )
    window.delete()


@transaction.atomic
def round_phase_advance(*, round: Round, actor: AbstractBaseUser | None) -> Round:
    """Move a round to its next phase.

    Leaving the draft phase opens the round and freezes its framework, so the
    indicators cannot change under scores that refer to them. Only a bureau
    admin moves a phase; records ``round.phase_advance``.
    """
    if not can_manage_rounds(actor):
        raise DomainError(_("Only the bureau moves a round to its next phase."), code="not_allowed")
    round = Round.objects.select_for_update().select_related("framework").get(pk=round.pk)
    index = PHASE_ORDER.index(round.phase)
    if index == len(PHASE_ORDER) - 1:
        raise DomainError(_("The round is closed; there is no next phase."), code="round_closed")
    if round.phase == RoundPhase.DRAFT:
        if not round.schools.exists():
            raise DomainError(
                _("The round has no schools in scope."), code="round_incomplete", field="schools"
            )
        framework_freeze(framework=round.framework, actor=actor)
    before = round.phase
    round.phase = PHASE_ORDER[index + 1]
    round.save(update_fields=["phase"])
    audit_record(
        actor=actor,
        action="round.phase_advance",
        obj=round,
        before={"phase": before},
        after={"phase": round.phase},
        round_id=round.pk,
    )
    return round


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


# ------------------------------------------------------------------ cloning

CYCLE_YEARS = 3  # one round every three years (DESIGN §1)


def cycle_shifted_date(day: dt.date, years: int = CYCLE_YEARS) -> dt.date:
    """``day`` moved by ``years`` (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def round_cycle_shifted_text(*, round: Round, text: str, years: int = CYCLE_YEARS) -> str:
    """``text`` with the round's cycle (“2025–2027”, also with a hyphen) moved by ``years``.

    Names of rounds and groups usually carry their cycle; a clone's default
    names are the source's with the next cycle in them.
    """
    start, end = round.cycle_start + years, round.cycle_end + years
    shifted = text
    for dash in ("–", "-", "—", "~"):
        shifted = shifted.replace(
            f"{round.cycle_start}{dash}{round.cycle_end}", f"{start}{dash}{end}"
        )
    return shifted


@transaction.atomic
def round_clone(
    *,
    round: Round,
    actor: AbstractBaseUser | None,
    name: str,
    framework: Framework | None = None,
    years: int = CYCLE_YEARS,
) -> Round:
    """Open the next cycle's round as a draft copy of ``round``.

    Copies the framework (or uses ``framework``, a newer version, when given),
    the schools in scope, the round's settings, the evaluation group with its
    members' roles and affiliations, and every phase window shifted by
    ``years`` (one cycle, three years, by default). Assignments, conflicts of
    interest, scores and results are not copied: they belong to the cycle.
    Goes through ``round_create`` and ``evaluation_group_member_add``, so it
    refuses what they refuse (a cycle or dates outside the framework's
    validity, a duplicate name) and leaves nothing written; records their
    audit events and one ``round.clone`` event naming the source round.
    """
    source = Round.objects.select_related("framework").get(pk=round.pk)
    windows = {
        window.phase: (
            cycle_shifted_date(window.starts_on, years),
            cycle_shifted_date(window.ends_on, years),
        )
        for window in PhaseWindow.objects.filter(round=source)
    }
    clone = round_create(
        actor=actor,
        framework=framework or source.framework,
        name=name,
        cycle_start=source.cycle_start + years,
        cycle_end=source.cycle_end + years,
        schools=list(source.schools.all()),
        consolidation_method=source.consolidation_method,
        phase_windows=windows,
    )
    settings_fields = (
        "peer_scores_visible",
        "spread_threshold",
        "veto_ranks_last",
        "tie_break_by_dimension",
    )
    for field_name in settings_fields:
        setattr(clone, field_name, getattr(source, field_name))
    clone.save(update_fields=list(settings_fields))
    source_group = EvaluationGroup.objects.filter(round=source).first()
    group_name = (
        round_cycle_shifted_text(round=source, text=source_group.name, years=years)
        if source_group is not None
        else ""
    )
    members = list(
        GroupMember.objects.filter(group__round=source)
        .select_related("user", "affiliated_school")
        .order_by("id")
    )
    for member in members:
        evaluation_group_member_add(
            round=clone,
            actor=actor,
            user=member.user,
            role=member.role,
            affiliation=member.affiliation,
            affiliated_school=member.affiliated_school,
            group_name=group_name,
        )
    audit_record(
        actor=actor,
        action="round.clone",
        obj=clone,
        before={"source_round": source.pk, "source_name": source.name},
        after={
            **model_snapshot(clone),
            "phase_windows": {phase: list(dates) for phase, dates in windows.items()},
            "group_members": len(members),
        },
        round_id=clone.pk,
    )
    return clone
