"""A round scored through the real services on a frozen clock, so its audit trail holds
score changes before, at and after the phase deadlines (Asia/Shanghai dates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from rounds.enums import RoundPhase
from rounds.models import Round
from scoring import services
from tests.factories import SchoolFactory, make_framework, make_round, round_to_phase
from tests.supervision.builders import People, make_people

SHANGHAI = ZoneInfo("Asia/Shanghai")

WINDOWS = {
    RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
    RoundPhase.EXPERT_SCORING: (dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
    RoundPhase.CONSOLIDATION: (dt.date(2025, 5, 1), dt.date(2025, 5, 15)),
}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in Xiamen."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def set_phase(round: Round, phase: str) -> None:
    round_to_phase(round, phase)


@dataclass
class Scored:
    round: Round
    people: People
    late_sequences: list[int]
    on_time_last_day: int  # the change at 23:30 on the last day of expert scoring


@pytest.fixture
def scored(db) -> Scored:  # noqa: ANN001
    """School A scored by the evaluator (four changes of A1.1, one of them at 00:30 the
    day after the deadline, which is still the deadline's date in UTC), a consensus score
    in time and an audit score a day late; a self score in time."""
    own, other = SchoolFactory(code="SA", name_zh="甲校"), SchoolFactory(code="SB", name_zh="乙校")
    round = make_round(
        framework=make_framework(), schools=[own, other], phase_windows=WINDOWS, name="监督轮次"
    )
    people = make_people(round=round, own_school=own, other_school=other)
    late: list[int] = []

    set_phase(round, RoundPhase.SELF_ASSESSMENT)
    with time_machine.travel(at(dt.date(2025, 3, 20), 10), tick=False):
        services.self_score_set(
            round=round, school=own, actor=people.own_staff, indicator="A1.1", points="12.5"
        )

    set_phase(round, RoundPhase.EXPERT_SCORING)
    evaluator: Any = people.evaluator
    with time_machine.travel(at(dt.date(2025, 4, 10), 10), tick=False):
        sheet = services.score_sheet_open(round=round, school=own, actor=evaluator)
        services.score_set(sheet=sheet, actor=evaluator, indicator="A1.1", points="12.5")
    with time_machine.travel(at(dt.date(2025, 4, 12), 9), tick=False):
        services.score_set(
            sheet=sheet, actor=evaluator, indicator="A1.1", points="10", deduction_reason="缺材料"
        )
    with time_machine.travel(at(dt.date(2025, 4, 30), 23, 30), tick=False):
        on_time = services.score_set(
            sheet=sheet, actor=evaluator, indicator="A1.1", points="11", deduction_reason="补充"
        )
    on_time_sequence = _last_sequence()
    # 00:30 on 1 May in Xiamen is 16:30 on 30 April in UTC: late all the same.
    with time_machine.travel(at(dt.date(2025, 5, 1), 0, 30), tick=False):
        services.score_set(
            sheet=sheet, actor=evaluator, indicator="A1.1", points="9", deduction_reason="复核"
        )
    late.append(_last_sequence())
    assert on_time.pk

    set_phase(round, RoundPhase.CONSOLIDATION)
    with time_machine.travel(at(dt.date(2025, 5, 10), 15), tick=False):
        services.consensus_score_set(
            round=round,
            school=own,
            actor=people.leader,
            indicator="A1.1",
            points="10",
            justification="合议",
        )
    with time_machine.travel(at(dt.date(2025, 5, 16), 9), tick=False):
        services.audit_score_set(
            round=round,
            school=own,
            actor=people.admin,
            indicator="A1.1",
            points="8",
            reason="审核",
        )
    late.append(_last_sequence())
    return Scored(
        round=round, people=people, late_sequences=late, on_time_last_day=on_time_sequence
    )


def _last_sequence() -> int:
    from core.models import AuditEvent

    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
