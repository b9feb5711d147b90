"""Reads behind the supervisor's pages (监督): the audit trail, score histories,
recusals and conflicts, consistency statistics and changes made after a deadline.

Everything here reads; nothing writes. Score histories are rebuilt from the
audit events alone (their before/after), not from today's score tables, so
they show every value a score ever had. Each function returns a queryset or
runs a fixed number of queries whatever the number of events, so the pages
keep a constant query count (names of rounds and schools are joined in as
subqueries, since audit events keep plain ids).

**Late changes.** A change is late when its date in Xiamen (Asia/Shanghai)
is after the last day (``PhaseWindow.ends_on``) of the phase the action belongs
to (``ACTION_PHASE``) in the event's round. A round without a window for that
phase has no deadline to miss. Audit scores set to uphold an objection or to
correct published results are not in ``ACTION_PHASE``: they belong to their own
procedures (with a reason recorded) and come after consolidation by design.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate

from core.models import AuditEvent, canonical_json
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, Indicator, PhaseWindow, Round
from schools.models import School
from scoring.models import ResultSet

# Phase deadlines are calendar days in Xiamen, whatever the server's time zone.
DEADLINE_TIMEZONE = ZoneInfo("Asia/Shanghai")

# The phase whose deadline an action must keep.
ACTION_PHASE: dict[str, str] = {
    "self_score.set": RoundPhase.SELF_ASSESSMENT,
    "self_assessment.submit": RoundPhase.SELF_ASSESSMENT,
    "evidence.upload": RoundPhase.SELF_ASSESSMENT,
    "score.set": RoundPhase.EXPERT_SCORING,
    "score_sheet.submit": RoundPhase.EXPERT_SCORING,
    "consensus_score.set": RoundPhase.CONSOLIDATION,
    "audit_score.set": RoundPhase.CONSOLIDATION,
    "audit_score.create": RoundPhase.CONSOLIDATION,
}

# The actions that set a score, and the layer of the score they set.
SCORE_ACTIONS: dict[str, str] = {
    "self_score.set": "self",
    "score.set": "expert",
    "consensus_score.set": "consensus",
    "audit_score.set": "audit",
    "audit_score.create": "audit",
    "audit_score.set_objection": "audit",
    "audit_score.set_correction": "audit",
}
SCORE_LAYERS = ("self", "expert", "consensus", "audit")

# Consistency flags beyond those the computation stores (flagged spreads):
# an evaluator whose mean deviation from the final scores exceeds this share of
# the points, either way, and a reliability below "good" (ICC < 0.75, Koo & Li 2016).
LENIENCY_FLAG_SHARE = 0.10
RELIABILITY_FLAG_BELOW = 0.75


# ------------------------------------------------------------------ events


def _with_context(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """Join the actor, the round's and school's names, and the deadline of the action.

    Annotates ``round_name``, ``school_name``, ``deadline_phase``, ``phase_ends_on``,
    ``local_date`` (the event's date in Xiamen) and ``is_late``.
    """
    deadline_phase = Case(
        *(When(action=action, then=Value(phase)) for action, phase in ACTION_PHASE.items()),
        default=Value(None),
        output_field=CharField(),
    )
    return (
        events.select_related("actor")
        .annotate(
            round_name=Subquery(Round.objects.filter(pk=OuterRef("round_id")).values("name")[:1]),
            school_name=Subquery(
                School.objects.filter(pk=OuterRef("school_id")).values("name_zh")[:1]
            ),
            deadline_phase=deadline_phase,
            local_date=TruncDate("created_at", tzinfo=DEADLINE_TIMEZONE),
        )
        .annotate(
            phase_ends_on=Subquery(
                PhaseWindow.objects.filter(
                    round_id=OuterRef("round_id"), phase=OuterRef("deadline_phase")
                ).values("ends_on")[:1],
                output_field=DateField(),
            )
        )
        .annotate(
            is_late=Case(
                When(
                    Q(phase_ends_on__isnull=False, local_date__gt=F("phase_ends_on")),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def audit_events(
    *,
    round_id: int | None = None,
    school_id: int | None = None,
    actor_id: int | None = None,
    action: str | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first, filtered; each event with its context (see above)."""
    events = AuditEvent.objects.all()
    if round_id is not None:
        events = events.filter(round_id=round_id)
    if school_id is not None:
        events = events.filter(school_id=school_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    return _with_context(events).order_by("-sequence")


def late_changes(*, round_id: int | None = None) -> QuerySet[AuditEvent]:
    """Changes made after the deadline of their phase, newest first."""
    events = AuditEvent.objects.filter(action__in=list(ACTION_PHASE), round_id__isnull=False)
    if round_id is not None:
        events = events.filter(round_id=round_id)
    return _with_context(events).filter(is_late=True).order_by("-sequence")


# ------------------------------------------------------------ filter choices


def round_choices() -> list[tuple[int, str]]:
    return list(Round.objects.order_by("-cycle_start", "name").values_list("pk", "name"))


def school_choices() -> list[tuple[int, str]]:
    return list(School.objects.order_by("code").values_list("pk", "name_zh"))


def actor_choices() -> list[tuple[int, str]]:
    """Users who hold a role (anyone who can act in a round), by user name."""
    users = (
        get_user_model()
        .objects.filter(Q(groups__isnull=False) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
        .values_list("pk", "username", "last_name", "first_name")
    )
    return [(pk, f"{last}{first}".strip() or username) for pk, username, last, first in users]


def action_choices() -> list[str]:
    """Every action recorded so far (one indexed query)."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


# ------------------------------------------------------------ score history


def _indicator_needle(code: str) -> str:
    # before/after are canonical JSON (sorted keys, no spaces), so this is how the
    # indicator's code is spelled inside them, quotes included: "A1.1" never matches "A1.10".
    return canonical_json({"indicator": code})[1:-1]


def score_events(
    *,
    round_id: int | None = None,
    school_id: int | None = None,
    actor_id: int | None = None,
    indicator_code: str | None = None,
    layer: str | None = None,
) -> QuerySet[AuditEvent]:
    """The events that set a score, one score after another (round, school, layer — self,
    expert, consensus, audit — then score row), each score's events oldest first.

    ``actor_id`` is the evaluator for expert scores (only the sheet's owner sets them),
    the leader for consensus scores and the auditor for audit scores.
    """
    actions = [a for a, lay in SCORE_ACTIONS.items() if layer in (None, "", lay)]
    events = AuditEvent.objects.filter(action__in=actions)
    if round_id is not None:
        events = events.filter(round_id=round_id)
    if school_id is not None:
        events = events.filter(school_id=school_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if indicator_code:
        needle = _indicator_needle(indicator_code)
        by_code = Q(after__contains=needle) | Q(before__contains=needle)
        # audit scores entered in the admin record the point's id, not its code
        ids = Indicator.objects.filter(code=indicator_code)
        if round_id is not None:
            ids = ids.filter(framework__rounds__pk=round_id)
        by_id = Q()
        for pk in ids.values_list("pk", flat=True):
            by_id |= Q(after__contains=f'"indicator_id":{pk},') | Q(
                after__contains=f'"indicator_id":{pk}}}'
            )
        events = events.filter(by_code | by_id)
    layer_order = Case(
        *(
            When(action=action, then=Value(SCORE_LAYERS.index(layer)))
            for action, layer in SCORE_ACTIONS.items()
        ),
        output_field=IntegerField(),
    )
    # A score row has one type and so one layer: its events stay together.
    return (
        _with_context(events)
        .annotate(layer_order=layer_order)
        .order_by("round_id", "school_id", "layer_order", "object_type", "object_id", "sequence")
    )


@dataclass(frozen=True, slots=True)
class ScoreValue:
    points: str | None
    not_applicable: bool
    text: str  # the deduction reason, justification or reason

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> ScoreValue | None:
        if data is None:
            return None
        text = data.get("deduction_reason") or data.get("justification") or data.get("reason")
        return cls(
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
            text=text or "",
        )


@dataclass(frozen=True, slots=True)
class ScoreChange:
    event: AuditEvent
    before: ScoreValue | None
    after: ScoreValue | None
    is_late: bool


@dataclass(slots=True)
class ScoreHistory:
    """Every recorded change of one score (one score row of one layer)."""

    layer: str
    round_id: int | None
    round_name: str | None
    school_id: int | None
    school_name: str | None
    indicator_code: str
    owner: Any  # the evaluator of an expert score; else None
    changes: list[ScoreChange] = field(default_factory=list)

    @property
    def late_count(self) -> int:
        return sum(1 for change in self.changes if change.is_late)


def score_histories(events: Iterable[AuditEvent]) -> list[ScoreHistory]:
    """Group score events (as ordered by ``score_events``) into one history per score.

    At most one query, to name the observation points of scores entered in the
    admin (their events record the point's id rather than its code).
    """
    events = list(events)
    missing_ids = {
        (event.after or {}).get("indicator_id")
        for event in events
        if not (event.after or {}).get("indicator") and not (event.before or {}).get("indicator")
    } - {None}
    codes = (
        dict(Indicator.objects.filter(pk__in=missing_ids).values_list("pk", "code"))
        if missing_ids
        else {}
    )
    histories: list[ScoreHistory] = []
    current_key: tuple | None = None
    for event in events:
        after, before = event.after or {}, event.before or {}
        key = (event.round_id, event.school_id, event.object_type, event.object_id)
        if key != current_key:
            layer = SCORE_ACTIONS.get(event.action, "")
            code = after.get("indicator") or before.get("indicator")
            histories.append(
                ScoreHistory(
                    layer=layer,
                    round_id=event.round_id,
                    round_name=event.round_name,
                    school_id=event.school_id,
                    school_name=event.school_name,
                    indicator_code=code or codes.get(after.get("indicator_id"), "?"),
                    owner=event.actor if layer == "expert" else None,
                )
            )
            current_key = key
        histories[-1].changes.append(
            ScoreChange(
                event=event,
                before=ScoreValue.of(event.before),
                after=ScoreValue.of(event.after),
                is_late=bool(event.is_late),
            )
        )
    return histories


# ---------------------------------------------------- recusals and conflicts


def _last_event(action: str, object_type: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action=action,
        object_type=object_type,
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
    ).order_by("-sequence")


def recusals(*, round_id: int | None = None) -> QuerySet[Assignment]:
    """Recused assignments with when and by whom they were recused (from the audit trail)."""
    recorded = _last_event("assignment.recuse", Assignment._meta.label_lower)
    assignments = (
        Assignment.objects.filter(status=AssignmentStatus.RECUSED)
        .select_related("round", "school", "evaluator")
        .annotate(
            recused_at=Subquery(recorded.values("created_at")[:1]),
            recused_by=Subquery(recorded.values("actor__username")[:1]),
        )
        .order_by("-round__cycle_start", "round__name", "school__code", "evaluator__username")
    )
    if round_id is not None:
        assignments = assignments.filter(round_id=round_id)
    return assignments


def conflicts(*, round_id: int | None = None) -> QuerySet[ConflictOfInterest]:
    """Conflicts of interest (declared or detected), with who recorded them.

    With a round: the conflicts between the round's group members and its schools.
    """
    recorded = _last_event("conflict.record", ConflictOfInterest._meta.label_lower)
    found = (
        ConflictOfInterest.objects.select_related("evaluator", "school")
        .annotate(recorded_by=Subquery(recorded.values("actor__username")[:1]))
        .order_by("-recorded_at", "-pk")
    )
    if round_id is not None:
        found = found.filter(
            school__rounds__pk=round_id, evaluator__group_memberships__group__round_id=round_id
        ).distinct()
    return found


# ------------------------------------------------------------- consistency


def rounds_overview() -> QuerySet[Round]:
    """Every round with its framework and phase windows, newest first."""
    return (
        Round.objects.select_related("framework")
        .prefetch_related("phase_windows")
        .order_by("-cycle_start", "name")
    )


def round_for_supervision(*, round_id: int) -> Round | None:
    return (
        Round.objects.filter(pk=round_id)
        .select_related("framework")
        .prefetch_related("phase_windows")
        .first()
    )


def round_result_sets(*, round: Round) -> list[ResultSet]:
    """The round's result sets, latest first, without their heavy JSON columns."""
    return list(
        ResultSet.objects.filter(round=round)
        .defer("statistics", "missing_scores")
        .order_by("-version")
    )


def result_set_statistics(*, result_set_id: int) -> dict[str, Any]:
    return ResultSet.objects.filter(pk=result_set_id).values_list("statistics", flat=True).first()


def round_school_names(*, round: Round) -> dict[int, str]:
    return dict(round.schools.values_list("pk", "name_zh"))


def framework_titles(*, framework_id: int) -> dict[str, str]:
    return dict(Indicator.objects.filter(framework_id=framework_id).values_list("code", "title_zh"))


def user_names(*, user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(user_ids)
    if not ids:
        return {}
    return {
        pk: f"{last}{first}".strip() or username
        for pk, username, last, first in get_user_model()
        .objects.filter(pk__in=ids)
        .values_list("pk", "username", "last_name", "first_name")
    }


def audit_events_list() -> QuerySet:
    """The audit trail, newest first, with the actor joined."""

    return AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
