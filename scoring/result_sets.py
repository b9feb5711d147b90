"""Result sets: computing a round, storing the outcome, its statistics, publishing it.

A computation never updates anything: it stores a new, immutable ResultSet
version with one row per school (and the inputs each row was computed from);
its consistency statistics are filled in once, afterwards, by a task;
publishing marks one version published, after which neither it nor its rows
can change.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError
from rounds.enums import RoundPhase
from rounds.models import Round
from scoring import consistency, engine, engine_inputs
from scoring.models import ResultRow, ResultSet
from scoring.selectors import result_set_incomplete_schools

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

    Loads the inputs through ``scoring.engine_inputs`` in a fixed number of
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
def result_set_publish(
    *,
    result_set: ResultSet,
    actor: AbstractBaseUser | None,
    incomplete_reason: str = "",
) -> ResultSet:
    """Mark a result set published; it can never change afterwards.

    Allowed in the public-notice and published phases only, for the latest
    version of the round. A set in which any school's scoring is incomplete is
    published only with the bureau's ``incomplete_reason``: stored on the set,
    recorded with the ``result_set.publish`` event together with the schools
    concerned, and printed wherever the set is shown as published.
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
    incomplete = result_set_incomplete_schools(result_set=result_set)
    reason = incomplete_reason.strip() if incomplete else ""
    if incomplete and not reason:
        raise DomainError(
            _(
                "The scoring of %(count)d school(s) is incomplete (%(schools)s); publish only "
                "once every score is in, or give the reason for publishing now."
            )
            % {
                "count": len(incomplete),
                "schools": "、".join(school.name_zh for school in incomplete),
            },
            code="scores_incomplete",
            field="incomplete_reason",
        )
    result_set.is_published = True
    result_set.published_at = timezone.now()
    result_set.published_by = actor if getattr(actor, "is_authenticated", False) else None
    result_set.incomplete_publication_reason = reason
    result_set.save(
        update_fields=[
            "is_published",
            "published_at",
            "published_by",
            "incomplete_publication_reason",
        ]
    )
    after: dict[str, Any] = {"is_published": True, "version": result_set.version}
    if incomplete:
        after["incomplete_schools"] = [school.code for school in incomplete]
        after["incomplete_reason"] = reason
    audit_record(
        actor=actor,
        action="result_set.publish",
        obj=result_set,
        before={"is_published": False},
        after=after,
        round_id=round.pk,
    )
    return result_set
