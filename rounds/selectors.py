"""Read queries for frameworks, rounds, groups and assignments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import (
    Prefetch,
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _

from core.errors import DomainError
from rounds.enums import AssignmentStatus, FrameworkStatus, RoundPhase
from rounds.models import (
    Assignment,
    ConflictOfInterest,
    Framework,
    GroupMember,
    Indicator,
    PhaseWindow,
    Round,
)
from rounds.permissions import can_score, can_view_drafts, can_view_every_assignment
from rounds.validation import NodeSpec
from schools.models import School


def framework_indicators(*, framework: Framework) -> QuerySet[Indicator]:
    return (
        Indicator.objects.filter(framework=framework)
        .select_related("parent")
        .order_by("order", "code")
    )


def framework_node_specs(*, framework: Framework) -> list[NodeSpec]:
    """The framework's tree as plain data, in one query."""
    rows = Indicator.objects.filter(framework=framework).values_list(
        "code",
        "parent__code",
        "max_points",
        "weight",
        "method",
        "is_veto",
        "veto_pass_mark",
        "tags",
    )
    return [
        NodeSpec(
            code=code,
            parent_code=parent_code,
            max_points=Decimal(max_points),
            weight=weight,
            method=method,
            is_veto=is_veto,
            veto_pass_mark=veto_pass_mark,
            tags=tuple(tags or ()),
        )
        for code, parent_code, max_points, weight, method, is_veto, veto_pass_mark, tags in rows
    ]


def framework_leaves(*, framework: Framework) -> QuerySet[Indicator]:
    """The observation points (indicators without children)."""
    return framework_indicators(framework=framework).filter(children__isnull=True)


def round_member(*, round: Round, user_id: int) -> GroupMember | None:
    return (
        GroupMember.objects.filter(group__round=round, user_id=user_id)
        .select_related("affiliated_school")
        .first()
    )


def conflicts_between(*, evaluator_id: int, school_ids: Sequence[int]) -> QuerySet:
    return ConflictOfInterest.objects.filter(evaluator_id=evaluator_id, school_id__in=school_ids)


def declared_conflict_pairs(
    *, evaluator_ids: Sequence[int], school_ids: Sequence[int]
) -> set[tuple[int, int]]:
    """(school id, evaluator id) of every declared conflict among these, in one query."""
    return set(
        ConflictOfInterest.objects.filter(
            evaluator_id__in=evaluator_ids, school_id__in=school_ids
        ).values_list("school_id", "evaluator_id")
    )


def active_assignments(*, round: Round) -> QuerySet[Assignment]:
    return Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE).select_related(
        "school", "evaluator"
    )


# --- Reads for the bureau's round pages ------------------------------------------------


def round_for_page(*, round_id: int) -> Round | None:
    """A round with its framework and phase windows (one query each)."""
    return (
        Round.objects.filter(pk=round_id)
        .select_related("framework")
        .prefetch_related("phase_windows")
        .first()
    )


def round_group_members(*, round: Round) -> QuerySet[GroupMember]:
    """The members of the round's evaluation group, leader first."""
    return (
        GroupMember.objects.filter(group__round=round)
        .select_related("group", "user", "affiliated_school")
        .order_by("-role", "user__username")  # "leader" sorts after "evaluator"
    )


def round_assignments(*, round: Round) -> QuerySet[Assignment]:
    """Every assignment of the round (also recused ones), by school then evaluator."""
    return (
        Assignment.objects.filter(round=round)
        .select_related("school", "evaluator")
        .order_by("school__code", "evaluator__username")
    )


# ------------------------------------------------------------------ REST API reads


def rounds_visible_to(*, user: Any) -> QuerySet[Round]:
    """Rounds ``user`` may read, with phase windows and school ids prefetched.

    Drafts are the bureau's work in progress: only the bureau roles see them.
    """

    rounds = (
        Round.objects.select_related("framework")
        .prefetch_related(
            Prefetch("phase_windows", queryset=PhaseWindow.objects.order_by("starts_on", "id")),
            Prefetch("schools", queryset=School.objects.only("id").order_by("code")),
        )
        .order_by("-cycle_start", "name", "id")
    )
    if not can_view_drafts(user):
        rounds = rounds.exclude(phase=RoundPhase.DRAFT)
    return rounds


