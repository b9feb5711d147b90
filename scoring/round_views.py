"""The bureau's round pages that read scoring: the list with progress, a round with its
latest result set, monitoring, the phase checklist and advance, compute.

Mounted under ``/rounds/`` in the ``rounds`` namespace by the project's URLs, beside
the pages of ``rounds.views`` (which know nothing of scores).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.confirm import Confirmation, confirm_page, is_confirmed
from core.errors import DomainError
from core.views import allowed, render_page, signed_in
from rounds import selectors, services
from rounds import selectors as round_selectors
from rounds.enums import PHASE_ORDER, RoundPhase
from rounds.models import Round
from rounds.permissions import can_manage_rounds, can_monitor_rounds
from rounds.phases import phase_deadline
from scoring import engine_inputs, progress, result_sets
from scoring.permissions import can_compute_results, can_publish_results


def _next_phase(round: Round) -> RoundPhase | None:
    index = PHASE_ORDER.index(round.phase)
    return RoundPhase(PHASE_ORDER[index + 1]) if index + 1 < len(PHASE_ORDER) else None


@signed_in
@allowed(can_monitor_rounds)
def round_list(request: HttpRequest) -> HttpResponse:
    rounds = [
        {"round": round, "deadline": phase_deadline(round)}
        for round in progress.rounds_progress(include_closed=True)
    ]
    return render_page(
        request,
        "rounds/list.html",
        {"rounds": rounds, "can_manage": can_manage_rounds(request.user)},
    )


@signed_in
@allowed(can_monitor_rounds)
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    windows = {window.phase: window for window in round.phase_windows.all()}
    phases = [
        {"phase": phase, "window": windows.get(phase.value), "current": phase == round.phase}
        for phase in RoundPhase
    ]
    members = list(selectors.round_group_members(round=round))
    context = {
        "round": round,
        "deadline": phase_deadline(round),
        "phases": phases,
        "next_phase": _next_phase(round),
        "schools": list(round.schools.order_by("code")),
        "group": members[0].group if members else None,
        "members": members,
        "assignments": list(selectors.round_assignments(round=round)),
        "latest": engine_inputs.result_set_latest(round=round),
        "can_manage": can_manage_rounds(request.user),
        "can_publish": can_publish_results(request.user),
        "can_compute": can_compute_results(request.user)
        and round.phase in result_sets.COMPUTE_PHASES,
    }
    return render_page(request, "rounds/detail.html", context)


@signed_in
@allowed(can_monitor_rounds)
def round_monitoring(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    monitoring = progress.round_monitoring(round=round)
    rows = [
        {"name": name, "cells": monitoring.row(evaluator_id)}
        for evaluator_id, name in monitoring.evaluators
    ]
    per_school = []
    for index, school in enumerate(monitoring.schools):
        cells = [row["cells"][index] for row in rows]
        per_school.append(
            {
                "school": school,
                "submitted": sum(1 for cell in cells if cell.status == "submitted"),
                "expected": sum(
                    1 for cell in cells if cell.status in ("submitted", "draft", "not_started")
                ),
            }
        )
    for row in rows:
        row["submitted"] = sum(1 for cell in row["cells"] if cell.status == "submitted")
        row["expected"] = sum(
            1 for cell in row["cells"] if cell.status in ("submitted", "draft", "not_started")
        )
    context = {
        "round": round,
        "deadline": phase_deadline(round),
        "monitoring": monitoring,
        "rows": rows,
        "per_school": per_school,
        "submitted": monitoring.count("submitted"),
        "draft": monitoring.count("draft"),
        "not_started": monitoring.count("not_started"),
        "recused": monitoring.count("recused"),
        "can_remind": can_manage_rounds(request.user),
    }
    return render_page(request, "rounds/monitoring.html", context)


def _phase_consequences(next_phase: RoundPhase) -> tuple[list[str], list[str]]:
    """(what becomes final, for whom) when a round enters ``next_phase``."""
    final = {
        RoundPhase.SELF_ASSESSMENT: [
            _("The round's framework is frozen: indicators and points can no longer change.")
        ],
        RoundPhase.EXPERT_SCORING: [
            _("Self-assessments close: the schools can no longer change their self scores.")
        ],
        RoundPhase.CONSOLIDATION: [_("Expert scoring closes: score sheets can no longer change.")],
        RoundPhase.PUBLIC_NOTICE: [
            _("Consolidation closes: consensus and audit scores can no longer change.")
        ],
        RoundPhase.PUBLISHED: [_("The results under notice become the published results.")],
        RoundPhase.RECTIFICATION: [
            _("The round enters rectification: the unqualified schools report and are re-checked.")
        ],
        RoundPhase.CLOSED: [
            _(
                "The round is closed for good: no score, result, correction or rectification "
                "in it can change any more."
            )
        ],
    }.get(next_phase, [])
    audience = {
        RoundPhase.SELF_ASSESSMENT: [
            _("The schools of the round, who can now fill in their self-assessment.")
        ],
        RoundPhase.EXPERT_SCORING: [
            _("The schools of the round."),
            _("The experts of the group, who can now score."),
        ],
        RoundPhase.CONSOLIDATION: [
            _("The experts of the group."),
            _("The group leader, who now consolidates."),
        ],
        RoundPhase.CLOSED: [
            _("Every school of the round, its experts and the supervisors."),
        ],
    }.get(next_phase, [_("Everyone taking part in the round.")])
    return final, audience


@signed_in
@allowed(can_manage_rounds)
def round_advance(request: HttpRequest, round_id: int) -> HttpResponse:
    """GET (or a POST without the confirmation): what is still incomplete and what becomes
    final; a confirmed POST moves the round to the next phase."""
    round = _round_or_404(round_id)
    if is_confirmed(request):
        try:
            round = services.round_phase_advance(round=round, actor=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("rounds:advance", round_id=round.pk)
        messages.success(
            request,
            _("The round is now in the phase “%(phase)s”.") % {"phase": round.get_phase_display()},
        )
        return redirect("rounds:detail", round_id=round.pk)
    next_phase = _next_phase(round)
    final, audience = _phase_consequences(next_phase) if next_phase else ([], [])
    confirmation = Confirmation(
        heading=_("Move to the next phase"),
        action_url=reverse("rounds:advance", args=(round.pk,)),
        button=_("Move to “%(next)s”") % {"next": next_phase.label}
        if next_phase
        else _("Move to the next phase"),
        cancel_url=reverse("rounds:detail", args=(round.pk,)),
        becomes_final=[
            *(
                [
                    _(
                        "The round moves from “%(current)s” to “%(next)s”. This is recorded in "
                        "the audit trail and cannot be undone."
                    )
                    % {"current": round.get_phase_display(), "next": next_phase.label}
                ]
                if next_phase
                else []
            ),
            *final,
        ],
        audience=audience,
        refusal=None if next_phase else _("The round is closed; there is no next phase."),
    )
    context = {
        "round": round,
        "deadline": phase_deadline(round),
        "next_phase": next_phase,
        "incomplete": progress.round_incomplete(round=round) if next_phase else None,
    }
    return confirm_page(request, confirmation, template="rounds/advance.html", context=context)


@signed_in
@allowed(can_compute_results)
@require_POST
def round_compute(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    try:
        result_set = result_sets.round_results_compute(round=round, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("rounds:detail", round_id=round.pk)
    messages.success(
        request,
        _("Results computed: version %(version)d, %(missing)d missing score(s).")
        % {"version": result_set.version, "missing": len(result_set.missing_scores or [])},
    )
    return redirect(f"{reverse('scoring:round', args=(round.pk,))}?version={result_set.version}")


def _round_or_404(round_id: int) -> Round:
    round = round_selectors.round_for_page(round_id=round_id)
    if round is None:
        raise Http404
    return round
