"""Predicates about the public notice, objections, publication and history."""

from __future__ import annotations

from typing import Any

from core.permissions import (
    is_bureau_admin,
)
from schools.models import School


def can_open_notice(user: Any) -> bool:
    """Open the public notice (公示) of a result set: the bureau admin."""
    return is_bureau_admin(user)


def can_handle_objections(user: Any) -> bool:
    """List, read and answer objections: the bureau admin only (not the supervisor,
    since an objection's page shows who filed it)."""
    return is_bureau_admin(user)


def can_view_objector_identity(user: Any) -> bool:
    """The objector's name, identity number, phone, organisation and seal: the bureau
    admins handling objections, nobody else (not even the supervisor)."""
    return can_handle_objections(user)


def can_correct_results(user: Any) -> bool:
    """Publish a corrected version of published results (with a reason)."""
    return is_bureau_admin(user)


def can_view_school_history(user: Any, school: School) -> bool:
    """A school's results across rounds. The history shows published result sets only,
    and published results are public (as the public notice and ranking are), so anyone
    may read it, signed in or not."""
    return True


# DRF permission classes over the predicates above.
