"""Reads for scoring: the inputs of a round computation, result sets, explanations.

``round_engine_inputs`` loads everything a computation needs in a fixed number
of queries (one per table, whatever the round's size) as plain tuples, and turns
them into the engine's frozen dataclasses.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce

from core import permissions
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Evidence, Indicator, Round
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
from scoring.permissions import can_view_unpublished_results


def engine_framework(*, round: Round) -> tuple[engine.Framework, dict[int, str]]:
    """The round's indicator tree as an engine Framework, and indicator id → code."""
    rows = list(
        Indicator.objects.filter(framework_id=round.framework_id).values_list(
            "id",
            "code",
            "parent__code",
            "max_points",
            "weight",
            "order",
            "is_veto",
            "veto_pass_mark",
        )
    )
    nodes = tuple(
        engine.Node(
            code=code,
            parent_code=parent_code,
            max_points=max_points,
            weight=weight,
            order=order,
            is_veto=is_veto,
            veto_pass_mark=veto_pass_mark,
        )
        for _id, code, parent_code, max_points, weight, order, is_veto, veto_pass_mark in rows
    )
    framework = round.framework
    bands = tuple(
        sorted(
            ((str(band["grade"]), Decimal(str(band["min"]))) for band in framework.grade_bands),
            key=lambda band: band[1],
            reverse=True,
        )
    )
    return (
        engine.Framework(nodes=nodes, total_points=framework.total_points, grade_bands=bands),
        {row[0]: row[1] for row in rows},
    )


def engine_config(*, round: Round) -> engine.RoundConfig:
    return engine.RoundConfig(
        method=engine.Method(round.consolidation_method),
        veto_ranks_last=round.veto_ranks_last,
        tie_break_by_dimension=round.tie_break_by_dimension,
        spread_threshold=round.spread_threshold,
    )


@dataclass(frozen=True, slots=True)
class RoundInputs:
    framework: engine.Framework
    config: engine.RoundConfig
    schools: tuple[engine.SchoolInput, ...]
    snapshots: dict[int, bytes]  # school id → compressed inputs, for ResultRow.inputs


@dataclass(slots=True)
class _SchoolRows:
    """The raw rows that went into one school's figures, as loaded.

    Expert scores are kept a sheet at a time, as parallel columns in the
    order of the indicator ids: (evaluator, indicator ids, points as text,
    not-applicable flags). Compact to store and quick to turn into the
    engine's input.
    """

    sheets: list = field(default_factory=list)
    consensus: list = field(default_factory=list)  # (school, indicator, points, n/a, text)
    audit: list = field(default_factory=list)
    self_scores: list = field(default_factory=list)  # (school, indicator, points, n/a)
    expected: list = field(default_factory=list)  # evaluator ids


class _Decimals(dict):
    """Points text → Decimal, each distinct text converted once (a round has few)."""

    def __missing__(self, text: str | None) -> Decimal | None:
        value = None if text is None else Decimal(text)
        self[text] = value
        return value


_SHEET = itemgetter(0, 1)


