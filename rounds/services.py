"""Use cases for frameworks (and their indicators), rounds and their phases.

Every function here validates, writes inside one transaction, and records an
audit event; a broken rule raises ``DomainError`` and leaves nothing written.
The evaluation group, assignments and conflicts of interest are in
``rounds.group_services``; cloning a round for the next cycle is in
``rounds.clone_services``.
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
from rounds.enums import PHASE_ORDER, ConsolidationMethod, FrameworkStatus, RoundPhase

# Re-exported for callers written before the split (tests, branches in flight); new code
# imports them from ``rounds.group_services``.
from rounds.group_services import (  # noqa: F401
    assignment_conflict_reason,
    assignment_create,
    assignment_recuse,
    conflict_record,
    evaluation_group_member_add,
    evaluation_group_member_remove,
)
from rounds.models import Framework, Indicator, PhaseWindow, Round
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
    """Change a draft framework's own fields; a frozen framework refuses.

    Only a bureau admin changes a framework; records ``framework.update``.
    """
    if not can_manage_rounds(actor):
        raise DomainError(_("Only the bureau changes a framework."), code="not_allowed")
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
    if not can_manage_rounds(actor):
        raise DomainError(_("Only the bureau changes an indicator."), code="not_allowed")
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

    Enforces ``phase_window_check``, refuses a closed round and anyone but a
    bureau admin; records ``round.phase_window_set`` with before (None for a
    new window) and after.
    """
    if not can_manage_rounds(actor):
        raise DomainError(
            _("Only the bureau sets the dates of a round's phases."), code="not_allowed"
        )
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

    Refuses a closed round and anyone but a bureau admin; records
    ``round.phase_window_remove`` with the removed row.
    """
    if not can_manage_rounds(actor):
        raise DomainError(
            _("Only the bureau removes the dates of a round's phases."), code="not_allowed"
        )
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
