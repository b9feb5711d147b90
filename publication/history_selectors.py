"""Reads behind a school's results across cycles and a round's comparison with the
previous round of its framework lineage.

Only published results count: for each round, its latest published version
(a correction supersedes the version it corrects). A **framework lineage** is
the rounds whose frameworks share the same ``policy_title`` (the Measures they
implement), ordered by cycle (start year, end year, then creation); a round's
*previous* round is the one before it in that order that has published results.

Each function runs a fixed number of queries whatever the number of rounds or
schools.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from rounds.models import Indicator, Round
from schools.models import School
from scoring.models import ResultRow, ResultSet

_ROW_HEAVY_FIELDS = ("inputs", "indicator_scores", "self_gap")
_SET_HEAVY_FIELDS = ("result_set__statistics", "result_set__missing_scores")


def _latest_published_of(round_ref: str) -> Subquery:
    return Subquery(
        ResultSet.objects.filter(round=OuterRef(round_ref), is_published=True)
        .order_by("-version")
        .values("pk")[:1]
    )


def _rows_ranked(result_set_ref: str) -> Coalesce:
    counted = (
        ResultRow.objects.filter(result_set=OuterRef(result_set_ref))
        .order_by()
        .values("result_set")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def history_schools() -> QuerySet[School]:
    return School.objects.order_by("code")


def history_school(*, school_id: int) -> School | None:
    return School.objects.filter(pk=school_id).first()


def school_history_rows(*, school: School) -> list[ResultRow]:
    """The school's row in the latest published version of every round, oldest first.

    Each row comes with its result set, round and framework, and ``schools_ranked``
    (how many schools that result set ranked).
    """
    return list(
        ResultRow.objects.filter(
            school=school, result_set_id=_latest_published_of("result_set__round")
        )
        .select_related("result_set__round__framework")
        .defer(*_ROW_HEAVY_FIELDS, *_SET_HEAVY_FIELDS)
        .annotate(schools_ranked=_rows_ranked("result_set"))
        .order_by(
            "result_set__round__cycle_start",
            "result_set__round__cycle_end",
            "result_set__round__created_at",
            "result_set__round_id",
        )
    )


def dimensions_of(*, framework_ids: Iterable[int]) -> dict[int, list[Indicator]]:
    """The dimensions (top-level indicators) of each framework, in framework order."""
    found: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in Indicator.objects.filter(
        framework_id__in=list(framework_ids), parent__isnull=True
    ).order_by("framework_id", "order", "code"):
        found[indicator.framework_id].append(indicator)
    return found


@dataclass(frozen=True, slots=True)
class LineageRound:
    round_id: int
    name: str
    cycle_start: int
    cycle_end: int
    policy_title: str


def _published_rounds() -> QuerySet[Round]:
    return Round.objects.filter(
        Exists(ResultSet.objects.filter(round=OuterRef("pk"), is_published=True))
    ).order_by("cycle_start", "cycle_end", "created_at", "pk")


def lineages(*, policy_titles: Iterable[str]) -> dict[str, list[LineageRound]]:
    """The rounds with published results of each named lineage, in cycle order."""
    found: dict[str, list[LineageRound]] = defaultdict(list)
    for pk, name, start, end, title in (
        _published_rounds()
        .filter(framework__policy_title__in=list(policy_titles))
        .values_list("pk", "name", "cycle_start", "cycle_end", "framework__policy_title")
    ):
        found[title].append(LineageRound(pk, name, start, end, title))
    return found


def previous_in_lineage(round_id: int, lineage: list[LineageRound]) -> LineageRound | None:
    """The round before ``round_id`` in its lineage (None for the first, or if absent)."""
    ids = [entry.round_id for entry in lineage]
    if round_id not in ids:
        return None
    index = ids.index(round_id)
    return lineage[index - 1] if index else None


def rounds_with_published_results() -> QuerySet[Round]:
    """Rounds that have published results, newest first, with their framework."""
    return _published_rounds().select_related("framework").order_by("-cycle_start", "name")


def comparison_round(*, round_id: int) -> tuple[Round, ResultSet] | None:
    """A round with its latest published result set, or None (unknown, nothing published)."""
    round = (
        Round.objects.filter(pk=round_id)
        .select_related("framework")
        .annotate(published_set_id=_latest_published_of("pk"))
        .first()
    )
    if round is None or round.published_set_id is None:
        return None
    result_set = (
        ResultSet.objects.filter(pk=round.published_set_id)
        .defer("statistics", "missing_scores")
        .get()
    )
    return round, result_set


def published_rows(*, round_ids: Iterable[int]) -> dict[int, list[ResultRow]]:
    """The rows of the latest published version of each round (with school), by round."""
    found: dict[int, list[ResultRow]] = defaultdict(list)
    for row in (
        ResultRow.objects.filter(
            result_set__round_id__in=list(round_ids),
            result_set_id=_latest_published_of("result_set__round"),
        )
        .select_related("school", "result_set__round__framework")
        .defer(*_ROW_HEAVY_FIELDS, *_SET_HEAVY_FIELDS)
        .order_by("rank", "school__code")
    ):
        found[row.result_set.round_id].append(row)
    return found
