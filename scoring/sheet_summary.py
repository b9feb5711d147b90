"""The sticky summary of a long score page: answered / total per dimension, deductions
without a reason, veto items failed, and the filter "only unanswered / only deductions".

The page renders the summary and applies the filter itself (so both work without
JavaScript and are tested here); ``static/js/sheet_nav.js`` then keeps the counts in
step with what the person types and filters without a reload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

FILTERS = ("all", "unanswered", "deductions")


@dataclass
class DimensionCount:
    pk: int
    code: str
    title: str
    answered: int = 0
    total: int = 0
    first_unanswered: int | None = None  # the indicator pk to jump to


@dataclass
class Summary:
    dimensions: list[DimensionCount] = field(default_factory=list)
    without_reason: list[int] = field(default_factory=list)  # indicator pks, page order
    vetoes_failed: list[int] = field(default_factory=list)
    asks_reasons: bool = True
    show: str = "all"
    shown: int = 0  # points the filter leaves on the page

    @property
    def answered(self) -> int:
        return sum(dimension.answered for dimension in self.dimensions)

    @property
    def total(self) -> int:
        return sum(dimension.total for dimension in self.dimensions)


def _points(values: dict[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(values.get("points", "")).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def row_state(row: Any) -> dict[str, bool]:
    """What the summary and the filter need of one observation point's entered values."""
    values = row.values or {}
    points = _points(values)
    answered = bool(values.get("not_applicable")) or points is not None
    deduction = (
        not values.get("not_applicable")
        and points is not None
        and points < row.indicator.max_points
    )
    return {
        "answered": answered,
        "deduction": deduction,
        "without_reason": deduction and not (values.get("deduction_reason") or "").strip(),
        "veto_failed": deduction and row.indicator.is_veto,
    }


def summarise(rows: list[Any], *, show: str = "all", asks_reasons: bool = True) -> Summary:
    """Count ``rows`` (a score page's rows, headings and points in page order) per
    dimension, mark each point row with its ``dimension`` and ``state``, and hide
    (``row.filtered_out``) the points the filter ``show`` leaves out."""
    summary = Summary(asks_reasons=asks_reasons, show=show if show in FILTERS else "all")
    dimension: DimensionCount | None = None
    for row in rows:
        if not row.is_leaf:
            if row.depth == 0:
                dimension = DimensionCount(
                    pk=row.indicator.pk, code=row.indicator.code, title=row.title
                )
                summary.dimensions.append(dimension)
            continue
        state = row_state(row)
        row.state = state
        row.dimension = dimension.code if dimension else ""
        if dimension is not None:
            dimension.total += 1
            dimension.answered += state["answered"]
            if not state["answered"] and dimension.first_unanswered is None:
                dimension.first_unanswered = row.indicator.pk
        if asks_reasons and state["without_reason"]:
            summary.without_reason.append(row.indicator.pk)
        if state["veto_failed"]:
            summary.vetoes_failed.append(row.indicator.pk)
        row.filtered_out = (summary.show == "unanswered" and state["answered"]) or (
            summary.show == "deductions" and not state["deduction"]
        )
        summary.shown += not row.filtered_out
    return summary
