"""Use cases of scoring: computing and publishing a round's results.

A computation never updates anything: it stores a new, immutable ResultSet
version with one row per school; publishing marks one version published, after
which neither it nor its rows can change.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditChange, audit_record, audit_record_many, model_snapshot
from core.errors import DomainError
from core.permissions import is_bureau_admin
from rounds.enums import RoundPhase
from rounds.models import GroupMember, Indicator, Round
from rounds.permissions import can_edit_self_assessment
from rounds.selectors import observation_point, observation_points, point_key, unknown_point
from schools.models import School
from scoring import consistency, engine, engine_inputs
from scoring.enums import SheetStatus
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    ScoreSheet,
    SelfAssessment,
    SelfScore,
)
from scoring.permissions import can_give_audit_score, can_give_consensus_score, can_score_school
from scoring.sheets import clean_points

COMPUTE_PHASES = (
    RoundPhase.EXPERT_SCORING,
    RoundPhase.CONSOLIDATION,
    RoundPhase.PUBLIC_NOTICE,
    RoundPhase.PUBLISHED,
    RoundPhase.RECTIFICATION,
)
PUBLISH_PHASES = (RoundPhase.PUBLIC_NOTICE, RoundPhase.PUBLISHED)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _node_scores(school: engine.SchoolResult) -> dict[str, list[Any]]:
    """Every node as [score, status, layer] (see ``ResultRow.indicator_scores``).

    Status and layer are string enums, stored as their values.
    """
    rounded = engine.round_half_up
    return {
        code: [
            None if node.score_exact is None else str(rounded(node.score_exact)),
            node.status,
            node.layer,
        ]
        for code, node in school.nodes.items()
    }


def _statistics(result: engine.RoundResult) -> dict[str, Any]:
    report = consistency.round_consistency(result)
    flagged = [spread for spread in report.spreads if spread.flagged]
    reliability = report.reliability
    return {
        "spreads_checked": len(report.spreads),
        "flagged_spreads": [
            {
                "school_id": s.school_id,
                "code": s.leaf_code,
                "count": s.count,
                "min": str(s.minimum),
                "max": str(s.maximum),
                "spread": str(s.spread),
                "std": str(s.std),
                "threshold": str(s.threshold),
            }
            for s in flagged
        ],
        "evaluators": [
            {
                "evaluator_id": e.evaluator_id,
                "scores": e.score_count,
                "compared": e.compared_count,
                "leniency": _text(e.leniency),
                "leniency_share": _text(e.leniency_share),
                "dropped": e.dropped_count,
                "dropped_share": _text(e.dropped_share),
            }
            for e in report.evaluators
        ],
        "reliability": {
            "method": reliability.method,
            "value": reliability.value,
            "single_rater": reliability.single_rater,
            "k": reliability.k,
            "targets": reliability.n_targets,
            "excluded_targets": reliability.excluded_targets,
            "reason": reliability.reason,
        },
    }


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a round's scores are loaded and scored.

    A large round creates several hundred thousand small, acyclic objects;
    the collector would otherwise walk the growing heap again and again
    (measured: it more than doubled the load time). Reference counting still
    frees everything; the collector is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@transaction.atomic
def round_results_compute(*, round: Round, actor: AbstractBaseUser | None) -> ResultSet:
    """Compute the round and store the outcome as a new ResultSet version.

    Loads the inputs through ``scoring.selectors`` in a fixed number of
    queries, runs the pure engine, and inserts the set and its rows in bulk,
    with the inputs of every school kept (compressed) on its row. Missing
    scores are listed on the set, never treated as zero silently. Records an
    audit event and, after commit, enqueues the consistency statistics.
    Refused before expert scoring and after closing.
    """
    round = Round.objects.select_for_update().select_related("framework").get(pk=round.pk)
    if round.phase not in COMPUTE_PHASES:
        raise DomainError(
            _("Results cannot be computed in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    with _cyclic_gc_paused():
        inputs = engine_inputs.round_engine_inputs(round=round)
        result = engine.compute_round(inputs.framework, inputs.schools, inputs.config)
        result_set = _result_set_store(round=round, inputs=inputs, result=result, actor=actor)
        counts = {"schools": len(result.schools), "missing_scores": len(result.missing)}
        # Freed by reference counting while the collector still sleeps: it would
        # otherwise walk them all once it wakes.
        del inputs, result
    transaction.on_commit(lambda: _enqueue_statistics(result_set.pk), robust=True)
    audit_record(
        actor=actor,
        action="result_set.compute",
        obj=result_set,
        after={"version": result_set.version, **counts},
        round_id=round.pk,
    )
    return result_set


def _result_set_store(
    *,
    round: Round,
    inputs: engine_inputs.RoundInputs,
    result: engine.RoundResult,
    actor: AbstractBaseUser | None,
) -> ResultSet:
    """Insert the next ResultSet version of ``round`` and its rows, in bulk."""
    latest = ResultSet.objects.filter(round=round).aggregate(latest=Max("version"))["latest"]
    result_set = ResultSet.objects.create(
        round=round,
        version=(latest or 0) + 1,
        computed_by=actor if getattr(actor, "is_authenticated", False) else None,
        consolidation_method=inputs.config.method.value,
        trim_min_count=inputs.config.trim_min_count,
        veto_ranks_last=inputs.config.veto_ranks_last,
        tie_break_by_dimension=inputs.config.tie_break_by_dimension,
        spread_threshold=inputs.config.spread_threshold,
        missing_scores=[
            [m.school_id, m.evaluator_id, m.leaf_code, m.covered_by_override]
            for m in result.missing
        ],
    )
    ResultRow.objects.bulk_create(
        [
            ResultRow(
                result_set=result_set,
                school_id=school.school_id,
                total=school.total,
                grade=school.grade,
                rank=school.rank,
                group_rank=school.group_rank,
                rank_note=school.rank_note.value if school.rank_note else "",
                veto_failed=list(school.veto_failed),
                dimension_subtotals={
                    code: _text(value) for code, value in school.dimension_subtotals.items()
                },
                indicator_scores=_node_scores(school),
                self_gap={code: _text(value) for code, value in school.self_gap.items()},
                is_complete=not school.incomplete,
                group=school.group,
                inputs=inputs.snapshots[school.school_id],
            )
            for school in result.schools
        ],
        batch_size=500,
    )
    return result_set


def _enqueue_statistics(result_set_id: int) -> None:
    from scoring.tasks import result_set_statistics_task  # the task module imports this one

    result_set_statistics_task.delay(result_set_id)


def result_set_statistics_compute(*, result_set: ResultSet) -> ResultSet:
    """Fill in the consistency statistics of a result set, once.

    The statistics (spreads, leniency, ICC) are derived from the set's own
    stored inputs, so they are the same whenever they are computed; they are
    written after the set itself, by a task, to keep the computation of a
    large round fast. A set whose statistics exist is left alone.
    """
    if result_set.statistics:
        return result_set
    result = engine_inputs.stored_round_result(result_set=result_set)
    statistics = _statistics(result)
    ResultSet.objects.filter(pk=result_set.pk, statistics={}).update(statistics=statistics)
    result_set.refresh_from_db(fields=["statistics"])
    return result_set


@transaction.atomic
def result_set_publish(*, result_set: ResultSet, actor: AbstractBaseUser | None) -> ResultSet:
    """Mark a result set published; it can never change afterwards.

    Allowed in the public-notice and published phases only, for the latest
    version of the round.
    """
    result_set = ResultSet.objects.select_for_update().select_related("round").get(pk=result_set.pk)
    if result_set.is_published:
        raise DomainError(_("This result set is published already."), code="already_published")
    round = result_set.round
    if round.phase not in PUBLISH_PHASES:
        raise DomainError(
            _(
                "Results can be published only during the public notice; the round is in "
                "the phase “%(phase)s”."
            )
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    latest = ResultSet.objects.filter(round=round).aggregate(latest=Max("version"))["latest"]
    if result_set.version != latest:
        raise DomainError(
            _("Only the latest version (v%(latest)d) can be published.") % {"latest": latest},
            code="not_latest",
        )
    result_set.is_published = True
    result_set.published_at = timezone.now()
    result_set.published_by = actor if getattr(actor, "is_authenticated", False) else None
    result_set.save(update_fields=["is_published", "published_at", "published_by"])
    audit_record(
        actor=actor,
        action="result_set.publish",
        obj=result_set,
        before={"is_published": False},
        after={"is_published": True, "version": result_set.version},
        round_id=round.pk,
    )
    return result_set


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
        _refuse(
            _("You are not assigned to score %(school)s, or you were recused.")
            % {"school": school},
            "not_assigned",
        )


@transaction.atomic
def score_sheet_open(*, round: Round, school: School, actor: Any) -> ScoreSheet:
    """The actor's score sheet for a school, created on first use (assigned evaluators only)."""
    sheet = ScoreSheet.objects.filter(round=round, school=school, evaluator=actor).first()
    if sheet is not None:
        return sheet
    _check_can_score(actor, round, school)
    sheet = ScoreSheet.objects.create(round=round, school=school, evaluator=actor)
    audit_record(
        actor=actor,
        action="score_sheet.open",
        obj=sheet,
        after=model_snapshot(sheet),
        round_id=round.pk,
        school_id=school.pk,
    )
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
        ScoreSheet.objects.select_for_update().select_related("round", "school").get(pk=sheet.pk)
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


