"""Questions rounds asks of the layers above it, without importing them.

An app above rounds registers its answer in its ``AppConfig.ready``; rounds calls
every registered answer. Today: whether an evaluation group's member may leave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rounds.models import GroupMember

# A check returns (code, message) when the member must stay, else None.
MemberRemovalCheck = Callable[["GroupMember"], "tuple[str, str] | None"]

_member_removal_checks: list[MemberRemovalCheck] = []


def member_removal_check_register(check: MemberRemovalCheck) -> None:
    if check not in _member_removal_checks:
        _member_removal_checks.append(check)


def member_removal_refusals(member: GroupMember) -> list[tuple[str, str]]:
    """Every registered reason why ``member`` must stay in the group, as (code, message)."""
    return [refusal for check in _member_removal_checks if (refusal := check(member))]
