"""Predicates about the supervisor's read-only pages and the audit trail."""

from __future__ import annotations

from typing import Any

from core.api import role_permission
from core.permissions import (
    is_bureau_admin,
    is_supervisor,
)


def can_view_audit_trail(user: Any) -> bool:
    return is_supervisor(user) or is_bureau_admin(user)


def can_view_supervision(user: Any) -> bool:
    """The supervisor's pages (event log, score histories, recusals and conflicts,
    consistency statistics, late changes): supervisors and bureau admins."""
    return is_supervisor(user) or is_bureau_admin(user)


def can_supervise_evaluation(user: Any) -> bool:
    """The supervisor's own duty (监督): follow each round's consistency and reliability from
    the home page. Bureau admins read the supervision pages but do not hold the duty."""
    return is_supervisor(user)


# DRF permission classes over the predicates above.
CanViewAuditTrail = role_permission("CanViewAuditTrail", read=can_view_audit_trail)
