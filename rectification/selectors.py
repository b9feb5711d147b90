"""Reads behind the rectification pages, with each role's visibility decided here."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from core import permissions
from rectification.models import Rectification, RectificationItem
from rectification.permissions import (
    can_view_every_rectification,
    can_view_led_rounds_rectifications,
)
from rounds.enums import GroupRole
from rounds.models import GroupMember


def rectifications_visible_to(*, user: Any) -> QuerySet[Rectification]:
    """The rectifications ``user`` may see, with round, school and item counts joined.

    The bureau roles: every one; school staff: their schools'; group leaders:
    those of the rounds they lead. Anyone else: none.
    """
    rectifications = (
        Rectification.objects.select_related("round", "school")
        .annotate(item_count=Count("items"))
        .order_by("-round__cycle_start", "round__name", "school__code")
    )
    if can_view_every_rectification(user):
        return rectifications
    visible = Q(school_id__in=permissions.school_ids_of(user))
    if can_view_led_rounds_rectifications(user):
        led = GroupMember.objects.filter(user=user, role=GroupRole.LEADER).values("group__round_id")
        visible |= Q(round_id__in=led)
    return rectifications.filter(visible)


def rectification_for_page(*, rectification_id: int) -> Rectification | None:
    """One rectification with its round, school, people and items (observation point joined)."""
    return (
        Rectification.objects.select_related(
            "round",
            "school",
            "result_set",
            "submitted_by",
            "rechecked_by",
            "extended_by",
        )
        .defer("result_set__statistics", "result_set__missing_scores")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=RectificationItem.objects.select_related("indicator").order_by(
                    "order", "code"
                ),
            )
        )
        .filter(pk=rectification_id)
        .first()
    )


def rectification_item_for_download(*, item_id: int) -> RectificationItem | None:
    return RectificationItem.objects.select_related("rectification").filter(pk=item_id).first()
