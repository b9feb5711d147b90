"""Predicates about rectification notices, reports, re-checks and extensions."""

from __future__ import annotations

from typing import Any

from core.permissions import (
    is_bureau_admin,
    is_group_leader,
    is_school_staff,
    is_supervisor,
    school_ids_of,
)
from rounds.permissions import can_lead_evaluation_groups, leads_round_group


def can_view_every_rectification(user: Any) -> bool:
    """Every rectification of every round: the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_led_rounds_rectifications(user: Any) -> bool:
    """The rectifications of the rounds whose evaluation group one leads (to re-check them):
    group leaders (which rounds: ``rounds.permissions.leads_round_group``)."""
    return can_lead_evaluation_groups(user)


def can_list_rectifications(user: Any) -> bool:
    """The rectification list: the bureau roles, group leaders and school staff (each
    then sees the rows the selector gives them)."""
    return (
        is_bureau_admin(user)
        or is_supervisor(user)
        or is_group_leader(user)
        or is_school_staff(user)
    )


def can_view_rectification(user: Any, rectification: Any) -> bool:
    """A rectification with its reports and evidence: the bureau roles, the school's own
    staff, and the leader of the round's group (who re-checks it)."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    if rectification.school_id in school_ids_of(user):
        return True
    return leads_round_group(user, rectification.round_id)


def can_submit_rectification_report(user: Any, rectification: Any) -> bool:
    """The school's own staff write its rectification report."""
    return rectification.school_id in school_ids_of(user)


def can_recheck_rectification(user: Any, rectification: Any) -> bool:
    """The group re-checks: its leader, or the bureau admin."""
    return is_bureau_admin(user) or leads_round_group(user, rectification.round_id)


def can_extend_rectification(user: Any) -> bool:
    """Grant the one extension of a rectification deadline: the bureau admin."""
    return is_bureau_admin(user)
