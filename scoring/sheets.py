"""Shared checks for every layer of scores (expert, self, consensus, audit)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from core.errors import DomainError
from rounds.models import Indicator


def clean_points(
    *, point: Indicator, points: Any, not_applicable: bool, reason: str, reason_required: bool
) -> Decimal | None:
    """Points as a Decimal within 0 … max with at most two places, or None when N/A.

    A deduction (points below the maximum) needs a reason where ``reason_required``.
    """
    if not_applicable:
        return None
    if points is None or points == "":
        raise DomainError(
            _("%(code)s: enter the points or mark it not applicable.") % {"code": point.code},
            code="required",
            field="points",
        )
    if isinstance(points, float):
        points = repr(points)
    try:
        value = Decimal(str(points).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(
            _("%(code)s: “%(value)s” is not a number.") % {"code": point.code, "value": points},
            code="invalid_number",
            field="points",
        ) from None
    try:
        finer_than_cents = not value.is_finite() or value != value.quantize(Decimal("0.01"))
    except InvalidOperation:  # too large to quantize, e.g. 1e100
        finer_than_cents = True
    if finer_than_cents:
        raise DomainError(
            _("%(code)s: points are a number with at most two decimal places.")
            % {"code": point.code},
            code="invalid_number",
            field="points",
        )
    if not Decimal(0) <= value <= point.max_points:
        raise DomainError(
            _("%(code)s: points must lie between 0 and %(max)s.")
            % {"code": point.code, "max": point.max_points},
            code="out_of_range",
            field="points",
        )
    if reason_required and value < point.max_points and not reason.strip():
        raise DomainError(
            _("%(code)s: a deduction needs a reason.") % {"code": point.code},
            code="reason_required",
            field="deduction_reason",
        )
    return value.quantize(Decimal("0.01"))
