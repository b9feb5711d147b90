"""Consistency statistics of a computed round (DESIGN.md section 4, last rule).

Pure, like the engine: it reads a :class:`~scoring.engine.RoundResult` (which keeps the
inputs it was computed from) and returns frozen dataclasses. Nothing is written.

* **Spread per leaf and school** over the evaluators' applicable (numeric) scores:
  range ``max − min`` and the *population* standard deviation (the panel is the whole
  population of raters for that school, not a sample), both in Decimal. Only leaves
  with at least two numeric scores are reported. A leaf is flagged when its spread
  exceeds ``RoundConfig.spread_threshold × leaf max``.
* **Leniency per evaluator**: the mean signed deviation of their scores from the
  *final* leaf score (whichever layer won), over leaves that ended applicable and
  scored; positive means more lenient than the verdict. Also given relative to the
  leaf max, so leaves of different sizes weigh alike. Plus how many of their scores
  were dropped by trimming.
* **Inter-rater reliability per round: ICC(2,k)** (Shrout & Fleiss 1979, two-way
  random effects, average of k raters). Chosen over Kendall's W because scores are
  interval data on points, not ranks, and the consolidated leaf score *is* an average of
  k raters, which is exactly what ICC(2,k) rates; raters are treated as a random sample
  of possible experts and their systematic leniency counts as disagreement (absolute
  agreement), which matches what a school feels. Targets are (school, leaf) pairs,
  scores divided by the leaf max so every leaf is on one scale. ICC(2,k) needs the
  same k raters on every target, so targets are grouped by their exact set of raters
  (all numeric, no not-applicable mark, nothing missing); each panel with at least two
  raters and two targets gets a figure, and the round's figure is the panel covering
  the most targets. The other targets are counted as excluded. ICC values are floats
  (numpy); they are statistics for reading, never fed back into scores.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

import numpy as np

from scoring.engine import (
    Method,
    NodeStatus,
    RoundConfig,
    RoundResult,
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

ICC_METHOD: Final = "ICC(2,k)"
FOUR_PLACES: Final = Decimal("0.0001")
_ZERO: Final = Decimal(0)
_CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def _four(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP, context=_CONTEXT)


@dataclass(frozen=True, slots=True)
class LeafSpread:
    school_id: int
    leaf_code: str
    count: int
    minimum: Decimal
    maximum: Decimal
    spread: Decimal  # max − min, exact
    std: Decimal  # population standard deviation, rounded half-up to 4 places
    threshold: Decimal  # in points: spread_threshold × leaf max
    flagged: bool  # spread > threshold


@dataclass(frozen=True, slots=True)
class EvaluatorLeniency:
    evaluator_id: int
    score_count: int  # numeric scores given
    compared_count: int  # of those, on leaves that ended applicable and scored
    leniency: Decimal | None  # mean (own − final) in points, 4 places
    leniency_share: Decimal | None  # mean (own − final) ÷ leaf max, 4 places
    dropped_count: int  # scores removed by trimming
    dropped_share: Decimal | None  # dropped_count ÷ score_count, 4 places


@dataclass(frozen=True, slots=True)
class Reliability:
    """ICC(2,k) of one panel (or the round); ``value`` None with a ``reason`` otherwise."""

    value: float | None
    single_rater: float | None  # ICC(2,1), for reference
    k: int
    n_targets: int
    rater_ids: tuple[int, ...] = ()
    excluded_targets: int = 0
    reason: str | None = None
    method: str = ICC_METHOD


@dataclass(frozen=True, slots=True)
class ConsistencyReport:
    spreads: tuple[LeafSpread, ...]
    evaluators: tuple[EvaluatorLeniency, ...]
    reliability: Reliability
    reliability_by_panel: tuple[Reliability, ...]

    @property
    def flagged(self) -> tuple[LeafSpread, ...]:
        return tuple(s for s in self.spreads if s.flagged)


def spread_and_std(points: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Range and population standard deviation (4 places) of at least one score."""
    if not points:
        raise ValueError("spread needs at least one score")
    with decimal.localcontext(_CONTEXT):
        mean = sum(points, _ZERO) / len(points)
        variance = sum(((p - mean) ** 2 for p in points), _ZERO) / len(points)
        return max(points) - min(points), _four(variance.sqrt())


