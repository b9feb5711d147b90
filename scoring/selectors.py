"""Reads for scoring's pages and API: score sheets, result sets, visibility by role.

The inputs of a computation are read in ``scoring.engine_inputs``; progress and
monitoring in ``scoring.progress``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Count,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast

from core.permissions import school_ids_of
from rounds.enums import AssignmentStatus
from rounds.models import Assignment, Indicator, Round
from schools.models import School
from scoring import engine
from scoring.enums import SheetStatus
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    ScoreSheet,
    SelfAssessment,
    SelfScore,
)
from scoring.permissions import (
    can_view_every_score_sheet,
    can_view_every_self_assessment,
    can_view_score_sheets,
    can_view_unpublished_results,
)

# ------------------------------------------------------- score sheet pages
# Reads behind the score pages (evaluator, school self-assessment, consensus,
# audit). Each runs one query whatever the size of the framework, so a page
# built from them keeps a constant query count.


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One node of the indicator tree, in reading order, with its depth (0 = dimension)."""

    indicator: Indicator
    depth: int
    is_leaf: bool


def indicator_tree_rows(*, round: Round) -> list[TreeRow]:
    """The round's indicator tree flattened depth-first, siblings by (order, code); one query."""
    indicators = list(
        Indicator.objects.filter(framework_id=round.framework_id).order_by("order", "code")
    )
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        children[indicator.parent_id].append(indicator)
    rows: list[TreeRow] = []
    stack = [(node, 0) for node in reversed(children[None])]
    while stack:
        node, depth = stack.pop()
        kids = children.get(node.pk, [])
        rows.append(TreeRow(indicator=node, depth=depth, is_leaf=not kids))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return rows


def score_sheet_of(*, round: Round, school_id: int, evaluator_id: int) -> ScoreSheet | None:
    return ScoreSheet.objects.filter(
        round=round, school_id=school_id, evaluator_id=evaluator_id
    ).first()


def sheet_scores_by_point(*, sheet: ScoreSheet | None) -> dict[int, Score]:
    """The sheet's scores keyed by observation point id (empty without a sheet)."""
    if sheet is None:
        return {}
    return {score.indicator_id: score for score in Score.objects.filter(sheet=sheet)}


def sheet_answered_count(*, sheet: ScoreSheet | None) -> int:
    """Observation points of the sheet with points or marked not applicable."""
    if sheet is None:
        return 0
    return (
        Score.objects.filter(sheet=sheet).exclude(points__isnull=True, not_applicable=False).count()
    )


def self_assessment_of(*, round: Round, school_id: int) -> SelfAssessment | None:
    return SelfAssessment.objects.filter(round=round, school_id=school_id).first()


def self_scores_by_point(*, assessment: SelfAssessment | None) -> dict[int, SelfScore]:
    if assessment is None:
        return {}
    return {
        score.indicator_id: score for score in SelfScore.objects.filter(self_assessment=assessment)
    }


def submitted_self_scores_by_point(*, round: Round, school_id: int) -> dict[int, SelfScore]:
    """The school's self scores, only once its self-assessment is submitted."""
    return {
        score.indicator_id: score
        for score in SelfScore.objects.filter(
            self_assessment__round=round,
            self_assessment__school_id=school_id,
            self_assessment__status=SheetStatus.SUBMITTED,
        )
    }


def submitted_expert_scores_by_point(
    *, round: Round, school_id: int, exclude_evaluator_id: int | None = None
) -> dict[int, list[Score]]:
    """Scores of the submitted sheets of active assignments, per observation point.

    A recused evaluator's sheet no longer counts (as in the computation). Each
    score comes with its sheet and evaluator loaded; evaluators in username order.
    """
    active = Assignment.objects.filter(
        round=round,
        school_id=school_id,
        evaluator_id=OuterRef("sheet__evaluator_id"),
        status=AssignmentStatus.ACTIVE,
    )
    scores = (
        Score.objects.filter(
            sheet__round=round, sheet__school_id=school_id, sheet__status=SheetStatus.SUBMITTED
        )
        .filter(Exists(active))
        .select_related("sheet__evaluator")
        .order_by("sheet__evaluator__username", "indicator_id")
    )
    if exclude_evaluator_id is not None:
        scores = scores.exclude(sheet__evaluator_id=exclude_evaluator_id)
    found: dict[int, list[Score]] = defaultdict(list)
    for score in scores:
        found[score.indicator_id].append(score)
    return found


def consensus_scores_by_point(*, round: Round, school_id: int) -> dict[int, ConsensusScore]:
    return {
        row.indicator_id: row
        for row in ConsensusScore.objects.filter(round=round, school_id=school_id).select_related(
            "leader"
        )
    }


def audit_scores_by_point(*, round: Round, school_id: int) -> dict[int, AuditScore]:
    return {
        row.indicator_id: row
        for row in AuditScore.objects.filter(round=round, school_id=school_id).select_related(
            "auditor"
        )
    }


