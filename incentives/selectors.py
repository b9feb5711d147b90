"""Reads behind the incentive pages: published result sets and their rows as candidates.

Only published result sets are read (an unpublished computation gives no
incentive); each read runs one query whatever the number of schools or rounds.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import get_language

from incentives.allocation import IncentiveCandidate
from scoring.models import ResultRow, ResultSet


def _with_superseding(result_sets: QuerySet[ResultSet]) -> QuerySet[ResultSet]:
    """Annotate ``superseded`` and ``superseded_by_version`` (no query per set)."""
    successor = ResultSet.objects.filter(supersedes=OuterRef("pk"))
    return result_sets.annotate(
        superseded=Exists(successor),
        superseded_by_version=Subquery(successor.values("version")[:1]),
    )


def incentive_result_sets() -> QuerySet[ResultSet]:
    """Every published result set with its round, newest round first, latest version first."""
    return _with_superseding(
        ResultSet.objects.filter(is_published=True)
        .select_related("round__framework")
        .defer("statistics", "missing_scores")
        .order_by("-round__cycle_start", "round__name", "-version")
    )


def incentive_result_set(*, result_set_id: int) -> ResultSet | None:
    """A published result set with its round and framework, or None (unpublished, unknown)."""
    return (
        _with_superseding(
            ResultSet.objects.filter(pk=result_set_id, is_published=True)
            .select_related("round__framework")
            .defer("statistics", "missing_scores")
        )
        .order_by()
        .first()
    )


def incentive_candidates(*, result_set: ResultSet) -> list[IncentiveCandidate]:
    """The rows of ``result_set`` as incentive candidates, in ranking order (one query)."""
    english = get_language() == "en"
    rows = (
        ResultRow.objects.filter(result_set=result_set)
        .order_by("rank", "school__code")
        .values_list(
            "school_id",
            "school__code",
            "school__name_zh",
            "school__name_en",
            "grade",
            "total",
            "rank",
            "veto_failed",
            "is_complete",
        )
    )
    return [
        IncentiveCandidate(
            school_id=school_id,
            code=code,
            name=(name_en if english and name_en else name_zh),
            grade=grade,
            total=Decimal(total),
            rank=rank,
            veto_failed=bool(veto_failed),
            complete=complete,
        )
        for (
            school_id,
            code,
            name_zh,
            name_en,
            grade,
            total,
            rank,
            veto_failed,
            complete,
        ) in rows
    ]
