"""Read queries for frameworks, rounds, groups and assignments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db.models import QuerySet

from .enums import AssignmentStatus
from .models import Assignment, ConflictOfInterest, Framework, GroupMember, Indicator, Round
from .validation import NodeSpec


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


def assignments_for_evaluator(*, round: Round, evaluator_id: int) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(round=round, evaluator_id=evaluator_id)
        .select_related("school")
        .order_by("school__code")
    )


def active_assignments(*, round: Round) -> QuerySet[Assignment]:
    return Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE).select_related(
        "school", "evaluator"
    )