def _scores_store(*, sheet: ScoreSheet, actor: Any, checked: list[_CheckedScore]) -> list[Score]:
    """Write the checked scores to the locked sheet and audit every change.

    One query loads the sheet's scores for these points; new ones are inserted
    and existing ones updated in bulk; each score whose points, "not
    applicable" or reason changed gets a ``score.set`` event with its before
    and after values (no before for a new score).
    """
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
        ScoreSheet.objects.select_for_update().select_related("round", "school").get(pk=sheet.pk)
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


# ------------------------------------------------- consensus and audit scores


@transaction.atomic
def consensus_score_set(
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator: Indicator | int | str,
    justification: str,
    points: Any = None,
    not_applicable: bool = False,
) -> ConsensusScore:
    """The group leader's consensus score for one point, with its justification."""
    if not can_give_consensus_score(actor, round):
        _refuse(
            _("Only the group leader gives consensus scores, during consolidation."),
            "not_allowed",
        )
    return _override_set(
        model=ConsensusScore,
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=justification,
        text_field="justification",
        user_field="leader",
        points=points,
        not_applicable=not_applicable,
        action="consensus_score.set",
    )


@transaction.atomic
def audit_score_set(
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator: Indicator | int | str,
    reason: str,
    points: Any = None,
    not_applicable: bool = False,
) -> AuditScore:
    """The bureau's audit score (审核分) for one point, with its reason."""
    if not can_give_audit_score(actor, round):
        _refuse(_("Only the bureau gives audit scores, during consolidation."), "not_allowed")
    return _override_set(
        model=AuditScore,
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=reason,
        text_field="reason",
        user_field="auditor",
        points=points,
        not_applicable=not_applicable,
        action="audit_score.set",
    )


