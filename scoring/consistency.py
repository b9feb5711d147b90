"""Consistency statistics of a computed round (DESIGN.md section 4, last rule).

Pure, like the engine: it reads a :class:`~scoring.engine.RoundResult` (which keeps the
inputs it was computed from) and returns frozen dataclasses. Nothing is written.

What each figure means, and the formulas of one panel, are in
``scoring.consistency_figures``; this module computes them for a whole round.

:func:`round_consistency` computes all this on numpy arrays of integer cents (a
province-scale round of 315,000 scores in a fraction of a second) and gives exactly the
figures of :func:`_reference_round_consistency`, the direct Decimal definition, which
stays as the yardstick for tests and the fallback for rounds the arrays cannot hold.
"""

from __future__ import annotations

import decimal
import math
import operator
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from itertools import chain, repeat
from types import MemberDescriptorType
from typing import Any, Final, TypeVar

import numpy as np

from scoring.consistency_figures import (
    DECIMAL_CONTEXT,
    ICC_METHOD,
    ZERO,
    ConsistencyReport,
    EvaluatorLeniency,
    LeafSpread,
    Reliability,
    four_places,
    icc_2k,
    icc_of_matrix,
    leaf_spread,
    round_reliability,
    spread_and_std,
)
from scoring.engine import (
    EvaluatorScore,
    Method,
    NodeResult,
    NodeStatus,
    RoundConfig,
    RoundResult,
    ScoreColumns,
    consolidate_expert_scores,
)

__all__ = [
    "ICC_METHOD",
    "ConsistencyReport",
    "EvaluatorLeniency",
    "LeafSpread",
    "Reliability",
    "icc_2k",
    "round_consistency",
    "spread_and_std",
]


def round_consistency(result: RoundResult) -> ConsistencyReport:
    """Spread per leaf, leniency per evaluator and ICC(2,k) for one computed round.

    Runs on integer-cent arrays (:func:`_fast_round_consistency`); a round the fast path
    cannot represent exactly (points finer than a cent, values beyond its integer
    limits) goes through :func:`_reference_round_consistency`, the plain Decimal loop.
    Both give identical reports, down to the Decimal exponents.
    """
    report = _fast_round_consistency(result)
    return _reference_round_consistency(result) if report is None else report


