"""Use cases of score sheets: an evaluator's sheet and its scores, the school's
self-assessment and its self scores.

Every function checks the actor through ``scoring.permissions`` and the round's
phase, writes, and records an audit event; a broken rule is a ``DomainError``.
The other layers live beside this module: the consensus and audit scores in
``scoring.override_scores``, the computed and published results in
``scoring.result_sets``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditChange, audit_record, audit_record_many, model_snapshot
from core.errors import DomainError
from rounds.enums import RoundPhase
from rounds.models import GroupMember, Indicator, Round
from rounds.permissions import active_assignment_exists, can_edit_self_assessment
from rounds.selectors import observation_point, observation_points, point_key, unknown_point
from schools.models import School
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet, SelfAssessment, SelfScore

# The result-set and override-score use cases moved out of this module; the names stay
# importable from here for the callers (the tests) that still reach them this way.
from scoring.override_scores import (  # noqa: F401
    AUDIT_SCORE_REVISION_PHASES,
    audit_score_revise,
    audit_score_set,
    consensus_score_set,
)
from scoring.permissions import can_keep_score_sheet, can_score_school
from scoring.result_sets import (  # noqa: F401
    COMPUTE_PHASES,
    PUBLISH_PHASES,
    result_set_publish,
    result_set_statistics_compute,
    round_results_compute,
)
from scoring.sheets import clean_points

# ------------------------------------------------------------ expert scoring


def _refuse(message: Any, code: str, field: str | None = None) -> None:
    raise DomainError(message, code=code, field=field)


def _check_can_score(actor: Any, round: Round, school: School) -> None:
    if round.phase != RoundPhase.EXPERT_SCORING:
        _refuse(
            _("Scoring is closed: the round is in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    if not can_score_school(actor, round, school):
        _refuse(_not_assigned(school), "not_assigned")


def _not_assigned(school: School) -> str:
    return _("You are not assigned to score %(school)s, or you were recused.") % {"school": school}


@transaction.atomic
def score_sheet_open(*, round: Round, school: School, actor: Any) -> ScoreSheet:
    """The actor's score sheet for a school, created on first use.

    Creating one takes what scoring takes (the scoring phase, an active
    assignment). A sheet that exists already is given back in any phase (a
    submitted sheet is read after scoring closed), but only while the actor's
    assignment is active: a recusal after the sheet was begun refuses it too,
    ``not_assigned``.
    """
    sheet = ScoreSheet.objects.filter(round=round, school=school, evaluator=actor).first()
    if sheet is not None:
        if not can_keep_score_sheet(actor, round, school):
            _refuse(_not_assigned(school), "not_assigned")
        return sheet
    _check_can_score(actor, round, school)
    try:
        with transaction.atomic():
            sheet = ScoreSheet.objects.create(round=round, school=school, evaluator=actor)
            audit_record(
                actor=actor,
                action="score_sheet.open",
                obj=sheet,
                after=model_snapshot(sheet),
                round_id=round.pk,
                school_id=school.pk,
            )
    except IntegrityError:
        # Another request of the same evaluator (a second tab) opened it meanwhile.
        sheet = ScoreSheet.objects.get(round=round, school=school, evaluator=actor)
    return sheet


@dataclass(frozen=True, slots=True)
class ScoreEntry:
    """One score for ``score_set_many``: what ``score_set`` takes for one observation point."""

    indicator: Indicator | int | str
    points: Any = None
    not_applicable: bool = False
    deduction_reason: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class _CheckedScore:
    """An entry that passed the score rules, as it is to be stored."""

    point: Indicator
    points: Decimal | None
    not_applicable: bool
    deduction_reason: str
    comment: str


_SCORE_AUDITED = ["points", "not_applicable", "deduction_reason"]


def _score_sheet_for_change(*, sheet: ScoreSheet, actor: Any) -> ScoreSheet:
    """The sheet, locked, once the actor may change its scores: the actor's own
    draft, in the scoring phase, on an active assignment."""
    sheet = (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("round", "school")
        .get(pk=sheet.pk)
    )
    if sheet.evaluator_id != getattr(actor, "pk", None):
        _refuse(_("This is not your score sheet."), "not_owner")
    if sheet.status == SheetStatus.SUBMITTED:
        _refuse(
            _("The score sheet was submitted on %(time)s and is locked.")
            % {"time": timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M")},
            "sheet_locked",
        )
    _check_can_score(actor, sheet.round, sheet.school)
    return sheet


def _scores_check(
    *, sheet: ScoreSheet, entries: Sequence[ScoreEntry]
) -> tuple[list[_CheckedScore], list[tuple[int, DomainError]]]:
    """Every entry checked with the score rules, loading its observation points in one query.

    Returns the scores to store and, by entry index, the refusals: an indicator
    that is not an observation point of the round (or is given twice), points
    outside 0 … max or with more than two places, a deduction without a reason.
    A reason is dropped at full marks; texts are stripped.
    """
    by_key = observation_points(round=sheet.round, indicators=[e.indicator for e in entries])
    checked: list[_CheckedScore] = []
    refused: list[tuple[int, DomainError]] = []
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        indicator = entry.indicator
        point = by_key.get(point_key(indicator))
        try:
            if point is None:
                raise unknown_point(indicator)
            if point.pk in seen:
                raise DomainError(
                    _("Code %(code)s appears more than once.") % {"code": point.code},
                    code="duplicate_indicator",
                    field="indicator",
                )
            seen.add(point.pk)
            value = clean_points(
                point=point,
                points=entry.points,
                not_applicable=entry.not_applicable,
                reason=entry.deduction_reason,
                reason_required=True,
            )
        except DomainError as error:
            refused.append((index, error))
            continue
        checked.append(
            _CheckedScore(
                point=point,
                points=value,
                not_applicable=entry.not_applicable,
                deduction_reason=(
                    entry.deduction_reason.strip() if value != point.max_points else ""
                ),
                comment=entry.comment.strip(),
            )
        )
    return checked, refused


def _indicator_text(indicator: Indicator | int | str) -> str:
    return indicator.code if isinstance(indicator, Indicator) else str(indicator)


def _scores_store(
    *,
    sheet: ScoreSheet,
    actor: Any,
    checked: list[_CheckedScore],
    existing: dict[int, Score] | None = None,
) -> list[Score]:
    """Write the checked scores to the locked sheet and audit every change.

    One query loads the sheet's scores for these points (unless the caller read them
    already: ``existing``, by indicator id); new ones are inserted
    and existing ones updated in bulk; each score whose points, "not
    applicable" or reason changed gets a ``score.set`` event with its before
    and after values (no before for a new score).
    """
    if existing is None:
        existing = {
            score.indicator_id: score
            for score in Score.objects.filter(
                sheet=sheet, indicator_id__in=[item.point.pk for item in checked]
            )
        }
    now = timezone.now()
    scores: list[Score] = []
    new: list[Score] = []
    updated: list[Score] = []
    changes: list[tuple[Score, str, dict[str, Any] | None, dict[str, Any]]] = []
    for item in checked:
        point = item.point
        score = existing.get(point.pk)
        before = model_snapshot(score, _SCORE_AUDITED) if score else None
        if score is None:
            score = Score(sheet=sheet, indicator=point, max_points=point.max_points)
            new.append(score)
        else:
            score.indicator = point  # the event's text names it without another query
            updated.append(score)
        score.points = item.points
        score.not_applicable = item.not_applicable
        score.deduction_reason = item.deduction_reason
        score.comment = item.comment
        score.updated_at = now
        scores.append(score)
        after = model_snapshot(score, _SCORE_AUDITED)
        if before != after:
            changes.append((score, point.code, before, after))
    Score.objects.bulk_create(new)
    Score.objects.bulk_update(
        updated,
        ["points", "not_applicable", "deduction_reason", "comment", "updated_at"],
    )
    audit_record_many(
        actor=actor,
        changes=[
            AuditChange(
                action="score.set",
                obj=score,
                before={"indicator": code, **before} if before else None,
                after={"indicator": code, **after},
                round_id=sheet.round_id,
                school_id=sheet.school_id,
            )
            for score, code, before, after in changes
        ],
    )
    return scores


@transaction.atomic
def score_set(
    *,
    sheet: ScoreSheet,
    actor: Any,
    indicator: Indicator | int | str,
    points: Any = None,
    not_applicable: bool = False,
    deduction_reason: str = "",
    comment: str = "",
) -> Score:
    """Enter or change one score on the actor's own draft sheet.

    Enforces: the sheet is the actor's, still a draft, in the scoring phase and
    on an active assignment; the indicator is an observation point of the
    round; points within 0 … max with two places at most; a deduction has a
    reason. Every change is audited with its before and after values.
    """
    sheet = _score_sheet_for_change(sheet=sheet, actor=actor)
    entry = ScoreEntry(indicator, points, not_applicable, deduction_reason, comment)
    checked, refused = _scores_check(sheet=sheet, entries=[entry])
    if refused:
        raise refused[0][1]
    return _scores_store(sheet=sheet, actor=actor, checked=checked)[0]


@dataclass(frozen=True, slots=True)
class PointSaved:
    """An autosaved score and its sheet's progress after the save."""

    score: Score
    answered: int  # the sheet's observation points with an answer
    total: int  # the framework's observation points


