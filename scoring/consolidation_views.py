"""Consolidation: the round's schools, the group leader's consensus scores and the
bureau's audit scores per school, and the save of one such score.

Both layers share one page and one save, parametrised by the layer
(``scoring.override_scores.LAYERS``). Thin views (see ``scoring.score_pages``):
anonymous → the sign-in page; a role the page is not for → 403 with an explanation;
read-only outside consolidation or for the roles that only read.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.permissions import is_bureau_admin
from rounds.enums import PHASE_ORDER, ConsolidationMethod, RoundPhase
from rounds.models import Round
from rounds.permissions import leads_round_group
from schools.models import School
from scoring import override_scores, progress, selectors
from scoring.forms import OverrideScoreForm
from scoring.permissions import (
    can_view_audit_scores,
    can_view_consolidation,
    can_view_peer_scores,
)
from scoring.score_pages import (
    PointRow,
    Refused,
    evaluator_labels,
    forbidden,
    is_htmx,
    observation_point_or_404,
    phase_index,
    point_rows,
    point_save,
    point_saved_redirect,
    round_and_school,
)

# ------------------------------------------------ consensus and audit scores


def _consolidation_access(request: HttpRequest, round: Round, *, layer: str) -> None:
    """Consensus pages: the round's leader and the bureau roles; audit pages: the bureau roles."""
    user = request.user
    if layer == "consensus":
        if can_view_consolidation(user, round):
            return
        message = _("Consensus scores are given by the group leader of this round.")
    else:
        if can_view_audit_scores(user):
            return
        message = _("Audit scores are given by the bureau.")
    raise Refused(forbidden(request, message))


def _layer_state(request: HttpRequest, round: Round, layer: str) -> tuple[bool, str]:
    """(may the user give this layer's scores now, and if not, why)."""
    user = request.user
    if override_scores.LAYERS[layer].may_give(user, round):
        return True, ""
    if layer == "consensus":
        who_reason = _("Read only: consensus scores are given by the group leader.")
    else:
        who_reason = _("Read only: audit scores are given by the bureau admin.")
    phase = {"phase": round.get_phase_display()}
    if phase_index(round) < PHASE_ORDER.index(RoundPhase.CONSOLIDATION):
        return False, _(
            "These scores are given during consolidation; the round is in the phase “%(phase)s”."
        ) % phase
    if round.phase != RoundPhase.CONSOLIDATION:
        return False, _("Consolidation is over: the round is in the phase “%(phase)s”.") % phase
    return False, who_reason


def _consolidation_context(
    request: HttpRequest, round: Round, school: School, layer: str
) -> dict[str, Any]:
    user = request.user
    show_experts = can_view_peer_scores(user, round) or (
        phase_index(round) >= PHASE_ORDER.index(RoundPhase.CONSOLIDATION)
    )
    experts = (
        selectors.submitted_expert_scores_by_point(round=round, school_id=school.pk)
        if show_experts
        else {}
    )
    labels = evaluator_labels(user, experts)
    consensus = selectors.consensus_scores_by_point(round=round, school_id=school.pk)
    audit = selectors.audit_scores_by_point(round=round, school_id=school.pk)
    editable, closed_reason = _layer_state(request, round, layer)
    rows = point_rows(round)
    for row in rows:
        if not row.is_leaf:
            continue
        _fill_override_row(row, round, layer, experts, labels, consensus, audit)
    if layer == "consensus":
        texts = {
            "page_title": _("Consensus scores"),
            "page_hint": _(
                "Give a consensus score where the group agreed on a value other than the "
                "consolidated one; every consensus score needs a written justification."
            ),
            "text_label": _("Justification"),
            "own_label": _("Consensus score"),
        }
    else:
        texts = {
            "page_title": _("Audit scores"),
            "page_hint": _(
                "An audit score (审核分) overrides the experts and the consensus for that point; "
                "every audit score needs a written reason."
            ),
            "text_label": _("Reason"),
            "own_label": _("Audit score"),
        }
    return {
        **texts,
        "score_url": f"sheets:{layer}_score",
        "round": round,
        "school": school,
        "rows": rows,
        "layer": layer,
        "editable": editable,
        "closed_reason": closed_reason,
        "show_experts": show_experts,
        "schools": round.schools.order_by("code"),
    }