def _reference_round_consistency(result: RoundResult) -> ConsistencyReport:
    """The definition: one Decimal pass over every score (slow; the fast path's yardstick)."""
    plan, config = result.plan, result.config
    trims = config.method is Method.TRIMMED_MEAN
    spreads: list[LeafSpread] = []
    given: dict[int, int] = {}
    compared: dict[int, int] = {}
    deviation: dict[int, Decimal] = {}
    deviation_share: dict[int, Decimal] = {}
    dropped: dict[int, int] = {}
    panels: dict[tuple[int, ...], list[list[float]]] = {}
    targets = 0
    with decimal.localcontext(DECIMAL_CONTEXT):
        for school in sorted(result.schools, key=lambda s: s.school_id):
            inputs = result.inputs[school.school_id]
            for leaf in plan.leaves:
                code = plan.codes[leaf]
                scores = inputs.expert_scores.get(code, ())
                numeric = sorted(
                    (s.evaluator_id, s.points)
                    for s in scores
                    if not s.not_applicable and s.points is not None
                )
                if not numeric:
                    continue
                top = plan.maxes[leaf]
                points = [p for _, p in numeric]
                if len(points) >= 2:
                    spreads.append(leaf_spread(school.school_id, code, points, top, config))
                if trims and len(points) >= config.trim_min_count:
                    detail = consolidate_expert_scores(
                        scores, method=config.method, trim_min_count=config.trim_min_count
                    )
                    for evaluator_id, _ in detail.dropped:
                        dropped[evaluator_id] = dropped.get(evaluator_id, 0) + 1
                final = school.nodes[code]
                for evaluator_id, p in numeric:
                    given[evaluator_id] = given.get(evaluator_id, 0) + 1
                    if final.status is NodeStatus.SCORED:
                        gap = p - final.score_exact
                        compared[evaluator_id] = compared.get(evaluator_id, 0) + 1
                        deviation[evaluator_id] = deviation.get(evaluator_id, ZERO) + gap
                        deviation_share[evaluator_id] = (
                            deviation_share.get(evaluator_id, ZERO) + gap / top
                        )
                complete = len(numeric) == len(scores) and len(numeric) >= 2
                targets += 1
                if complete:
                    panel = tuple(e for e, _ in numeric)
                    panels.setdefault(panel, []).append([float(p / top) for p in points])
        evaluators = tuple(
            EvaluatorLeniency(
                evaluator_id=e,
                score_count=given[e],
                compared_count=compared.get(e, 0),
                leniency=four_places(deviation[e] / compared[e]) if compared.get(e) else None,
                leniency_share=(
                    four_places(deviation_share[e] / compared[e]) if compared.get(e) else None
                ),
                dropped_count=dropped.get(e, 0),
                dropped_share=four_places(Decimal(dropped.get(e, 0)) / given[e]),
            )
            for e in sorted(given)
        )
    by_panel = tuple(
        icc_2k(rows, rater_ids=panel)
        for panel, rows in sorted(panels.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    return ConsistencyReport(
        spreads=tuple(spreads),
        evaluators=evaluators,
        reliability=round_reliability(by_panel, targets),
        reliability_by_panel=by_panel,
    )


# --- The array fast path --------------------------------------------------------------------
#
# Every numeric score becomes one slot of flat numpy arrays (its (school, leaf) group in
# the reference's loop order, evaluator id, points as integer cents plus exponent),
# sorted by (group, evaluator id), so each (school, leaf) is one contiguous segment
# ordered like the reference's ``sorted((evaluator_id, points))``. Decimal arithmetic is
# left for aggregated or distinct values. Why each figure equals the reference's:
#
# * minimum, maximum: the first lowest / highest score in evaluator order, as min() and
#   max() pick them, given as a Decimal with the same value and exponent (same repr);
# * spread: max − min is exact in Decimal, so it is fixed by the cents difference and
#   the smaller exponent and is computed once per distinct pair; the flag compares
#   whole spread cents with ⌊100 · threshold⌋; threshold is the same Decimal product;
# * std: exact integer arithmetic on cent sums (:func:`_std_units`);
# * trimming: the dropped pair is the segment's first lowest and last highest score, the
#   evaluators the engine names (lowest id among tied lows, highest among tied highs);
# * leniency means: float estimates with a proven error bound, used only when clear of
#   zero and of a 4-place rounding half; otherwise that evaluator's sums are redone in
#   Decimal in the reference's order (:func:`_four_of_estimate`);
# * ICC rows: p ÷ max as one correctly rounded float division of exact integers, the
#   same double as ``float(p / max)`` in Decimal (see :func:`_panels`).
#
# A round outside this (points finer than a cent, a negative zero, huge values) makes
# :func:`_fast_round_consistency` return None and the reference takes over.

_Record = TypeVar("_Record")
_POINTS: Final = operator.attrgetter("points")
_EVALUATOR: Final = operator.attrgetter("evaluator_id")
_STATUS: Final = operator.attrgetter("status")
_NO_POINTS: Final = int(np.iinfo(np.int64).min)


def _points_of(scores: Iterable[Any]) -> Iterable[Any]:
    """A leaf's points in order: the column itself when the loader gave columns."""
    return scores.points if type(scores) is ScoreColumns else map(_POINTS, scores)


def _evaluators_of(scores: Iterable[Any]) -> Iterable[int]:
    return (
        scores.evaluator_ids if type(scores) is ScoreColumns else map(_EVALUATOR, scores)
    )  # code of "no points" (n/a, unanswered)


# |points| ≤ 10,000 and ≤ 10⁶ scores per leaf keep Σ cents² below 2⁶³ (no int64 overflow)
_MAX_CENTS: Final = 10**6
_MAX_SEGMENT: Final = 10**6
_EXACT_FLOAT_INT: Final = 2**53
_ULP: Final = 2.0**-53


class _NotCents(Exception):
    """A points value the integer-cent fast path cannot represent exactly."""


class _CentsTable(dict):
    """``str(points)`` → code ``cents · 32 + (exponent + 16)``, once per distinct text.

    ``"None"`` (no points) → :data:`_NO_POINTS`. Keyed by the text rather than the
    Decimal: a Decimal works out its hash on first use, which costs three times its
    str(), and a freshly loaded round has never been hashed. A code pins a Decimal down
    completely (value, exponent; −0 is turned away), so ``decimals`` keeps one object
    per code, the same as every points value with that code down to its repr.
    """

    __slots__ = ("decimals",)

    def __init__(self) -> None:
        super().__init__({"None": _NO_POINTS})
        self.decimals: dict[int, Decimal] = {}

    def __missing__(self, text: str) -> int:
        value = Decimal(text)
        try:
            numerator, denominator = value.as_integer_ratio()
        except (ValueError, OverflowError):  # NaN, infinity
            raise _NotCents(text) from None
        exponent = value.as_tuple().exponent
        if 100 % denominator or not -16 <= exponent < 16 or (value.is_zero() and value.is_signed()):
            raise _NotCents(text)
        cents = numerator * (100 // denominator)
        if abs(cents) > _MAX_CENTS:
            raise _NotCents(text)
        code = cents * 32 + exponent + 16
        self[text] = code
        self.decimals.setdefault(code, value)
        return code


@dataclass(slots=True)
class _Scores:
    """The numeric scores of a round as arrays, sorted by (group, evaluator id).

    A *group* is one (school, leaf) pair, numbered school-major in the reference's loop
    order (schools by id, leaves in plan order); a *segment* is the run of one group's
    numeric scores. Arrays indexed by score: ``keep`` (position in the concatenation of
    ``groups``), ``group``,
    ``evaluator``, ``code`` and ``cents`` (see :class:`_CentsTable`); by segment:
    ``starts``, ``counts``, ``target`` (its group); by group: ``sizes`` (all entries,
    numeric or not).
    """

    groups: list[tuple[EvaluatorScore, ...]]
    keep: np.ndarray
    group: np.ndarray
    evaluator: np.ndarray
    code: np.ndarray
    cents: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    target: np.ndarray
    sizes: np.ndarray
    codes: list[str]
    tops: list[Decimal]
    decimal_of: dict[int, Decimal]  # points code → Decimal
    # per segment: position of the first lowest, first highest and last highest score
    first_low: np.ndarray
    first_high: np.ndarray
    last_high: np.ndarray

    def points(self, positions: np.ndarray) -> list[Decimal]:
        """The original Decimal objects at these score positions (for the rare paths)."""
        group = self.group[positions]
        offset = self.keep[positions] - (np.cumsum(self.sizes) - self.sizes)[group]
        groups = self.groups
        return [groups[g][j].points for g, j in zip(group.tolist(), offset.tolist(), strict=True)]


def _fast_round_consistency(result: RoundResult) -> ConsistencyReport | None:
    """:func:`_reference_round_consistency` on arrays; None when the round is out of range."""
    plan, config = result.plan, result.config
    codes = [plan.codes[leaf] for leaf in plan.leaves]
    tops = [plan.maxes[leaf] for leaf in plan.leaves]
    schools = sorted(result.schools, key=lambda s: s.school_id)
    groups: list[tuple[EvaluatorScore, ...]] = []
    finals: list[NodeResult] = []
    for school in schools:
        get = result.inputs[school.school_id].expert_scores.get
        groups += [get(code, ()) for code in codes]
        nodes = school.nodes
        finals += [nodes[code] for code in codes]
    scores = _gather(groups, codes, tops)
    if scores is None or not config.spread_threshold.is_finite():
        return None
    evaluator_ids, who = _ranks(scores.evaluator)
    by_panel = _panels(scores, who, len(evaluator_ids))
    return ConsistencyReport(
        spreads=_spreads(scores, config, [s.school_id for s in schools]),
        evaluators=_evaluators(scores, groups, finals, config, evaluator_ids, who),
        reliability=round_reliability(by_panel, len(scores.starts)),
        reliability_by_panel=by_panel,
    )


def _gather(
    groups: list[tuple[EvaluatorScore, ...]], codes: list[str], tops: list[Decimal]
) -> _Scores | None:
    """Flatten the scores into :class:`_Scores`; None when outside the fast path's range."""
    sizes = np.fromiter(map(len, groups), np.int64, len(groups))
    total = int(sizes.sum())
    table = _CentsTable()
    # two streaming passes over the scores (no list of all of them: it would only give the
    # garbage collector 315,000 more references to walk)
    try:
        code_all = np.fromiter(
            map(table.__getitem__, map(str, chain.from_iterable(map(_points_of, groups)))),
            np.int64,
            total,
        )
        ids_all = np.fromiter(chain.from_iterable(map(_evaluators_of, groups)), np.int64, total)
    except (_NotCents, OverflowError, TypeError, ValueError):
        return None
    # a score with points is never marked not applicable, so "numeric" = "has points"
    keep = np.flatnonzero(code_all != _NO_POINTS)
    if not keep.size:
        return None
    group = np.repeat(np.arange(len(groups)), sizes)[keep]
    evaluator = ids_all[keep]
    code = code_all[keep]
    same = group[1:] == group[:-1]
    if not np.all(~same | (evaluator[1:] > evaluator[:-1])):
        order = np.lexsort((evaluator, group))
        keep, group, evaluator, code = keep[order], group[order], evaluator[order], code[order]
        same = group[1:] == group[:-1]
        if np.any(same & (evaluator[1:] == evaluator[:-1])):
            return None  # an evaluator scored a leaf twice: compute_round rejects that
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    counts = np.diff(np.append(starts, len(code)))
    if int(counts.max()) > _MAX_SEGMENT:
        return None
    cents = code >> 5
    segment = np.repeat(np.arange(len(starts)), counts)
    at_low = np.flatnonzero(cents == np.minimum.reduceat(cents, starts)[segment])
    at_high = np.flatnonzero(cents == np.maximum.reduceat(cents, starts)[segment])
    low_owner, high_owner = segment[at_low], segment[at_high]
    high_change = high_owner[1:] != high_owner[:-1]
    return _Scores(
        groups,
        keep,
        group,
        evaluator,
        code,
        cents,
        starts,
        counts,
        group[starts],
        sizes,
        codes,
        tops,
        table.decimals,
        first_low=at_low[np.concatenate(([True], low_owner[1:] != low_owner[:-1]))],
        first_high=at_high[np.concatenate(([True], high_change))],
        last_high=at_high[np.concatenate((high_change, [True]))],
    )


def _ranks(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids (ascending) and each element's index among them (np.unique's pair)."""
    low, high = int(ids.min()), int(ids.max())
    if high - low > 4 * len(ids) + 1024:
        distinct, inverse = np.unique(ids, return_inverse=True)
        return distinct, inverse.reshape(-1)
    present = np.bincount(ids - low) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[ids - low]


def _spreads(scores: _Scores, config: RoundConfig, school_ids: list[int]) -> tuple[LeafSpread, ...]:
    """One :class:`LeafSpread` per (school, leaf) with two or more numeric scores."""
    rows = np.flatnonzero(scores.counts >= 2)
    if not rows.size:
        return ()
    cents, starts, decimal_of = scores.cents, scores.starts, scores.decimal_of
    leaf_count = len(scores.codes)
    n = scores.counts[rows]
    s1 = np.add.reduceat(cents, starts)[rows]
    s2 = np.add.reduceat(cents * cents, starts)[rows]
    units = _std_units(n, s1, s2, int(np.abs(cents).max()))
    distinct_units, std_of = np.unique(units, return_inverse=True)
    std_decimals = [Decimal(u).scaleb(-4, DECIMAL_CONTEXT) for u in distinct_units.tolist()]

    # minimum and maximum: the first lowest / highest in evaluator order, as min() and
    # max() pick them, each as the one Decimal of its points code (identical repr)
    groups = scores.target[rows]
    leaf_of = groups % leaf_count
    low = scores.code[scores.first_low[rows]]
    high = scores.code[scores.first_high[rows]]
    # max − min in Decimal is exact: its value (in cents) and exponent (the smaller one)
    # fix it, so it is computed once per distinct pair and shared
    spread_cents = (high >> 5) - (low >> 5)
    spread_code = spread_cents * 32 + np.minimum(high & 31, low & 31)
    _, first, spread_of = np.unique(spread_code, return_index=True, return_inverse=True)
    with decimal.localcontext(DECIMAL_CONTEXT):
        spread_decimals = [
            decimal_of[hi] - decimal_of[lo]
            for hi, lo in zip(high[first].tolist(), low[first].tolist(), strict=True)
        ]
        threshold_of_leaf = [config.spread_threshold * top for top in scores.tops]
        # spread > threshold ⇔ spread cents > ⌊100 · threshold⌋, spread cents being whole
        limit_of_leaf = np.array(
            [
                min(int(t.scaleb(2).to_integral_value(rounding=decimal.ROUND_FLOOR)), 2**62)
                for t in threshold_of_leaf
            ],
            dtype=np.int64,
        )

    def columns() -> dict[str, Sequence[object]]:
        leaves = leaf_of.tolist()
        stds = list(map(std_decimals.__getitem__, std_of.reshape(-1).tolist()))
        for i in np.flatnonzero(units < 0).tolist():  # exactly on a rounding half: ask Decimal
            start = int(starts[rows[i]])
            stds[i] = spread_and_std(scores.points(np.arange(start, start + int(n[i]))))[1]
        return {
            "school_id": list(map(school_ids.__getitem__, (groups // leaf_count).tolist())),
            "leaf_code": list(map(scores.codes.__getitem__, leaves)),
            "count": n.tolist(),
            "minimum": list(map(decimal_of.__getitem__, low.tolist())),
            "maximum": list(map(decimal_of.__getitem__, high.tolist())),
            "spread": list(map(spread_decimals.__getitem__, spread_of.reshape(-1).tolist())),
            "std": stds,
            "threshold": list(map(threshold_of_leaf.__getitem__, leaves)),
            "flagged": (spread_cents > limit_of_leaf[leaf_of]).tolist(),
        }

    return tuple(_build(LeafSpread, len(rows), columns))


def _build(
    cls: type[_Record], count: int, columns: Callable[[], dict[str, Sequence[object]]]
) -> list[_Record]:
    """``count`` objects of a frozen, slotted dataclass from the fields ``columns()`` gives.

    A frozen dataclass's ``__init__`` sets every field with ``object.__setattr__``, a
    generic attribute lookup per field and object: for tens of thousands of rows that
    is most of the cost. Here the objects are allocated first, before the columns exist
    (so the garbage collector's sweeps during allocation meet small, empty objects),
    then each field is filled for all of them through its slot descriptor, in C loops:
    the same objects ``__init__`` makes. A class with a ``__post_init__`` or without
    slots goes through ``__init__``.
    """
    names = [f.name for f in fields(cls)]
    slots = [getattr(cls, name, None) for name in names]
    fast = not hasattr(cls, "__post_init__") and all(
        isinstance(slot, MemberDescriptorType) for slot in slots
    )
    built = list(map(object.__new__, repeat(cls, count))) if fast else []
    given = columns()
    if set(given) != set(names):
        raise TypeError(f"{cls.__name__} takes exactly the columns {', '.join(names)}")
    ordered = [given[name] for name in names]
    if any(len(column) != count for column in ordered):
        raise ValueError(f"{cls.__name__}: columns of another length than {count}")
    if not fast:
        return list(map(cls, *ordered))
    for slot, column in zip(slots, ordered, strict=True):
        deque(map(slot.__set__, built, column), maxlen=0)
    return built


def _std_units(n: np.ndarray, s1: np.ndarray, s2: np.ndarray, largest: int) -> np.ndarray:
    """Population std in 0.0001 units, rounded half up, from integer-cent sums; exact.

    With Q = n·Σc² − (Σc)² the std is √Q ÷ n cents, i.e. √T ÷ 2n in 0.0001 units for
    T = 4·10⁴·Q, and round half up gives U = ⌊(√T + n) ÷ 2n⌋ = ⌊(⌊√T⌋ + n) ÷ 2n⌋
    (2nU − n is an integer, so it is ≤ √T exactly when it is ≤ ⌊√T⌋). Off a half, the
    exact value is further from it than the Decimal reference's 34-digit roundings can
    move it, so both round alike. A std exactly on a half (T a perfect square with
    ⌊√T⌋ + n divisible by 2n, which takes a panel of a multiple of 8 raters) comes back
    as −1 for the caller to hand to :func:`spread_and_std`.
    """
    most = int(n.max())
    if 4 * 10**4 * most * most * largest * largest < 2**52:  # T and its float √ are exact
        t = (n * s2 - s1 * s1) * 40_000
        root = np.floor(np.sqrt(t.astype(float))).astype(np.int64)
        root -= root * root > t
        root += (root + 1) * (root + 1) <= t
        units = (root + n) // (2 * n)
        units[(root * root == t) & ((root + n) % (2 * n) == 0)] = -1
        return units
    units = np.empty(len(n), dtype=np.int64)
    for i, (k, a, b) in enumerate(zip(n.tolist(), s1.tolist(), s2.tolist(), strict=True)):
        t = 40_000 * (k * b - a * a)
        root = math.isqrt(t)
        units[i] = -1 if root * root == t and (root + k) % (2 * k) == 0 else (root + k) // (2 * k)
    return units


def _evaluators(
    scores: _Scores,
    groups: list[tuple[EvaluatorScore, ...]],
    finals: list[NodeResult],
    config: RoundConfig,
    evaluator_ids: np.ndarray,
    who: np.ndarray,
) -> tuple[EvaluatorLeniency, ...]:
    """Counts, leniency and trimming per evaluator."""
    n_eval = len(evaluator_ids)
    group, counts, target, tops = scores.group, scores.counts, scores.target, scores.tops
    leaf_count = len(tops)
    given = np.bincount(who, minlength=n_eval)
    scored = np.fromiter(
        map(operator.is_, map(_STATUS, finals), repeat(NodeStatus.SCORED)), bool, len(finals)
    )
    compared_at = np.flatnonzero(scored[group])
    compared_who = who[compared_at]
    compared = np.bincount(compared_who, minlength=n_eval)

    # float estimates of Σ (own − final) and Σ (own − final) ÷ max, with their error scale
    final_float = np.zeros(len(finals))
    scored_targets = target[scored[target]].tolist()
    final_float[scored_targets] = [float(finals[g].score_exact) for g in scored_targets]
    compared_group = group[compared_at]
    own = scores.cents[compared_at] / 100.0
    final = final_float[compared_group]
    top = np.array([float(t) for t in tops])[compared_group % leaf_count]
    gap = own - final
    size = np.abs(own) + np.abs(final)
    deviation = np.bincount(compared_who, gap, n_eval)
    deviation_size = np.bincount(compared_who, size, n_eval)
    share = np.bincount(compared_who, gap / top, n_eval)
    share_size = np.bincount(compared_who, size / top, n_eval)

    dropped = np.zeros(n_eval, dtype=np.int64)
    if config.method is Method.TRIMMED_MEAN:
        trimmed = np.flatnonzero(counts >= config.trim_min_count)
        # a majority of not-applicable marks stops trimming; that takes more non-numeric
        # entries than numeric ones, so the marks are only counted there
        unsure = trimmed[scores.sizes[target[trimmed]] - counts[trimmed] > counts[trimmed]]
        if unsure.size:
            majority = {
                i
                for i in unsure.tolist()
                if sum(s.not_applicable for s in groups[target[i]]) > counts[i]
            }
            trimmed = np.array([i for i in trimmed.tolist() if i not in majority], np.int64)
        dropped += np.bincount(who[scores.first_low[trimmed]], minlength=n_eval)
        dropped += np.bincount(who[scores.last_high[trimmed]], minlength=n_eval)

    def replay(j: int) -> tuple[Decimal, Decimal]:
        """Evaluator j's deviation sums in Decimal, in the reference's order."""
        total = total_share = ZERO
        at = compared_at[compared_who == j]
        for g, p in zip(group[at].tolist(), scores.points(at), strict=True):
            difference = p - finals[g].score_exact
            total += difference
            total_share += difference / tops[g % leaf_count]
        return total, total_share

    evaluators: list[EvaluatorLeniency] = []
    with decimal.localcontext(DECIMAL_CONTEXT):
        for j, (evaluator_id, n_given, n_compared, n_dropped) in enumerate(
            zip(
                evaluator_ids.tolist(),
                given.tolist(),
                compared.tolist(),
                dropped.tolist(),
                strict=True,
            )
        ):
            leniency = leniency_share = None
            if n_compared:
                leniency = _four_of_estimate(deviation[j], deviation_size[j], n_compared)
                leniency_share = _four_of_estimate(share[j], share_size[j], n_compared)
                if leniency is None or leniency_share is None:
                    total, total_share = replay(j)
                    leniency = four_places(total / n_compared)
                    leniency_share = four_places(total_share / n_compared)
            evaluators.append(
                EvaluatorLeniency(
                    evaluator_id=evaluator_id,
                    score_count=n_given,
                    compared_count=n_compared,
                    leniency=leniency,
                    leniency_share=leniency_share,
                    dropped_count=n_dropped,
                    dropped_share=four_places(Decimal(n_dropped) / n_given),
                )
            )
    return tuple(evaluators)


def _four_of_estimate(total: float, size: float, count: int) -> Decimal | None:
    """``four_places(sum ÷ count)`` from a float estimate of the sum, or None when unsure.

    ``size`` is the float sum of the terms' ingredient magnitudes (Σ |own| + |final|,
    divided by the leaf max for shares). It bounds both the float error of ``total``
    (conversions, subtraction, division and the sequential bincount sum: at most
    (count + 8)·2⁻⁵³·size) and how far the Decimal reference's 34-digit roundings
    can drift from the exact sum (below (count + 2)·size·10⁻³³). The 4-place value is
    only returned when the mean is, with 4× that margin, clear of zero (the sign of a
    mean that rounds to zero shows in the Decimal: −0.0000) and of a rounding half.
    """
    bound = 4 * ((count + 8) * _ULP * size + (count + 2) * size * 1e-32) / count
    mean = total / count
    if not math.isfinite(mean) or abs(mean) <= bound:
        return None
    scaled = abs(mean) * 10_000
    whole = math.floor(scaled)
    fraction = scaled - whole
    if abs(fraction - 0.5) <= bound * 10_000 + 8 * _ULP * scaled:
        return None
    units = whole + (fraction > 0.5)
    return Decimal((int(mean < 0), tuple(map(int, str(units))), -4))


def _panels(scores: _Scores, who: np.ndarray, n_eval: int) -> tuple[Reliability, ...]:
    """ICC(2,k) per panel: segments of ≥ 2 numeric scores and no other entry, by rater set."""
    starts, counts, target = scores.starts, scores.counts, scores.target
    complete = np.flatnonzero((counts >= 2) & (counts == scores.sizes[target]))
    if not complete.size:
        return ()
    members: dict[tuple[int, ...], np.ndarray] = {}
    if n_eval <= 62:  # the rater set as a bit mask, grouped by numpy
        signature = np.bitwise_or.reduceat(np.left_shift(np.int64(1), who), starts)[complete]
        which = np.unique(signature, return_inverse=True)[1].reshape(-1)
        order = np.argsort(which, kind="stable")
        for chunk in np.split(complete[order], np.flatnonzero(np.diff(which[order])) + 1):
            first = int(starts[chunk[0]])
            panel = tuple(scores.evaluator[first : first + int(counts[chunk[0]])].tolist())
            members[panel] = chunk
    else:
        lists: dict[tuple[int, ...], list[int]] = {}
        for i in complete.tolist():
            first = int(starts[i])
            panel = tuple(scores.evaluator[first : first + int(counts[i])].tolist())
            lists.setdefault(panel, []).append(i)
        members = {panel: np.array(rows, dtype=np.int64) for panel, rows in lists.items()}

    tops = scores.tops
    largest = int(np.abs(scores.cents).max())
    ratios = [top.as_integer_ratio() for top in tops]
    exact = [largest * d < _EXACT_FLOAT_INT and 100 * n < _EXACT_FLOAT_INT for n, d in ratios]
    denominators = np.array([d if ok else 0 for (_, d), ok in zip(ratios, exact, strict=True)])
    scale = np.array([100.0 * n if ok else 1.0 for (n, _), ok in zip(ratios, exact, strict=True)])
    figures = []
    for panel, rows in sorted(members.items(), key=lambda item: (-len(item[1]), item[0])):
        at = starts[rows][:, None] + np.arange(len(panel))
        leaves = scores.target[rows] % len(tops)
        if all(exact[leaf] for leaf in set(leaves.tolist())):
            # p ÷ max = (cents · den) ÷ (100 · num) with max = num ÷ den: one correctly
            # rounded division of integers below 2⁵³. The reference's float(p / max) is
            # the same double: its 34-digit Decimal quotient is within 10⁻³³ (relative)
            # of the exact one, and a ratio of such integers that is ≤ 1 (points ≤ max)
            # is never a double's rounding midpoint nor within 2⁻¹⁰⁶ (relative) of one.
            numerators = (scores.cents[at] * denominators[leaves][:, None]).astype(float)
            matrix = numerators / scale[leaves][:, None]
        else:
            with decimal.localcontext(DECIMAL_CONTEXT):
                matrix = np.asarray(
                    [
                        [float(p / tops[leaf]) for p in scores.points(row)]
                        for row, leaf in zip(at, leaves.tolist(), strict=True)
                    ],
                    dtype=float,
                )
        figures.append(icc_of_matrix(np.ascontiguousarray(matrix), panel))
    return tuple(figures)
