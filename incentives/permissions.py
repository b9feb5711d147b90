"""Predicates about the incentives computed from published results."""

from __future__ import annotations

from typing import Any

from core.permissions import (
    is_bureau_admin,
    is_supervisor,
)


def can_view_incentives(user: Any) -> bool:
    """Quota allocation and preference lists of a published result set: the bureau admin,
    and the supervisor read-only."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_set_incentive_parameters(user: Any) -> bool:
    """Choose the total quota, the grade weights and the list rules: the bureau admin."""
    return is_bureau_admin(user)