def expert_consolidation(*, round: Round, scores: list[Score]) -> engine.ExpertConsolidation:
    """One point's expert scores consolidated with the round's method (as the engine does)."""
    return engine.consolidate_expert_scores(
        [
            engine.EvaluatorScore(
                score.sheet.evaluator_id,
                None if score.not_applicable else score.points,
                score.not_applicable,
            )
            for score in scores
        ],
        method=engine.Method(round.consolidation_method),
    )


# --- Reads for the browser pages: progress, monitoring, result pages ----------------------
#
# Every function below runs a fixed number of queries whatever the number of
# rounds, schools, evaluators or observation points, so the pages built on them
# keep a constant query count as the data grows.


def result_sets_latest_per_round(*, round_ids: Iterable[int] | None = None) -> QuerySet[ResultSet]:
    """The latest result set of every round (or of the given rounds), newest round first."""
    latest = ResultSet.objects.filter(round=OuterRef("round")).order_by("-version")
    result_sets = ResultSet.objects.filter(
        version=Subquery(latest.values("version")[:1])
    ).select_related("round")
    if round_ids is not None:
        result_sets = result_sets.filter(round_id__in=list(round_ids))
    return result_sets.order_by("-round__cycle_start", "round__name")


def result_sets_published() -> QuerySet[ResultSet]:
    """Every published result set with its round, newest first."""
    return (
        ResultSet.objects.filter(is_published=True)
        .select_related("round")
        .order_by("-round__cycle_start", "round__name", "-version")
    )


def result_sets_of_round(*, round: Round, published_only: bool) -> QuerySet[ResultSet]:
    result_sets = ResultSet.objects.filter(round=round).order_by("-version")
    if published_only:
        result_sets = result_sets.filter(is_published=True)
    return result_sets.defer("statistics", "missing_scores")


def result_row_for_explain(*, row_id: int) -> ResultRow | None:
    """A result row with what explaining it needs (set, round, framework, school)."""
    return (
        ResultRow.objects.filter(pk=row_id)
        .select_related("result_set__round__framework", "school")
        .first()
    )


def result_row_of_school(*, result_set: ResultSet, school_id: int) -> ResultRow | None:
    return (
        ResultRow.objects.filter(result_set=result_set, school_id=school_id)
        .select_related("school")
        .defer("inputs")
        .first()
    )


def framework_indicators_by_code(*, framework_id: int) -> dict[str, Indicator]:
    """Every indicator of a framework by code, in tree order (order, code)."""
    return {
        indicator.code: indicator
        for indicator in Indicator.objects.filter(framework_id=framework_id)
        .only(
            "id",
            "code",
            "parent_id",
            "level",
            "title_zh",
            "title_en",
            "max_points",
            "weight",
            "is_veto",
            "order",
        )
        .order_by("order", "code")
    }