# Why an audit score changes after consolidation, and in which phases: an upheld objection
# during the public notice, a correction once results are published.
AUDIT_SCORE_REVISION_PHASES = {
    "objection": (RoundPhase.PUBLIC_NOTICE,),
    "correction": (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION),
}


@transaction.atomic
def audit_score_revise(
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator: Indicator | int | str,
    reason: str,
    cause: str,
    points: Any = None,
    not_applicable: bool = False,
) -> AuditScore:
    """Change the bureau's audit score (审核分) of one point after consolidation.

    ``audit_score_set`` serves consolidation; this is the one way to change an
    audit score later: ``cause`` is ``"objection"`` (an upheld objection, during
    the public notice) or ``"correction"`` (a correction of published results,
    while the round is published or in rectification). Enforces: a bureau
    admin; the phase of the cause; the school in the round's scope; a written
    reason; points valid for the observation point. Writes the ``AuditScore``
    row (created or replaced) and records ``audit_score.set_objection`` or
    ``audit_score.set_correction`` with before and after. Computes nothing: the
    caller computes the result-set version that follows from the change.
    """
    phases = AUDIT_SCORE_REVISION_PHASES.get(cause)
    if phases is None:
        _refuse(
            _("Unknown reason for changing an audit score: “%(cause)s”.") % {"cause": cause},
            "invalid",
            "cause",
        )
    if not is_bureau_admin(actor):
        _refuse(_("Only the bureau changes audit scores."), "not_allowed")
    if round.phase not in phases:
        _refuse(
            _("This audit score change is not possible while the round is in “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    return _override_set(
        model=AuditScore,
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=reason,
        text_field="reason",
        user_field="auditor",
        points=points,
        not_applicable=not_applicable,
        action=f"audit_score.set_{cause}",
    )


def _override_set(
    *,
    model: Any,
    round: Round,
    school: School,
    actor: Any,
    indicator: Any,
    text: str,
    text_field: str,
    user_field: str,
    points: Any,
    not_applicable: bool,
    action: str,
) -> Any:
    if not round.schools.filter(pk=school.pk).exists():
        _refuse(
            _("%(school)s is not in the scope of this round.") % {"school": school},
            "out_of_scope",
            "school",
        )
    if not text.strip():
        _refuse(_("A written justification is required."), "reason_required", text_field)
    point = observation_point(round=round, indicator=indicator)
    value = clean_points(
        point=point,
        points=points,
        not_applicable=not_applicable,
        reason=text,
        reason_required=False,
    )
    row = model.objects.filter(round=round, school=school, indicator=point).first()
    fields = ["points", "not_applicable", text_field]
    before = model_snapshot(row, fields) if row else None
    if row is None:
        row = model(round=round, school=school, indicator=point, max_points=point.max_points)
    row.points, row.not_applicable = value, not_applicable
    setattr(row, text_field, text.strip())
    setattr(row, user_field, actor)
    row.save()
    audit_record(
        actor=actor,
        action=action,
        obj=row,
        before={"indicator": point.code, **before} if before else None,
        after={"indicator": point.code, **model_snapshot(row, fields)},
        round_id=round.pk,
        school_id=school.pk,
    )
    return row


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
