"""The inputs of a round computation and the snapshot stored with each result row.

``round_engine_inputs`` loads everything a computation needs in a fixed number
of queries (one per table, whatever the round's size) as plain tuples, and turns
them into the engine's frozen dataclasses; ``stored_*`` rebuild them from a
stored result set, so an explanation is computed from what was computed then.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db.models import (
    CharField,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast

from rounds.enums import AssignmentStatus
from rounds.models import Assignment, Indicator, Round
from scoring import engine
from scoring.enums import SheetStatus
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    SelfScore,
)

_SHEET = itemgetter(0, 1)
# The format of ResultRow.inputs written now; older formats still read.
SNAPSHOT_VERSION = 2


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
