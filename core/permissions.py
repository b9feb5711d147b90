"""Named permission predicates: ``can_<verb>_<thing>(user, obj) -> bool``.

Views, DRF permission classes, templates and services use these and nothing
else to decide who may do what to which object. Roles are Django groups
(``xm_eval.enums.Role``); object scope comes from staff memberships (school
staff) and assignments (evaluators).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.enums import Role

if TYPE_CHECKING:
    pass


def _roles(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_xm_eval_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._xm_eval_roles = cached
    return cached


def prime_roles(user: Any, roles: Any) -> None:
    """Set the roles ``user`` holds, read with the user (``core.auth_backends``), so
    the predicates below ask no query of their own."""
    user._xm_eval_roles = frozenset(str(role) for role in roles)


def has_role(user: Any, role: str) -> bool:
    return role in _roles(user) or bool(getattr(user, "is_superuser", False) and user.is_active)


def is_bureau_admin(user: Any) -> bool:
    return has_role(user, Role.BUREAU_ADMIN)


def is_supervisor(user: Any) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_evaluator(user: Any) -> bool:
    return has_role(user, Role.EVALUATOR) or has_role(user, Role.GROUP_LEADER)


def is_group_leader(user: Any) -> bool:
    return has_role(user, Role.GROUP_LEADER)


def is_school_staff(user: Any) -> bool:
    return has_role(user, Role.SCHOOL_STAFF)


def roles_held(user: Any) -> list[Role]:
    """The roles ``user`` holds, in the order of ``Role`` (an active superuser holds all)."""
    return [role for role in Role if has_role(user, role)]


def school_ids_of(user: Any) -> frozenset[int]:
    """The schools ``user`` works for (school staff)."""
    if not is_school_staff(user):
        return frozenset()
    cached = getattr(user, "_xm_eval_school_ids", None)
    if cached is None:
        cached = frozenset(user.school_memberships.values_list("school_id", flat=True))
        user._xm_eval_school_ids = cached
    return cached


# ------------------------------------------------------------------ REST API
# Which API resources a role may use at all; which rows it then sees is
# decided by the selectors (own sheets, own school, active assignments).


# ------------------------------------------------------------------ reports


# ------------------------------------------- public notice, objections, publication


# ----------------------------------------------------------- rectification


# --------------------------------------- supervision, incentives, school history
