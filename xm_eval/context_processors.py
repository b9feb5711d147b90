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

from core.permissions import roles_held
from incentives.permissions import can_view_incentives
from rectification.permissions import can_list_rectifications
from rounds.permissions import can_monitor_rounds
from supervision.permissions import can_view_supervision


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
    return [str(role.label) for role in roles_held(user)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    path = request.path
    # What anyone may read: the public notice and the published history.
    public: list[tuple[Any, str | None, bool]] = [
        (_("Public notice"), optional_url("notice:index"), True),
        (_("School history"), optional_url("history:index"), True),
    ]
    if user is None or not user.is_authenticated:
        return {"nav_items": _items(public, path), "user_role_labels": []}
    entries: list[tuple[Any, str | None, bool]] = [
        (_("My tasks"), reverse("site:home"), False),
    ]
    if can_monitor_rounds(user):
        entries.append((_("Rounds"), reverse("rounds:list"), True))
    entries.append((_("Results"), reverse("scoring:index"), True))
    entries.extend(public)
    if can_list_rectifications(user):
        entries.append((_("Rectification"), optional_url("rectification:list"), True))
    if can_view_incentives(user):
        entries.append((_("Incentives"), optional_url("incentives:index"), True))
    if can_view_supervision(user):
        entries.append((_("Supervision"), optional_url("supervision:index"), True))
    if user.is_staff:
        entries.append((_("Data maintenance"), optional_url("admin:index"), False))
    return {"nav_items": _items(entries, path), "user_role_labels": role_labels(user)}


def _items(entries: list[tuple[Any, str | None, bool]], path: str) -> list[NavItem]:
    items = []
    for label, url, by_prefix in entries:
        if url is None:
            continue
        current = path.startswith(url) if by_prefix else path == url
        items.append(NavItem(label=label, url=url, current=current))
    return items
