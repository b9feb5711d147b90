from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from rounds.enums import PHASE_ORDER


@dataclass(frozen=True, slots=True)
class PhaseDeadline:
    """The end of a round's current phase and the days left until it (negative: overdue)."""

    starts_on: dt.date
    ends_on: dt.date
    days_left: int

    @property
    def overdue_days(self) -> int:
        return -self.days_left


def phase_deadline(round: Any, today: dt.date | None = None) -> PhaseDeadline | None:
    """The current phase's window of ``round`` (phase windows prefetched), or None."""
    today = today or timezone.localdate()
    for window in round.phase_windows.all():
        if window.phase == round.phase:
            return PhaseDeadline(window.starts_on, window.ends_on, (window.ends_on - today).days)
    return None


def phase_is_before(round: Any, phase: str) -> bool:
    return PHASE_ORDER.index(round.phase) < PHASE_ORDER.index(phase)