def round_engine_inputs(*, round: Round) -> RoundInputs:
    """Everything a computation of ``round`` needs, in seven queries.

    Counts only submitted score sheets of active (not recused) assignments;
    an assigned evaluator whose sheet is missing or still a draft is expected,
    so the engine lists their scores as missing. A blank row (neither points
    nor not applicable) is no answer. Self scores come from submitted
    self-assessments only. The rows kept for each school are also returned
    compressed, so a stored result can be explained later exactly as it was
    computed.
    """
    framework, code_of = engine_framework(round=round)
    schools = list(round.schools.order_by("code").values_list("id", "ranking_group"))
    rows: dict[int, _SchoolRows] = {school_id: _SchoolRows() for school_id, _group in schools}
    expected: dict[int, set[int]] = defaultdict(set)
    for school_id, evaluator_id in Assignment.objects.filter(
        round=round, status=AssignmentStatus.ACTIVE
    ).values_list("school_id", "evaluator_id"):
        expected[school_id].add(evaluator_id)
    for school_id, ids in expected.items():
        if school_id in rows:
            rows[school_id].expected = sorted(ids)

    # One sheet's rows arrive together, in indicator order (the order of the
    # unique index), and are cut into columns without a Python loop per
    # score. Points arrive as text: that is what the snapshot keeps.
    scores = (
        Score.objects.filter(sheet__round=round, sheet__status=SheetStatus.SUBMITTED)
        .filter(Q(points__isnull=False) | Q(not_applicable=True))
        .annotate(points_text=Cast("points", output_field=CharField()))
        .order_by("sheet_id", "indicator_id")
        .values_list(
            "sheet__school_id",
            "sheet__evaluator_id",
            "indicator_id",
            "points_text",
            "not_applicable",
        )
    )
    for (school_id, evaluator_id), sheet in groupby(scores, key=_SHEET):
        # a recused evaluator's sheet no longer counts
        if evaluator_id in expected.get(school_id, ()):
            _school, _evaluator, indicators, points, flags = zip(*sheet, strict=True)
            rows[school_id].sheets.append((evaluator_id, indicators, points, flags))

    for row in ConsensusScore.objects.filter(round=round).values_list(
        "school_id", "indicator_id", "points", "not_applicable", "justification"
    ):
        if row[0] in rows:
            rows[row[0]].consensus.append(row)
    for row in AuditScore.objects.filter(round=round).values_list(
        "school_id", "indicator_id", "points", "not_applicable", "reason"
    ):
        if row[0] in rows:
            rows[row[0]].audit.append(row)
    for row in SelfScore.objects.filter(
        self_assessment__round=round, self_assessment__status=SheetStatus.SUBMITTED
    ).values_list("self_assessment__school_id", "indicator_id", "points", "not_applicable"):
        if row[0] in rows:
            rows[row[0]].self_scores.append(row)

    decimals = _Decimals()
    inputs = tuple(
        _school_input(school_id, group, rows[school_id], code_of, decimals)
        for school_id, group in schools
    )
    snapshots = {school_id: _compress(rows[school_id]) for school_id, _group in schools}
    return RoundInputs(framework, engine_config(round=round), inputs, snapshots)


def _school_input(
    school_id: int,
    group: str,
    rows: _SchoolRows,
    code_of: dict[int, str],
    decimals: _Decimals | None = None,
) -> engine.SchoolInput:
    """Turn one school's raw rows into the engine's input (the one place that does)."""
    decimals = _Decimals() if decimals is None else decimals
    sheets = rows.sheets
    expert: dict[str, engine.ScoreColumns] = {}
    if sheets and all(sheet[1] == sheets[0][1] for sheet in sheets):
        # Every sheet answered the same points (the usual case): a leaf's
        # scores are one column across the sheets, cut without a loop per score.
        evaluators = tuple(sheet[0] for sheet in sheets)
        points = zip(*(map(decimals.__getitem__, sheet[2]) for sheet in sheets), strict=True)
        flags = zip(*(sheet[3] for sheet in sheets), strict=True)
        columns = engine.ScoreColumns
        for indicator_id, given, not_applicable in zip(sheets[0][1], points, flags, strict=True):
            expert[code_of[indicator_id]] = columns(evaluators, given, not_applicable)
    else:
        grouped: dict[str, list] = defaultdict(list)
        for evaluator_id, indicators, points, flags in sheets:
            for indicator_id, text, not_applicable in zip(indicators, points, flags, strict=True):
                grouped[code_of[indicator_id]].append(
                    (evaluator_id, decimals[text], not_applicable)
                )
        expert = {
            code: engine.ScoreColumns(*zip(*given, strict=True)) for code, given in grouped.items()
        }

    def overrides(found: list) -> dict[str, engine.OverrideScore]:
        return {
            code_of[indicator_id]: engine.OverrideScore(
                None if not_applicable else points, text, not_applicable
            )
            for _school, indicator_id, points, not_applicable, text in found
        }

    self_scores: dict[str, Any] = {}
    for _school, indicator_id, points, not_applicable in rows.self_scores:
        if not_applicable:
            self_scores[code_of[indicator_id]] = engine.NOT_APPLICABLE
        elif points is not None:
            self_scores[code_of[indicator_id]] = points
    return engine.SchoolInput(
        school_id=school_id,
        group=group,
        expert_scores=expert,
        consensus_scores=overrides(rows.consensus),
        audit_scores=overrides(rows.audit),
        self_scores=self_scores,
        expected_evaluator_ids=tuple(rows.expected),
    )


SNAPSHOT_VERSION = 2


