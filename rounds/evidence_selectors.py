from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core import permissions
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Evidence, Indicator, PhaseWindow, Round
from rounds.permissions import can_score, can_view_every_evidence
from schools.models import School


def schools_of_staff_in_round(*, round: Round, user_id: int) -> QuerySet[School]:
    """The schools of the round that ``user_id`` works for (school staff), by code."""
    return School.objects.filter(rounds=round, staff__user_id=user_id).order_by("code")


def evidence_get(*, evidence_id: int) -> Evidence | None:
    """One evidence file with its round and school (for the permission check)."""
    return Evidence.objects.select_related("round", "school").filter(pk=evidence_id).first()


def evidence_by_point(*, round: Round, school_id: int) -> dict[int, list[Evidence]]:
    """The school's files for the round keyed by observation point id, newest version first."""
    found: dict[int, list[Evidence]] = defaultdict(list)
    for evidence in Evidence.objects.filter(round=round, school_id=school_id).order_by(
        "indicator_id", "original_name", "-version"
    ):
        found[evidence.indicator_id].append(evidence)
    return found


def evidence_for_point(*, round: Round, school_id: int, indicator_id: int) -> list[Evidence]:
    return list(
        Evidence.objects.filter(
            round=round, school_id=school_id, indicator_id=indicator_id
        ).order_by("original_name", "-version")
    )


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One observation point of the required-evidence checklist."""

    indicator: Indicator
    required: tuple[str, ...]
    file_count: int

    @property
    def is_required(self) -> bool:
        return bool(self.required)

    @property
    def is_complete(self) -> bool:
        return self.file_count > 0 or not self.required


@dataclass(frozen=True, slots=True)
class Checklist:
    items: tuple[ChecklistItem, ...]

    @property
    def required_count(self) -> int:
        return sum(1 for item in self.items if item.is_required)

    @property
    def complete_count(self) -> int:
        return sum(1 for item in self.items if item.is_required and item.file_count > 0)

    @property
    def missing(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.items if not item.is_complete)


def evidence_checklist(
    *, round: Round, school_id: int, leaves: Iterable[Indicator] | None = None
) -> Checklist:
    """Which observation points that ask for evidence have at least one file.

    ``leaves`` (the round's observation points, in order) saves a query when
    the caller has them already.
    """
    if leaves is None:
        leaves = Indicator.objects.filter(
            framework_id=round.framework_id, children__isnull=True
        ).order_by("order", "code")
    counts = dict(
        Evidence.objects.filter(round=round, school_id=school_id)
        .values_list("indicator_id")
        .annotate(n=Count("id"))
        .values_list("indicator_id", "n")
    )
    return Checklist(
        items=tuple(
            ChecklistItem(
                indicator=leaf,
                required=tuple(leaf.required_evidence or ()),
                file_count=counts.get(leaf.pk, 0),
            )
            for leaf in leaves
        )
    )


@dataclass(frozen=True, slots=True)
class UploadWindow:
    """Whether a school may upload evidence now, and when that ends."""

    deadline: dt.date | None
    days_left: int | None
    phase_open: bool
    deadline_passed: bool

    @property
    def is_open(self) -> bool:
        return self.phase_open and not self.deadline_passed


def evidence_upload_window(*, round: Round, today: dt.date | None = None) -> UploadWindow:
    """The upload deadline: the end of the round's self-assessment phase (one query)."""
    today = today or timezone.localdate()
    deadline = (
        PhaseWindow.objects.filter(round=round, phase=RoundPhase.SELF_ASSESSMENT)
        .values_list("ends_on", flat=True)
        .first()
    )
    return UploadWindow(
        deadline=deadline,
        days_left=None if deadline is None else (deadline - today).days,
        phase_open=round.phase == RoundPhase.SELF_ASSESSMENT,
        deadline_passed=deadline is not None and today > deadline,
    )


def evidence_visible_to(*, user: Any) -> QuerySet[Evidence]:
    """Evidence metadata ``user`` may read, in one query with its indicator.

    The bureau roles read every school's; school staff their own schools'; an
    evaluator the files of the schools they are actively assigned to in that
    round (``xm_eval.permissions.can_view_evidence``, as a filter).
    """

    evidence = Evidence.objects.select_related("indicator").order_by(
        "round_id",
        "school__code",
        "indicator__order",
        "indicator__code",
        "original_name",
        "-version",
    )
    if can_view_every_evidence(user):
        return evidence
    visible = Q(school_id__in=permissions.school_ids_of(user))
    if can_score(user):
        visible |= Exists(
            Assignment.objects.filter(
                round_id=OuterRef("round_id"),
                school_id=OuterRef("school_id"),
                evaluator_id=user.pk,
                status=AssignmentStatus.ACTIVE,
            )
        )
    return evidence.filter(visible)
