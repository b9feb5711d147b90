"""Reads behind the public notice, objection and publication pages.

Each returns a queryset with what its page shows joined or prefetched, so a
page runs the same number of queries whatever the number of rows. None of them
loads an objector's encrypted identity: only ``scoring.publication`` decrypts it.
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from publication.enums import OBJECTION_OPEN
from publication.models import NoticePeriod, Objection
from rounds.models import Indicator, Round
from scoring.models import ResultRow, ResultSet

_IDENTITY = ("identity_encrypted", "seal_encrypted")


def notices_latest_per_round() -> QuerySet[NoticePeriod]:
    """Every round's latest public notice, newest first, with its round."""
    latest = NoticePeriod.objects.filter(result_set__round=OuterRef("result_set__round")).order_by(
        "-starts_at", "-pk"
    )
    return (
        NoticePeriod.objects.filter(pk=Subquery(latest.values("pk")[:1]))
        .select_related("result_set__round")
        .defer("result_set__statistics", "result_set__missing_scores")
        .order_by("-starts_at")
    )


def notice_round(*, round_id: int) -> Round | None:
    return Round.objects.filter(pk=round_id).select_related("framework").first()


def result_set_shown_on_notice(*, round: Round) -> ResultSet | None:
    """What the public notice page shows: the latest published version once there is
    one, else the latest version (provisional: after an upheld objection, the
    corrected one)."""
    result_sets = (
        ResultSet.objects.filter(round=round)
        .select_related("supersedes")
        .defer(
            "statistics", "missing_scores", "supersedes__statistics", "supersedes__missing_scores"
        )
        .order_by("-version")
    )
    return result_sets.filter(is_published=True).first() or result_sets.first()


def notice_ranking(*, result_set: ResultSet) -> QuerySet[ResultRow]:
    """The rows a public ranking shows: rank, school, total, grade (no inputs)."""
    return (
        ResultRow.objects.filter(result_set=result_set)
        .select_related("school")
        .only(
            "rank",
            "group_rank",
            "total",
            "grade",
            "rank_note",
            "veto_failed",
            "group",
            "school__code",
            "school__name_zh",
            "school__name_en",
            "school__ranking_group",
        )
        .order_by("rank", "school__code")
    )


def notice_schools(*, result_set: ResultSet) -> list[tuple[int, str]]:
    """(school id, name) of the schools under notice, for the objection form."""
    return list(
        ResultRow.objects.filter(result_set=result_set)
        .order_by("school__code")
        .values_list("school_id", "school__name_zh")
    )


def framework_indicator_choices(*, round: Round) -> list[tuple[int, str]]:
    return [
        (pk, f"{code} {title}")
        for pk, code, title in Indicator.objects.filter(framework_id=round.framework_id)
        .order_by("order", "code")
        .values_list("pk", "code", "title_zh")
    ]


def observation_point_choices(*, round: Round) -> list[tuple[str, str]]:
    return [
        (code, f"{code} {title}")
        for code, title in Indicator.objects.filter(
            framework_id=round.framework_id, children__isnull=True
        )
        .order_by("order", "code")
        .values_list("code", "title_zh")
    ]


def objections_for_handling(
    *, round_id: int | None = None, status: str | None = None
) -> QuerySet[Objection]:
    """Objections for the bureau's list: newest first, without the encrypted identity."""
    objections = (
        Objection.objects.select_related(
            "notice__result_set__round", "school", "indicator", "handled_by"
        )
        .defer(*_IDENTITY, "notice__result_set__statistics", "notice__result_set__missing_scores")
        .order_by("-filed_at", "-pk")
    )
    if round_id is not None:
        objections = objections.filter(notice__result_set__round_id=round_id)
    if status:
        objections = objections.filter(status=status)
    return objections


def objection_for_handling(*, objection_id: int) -> Objection | None:
    return (
        objections_for_handling()
        .select_related("responded_by", "result_set_after")
        .filter(pk=objection_id)
        .first()
    )


def objection_by_tracking_code(*, code: str) -> Objection | None:
    """The objection a tracking code names, for its status page (no identity)."""
    if not code:
        return None
    return (
        Objection.objects.filter(tracking_code=code)
        .select_related("notice__result_set__round", "school", "indicator", "result_set_after")
        .defer(*_IDENTITY, "notice__result_set__statistics", "notice__result_set__missing_scores")
        .first()
    )


def rounds_with_objections() -> list[Round]:
    """Rounds that have objections, with their open count, for the list's filter."""
    return list(
        Round.objects.filter(result_sets__notice__objections__isnull=False)
        .annotate(
            open_objections=Count(
                "result_sets__notice__objections",
                filter=Q(result_sets__notice__objections__status__in=OBJECTION_OPEN),
            )
        )
        .order_by("-cycle_start", "name")
    )


def round_versions(*, round: Round) -> list[ResultSet]:
    """Every version of a round with its notice and supersession, newest first."""
    return list(
        ResultSet.objects.filter(round=round)
        .select_related("supersedes", "superseded_by", "notice")
        .defer(
            "statistics",
            "missing_scores",
            "supersedes__statistics",
            "supersedes__missing_scores",
            "superseded_by__statistics",
            "superseded_by__missing_scores",
        )
        .order_by("-version")
    )
