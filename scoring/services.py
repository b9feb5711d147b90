"""Use cases of scoring: computing and publishing a round's results.

A computation never updates anything: it stores a new, immutable ResultSet
version with one row per school; publishing marks one version published, after
which neither it nor its rows can change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from rounds.enums import RoundPhase
from rounds.models import Round
from xm_eval.audit import audit_record
from xm_eval.errors import DomainError

from . import consistency, engine, selectors
from .models import ResultRow, ResultSet

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


def _node_scores(school: engine.SchoolResult) -> dict[str, dict[str, Any]]:
    return {
        code: {
            "score": _text(node.score),
            "max": str(node.max_points),
            "status": node.status.value,
            "layer": node.layer.value if node.layer else None,
        }
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


@transaction.atomic
def round_results_compute(*, round: Round, actor: AbstractBaseUser | None) -> ResultSet:
    """Compute the round and store the outcome as a new ResultSet version.

    Loads the inputs through ``scoring.selectors`` in a fixed number of
    queries, runs the pure engine and the consistency statistics, and inserts
    the set and its rows in bulk, with the inputs of every school kept on its
    row. Missing scores are listed on the set, never treated as zero silently.
    Records an audit event. Refused before expert scoring and after closing.
    """
    round = Round.objects.select_for_update().select_related("framework").get(pk=round.pk)
    if round.phase not in COMPUTE_PHASES:
        raise DomainError(
            _("Results cannot be computed in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    inputs = selectors.round_engine_inputs(round=round)
    result = engine.compute_round(inputs.framework, inputs.schools, inputs.config)
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
        statistics=_statistics(result),
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
                inputs=inputs.snapshots[school.school_id],
            )
            for school in result.schools
        ],
        batch_size=500,
    )
    audit_record(
        actor=actor,
        action="result_set.compute",
        obj=result_set,
        after={
            "version": result_set.version,
            "schools": len(result.schools),
            "missing_scores": len(result.missing),
        },
        round_id=round.pk,
    )
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