def icc_2k(
    ratings: Sequence[Sequence[float | Decimal]], *, rater_ids: tuple[int, ...] = ()
) -> Reliability:
    """ICC(2,k) and ICC(2,1) of an n targets × k raters matrix (Shrout & Fleiss, case 2).

    Two-way ANOVA: BMS between targets, JMS between raters, EMS residual;
    ICC(2,k) = (BMS − EMS) / (BMS + (JMS − EMS) / n). Not computable (None with a
    reason) with fewer than 2 raters or 2 targets, or when the scores do not vary.
    """
    matrix = np.asarray([[float(x) for x in row] for row in ratings], dtype=float)
    n = matrix.shape[0]
    k = matrix.shape[1] if matrix.ndim == 2 and n else 0
    if k < 2:
        return Reliability(None, None, k, n, rater_ids, reason="fewer than 2 raters")
    if n < 2:
        return Reliability(None, None, k, n, rater_ids, reason="fewer than 2 targets")
    grand = matrix.mean()
    ss_targets = k * float(((matrix.mean(axis=1) - grand) ** 2).sum())
    ss_raters = n * float(((matrix.mean(axis=0) - grand) ** 2).sum())
    ss_error = float(((matrix - grand) ** 2).sum()) - ss_targets - ss_raters
    bms = ss_targets / (n - 1)
    jms = ss_raters / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    average = bms + (jms - ems) / n
    single = bms + (k - 1) * ems + k * (jms - ems) / n
    if average <= 0 or single <= 0:
        return Reliability(None, None, k, n, rater_ids, reason="scores do not vary")
    return Reliability((bms - ems) / average, (bms - ems) / single, k, n, rater_ids)


def round_consistency(result: RoundResult) -> ConsistencyReport:
    """Spread per leaf, leniency per evaluator and ICC(2,k) for one computed round."""
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
    with decimal.localcontext(_CONTEXT):
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
                    spreads.append(_leaf_spread(school.school_id, code, points, top, config))
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
                        deviation[evaluator_id] = deviation.get(evaluator_id, _ZERO) + gap
                        deviation_share[evaluator_id] = (
                            deviation_share.get(evaluator_id, _ZERO) + gap / top
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
                leniency=_four(deviation[e] / compared[e]) if compared.get(e) else None,
                leniency_share=(
                    _four(deviation_share[e] / compared[e]) if compared.get(e) else None
                ),
                dropped_count=dropped.get(e, 0),
                dropped_share=_four(Decimal(dropped.get(e, 0)) / given[e]),
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
        reliability=_round_reliability(by_panel, targets),
        reliability_by_panel=by_panel,
    )


def _leaf_spread(
    school_id: int, code: str, points: list[Decimal], top: Decimal, config: RoundConfig
) -> LeafSpread:
    spread, std = spread_and_std(points)
    threshold = config.spread_threshold * top
    return LeafSpread(
        school_id=school_id,
        leaf_code=code,
        count=len(points),
        minimum=min(points),
        maximum=max(points),
        spread=spread,
        std=std,
        threshold=threshold,
        flagged=spread > threshold,
    )


def _round_reliability(by_panel: tuple[Reliability, ...], targets: int) -> Reliability:
    """The panel covering most targets speaks for the round; say why when none can."""
    computable = [r for r in by_panel if r.value is not None]
    if computable:
        best = max(computable, key=lambda r: (r.n_targets, r.k))
        return Reliability(
            best.value,
            best.single_rater,
            best.k,
            best.n_targets,
            best.rater_ids,
            excluded_targets=targets - best.n_targets,
        )
    if by_panel:
        largest = by_panel[0]
        return Reliability(
            None,
            None,
            largest.k,
            largest.n_targets,
            largest.rater_ids,
            excluded_targets=targets - largest.n_targets,
            reason=largest.reason,
        )
    return Reliability(
        None,
        None,
        0,
        0,
        excluded_targets=targets,
        reason="no target rated by the same 2 or more raters",
    )