def _sheet_locked_for_autosave(*, round: Round, school: School, actor: Any) -> ScoreSheet | None:
    """The actor's sheet for the school, locked, with its round read afresh and whether
    the actor's assignment is active, in one query; None before the sheet is opened."""
    return (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("round")
        .annotate(
            assigned=active_assignment_exists(
                round=OuterRef("round_id"),
                school=OuterRef("school_id"),
                evaluator=OuterRef("evaluator_id"),
            )
        )
        .filter(round=round, school=school, evaluator=actor)
        .first()
    )


def _point_with_progress(*, sheet: ScoreSheet, indicator_id: int) -> Indicator | None:
    """The observation point ``indicator_id`` of the sheet's framework, in one query
    annotated with the sheet's score for it (``own_*``), the sheet's answered count and
    the framework's number of observation points; None if it is not one."""
    leaves = Indicator.objects.filter(framework_id=sheet.round.framework_id, children__isnull=True)
    own = Score.objects.filter(sheet=sheet, indicator=OuterRef("pk"))
    answered = (
        Score.objects.filter(sheet=sheet)
        .exclude(points__isnull=True, not_applicable=False)
        .order_by()
        .values("sheet")
        .annotate(count=Count("pk"))
        .values("count")
    )
    total = leaves.order_by().values("framework").annotate(count=Count("pk")).values("count")
    return (
        leaves.filter(pk=indicator_id)
        .annotate(
            own_id=Subquery(own.values("pk")[:1]),
            own_points=Subquery(own.values("points")[:1]),
            own_not_applicable=Subquery(own.values("not_applicable")[:1]),
            own_reason=Subquery(own.values("deduction_reason")[:1]),
            answered_count=Coalesce(Subquery(answered), 0),
            leaf_count=Subquery(total),
        )
        .first()
    )