def frameworks_visible_to(*, user: Any, with_indicators: bool = False) -> QuerySet[Framework]:
    """Frameworks ``user`` may read: frozen ones (in use) for anyone, drafts for the bureau.

    ``with_indicators`` prefetches the whole tree (parents joined) in one more query.
    """

    frameworks = Framework.objects.order_by("-valid_from", "name", "id")
    if not can_view_drafts(user):
        frameworks = frameworks.filter(status=FrameworkStatus.FROZEN)
    if with_indicators:
        frameworks = frameworks.prefetch_related(
            Prefetch(
                "indicators",
                queryset=Indicator.objects.select_related("parent").order_by("order", "code"),
            )
        )
    return frameworks


def assignments_visible_to(*, user: Any) -> QuerySet[Assignment]:
    """Every assignment for the bureau roles; an evaluator's own for evaluators; else none."""

    assignments = Assignment.objects.select_related("round", "school", "evaluator").order_by(
        "-round__cycle_start", "round_id", "school__code", "evaluator_id"
    )
    if can_view_every_assignment(user):
        return assignments
    if can_score(user):
        return assignments.filter(evaluator_id=user.pk)
    return assignments.none()


# A round past its draft has a frozen framework, whose dimensions never change, so
# they are kept per process. The key holds the round's creation time as well, so an
# id used again (a test database) never meets an old entry.
_FROZEN_DIMENSIONS: dict[tuple[int, int, Any], tuple[Indicator, ...]] = {}


def round_dimensions(*, round: Round) -> list[Indicator]:
    """The top-level dimensions of the round's framework, in framework order.

    No query for a round past its draft seen before by this process.
    """
    key = (
        None
        if round.phase == RoundPhase.DRAFT
        else (round.pk, round.framework_id, round.created_at)
    )
    if key is not None and key in _FROZEN_DIMENSIONS:
        return list(_FROZEN_DIMENSIONS[key])
    dimensions = list(
        Indicator.objects.filter(framework_id=round.framework_id, parent__isnull=True)
        .only("id", "code", "title_zh", "title_en", "max_points", "order")
        .order_by("order", "code")
    )
    if key is not None:
        if len(_FROZEN_DIMENSIONS) > 256:
            _FROZEN_DIMENSIONS.clear()
        _FROZEN_DIMENSIONS[key] = tuple(dimensions)
    return dimensions


def point_key(indicator: Indicator | int | str) -> int | str:
    """How ``observation_points`` keys an indicator given as object, id or code."""
    return indicator.pk if isinstance(indicator, Indicator) else indicator


def observation_points(
    *, round: Round, indicators: Sequence[Indicator | int | str]
) -> dict[int | str, Indicator]:
    """The round's observation points (leaves) among ``indicators`` (objects, ids or
    codes), in one query, keyed by ``point_key``: by id and by code."""
    ids = {point_key(i) for i in indicators if not isinstance(i, str)}
    codes = {i for i in indicators if isinstance(i, str)}
    if not ids and not codes:
        return {}
    found: dict[int | str, Indicator] = {}
    for point in Indicator.objects.filter(
        Q(pk__in=ids) | Q(code__in=codes),
        framework_id=round.framework_id,
        children__isnull=True,
    ):
        if point.pk in ids:
            found[point.pk] = point
        if point.code in codes:
            found[point.code] = point
    return found


def unknown_point(indicator: Indicator | int | str) -> DomainError:
    """The refusal of an indicator that is not an observation point of the round."""
    return DomainError(
        _("%(indicator)s is not an observation point of this round's framework.")
        % {"indicator": indicator},
        code="unknown_indicator",
        field="indicator",
    )


def observation_point(*, round: Round, indicator: Indicator | int | str) -> Indicator:
    """The observation point (leaf) of the round's framework, by object, id or code."""
    found = observation_points(round=round, indicators=[indicator]).get(point_key(indicator))
    if found is None:
        raise unknown_point(indicator)
    return found


def evaluator_assignment(*, round_id: int, school_id: int, evaluator_id: int) -> Assignment | None:
    """The evaluator's assignment to the school (active or recused), if any, with its
    round, the round's framework and the school, in one query."""
    return (
        Assignment.objects.select_related("round__framework", "school")
        .filter(round_id=round_id, school_id=school_id, evaluator_id=evaluator_id)
        .first()
    )


def assignment_of(*, round: Round, school_id: int, evaluator_id: int) -> Assignment | None:
    """The evaluator's assignment to the school (active or recused), if any."""
    return Assignment.objects.filter(
        round=round, school_id=school_id, evaluator_id=evaluator_id
    ).first()


def conflicts_of_evaluator(*, evaluator_id: int) -> QuerySet:
    """The conflicts of interest recorded for one evaluator, with their schools."""
    return (
        ConflictOfInterest.objects.filter(evaluator_id=evaluator_id)
        .select_related("school")
        .order_by("school__code")
    )