def user_names(*, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names (full name, else user name) of the given users."""
    names = {}
    for pk, username, first_name, last_name in (
        get_user_model()
        .objects.filter(pk__in=list(user_ids))
        .values_list("pk", "username", "first_name", "last_name")
    ):
        names[pk] = f"{last_name}{first_name}".strip() or username
    return names


# ------------------------------------------------------------------ REST API reads

# Rankings can be ordered by the first four dimensions (the Measures have four).
RANKING_DIMENSIONS = 4
_GRADE_ORDER = ("excellent", "good", "qualified", "unqualified")


def result_set_for_reading(*, round_id: int, user: Any, version: int | None) -> ResultSet | None:
    """The stored result set of a round that ``user`` reads, with its round (one query);
    never recomputed.

    Without ``version``: the latest published set. With it: that version, which must be
    published unless the user may see unpublished results (the bureau roles). A draft
    round never has a published set (publishing needs the public-notice phase, and
    phases only move forward), so whoever reads only published sets never sees a draft.
    """

    result_sets = (
        ResultSet.objects.filter(round_id=round_id)
        .select_related("round")
        .defer("statistics", "missing_scores")
    )
    if version is None or not can_view_unpublished_results(user):
        result_sets = result_sets.filter(is_published=True)
    if version is not None:
        result_sets = result_sets.filter(version=version)
    return result_sets.order_by("-version").first()


def ranking_rows(
    *, result_set: ResultSet, dimension_codes: list[str], for_filtering: bool = True
) -> QuerySet[ResultRow]:
    """The rows of a stored result set in rank order, school code breaking ties.

    ``for_filtering`` adds what the filters and orderings of the rankings use:
    ``ranked_group`` (the group the row was ranked in: stored on the row, else the
    school's), ``grade_order`` (best grade first) and ``dimension_1`` … (the dimension
    subtotals as numbers, in framework order). Without it the query stays plain.
    """
    from django.db.models import Case, DecimalField, F, Value, When
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast

    rows = ResultRow.objects.filter(result_set=result_set).order_by("rank", "school__code")
    if not for_filtering:
        return rows
    number = DecimalField(max_digits=9, decimal_places=2)
    dimensions = {
        f"dimension_{index}": (
            Cast(KeyTextTransform(dimension_codes[index - 1], "dimension_subtotals"), number)
            if index <= len(dimension_codes)
            else Value(None, output_field=number)
        )
        for index in range(1, RANKING_DIMENSIONS + 1)
    }
    return rows.annotate(
        ranked_group=Case(
            When(group="", then=F("school__ranking_group")),
            default=F("group"),
            output_field=CharField(),
        ),
        grade_order=Case(
            *(When(grade=grade, then=Value(index)) for index, grade in enumerate(_GRADE_ORDER)),
            default=Value(len(_GRADE_ORDER)),
        ),
        **dimensions,
    )


# The columns of ``ranking_values``, in order; the dimension subtotals follow them.
RANKING_COLUMNS = (
    "rank",
    "group_rank",
    "school_id",
    "school__code",
    "school__name_zh",
    "school__name_en",
    "school__kind",
    "group",
    "school__ranking_group",
    "total",
    "grade",
    "rank_note",
    "is_complete",
    "veto_failed_text",
)


def ranking_values(
    *, rows: QuerySet[ResultRow], dimension_codes: list[str], with_count: bool = False
) -> QuerySet:
    """``ranking_rows`` as tuples of ``RANKING_COLUMNS``, then one subtotal per dimension,
    then (``with_count``) the number of rows of the whole ranking, so a page and its
    count come in one query.

    The database picks the subtotals out of the JSON as text and hands over the failed
    veto items as JSON text, so a row costs no JSON decoding unless a veto item failed:
    the rankings are the API's hottest list.
    """
    from django.db.models import TextField, Window
    from django.db.models.fields.json import KeyTextTransform

    columns: dict[str, Any] = {
        f"subtotal_{index}": KeyTextTransform(code, "dimension_subtotals")
        for index, code in enumerate(dimension_codes)
    }
    if with_count:
        columns["full_count"] = Window(Count("pk"))
    return rows.annotate(veto_failed_text=Cast("veto_failed", TextField()), **columns).values_list(
        *RANKING_COLUMNS, *columns
    )


def score_sheets_visible_to(*, user: Any) -> QuerySet[ScoreSheet]:
    """Score sheets with their scores: an evaluator's own; every sheet for the bureau roles.

    Three queries for any page: the sheets (round, school, evaluator joined), and
    their scores with the observation point.
    """
    from django.db.models import Prefetch

    sheets = (
        ScoreSheet.objects.select_related("round", "school", "evaluator")
        .prefetch_related(
            Prefetch(
                "scores",
                queryset=Score.objects.select_related("indicator").order_by(
                    "indicator__order", "indicator__code"
                ),
            )
        )
        .order_by("-round__cycle_start", "round_id", "school__code", "evaluator_id")
    )
    if can_view_every_score_sheet(user):
        return sheets
    if can_view_score_sheets(user):
        return sheets.filter(evaluator_id=user.pk)
    return sheets.none()


def score_of_sheet(*, sheet: ScoreSheet, code: str) -> Score | None:
    return Score.objects.filter(sheet=sheet, indicator__code=code).first()


def self_assessments_visible_to(*, user: Any) -> QuerySet[SelfAssessment]:
    """Self-assessments with their scores: the own schools' for staff, all for the bureau."""
    from django.db.models import Prefetch

    assessments = (
        SelfAssessment.objects.select_related("round", "school")
        .prefetch_related(
            Prefetch(
                "scores",
                queryset=SelfScore.objects.select_related("indicator").order_by(
                    "indicator__order", "indicator__code"
                ),
            )
        )
        .order_by("-round__cycle_start", "round_id", "school__code")
    )
    if can_view_every_self_assessment(user):
        return assessments
    return assessments.filter(school_id__in=school_ids_of(user))


def result_sets_visible_to(*, user: Any) -> QuerySet[ResultSet]:
    """Result sets, published or not, for the bureau roles; with their row counts."""

    result_sets = (
        ResultSet.objects.select_related("round")
        .annotate(school_count=Count("rows"))
        .defer("statistics")
        .order_by("-round__cycle_start", "round_id", "-version")
    )
    if can_view_unpublished_results(user):
        return result_sets
    return result_sets.filter(is_published=True)


def school_codes_of(*, school_ids: Iterable[int]) -> dict[int, str]:
    return dict(School.objects.filter(pk__in=list(school_ids)).values_list("pk", "code"))


def usernames_of(*, user_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        get_user_model().objects.filter(pk__in=list(user_ids)).values_list("pk", "username")
    )


def result_set_incomplete_schools(*, result_set: ResultSet) -> list[Any]:
    """The schools of ``result_set`` whose scoring is incomplete (a leaf without any
    score that no consensus or audit score covers), in rank order."""
    return [
        row.school
        for row in ResultRow.objects.filter(result_set=result_set, is_complete=False)
        .select_related("school")
        .only("rank", "school__code", "school__name_zh", "school__name_en")
        .order_by("rank", "school__code")
    ]
