"""The scores that override the experts: the group leader's consensus score and the
bureau's audit score (审核分), each per observation point with its written reason.

Both layers are one kind of row (``ConsensusScore``, ``AuditScore``): points or "not
applicable", a justification or reason, who gave it. ``override_score_set`` writes
either during consolidation; ``audit_score_revise`` is the one way to change an audit
score afterwards (an upheld objection, a correction of published results).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from rounds.enums import RoundPhase
from rounds.models import Indicator, Round
from rounds.selectors import observation_point
from schools.models import School
from scoring.models import AuditScore, ConsensusScore
from scoring.permissions import (
    can_give_audit_score,
    can_give_consensus_score,
    can_revise_audit_score,
)
from scoring.sheets import clean_points


@dataclass(frozen=True, slots=True)
class OverrideLayer:
    """What differs between the consensus and the audit layer."""

    name: str  # "consensus" or "audit": the audit action is ``<name>_score.set``
    model: type[Model]
    text_field: str  # the written reason's field
    user_field: str  # who gave the score
    may_give: Callable[[Any, Round], bool]  # during consolidation
    refusal: Promise  # why ``may_give`` said no


LAYERS: dict[str, OverrideLayer] = {
    "consensus": OverrideLayer(
        name="consensus",
        model=ConsensusScore,
        text_field="justification",
        user_field="leader",
        may_give=can_give_consensus_score,
        refusal=gettext_lazy("Only the group leader gives consensus scores, during consolidation."),
    ),
    "audit": OverrideLayer(
        name="audit",
        model=AuditScore,
        text_field="reason",
        user_field="auditor",
        may_give=can_give_audit_score,
        refusal=gettext_lazy("Only the bureau gives audit scores, during consolidation."),
    ),
}

# Why an audit score changes after consolidation, and in which phases: an upheld objection
# during the public notice, a correction once results are published.
AUDIT_SCORE_REVISION_PHASES = {
    "objection": (RoundPhase.PUBLIC_NOTICE,),
    "correction": (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION),
}


def _refuse(message: Any, code: str, field: str | None = None) -> None:
    raise DomainError(message, code=code, field=field)


@transaction.atomic
def override_score_set(
    *,
    layer: str,
    round: Round,
    school: School,
    actor: Any,
    indicator: Indicator | int | str,
    text: str,
    points: Any = None,
    not_applicable: bool = False,
) -> ConsensusScore | AuditScore:
    """Give or change the ``layer``'s score (``"consensus"`` or ``"audit"``) for one point.

    Enforces: the layer's predicate (the round's group leader for consensus, the
    bureau admin for audit; consolidation only); the school in the round's scope;
    a written ``text`` (justification or reason); points valid for the observation
    point. Writes the row (created or replaced) and records ``<layer>_score.set``
    with before and after.
    """
    spec = LAYERS[layer]
    if not spec.may_give(actor, round):
        _refuse(spec.refusal, "not_allowed")
    return _override_store(
        spec,
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=text,
        points=points,
        not_applicable=not_applicable,
        action=f"{spec.name}_score.set",
    )


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
    return override_score_set(
        layer="consensus",
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=justification,
        points=points,
        not_applicable=not_applicable,
    )


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
    return override_score_set(
        layer="audit",
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=reason,
        points=points,
        not_applicable=not_applicable,
    )


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
    if not can_revise_audit_score(actor):
        _refuse(_("Only the bureau changes audit scores."), "not_allowed")
    if round.phase not in phases:
        _refuse(
            _("This audit score change is not possible while the round is in “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    return _override_store(
        LAYERS["audit"],
        round=round,
        school=school,
        actor=actor,
        indicator=indicator,
        text=reason,
        points=points,
        not_applicable=not_applicable,
        action=f"audit_score.set_{cause}",
    )


def _override_store(
    spec: OverrideLayer,
    *,
    round: Round,
    school: School,
    actor: Any,
    indicator: Any,
    text: str,
    points: Any,
    not_applicable: bool,
    action: str,
) -> Any:
    """Check the school, the text and the points; write the row and audit the change."""
    if not round.schools.filter(pk=school.pk).exists():
        _refuse(
            _("%(school)s is not in the scope of this round.") % {"school": school},
            "out_of_scope",
            "school",
        )
    if not text.strip():
        _refuse(_("A written justification is required."), "reason_required", spec.text_field)
    point = observation_point(round=round, indicator=indicator)
    value = clean_points(
        point=point,
        points=points,
        not_applicable=not_applicable,
        reason=text,
        reason_required=False,
    )
    model = spec.model
    row = model.objects.filter(round=round, school=school, indicator=point).first()
    fields = ["points", "not_applicable", spec.text_field]
    before = model_snapshot(row, fields) if row else None
    if row is None:
        row = model(round=round, school=school, indicator=point, max_points=point.max_points)
    row.points, row.not_applicable = value, not_applicable
    setattr(row, spec.text_field, text.strip())
    setattr(row, spec.user_field, actor)
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