def _compress(rows: _SchoolRows) -> bytes:
    """The school's rows as zlib-compressed JSON.

    A sheet is kept as [evaluator, indicator ids, points as text], the ids null
    when they are the first sheet's (as they are when every sheet is complete),
    kept once under "points". A point is not applicable exactly when its
    points are null: the loader keeps no blank row, and the database allows no
    points beside "not applicable".
    """
    sheets = rows.sheets
    shared = sheets[0][1] if sheets else ()
    payload = {
        "v": SNAPSHOT_VERSION,
        "points": shared,
        "sheets": [
            [evaluator_id, None if indicators == shared else indicators, points]
            for evaluator_id, indicators, points, _flags in sheets
        ],
        "consensus": rows.consensus,
        "audit": rows.audit,
        "self": rows.self_scores,
        "expected": rows.expected,
    }
    # Decimals as strings; nothing is ever turned into a float.
    text = json.dumps(payload, default=str, separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode(), 1)


def _decompress(blob: bytes) -> _SchoolRows:
    payload = json.loads(zlib.decompress(bytes(blob)))

    def dec(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    if payload.get("v") == SNAPSHOT_VERSION:
        shared = tuple(payload["points"])
        sheets = [
            (
                evaluator_id,
                shared if indicators is None else tuple(indicators),
                tuple(points),
                tuple(value is None for value in points),
            )
            for evaluator_id, indicators, points in payload["sheets"]
        ]
    else:  # the first format: one (school, evaluator, indicator, points, n/a) row a score
        by_evaluator: dict[int, list] = defaultdict(list)
        for _school, evaluator_id, indicator_id, points, not_applicable in payload["expert"]:
            by_evaluator[evaluator_id].append((indicator_id, points, not_applicable))
        sheets = [
            (evaluator_id, *zip(*sorted(found), strict=True))
            for evaluator_id, found in sorted(by_evaluator.items())
        ]
    return _SchoolRows(
        sheets=sheets,  # points stay text, as when loaded
        consensus=[(s, i, dec(p), na, t) for s, i, p, na, t in payload["consensus"]],
        audit=[(s, i, dec(p), na, t) for s, i, p, na, t in payload["audit"]],
        self_scores=[(s, i, dec(p), na) for s, i, p, na in payload["self"]],
        expected=list(payload["expected"]),
    )


def stored_school_input(*, row: ResultRow, code_of: dict[int, str]) -> engine.SchoolInput:
    """The engine input a stored result row was computed from."""
    return _school_input(row.school_id, row.group, _decompress(row.inputs), code_of)


def stored_config(*, result_set: ResultSet) -> engine.RoundConfig:
    return engine.RoundConfig(
        method=engine.Method(result_set.consolidation_method),
        trim_min_count=result_set.trim_min_count,
        veto_ranks_last=result_set.veto_ranks_last,
        tie_break_by_dimension=result_set.tie_break_by_dimension,
        spread_threshold=result_set.spread_threshold,
    )


def stored_round_result(*, result_set: ResultSet) -> engine.RoundResult:
    """Recompute a stored result set from its own inputs (for statistics)."""
    framework, code_of = engine_framework(round=result_set.round)
    rows = ResultRow.objects.filter(result_set=result_set).order_by("school_id")
    inputs = [stored_school_input(row=row, code_of=code_of) for row in rows]
    return engine.compute_round(framework, inputs, stored_config(result_set=result_set))


def result_set_latest(*, round: Round) -> ResultSet | None:
    return ResultSet.objects.filter(round=round).order_by("-version").first()


def result_set_rows(*, result_set: ResultSet) -> QuerySet[ResultRow]:
    return (
        ResultRow.objects.filter(result_set=result_set)
        .select_related("school")
        .defer("inputs")
        .order_by("rank", "school__code")
    )


def result_row_explain(*, row: ResultRow, code: str | None = None) -> engine.Explanation:
    """Explain one number of a stored result row exactly as it was computed.

    Rebuilds the school's engine input from the row's own stored inputs (never
    from today's score tables) and asks the engine; raises KeyError for an
    unknown code.
    """
    result_set = row.result_set
    framework, code_of = engine_framework(round=result_set.round)
    school_input = stored_school_input(row=row, code_of=code_of)
    result = engine.compute_round(framework, [school_input], stored_config(result_set=result_set))
    return engine.explain(result, row.school_id, code)


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


def _subquery_count(queryset: QuerySet, group_by: str) -> Coalesce:
    """``COUNT(*)`` of ``queryset`` (already filtered on an OuterRef) as an annotation."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _answered() -> Q:
    """A score row that says something: points, or not applicable."""
    return Q(points__isnull=False) | Q(not_applicable=True)


def _leaf_count(framework_ref: str) -> Coalesce:
    return _subquery_count(
        Indicator.objects.filter(framework=OuterRef(framework_ref), children__isnull=True),
        "framework",
    )


def rounds_progress(*, include_closed: bool = False) -> QuerySet[Round]:
    """Rounds with their progress: schools, sheets expected and submitted, latest version.

    ``sheets_expected`` counts active (not recused) assignments; ``sheets_submitted``
    the submitted sheets among them. Phase windows come prefetched.
    """
    active = Assignment.objects.filter(round=OuterRef("pk"), status=AssignmentStatus.ACTIVE)
    submitted = ScoreSheet.objects.filter(
        round=OuterRef("pk"), status=SheetStatus.SUBMITTED
    ).filter(
        Exists(
            Assignment.objects.filter(
                round=OuterRef("round"),
                school=OuterRef("school"),
                evaluator=OuterRef("evaluator"),
                status=AssignmentStatus.ACTIVE,
            )
        )
    )
    rounds = Round.objects.select_related("framework").prefetch_related("phase_windows")
    if not include_closed:
        rounds = rounds.exclude(phase=RoundPhase.CLOSED)
    return rounds.annotate(
        school_count=_subquery_count(
            Round.schools.through.objects.filter(round=OuterRef("pk")), "round"
        ),
        sheets_expected=_subquery_count(active, "round"),
        sheets_submitted=_subquery_count(submitted, "round"),
        latest_version=Subquery(
            ResultSet.objects.filter(round=OuterRef("pk"))
            .order_by("-version")
            .values("version")[:1]
        ),
    ).order_by("-cycle_start", "name")


def evaluator_assignments_progress(*, evaluator_id: int) -> QuerySet[Assignment]:
    """An evaluator's assignments in rounds that are not closed, with sheet progress.

    Annotates ``scores_entered`` (points or not applicable), ``sheet_status``,
    ``sheet_submitted_at`` and ``leaf_count`` (observation points of the framework).
    """
    sheet = ScoreSheet.objects.filter(
        round=OuterRef("round"), school=OuterRef("school"), evaluator=OuterRef("evaluator")
    )
    entered = Score.objects.filter(
        sheet__round=OuterRef("round"),
        sheet__school=OuterRef("school"),
        sheet__evaluator=OuterRef("evaluator"),
    ).filter(_answered())
    return (
        Assignment.objects.filter(evaluator_id=evaluator_id)
        .exclude(round__phase=RoundPhase.CLOSED)
        .select_related("round", "school")
        .prefetch_related("round__phase_windows")
        .annotate(
            scores_entered=_subquery_count(entered, "sheet"),
            sheet_status=Subquery(sheet.values("status")[:1]),
            sheet_submitted_at=Subquery(sheet.values("submitted_at")[:1]),
            leaf_count=_leaf_count("round__framework"),
        )
        .order_by("-round__cycle_start", "round__name", "school__code")
    )


@dataclass(frozen=True, slots=True)
class SchoolRoundProgress:
    """A school's self-assessment and evidence in one round."""

    round: Round
    school: School
    self_status: str | None  # None: not started
    self_scored: int
    leaf_count: int
    evidence_required: int  # observation points that ask for evidence
    evidence_present: int  # of those, the points with at least one file

    @property
    def evidence_missing(self) -> int:
        return self.evidence_required - self.evidence_present


def _required_evidence_leaves(framework_ids: set[int]) -> tuple[dict[int, int], dict[int, set]]:
    """Per framework: the number of observation points, and those that ask for evidence."""
    leaf_counts: dict[int, int] = defaultdict(int)
    required: dict[int, set[int]] = defaultdict(set)
    for framework_id, indicator_id, required_evidence in Indicator.objects.filter(
        framework_id__in=framework_ids, children__isnull=True
    ).values_list("framework_id", "id", "required_evidence"):
        leaf_counts[framework_id] += 1
        if required_evidence:
            required[framework_id].add(indicator_id)
    return leaf_counts, required


def school_rounds_progress(*, school_ids: Iterable[int]) -> list[SchoolRoundProgress]:
    """Self-assessment and evidence completeness of the schools in rounds not closed."""
    pairs = list(
        Round.schools.through.objects.filter(school_id__in=list(school_ids))
        .exclude(round__phase=RoundPhase.CLOSED)
        .select_related("round", "school")
        .prefetch_related("round__phase_windows")
        .order_by("-round__cycle_start", "round__name", "school__code")
    )
    if not pairs:
        return []
    round_ids = {pair.round_id for pair in pairs}
    wanted_schools = {pair.school_id for pair in pairs}
    leaf_counts, required = _required_evidence_leaves({pair.round.framework_id for pair in pairs})
    assessments = {
        (round_id, school_id): (status, scored)
        for round_id, school_id, status, scored in SelfAssessment.objects.filter(
            round_id__in=round_ids, school_id__in=wanted_schools
        )
        .annotate(
            scored=Count(
                "scores", filter=Q(scores__points__isnull=False) | Q(scores__not_applicable=True)
            )
        )
        .values_list("round_id", "school_id", "status", "scored")
    }
    present: dict[tuple[int, int], set[int]] = defaultdict(set)
    for round_id, school_id, indicator_id in (
        Evidence.objects.filter(round_id__in=round_ids, school_id__in=wanted_schools)
        .values_list("round_id", "school_id", "indicator_id")
        .distinct()
    ):
        present[(round_id, school_id)].add(indicator_id)
    progress = []
    for pair in pairs:
        status, scored = assessments.get((pair.round_id, pair.school_id), (None, 0))
        needed = required.get(pair.round.framework_id, set())
        progress.append(
            SchoolRoundProgress(
                round=pair.round,
                school=pair.school,
                self_status=status,
                self_scored=scored,
                leaf_count=leaf_counts.get(pair.round.framework_id, 0),
                evidence_required=len(needed),
                evidence_present=len(needed & present[(pair.round_id, pair.school_id)]),
            )
        )
    return progress


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


@dataclass(frozen=True, slots=True)
class MonitoringCell:
    status: str  # "submitted", "draft", "not_started", "recused", "unassigned"
    scores_entered: int = 0
    submitted_at: Any = None


@dataclass(frozen=True, slots=True)
class RoundMonitoring:
    """Sheets submitted / missing per evaluator (rows) and school (columns)."""

    schools: list[School]
    evaluators: list[tuple[int, str]]  # (user id, display name)
    cells: dict[tuple[int, int], MonitoringCell]  # (evaluator id, school id)
    leaf_count: int

    def row(self, evaluator_id: int) -> list[MonitoringCell]:
        unassigned = MonitoringCell("unassigned")
        return [self.cells.get((evaluator_id, s.pk), unassigned) for s in self.schools]

    def count(self, status: str) -> int:
        return sum(1 for cell in self.cells.values() if cell.status == status)


def round_monitoring(*, round: Round) -> RoundMonitoring:
    """Every assignment of the round as a matrix cell with its sheet's state."""
    schools = list(round.schools.order_by("code"))
    assignments = list(
        Assignment.objects.filter(round=round)
        .select_related("evaluator")
        .order_by("evaluator__username", "school__code")
    )
    sheets = {
        (evaluator_id, school_id): (status, entered, submitted_at)
        for evaluator_id, school_id, status, entered, submitted_at in ScoreSheet.objects.filter(
            round=round
        )
        .annotate(
            entered=Count(
                "scores", filter=Q(scores__points__isnull=False) | Q(scores__not_applicable=True)
            )
        )
        .values_list("evaluator_id", "school_id", "status", "entered", "submitted_at")
    }
    leaf_count = Indicator.objects.filter(
        framework_id=round.framework_id, children__isnull=True
    ).count()
    evaluators: dict[int, str] = {}
    cells: dict[tuple[int, int], MonitoringCell] = {}
    for assignment in assignments:
        user = assignment.evaluator
        evaluators.setdefault(
            user.pk, f"{user.last_name}{user.first_name}".strip() or user.username
        )
        key = (user.pk, assignment.school_id)
        if assignment.status == AssignmentStatus.RECUSED:
            cells[key] = MonitoringCell("recused")
            continue
        status, entered, submitted_at = sheets.get(key, (None, 0, None))
        if status == SheetStatus.SUBMITTED:
            cells[key] = MonitoringCell("submitted", entered, submitted_at)
        elif status == SheetStatus.DRAFT:
            cells[key] = MonitoringCell("draft", entered)
        else:
            cells[key] = MonitoringCell("not_started")
    return RoundMonitoring(
        schools=schools,
        evaluators=list(evaluators.items()),
        cells=cells,
        leaf_count=leaf_count,
    )


@dataclass(frozen=True, slots=True)
class RoundIncomplete:
    """What is still missing in a round, for the phase-advance confirmation."""

    sheets_not_submitted: list[tuple[str, School, MonitoringCell]]  # evaluator name, school
    self_assessments_not_submitted: list[tuple[School, str | None]]  # school, status or None
    evidence_missing: list[tuple[School, int, int]]  # school, missing, required
    leaf_count: int

    @property
    def evidence_missing_total(self) -> int:
        return sum(missing for _school, missing, _required in self.evidence_missing)

    @property
    def is_complete(self) -> bool:
        return not (
            self.sheets_not_submitted
            or self.self_assessments_not_submitted
            or self.evidence_missing
        )


def round_incomplete(*, round: Round) -> RoundIncomplete:
    """Sheets not submitted (per evaluator × school), self-assessments not submitted,
    and the observation points whose required evidence a school has not uploaded."""
    monitoring = round_monitoring(round=round)
    schools_by_id = {school.pk: school for school in monitoring.schools}
    names = dict(monitoring.evaluators)
    sheets = [
        (names[evaluator_id], schools_by_id[school_id], cell)
        for (evaluator_id, school_id), cell in sorted(
            monitoring.cells.items(),
            key=lambda item: (names[item[0][0]], schools_by_id[item[0][1]].code),
        )
        if cell.status in ("draft", "not_started") and school_id in schools_by_id
    ]
    statuses = dict(SelfAssessment.objects.filter(round=round).values_list("school_id", "status"))
    self_missing = [
        (school, statuses.get(school.pk))
        for school in monitoring.schools
        if statuses.get(school.pk) != SheetStatus.SUBMITTED
    ]
    _counts, required = _required_evidence_leaves({round.framework_id})
    needed = required.get(round.framework_id, set())
    present: dict[int, set[int]] = defaultdict(set)
    for school_id, indicator_id in (
        Evidence.objects.filter(round=round, indicator_id__in=needed)
        .values_list("school_id", "indicator_id")
        .distinct()
    ):
        present[school_id].add(indicator_id)
    evidence = [
        (school, len(needed - present[school.pk]), len(needed))
        for school in monitoring.schools
        if needed - present[school.pk]
    ]
    return RoundIncomplete(
        sheets_not_submitted=sheets,
        self_assessments_not_submitted=self_missing,
        evidence_missing=evidence,
        leaf_count=monitoring.leaf_count,
    )


def framework_leaf_count(*, round: Round) -> int:
    """How many observation points the round's framework has."""
    return Indicator.objects.filter(framework_id=round.framework_id, children__isnull=True).count()


def self_assessment_answered_count(*, assessment: SelfAssessment | None) -> int:
    if assessment is None:
        return 0
    return (
        SelfScore.objects.filter(self_assessment=assessment)
        .exclude(points__isnull=True, not_applicable=False)
        .count()
    )


def consolidation_progress(*, round: Round) -> QuerySet[School]:
    """The round's schools with their submitted sheets, consensus and audit score counts."""

    def count(queryset: QuerySet) -> Any:
        from django.db.models import Count, IntegerField, Subquery
        from django.db.models.functions import Coalesce

        return Coalesce(
            Subquery(
                queryset.filter(school_id=OuterRef("pk"))
                .order_by()
                .values("school_id")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    return round.schools.order_by("code").annotate(
        submitted_sheets=count(
            ScoreSheet.objects.filter(round=round, status=SheetStatus.SUBMITTED)
        ),
        consensus_count=count(ConsensusScore.objects.filter(round=round)),
        audit_count=count(AuditScore.objects.filter(round=round)),
    )


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
    from django.db.models import Case, CharField, DecimalField, F, Value, When
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
    from django.db.models.functions import Cast

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
    if permissions.is_bureau_admin(user) or permissions.is_supervisor(user):
        return sheets
    if permissions.is_evaluator(user):
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
    if permissions.is_bureau_admin(user) or permissions.is_supervisor(user):
        return assessments
    return assessments.filter(school_id__in=permissions.school_ids_of(user))


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