def score_autosave(
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator_id: int,
    points: Any = None,
    not_applicable: bool = False,
    deduction_reason: str = "",
) -> PointSaved:
    """``score_set`` for one observation point given by id, as the sheet's autosave
    calls it (the sheet opened on first use), with the sheet's progress after it.

    The rules, refusals and audit event are ``score_set``'s. Its cost is fixed: the
    sheet locked with its round and assignment in one query, the point with its
    score and the sheet's counts in another, the write and the audit chain's three.
    """
    with transaction.atomic():
        sheet = _sheet_locked_for_autosave(round=round, school=school, actor=actor)
        if sheet is None:
            score_sheet_open(round=round, school=school, actor=actor)
            sheet = _sheet_locked_for_autosave(round=round, school=school, actor=actor)
        if sheet.status == SheetStatus.SUBMITTED:
            _refuse(
                _("The score sheet was submitted on %(time)s and is locked.")
                % {"time": timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M")},
                "sheet_locked",
            )
        if sheet.round.phase != RoundPhase.EXPERT_SCORING:
            _check_can_score(actor, sheet.round, school)  # refuses: scoring closed
        if not sheet.assigned:
            _refuse(_not_assigned(school), "not_assigned")
        point = _point_with_progress(sheet=sheet, indicator_id=indicator_id)
        if point is None:
            raise unknown_point(indicator_id)
        value = clean_points(
            point=point,
            points=points,
            not_applicable=not_applicable,
            reason=deduction_reason,
            reason_required=True,
        )
        existing = {}
        if point.own_id is not None:
            existing[point.pk] = Score(
                pk=point.own_id,
                sheet=sheet,
                indicator=point,
                points=point.own_points,
                max_points=point.max_points,
                not_applicable=point.own_not_applicable,
                deduction_reason=point.own_reason,
            )
        checked = _CheckedScore(
            point=point,
            points=value,
            not_applicable=not_applicable,
            deduction_reason=deduction_reason.strip() if value != point.max_points else "",
            comment="",
        )
        score = _scores_store(sheet=sheet, actor=actor, checked=[checked], existing=existing)[0]
    was_answered = point.own_id is not None and (
        point.own_points is not None or point.own_not_applicable
    )
    answered = point.answered_count + (0 if was_answered else 1)
    return PointSaved(score=score, answered=answered, total=point.leaf_count)


@transaction.atomic
def score_set_many(*, sheet: ScoreSheet, actor: Any, entries: Sequence[ScoreEntry]) -> list[Score]:
    """Enter or change many scores on the actor's own draft sheet: all of them, or none.

    The rules and the audit events are those of ``score_set`` for each entry in
    turn (an observation point may be given once), in a number of queries that
    does not grow with the entries: the sheet is locked and checked once, its
    observation points and scores loaded once, the rows inserted and updated
    in bulk and the events appended to the chain together.

    A refusal of the sheet itself (not the actor's, submitted, scoring closed,
    not assigned) is raised as ``score_set`` raises it. Refused entries are
    all reported in one ``DomainError`` coded ``scores_refused`` whose
    ``details`` lists, per refused entry, its ``index`` in ``entries``, the
    ``indicator`` as given, and the ``code``, ``field`` and ``message`` that
    ``score_set`` would have refused it with; nothing is written then.
    """
    sheet = _score_sheet_for_change(sheet=sheet, actor=actor)
    checked, refused = _scores_check(sheet=sheet, entries=entries)
    if refused:
        raise DomainError(
            _("%(count)d score(s) were refused; nothing was saved.") % {"count": len(refused)},
            code="scores_refused",
            details=[
                {
                    "index": index,
                    "indicator": _indicator_text(entries[index].indicator),
                    "code": error.code,
                    "field": error.field,
                    "message": str(error),
                }
                for index, error in refused
            ],
        )
    return _scores_store(sheet=sheet, actor=actor, checked=checked)


def _unanswered_points(*, framework_id: int, scores: Any) -> list[str]:
    """Codes of the observation points ``scores`` (any layer's rows) leave unanswered.

    An answer is points or "not applicable"; codes come in framework order.
    """
    answered = set(
        scores.exclude(points__isnull=True, not_applicable=False).values_list(
            "indicator_id", flat=True
        )
    )
    return [
        code
        for pk, code in Indicator.objects.filter(framework_id=framework_id, children__isnull=True)
        .order_by("order", "code")
        .values_list("pk", "code")
        if pk not in answered
    ]


def sheet_missing_points(*, sheet: ScoreSheet) -> list[str]:
    """Codes of the observation points the sheet has no answer for, in framework order."""
    return _unanswered_points(
        framework_id=sheet.round.framework_id, scores=Score.objects.filter(sheet=sheet)
    )


@transaction.atomic
def score_sheet_submit(*, sheet: ScoreSheet, actor: Any) -> ScoreSheet:
    """Check the sheet is complete, lock it and record the time.

    Refuses with every unanswered observation point listed in ``details``.
    """
    sheet = (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("round", "school")
        .get(pk=sheet.pk)
    )
    if sheet.evaluator_id != getattr(actor, "pk", None):
        _refuse(_("This is not your score sheet."), "not_owner")
    if sheet.status == SheetStatus.SUBMITTED:
        _refuse(_("The score sheet is submitted already."), "sheet_locked")
    _check_can_score(actor, sheet.round, sheet.school)
    missing = sheet_missing_points(sheet=sheet)
    if missing:
        raise DomainError(
            _("%(count)d observation point(s) have no score yet: %(codes)s.")
            % {"count": len(missing), "codes": ", ".join(missing)},
            code="incomplete",
            details=missing,
        )
    sheet.status = SheetStatus.SUBMITTED
    sheet.submitted_at = timezone.now()
    sheet.save(update_fields=["status", "submitted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="score_sheet.submit",
        obj=sheet,
        before={"status": SheetStatus.DRAFT},
        after={"status": SheetStatus.SUBMITTED, "submitted_at": sheet.submitted_at},
        round_id=sheet.round_id,
        school_id=sheet.school_id,
    )
    return sheet


# ----------------------------------------------------------- self-assessment


def _check_can_self_assess(actor: Any, round: Round, school: School) -> None:
    if round.phase != RoundPhase.SELF_ASSESSMENT:
        _refuse(
            _("Self-assessment is closed: the round is in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    if not can_edit_self_assessment(actor, round, school):
        _refuse(_("Only the school's own staff can fill in its self-assessment."), "not_staff")


@transaction.atomic
def self_score_set(
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator: Indicator | int | str,
    points: Any = None,
    not_applicable: bool = False,
    note: str = "",
) -> SelfScore:
    """Enter or change one self score of the school's draft self-assessment."""
    _check_can_self_assess(actor, round, school)
    assessment, _created = SelfAssessment.objects.select_for_update().get_or_create(
        round=round, school=school
    )
    if assessment.status == SheetStatus.SUBMITTED:
        _refuse(_("The self-assessment is submitted and locked."), "sheet_locked")
    point = observation_point(round=round, indicator=indicator)
    value = clean_points(
        point=point,
        points=points,
        not_applicable=not_applicable,
        reason=note,
        reason_required=False,
    )
    score = SelfScore.objects.filter(self_assessment=assessment, indicator=point).first()
    before = model_snapshot(score, ["points", "not_applicable"]) if score else None
    if score is None:
        score = SelfScore(self_assessment=assessment, indicator=point, max_points=point.max_points)
    score.points, score.not_applicable, score.note = value, not_applicable, note.strip()
    score.save()
    after = model_snapshot(score, ["points", "not_applicable"])
    if before != after:
        audit_record(
            actor=actor,
            action="self_score.set",
            obj=score,
            before={"indicator": point.code, **before} if before else None,
            after={"indicator": point.code, **after},
            round_id=round.pk,
            school_id=school.pk,
        )
    return score


@transaction.atomic
def self_assessment_submit(*, round: Round, school: School, actor: Any) -> SelfAssessment:
    """Lock the school's self-assessment once every observation point is answered."""
    _check_can_self_assess(actor, round, school)
    assessment, _created = SelfAssessment.objects.select_for_update().get_or_create(
        round=round, school=school
    )
    if assessment.status == SheetStatus.SUBMITTED:
        _refuse(_("The self-assessment is submitted already."), "sheet_locked")
    missing = _unanswered_points(
        framework_id=round.framework_id,
        scores=SelfScore.objects.filter(self_assessment=assessment),
    )
    if missing:
        raise DomainError(
            _("%(count)d observation point(s) have no self score yet: %(codes)s.")
            % {"count": len(missing), "codes": ", ".join(missing)},
            code="incomplete",
            details=missing,
        )
    assessment.status = SheetStatus.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.submitted_by = actor
    assessment.save(update_fields=["status", "submitted_at", "submitted_by"])
    audit_record(
        actor=actor,
        action="self_assessment.submit",
        obj=assessment,
        after={"status": SheetStatus.SUBMITTED},
        round_id=round.pk,
        school_id=school.pk,
    )
    return assessment


# ------------------------------------------------------ the group hook


def member_submitted_sheets_refusal(member: GroupMember) -> tuple[str, str] | None:
    """Registered with rounds: a member who submitted score sheets stays in the group."""
    submitted = [
        str(sheet.school)
        for sheet in ScoreSheet.objects.filter(
            round_id=member.group.round_id,
            evaluator_id=member.user_id,
            status=SheetStatus.SUBMITTED,
        )
        .select_related("school")
        .order_by("school__code")
    ]
    if not submitted:
        return None
    return (
        "has_submitted_sheets",
        _(
            "%(user)s has submitted score sheets for %(schools)s in this round; "
            "members who scored stay in the evaluation group."
        )
        % {"user": member.user, "schools": "、".join(submitted)},
    )
