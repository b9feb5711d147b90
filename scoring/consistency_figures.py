"""The figures of a consistency report and the formulas behind each (DESIGN.md section 4).

Pure, like the engine: frozen dataclasses for the report (:class:`LeafSpread`,
:class:`EvaluatorLeniency`, :class:`Reliability`, :class:`ConsistencyReport`) and the
statistics of one panel or one matrix: range and population standard deviation
(:func:`spread_and_std`), ICC(2,k) (:func:`icc_2k`, Shrout & Fleiss 1979), and the
round's reliability chosen among its panels (:func:`round_reliability`). How a whole
round is gathered into these figures is ``scoring.consistency``.

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

from scoring.engine import RoundConfig

ICC_METHOD: Final = "ICC(2,k)"
FOUR_PLACES: Final = Decimal("0.0001")
ZERO: Final = Decimal(0)
DECIMAL_CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def four_places(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)


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
    with decimal.localcontext(DECIMAL_CONTEXT):
        mean = sum(points, ZERO) / len(points)
        variance = sum(((p - mean) ** 2 for p in points), ZERO) / len(points)
        return max(points) - min(points), four_places(variance.sqrt())


def icc_2k(
    ratings: Sequence[Sequence[float | Decimal]], *, rater_ids: tuple[int, ...] = ()
) -> Reliability:
    """ICC(2,k) and ICC(2,1) of an n targets × k raters matrix (Shrout & Fleiss, case 2).

    Two-way ANOVA: BMS between targets, JMS between raters, EMS residual;
    ICC(2,k) = (BMS − EMS) / (BMS + (JMS − EMS) / n). Not computable (None with a
    reason) with fewer than 2 raters or 2 targets, or when the scores do not vary.
    """
    matrix = np.asarray([[float(x) for x in row] for row in ratings], dtype=float)
    return icc_of_matrix(matrix, rater_ids)


def icc_of_matrix(matrix: np.ndarray, rater_ids: tuple[int, ...]) -> Reliability:
    """:func:`icc_2k` on a ready float matrix (C-contiguous, so sums run in one order)."""
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


def leaf_spread(
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


def round_reliability(by_panel: tuple[Reliability, ...], targets: int) -> Reliability:
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