def _fill_override_row(
    row: PointRow,
    round: Round,
    layer: str,
    experts: dict[int, list[Any]],
    labels: dict[int, str],
    consensus: dict[int, Any],
    audit: dict[int, Any],
) -> None:
    point = row.indicator
    given = experts.get(point.pk, [])
    row.experts = [(labels[s.sheet.evaluator_id], s) for s in given]
    row.consolidation = selectors.expert_consolidation(round=round, scores=given) if given else None
    if row.consolidation is not None:
        used = row.consolidation.method_used or row.consolidation.method
        row.consolidation_label = ConsolidationMethod(str(used)).label
    row.consensus = consensus.get(point.pk)
    row.audit = audit.get(point.pk)
    own = row.consensus if layer == "consensus" else row.audit
    row.own = own
    row.values = {
        "points": "" if own is None or own.points is None else own.points,
        "not_applicable": bool(own and own.not_applicable),
        "text": (own.justification if layer == "consensus" else own.reason) if own else "",
    }


@login_required
@require_safe
def consolidation(request: HttpRequest, round_id: int) -> HttpResponse:
    """The schools of a round, with links to their consensus and audit pages."""
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    try:
        _consolidation_access(request, round, layer="consensus")
    except Refused as refused:
        return refused.response
    user = request.user
    return render(
        request,
        "sheets/consolidation.html",
        {
            "round": round,
            "schools": progress.consolidation_progress(round=round),
            "show_audit": can_view_audit_scores(user),
            # The group's opinion is written until publication (reports.group_opinion).
            "show_opinion": round.phase in (RoundPhase.CONSOLIDATION, RoundPhase.PUBLIC_NOTICE)
            and (is_bureau_admin(user) or leads_round_group(user, round.pk)),
        },
    )


def _override_page(request: HttpRequest, round_id: int, school_id: int, layer: str):
    round, school = round_and_school(round_id, school_id)
    try:
        _consolidation_access(request, round, layer=layer)
    except Refused as refused:
        return refused.response
    return render(
        request, "sheets/override.html", _consolidation_context(request, round, school, layer)
    )


@login_required
@require_safe
def consensus(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """The group leader's consensus scores for one school, beside the experts' values."""
    return _override_page(request, round_id, school_id, "consensus")


@login_required
@require_safe
def audit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """The bureau's audit scores for one school, beside experts' values and the consensus."""
    return _override_page(request, round_id, school_id, "audit")


def _override_save(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int, layer: str
) -> HttpResponse:
    round, school = round_and_school(round_id, school_id)
    try:
        _consolidation_access(request, round, layer=layer)
    except Refused as refused:
        return refused.response
    if not override_scores.LAYERS[layer].may_give(request.user, round):
        _editable, reason = _layer_state(request, round, layer)
        return forbidden(request, reason)
    point = observation_point_or_404(round, indicator_id)
    form = OverrideScoreForm(request.POST)
    _saved, error = point_save(
        form,
        point,
        lambda point, data: override_scores.override_score_set(
            layer=layer,
            round=round,
            school=school,
            actor=request.user,
            indicator=point,
            text=data.get("text") or "",
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
        ),
    )
    if not is_htmx(request):
        page = reverse(f"sheets:{layer}", args=[round.pk, school.pk])
        return point_saved_redirect(request, point, error, page)
    context = _consolidation_context(request, round, school, layer)
    row = next(row for row in context["rows"] if row.indicator.pk == point.pk)
    if error is not None:
        row.error, row.error_code = error.message, error.code
        row.values = {
            "points": form.data.get("points", ""),
            "not_applicable": bool(form.data.get("not_applicable")),
            "text": form.data.get("text", ""),
        }
    context.update({"row": row, "saved": error is None})
    return render(request, "sheets/_override_point.html", context)


@login_required
@require_POST
def consensus_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    return _override_save(request, round_id, school_id, indicator_id, "consensus")


@login_required
@require_POST
def audit_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    return _override_save(request, round_id, school_id, indicator_id, "audit")
