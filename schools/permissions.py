"""Who may see what of a school (the predicates views, APIs and templates ask)."""

from __future__ import annotations

from typing import Any

from core.permissions import (
    is_bureau_admin,
    is_supervisor,
    school_ids_of,
)
from schools.models import School


def can_view_school_internals(user: Any, school: School) -> bool:
    """Self-assessment, evidence and unpublished details of a school."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return school.pk in school_ids_of(user)
