"""Template context for every page: the navigation a person's roles give them.

Register ``xm_eval.context_processors.navigation`` in ``TEMPLATES`` so error
pages rendered by Django itself get the navigation too; the site's own views
add it to their context either way (``xm_eval.views.render_page``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .enums import Role
from .permissions import (
    can_monitor_rounds,
    can_view_audit_trail,
    has_role,
)


@dataclass(frozen=True, slots=True)
class NavItem:
    label: Any
    url: str
    current: bool = False


def optional_url(names: str | tuple[str, ...], *args: Any) -> str | None:
    """The URL of the first of ``names`` that exists, or None while none does (yet)."""
    for name in (names,) if isinstance(names, str) else names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def role_labels(user: Any) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [str(role.label) for role in Role if has_role(user, role)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role_labels": []}
    path = request.path
    entries: list[tuple[Any, str | None, bool]] = [
        (_("My tasks"), reverse("site:home"), False),
    ]
    if can_monitor_rounds(user):
        entries.append((_("Rounds"), reverse("rounds:list"), True))
    entries.append((_("Results"), reverse("scoring:index"), True))
    if can_view_audit_trail(user):
        entries.append(
            (_("Audit trail"), optional_url("admin:xm_eval_auditevent_changelist"), True)
        )
    if user.is_staff:
        entries.append((_("Data maintenance"), optional_url("admin:index"), False))
    items = []
    for label, url, by_prefix in entries:
        if url is None:
            continue
        current = path.startswith(url) if by_prefix else path == url
        items.append(NavItem(label=label, url=url, current=current))
    return {"nav_items": items, "user_role_labels": role_labels(user)}
