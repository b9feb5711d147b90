"""Shared checks for every layer of scores (expert, self, consensus, audit)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import DomainError
from rounds.models import Indicator, Round


def point_key(indicator: Indicator | int | str) -> int | str:
    """How ``observation_points`` keys an indicator given as object, id or code."""
    return indicator.pk if isinstance(indicator, Indicator) else indicator


def observation_points(
    *, round: Round, indicators: Sequence[Indicator | int | str]
) -> dict[int | str, Indicator]:
    """The round's observation points (leaves) among ``indicators`` (objects, ids or
    codes), in one query, keyed by ``point_key``: by id and by code."""
    ids = {point_key(i) for i in indicators if not isinstance(i, str)}
    codes = {i for i in indicators if isinstance(i, str)}
    if not ids and not codes:
        return {}
    found: dict[int | str, Indicator] = {}
    for point in Indicator.objects.filter(
        Q(pk__in=ids) | Q(code__in=codes),
        framework_id=round.framework_id,
        children__isnull=True,
    ):
        if point.pk in ids:
            found[point.pk] = point
        if point.code in codes:
            found[point.code] = point
    return found


def unknown_point(indicator: Indicator | int | str) -> DomainError:
    """The refusal of an indicator that is not an observation point of the round."""
    return DomainError(
        _("%(indicator)s is not an observation point of this round's framework.")
        % {"indicator": indicator},
        code="unknown_indicator",
        field="indicator",
    )


def observation_point(*, round: Round, indicator: Indicator | int | str) -> Indicator:
    """The observation point (leaf) of the round's framework, by object, id or code."""
    found = observation_points(round=round, indicators=[indicator]).get(point_key(indicator))
    if found is None:
        raise unknown_point(indicator)
    return found


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
