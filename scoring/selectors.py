"""Reads for scoring: the inputs of a round computation, result sets, explanations.

``round_engine_inputs`` loads everything a computation needs in a fixed number
of queries (one per table, whatever the round's size) as plain tuples, and turns
them into the engine's frozen dataclasses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from rounds.enums import AssignmentStatus
from rounds.models import Assignment, Indicator, Round
from scoring import engine
from scoring.enums import SheetStatus

from .models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    SelfScore,
)


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
    snapshots: dict[int, dict[str, Any]]  # school id → JSON-ready inputs, for ResultRow


def round_engine_inputs(*, round: Round) -> RoundInputs:
    """Everything a computation of ``round`` needs, in seven queries.

    Counts only submitted score sheets of active (not recused) assignments;
    an assigned evaluator whose sheet is missing or still a draft is expected,
    so the engine lists their scores as missing. Self scores come from
    submitted self-assessments only.
    """
    framework, code_of = engine_framework(round=round)
    schools = list(round.schools.order_by("code").values_list("id", "ranking_group"))
    expected: dict[int, set[int]] = defaultdict(set)
    for school_id, evaluator_id in Assignment.objects.filter(
        round=round, status=AssignmentStatus.ACTIVE
    ).values_list("school_id", "evaluator_id"):
        expected[school_id].add(evaluator_id)

    expert: dict[int, dict[str, list[engine.EvaluatorScore]]] = defaultdict(
        lambda: defaultdict(list)
    )
    EvaluatorScore = engine.EvaluatorScore
    for school_id, evaluator_id, indicator_id, points, not_applicable in (
        Score.objects.filter(sheet__round=round, sheet__status=SheetStatus.SUBMITTED)
        .values_list(
            "sheet__school_id", "sheet__evaluator_id", "indicator_id", "points", "not_applicable"
        )
        .iterator(chunk_size=20_000)
    ):
        if evaluator_id not in expected.get(school_id, ()):
            continue  # a recused evaluator's sheet no longer counts
        if points is None and not not_applicable:
            continue  # a blank row is the same as no answer
        expert[school_id][code_of[indicator_id]].append(
            EvaluatorScore(evaluator_id, None if not_applicable else points, not_applicable)
        )

    consensus = _overrides(
        ConsensusScore.objects.filter(round=round).values_list(
            "school_id", "indicator_id", "points", "not_applicable", "justification"
        ),
        code_of,
    )
    audit = _overrides(
        AuditScore.objects.filter(round=round).values_list(
            "school_id", "indicator_id", "points", "not_applicable", "reason"
        ),
        code_of,
    )
    self_scores: dict[int, dict[str, Any]] = defaultdict(dict)
    for school_id, indicator_id, points, not_applicable in SelfScore.objects.filter(
        self_assessment__round=round, self_assessment__status=SheetStatus.SUBMITTED
    ).values_list("self_assessment__school_id", "indicator_id", "points", "not_applicable"):
        if not_applicable:
            self_scores[school_id][code_of[indicator_id]] = engine.NOT_APPLICABLE
        elif points is not None:
            self_scores[school_id][code_of[indicator_id]] = points

    inputs = []
    snapshots = {}
    for school_id, group in schools:
        school_input = engine.SchoolInput(
            school_id=school_id,
            group=group,
            expert_scores={code: tuple(given) for code, given in expert[school_id].items()},
            consensus_scores=consensus.get(school_id, {}),
            audit_scores=audit.get(school_id, {}),
            self_scores=self_scores.get(school_id, {}),
            expected_evaluator_ids=tuple(sorted(expected.get(school_id, ()))),
        )
        inputs.append(school_input)
        snapshots[school_id] = school_input_snapshot(school_input)
    return RoundInputs(framework, engine_config(round=round), tuple(inputs), snapshots)


def _overrides(rows: QuerySet, code_of: dict[int, str]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, engine.OverrideScore]] = defaultdict(dict)
    for school_id, indicator_id, points, not_applicable, justification in rows:
        found[school_id][code_of[indicator_id]] = engine.OverrideScore(
            None if not_applicable else points, justification, not_applicable
        )
    return found


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def school_input_snapshot(school: engine.SchoolInput) -> dict[str, Any]:
    """An engine SchoolInput as JSON-ready data (Decimals as strings)."""
    return {
        "expert": {
            code: [[s.evaluator_id, _num(s.points), s.not_applicable] for s in given]
            for code, given in school.expert_scores.items()
        },
        "consensus": {
            code: [_num(o.points), o.justification] for code, o in school.consensus_scores.items()
        },
        "audit": {
            code: [_num(o.points), o.justification] for code, o in school.audit_scores.items()
        },
        "self": {
            code: None if value is engine.NOT_APPLICABLE else str(value)
            for code, value in school.self_scores.items()
        },
        "expected": list(school.expected_evaluator_ids),
    }


def school_input_from_snapshot(
    *, school_id: int, group: str, snapshot: dict[str, Any]
) -> engine.SchoolInput:
    """The inverse of ``school_input_snapshot``."""

    def dec(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    def override(pair: list) -> engine.OverrideScore:
        points, justification = pair
        return engine.OverrideScore(dec(points), justification, points is None)

    return engine.SchoolInput(
        school_id=school_id,
        group=group,
        expert_scores={
            code: tuple(engine.EvaluatorScore(e, dec(p), na) for e, p, na in given)
            for code, given in snapshot.get("expert", {}).items()
        },
        consensus_scores={c: override(v) for c, v in snapshot.get("consensus", {}).items()},
        audit_scores={c: override(v) for c, v in snapshot.get("audit", {}).items()},
        self_scores={
            code: engine.NOT_APPLICABLE if value is None else Decimal(value)
            for code, value in snapshot.get("self", {}).items()
        },
        expected_evaluator_ids=tuple(snapshot.get("expected", ())),
    )


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

    Rebuilds the school's engine input from the row's own snapshot (never from
    today's score tables) and asks the engine; raises KeyError for an unknown code.
    """
    result_set = row.result_set
    framework, _codes = engine_framework(round=result_set.round)
    config = engine.RoundConfig(
        method=engine.Method(result_set.consolidation_method),
        trim_min_count=result_set.trim_min_count,
        veto_ranks_last=result_set.veto_ranks_last,
        tie_break_by_dimension=result_set.tie_break_by_dimension,
        spread_threshold=result_set.spread_threshold,
    )
    school_input = school_input_from_snapshot(
        school_id=row.school_id, group=row.school.ranking_group, snapshot=row.inputs
    )
    result = engine.compute_round(framework, [school_input], config)
    return engine.explain(result, row.school_id, code)
