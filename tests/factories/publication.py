"""Rounds under public notice, objections, and results published after their notice.

Results are published only through ``publication.services`` after a public notice
(``publish_after_notice``), never straight from a computed set.

``noticed_round`` computes a scored round whose first school (by code) fails its
veto item (an audit score of 0 on A1.1) and every other school passes it (full
audit score), so exactly that school is unqualified whatever the random scores.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import time_machine
from django.utils import timezone

from core.enums import Role
from publication import services as publication
from publication.models import NoticePeriod, Objection
from rounds.enums import RoundPhase
from rounds.models import Round
from schools.models import School
from scoring import services
from scoring.models import AuditScore, ResultSet
from tests.factories.core import UserFactory, add_roles
from tests.factories.rounds import group_evaluators, group_leader
from tests.factories.schools import staff_of
from tests.factories.scoring import leaf, scored_round

# A valid citizen identity number (the check character is right) and a phone.
OBJECTOR = {
    "name": "王秘密",
    "id_number": "11010519491231002X",
    "phone": "13912345678",
}
ORGANISATION = "厦门某某职业培训有限公司"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(data: bytes, name: str) -> io.BytesIO:
    stream = io.BytesIO(data)
    stream.name = name
    return stream


@dataclass
class Noticed:
    round: Round
    result_set: ResultSet
    notice: NoticePeriod
    schools: list[School]

    @property
    def unqualified(self) -> School:
        return self.schools[0]


def scored_round_with_one_unqualified(*, schools: int = 3, seed: int = 7) -> Round:
    round = scored_round(schools=schools, seed=seed, phase=RoundPhase.CONSOLIDATION)
    veto = leaf(round, "A1.1")
    auditor = UserFactory(username=f"auditor-{round.pk}")
    ordered = list(School.objects.filter(rounds=round).order_by("code"))
    AuditScore.objects.bulk_create(
        AuditScore(
            round=round,
            school=school,
            indicator=veto,
            max_points=veto.max_points,
            points=0 if index == 0 else veto.max_points,
            auditor=auditor,
            reason="测试审核",
        )
        for index, school in enumerate(ordered)
    )
    return round


def noticed_round(*, admin: Any, schools: int = 3, days: int = 7, seed: int = 7) -> Noticed:
    """A computed round (v1) under public notice from now for ``days`` days."""
    round = scored_round_with_one_unqualified(schools=schools, seed=seed)
    result_set = services.round_results_compute(round=round, actor=admin)
    notice = publication.notice_open(result_set=result_set, actor=admin, days=days)
    round.refresh_from_db()
    return Noticed(
        round=round,
        result_set=result_set,
        notice=notice,
        schools=list(School.objects.filter(rounds=round).order_by("code")),
    )


def after_notice(noticed: Noticed) -> dt.datetime:
    return noticed.notice.ends_at + dt.timedelta(minutes=1)


def file_objection(noticed: Noticed, **overrides: Any) -> Objection:
    values: dict[str, Any] = {
        "round": noticed.round,
        "school": noticed.schools[-1],
        "content": "该校实训设备数量与实际不符。",
        "objector_kind": "person",
        **OBJECTOR,
    }
    values.update(overrides)
    return publication.objection_file(**values)


def role_users(round: Round, school: School) -> dict[str, Any]:
    """One user per role, tied to ``round`` and ``school`` where the role needs it.

    ``leader`` and ``evaluator`` are members of the round's group (the leader
    leads it); ``school_staff`` works for ``school``; ``other_staff`` for
    another school.
    """
    leader = add_roles(group_leader(round), Role.GROUP_LEADER)
    evaluator = add_roles(group_evaluators(round)[0], Role.EVALUATOR)
    staff = staff_of(school, f"staff-{round.pk}")
    other_staff = staff_of(None, f"other-staff-{round.pk}")
    return {
        "anonymous": None,
        "supervisor": UserFactory(username=f"supervisor-{round.pk}", roles=[Role.SUPERVISOR]),
        "leader": leader,
        "evaluator": evaluator,
        "school_staff": staff,
        "other_staff": other_staff,
    }


def publish_after_notice(result_set: ResultSet, *, actor: Any, days: int = 7) -> ResultSet:
    """Publish ``result_set`` the way the bureau does: a public notice of ``days`` days
    (opened that long ago, so it has ended), then ``result_set_publish_checked``, which
    moves the round to published and opens the rectifications of unqualified schools.

    The round must be in consolidation (or public notice without a running notice).
    """
    with time_machine.travel(timezone.now() - dt.timedelta(days=days, minutes=1), tick=False):
        publication.notice_open(result_set=result_set, actor=actor, days=days)
    published = publication.result_set_publish_checked(result_set=result_set, actor=actor)
    result_set.refresh_from_db()
    return published


def published_round(
    *, admin: Any, schools: int = 3, seed: int = 7, at: dt.datetime | None = None
) -> Noticed:
    """``noticed_round`` published after its notice (at ``at``, else just after it ended);
    the unqualified school has its rectification."""
    return publish_noticed(
        noticed_round(admin=admin, schools=schools, seed=seed), admin=admin, at=at
    )


def publish_noticed(noticed: Noticed, *, admin: Any, at: dt.datetime | None = None) -> Noticed:
    """Publish the set under notice at ``at`` (after the notice ended; else just after)."""
    moment = at or after_notice(noticed)
    assert after_notice(noticed) <= moment
    with time_machine.travel(moment, tick=False):
        publication.result_set_publish_checked(result_set=noticed.result_set, actor=admin)
    noticed.round.refresh_from_db()
    noticed.result_set.refresh_from_db()
    return noticed


def now() -> dt.datetime:
    return timezone.now()
