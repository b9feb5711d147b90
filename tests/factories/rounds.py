"""Frameworks, rounds and their phases, evaluation groups, assignments and evidence.

Frameworks and rounds are built through ``rounds.services``; a round reaches a phase
only through ``round_phase_advance`` (``round_to_phase``), so it gets there the way it
does in production: its framework frozen on leaving the draft, every step audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from rounds.enums import PHASE_ORDER, AssignmentStatus, GroupRole, IndicatorMethod
from rounds.models import Assignment, EvaluationGroup, Evidence, GroupMember, Indicator, Round
from rounds.services import (
    IndicatorData,
    framework_create,
    round_create,
    round_phase_advance,
    round_phase_window_set,
)
from schools.models import School
from tests.factories.core import phase_actor


def small_tree(*, leaves_per_indicator: int = 2) -> list[IndicatorData]:
    """A valid four-dimension tree of 100 points: each dimension 25 points,
    one indicator of 25, split evenly over its observation points; the first
    observation point of dimension A is a veto item."""
    rows: list[IndicatorData] = []
    per_leaf = Decimal(25) / leaves_per_indicator
    for dimension in "ABCD":
        rows.append(
            IndicatorData(
                code=dimension,
                parent_code=None,
                title_zh=f"维度{dimension}",
                max_points=Decimal(25),
            )
        )
        rows.append(
            IndicatorData(
                code=f"{dimension}1",
                parent_code=dimension,
                title_zh=f"指标{dimension}1",
                max_points=Decimal(25),
                tags=("compliant_operation",),
            )
        )
        for index in range(1, leaves_per_indicator + 1):
            rows.append(
                IndicatorData(
                    code=f"{dimension}1.{index}",
                    parent_code=f"{dimension}1",
                    title_zh=f"观测点{dimension}1.{index}",
                    max_points=per_leaf,
                    method=IndicatorMethod.DOCUMENT_REVIEW,
                    is_veto=(dimension == "A" and index == 1),
                    tags=("compliant_operation",),
                )
            )
    return rows


_framework_counter = iter(range(1, 1_000_000))


def make_framework(*, name: str | None = None, leaves_per_indicator: int = 2, actor=None):  # noqa: ANN001, ANN201
    return framework_create(
        actor=actor,
        name=name or f"测试指标体系{next(_framework_counter)}",
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=small_tree(leaves_per_indicator=leaves_per_indicator),
    )


_round_counter = iter(range(1, 1_000_000))


def make_round(*, framework=None, schools=(), actor=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
    return round_create(
        actor=actor,
        framework=framework or make_framework(),
        name=kwargs.pop("name", f"测试轮次{next(_round_counter)}"),
        cycle_start=kwargs.pop("cycle_start", 2025),
        cycle_end=kwargs.pop("cycle_end", 2027),
        schools=schools,
        **kwargs,
    )


def round_to_phase(
    round: Round,
    phase: str,
    *,
    actor: Any = None,
    windows: Mapping[str, tuple[dt.date, dt.date]] | None = None,
) -> Round:
    """Move ``round`` forward to ``phase`` through ``rounds.services.round_phase_advance``,
    one phase at a time, as a bureau admin (``actor``, else the first bureau admin there
    is); set the phase ``windows`` given first, through ``round_phase_window_set``.

    The services move a round forward only: asking for an earlier phase is a mistake in
    the test, so it fails. ``round`` is refreshed in place and returned.
    """
    actor = actor or phase_actor()
    for window_phase, (starts_on, ends_on) in (windows or {}).items():
        round_phase_window_set(
            round=round, actor=actor, phase=window_phase, starts_on=starts_on, ends_on=ends_on
        )
    round.refresh_from_db()
    target = PHASE_ORDER.index(phase)
    if PHASE_ORDER.index(round.phase) > target:
        raise AssertionError(f"{round} is in {round.phase}, past {phase}: phases only go forward")
    while PHASE_ORDER.index(round.phase) < target:
        round_phase_advance(round=round, actor=actor)
        round.refresh_from_db()
    return round


def round_in_phase(
    phase: str,
    *,
    schools: Iterable[School] = (),
    actor: Any = None,
    windows: Mapping[str, tuple[dt.date, dt.date]] | None = None,
    **kwargs: Any,
) -> Round:
    """A new round (``make_round``) moved to ``phase``."""
    round = make_round(schools=list(schools), **kwargs)
    return round_to_phase(round, phase, actor=actor, windows=windows)


def group_form(
    round: Round, *, leader: Any = None, evaluators: Iterable[Any] = (), name: str = "组"
) -> EvaluationGroup:
    """The round's evaluation group with ``leader`` and ``evaluators`` as members
    (created if the round has none yet)."""
    group, _created = EvaluationGroup.objects.get_or_create(round=round, defaults={"name": name})
    if leader is not None:
        GroupMember.objects.create(group=group, user=leader, role=GroupRole.LEADER)
    GroupMember.objects.bulk_create(
        GroupMember(group=group, user=user, role=GroupRole.EVALUATOR) for user in evaluators
    )
    return group


def group_leader(round: Round) -> Any:
    return GroupMember.objects.get(group__round=round, role=GroupRole.LEADER).user


def group_evaluators(round: Round) -> list[Any]:
    members = GroupMember.objects.filter(group__round=round, role=GroupRole.EVALUATOR)
    return [member.user for member in members.select_related("user").order_by("id")]


def assign(
    round: Round, school: School, evaluator: Any, *, status: str = AssignmentStatus.ACTIVE
) -> Assignment:
    return Assignment.objects.create(round=round, school=school, evaluator=evaluator, status=status)


def assign_all(round: Round, schools: Iterable[School], evaluators: Iterable[Any]) -> None:
    """Every evaluator to every school, active (bulk: for rounds of many schools)."""
    evaluators = list(evaluators)
    Assignment.objects.bulk_create(
        Assignment(round=round, school=school, evaluator=user, status=AssignmentStatus.ACTIVE)
        for school in schools
        for user in evaluators
    )


def evidence_row(
    *,
    round: Round,
    school: School,
    indicator: Indicator,
    user: Any,
    name: str,
    content_type: str = "application/pdf",
    size: int = 1234,
) -> Evidence:
    """An evidence row whose file is not stored (for pages and lists that only name it;
    a test of the file itself uploads through ``rounds.evidence.evidence_upload``)."""
    digest = hashlib.sha256(f"{school.pk}/{name}".encode()).hexdigest()
    return Evidence.objects.create(
        school=school,
        round=round,
        indicator=indicator,
        file=f"evidence/{round.pk}/{school.pk}/{digest}",
        original_name=name,
        content_type=content_type,
        size=size,
        sha256=digest,
        uploaded_by=user,
    )


def leaf(round: Round, code: str) -> Indicator:
    return Indicator.objects.get(framework=round.framework, code=code)
