"""An evaluator's score sheet for one school: the page, the autosave of a score, submit.

Thin views: find the round and school, check access with the permission predicates,
call one service or the selectors, render (see ``scoring.score_pages`` for what the
score pages share). Access answers: anonymous → the sign-in page; not an evaluator →
403 with an explanation; a school the evaluator is not assigned to → 404; a recused
assignment → 403 saying why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.confirm import Confirmation, confirm_page, is_confirmed
from core.db import transaction_retried
from core.errors import DomainError
from rounds import evidence_selectors
from rounds import selectors as round_selectors
from rounds.enums import PHASE_ORDER, AssignmentStatus, RoundPhase
from rounds.models import Round
from schools.models import School
from scoring import selectors, services, sheet_summary
from scoring.enums import SheetStatus
from scoring.forms import ScoreForm
from scoring.permissions import can_view_peer_scores, can_write_score_sheets
from scoring.progress import framework_leaf_count
from scoring.score_pages import (
    Refused,
    evaluator_labels,
    forbidden,
    is_deduction,
    is_htmx,
    local_time,
    missing_points,
    observation_point_or_404,
    phase_index,
    point_rows,
    point_saved_redirect,
    round_and_school,
)

# ------------------------------------------------------- evaluator: access


def _evaluator_assignment(request: HttpRequest, round: Round, school: School) -> Any:
    user = request.user
    if not can_write_score_sheets(user):
        raise Refused(forbidden(request, _("Score sheets are for the evaluators of the round.")))
    assignment = round_selectors.assignment_of(
        round=round, school_id=school.pk, evaluator_id=user.pk
    )
    if assignment is None:
        raise Http404(_("You are not assigned to this school."))
    if assignment.status == AssignmentStatus.RECUSED:
        raise Refused(_recused(request, assignment))
    return assignment


def _recused(request: HttpRequest, assignment: Any) -> HttpResponse:
    """403: the evaluator was recused from the school, and why."""
    return render(
        request,
        "sheets/recused.html",
        {"round": assignment.round, "school": assignment.school, "assignment": assignment},
        status=403,
    )


def _scoring_state(round: Round, sheet: Any) -> tuple[bool, str]:
    """(may the sheet be changed now, and if not, why)."""
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        return False, _("You submitted this score sheet on %(time)s; it is locked.") % {
            "time": local_time(sheet.submitted_at)
        }
    if round.phase == RoundPhase.EXPERT_SCORING:
        return True, ""
    if phase_index(round) < PHASE_ORDER.index(RoundPhase.EXPERT_SCORING):
        return False, _(
            "Scoring opens with the expert scoring phase; the round is in the phase “%(phase)s”. "
            "You can read the indicators and the school's evidence now."
        ) % {"phase": round.get_phase_display()}
    return False, _("Scoring is closed: the round is in the phase “%(phase)s”.") % {
        "phase": round.get_phase_display()
    }


def _sheet_context(request: HttpRequest, round: Round, school: School) -> dict[str, Any]:
    user = request.user
    sheet = selectors.score_sheet_of(round=round, school_id=school.pk, evaluator_id=user.pk)
    scores = selectors.sheet_scores_by_point(sheet=sheet)
    self_scores = selectors.submitted_self_scores_by_point(round=round, school_id=school.pk)
    files = evidence_selectors.evidence_by_point(round=round, school_id=school.pk)
    peers: dict[int, list[Any]] = {}
    if can_view_peer_scores(user, round):
        peers = selectors.submitted_expert_scores_by_point(
            round=round, school_id=school.pk, exclude_evaluator_id=user.pk
        )
    labels = evaluator_labels(user, peers)
    editable, closed_reason = _scoring_state(round, sheet)
    rows = point_rows(round)
    leaves = [row for row in rows if row.is_leaf]
    for row in leaves:
        point = row.indicator
        score = scores.get(point.pk)
        row.own = score
        row.self_score = self_scores.get(point.pk)
        row.files = files.get(point.pk, [])
        row.peers = [(labels[s.sheet.evaluator_id], s) for s in peers.get(point.pk, [])]
        row.values = {
            "points": "" if score is None or score.points is None else score.points,
            "not_applicable": bool(score and score.not_applicable),
            "deduction_reason": score.deduction_reason if score else "",
        }
        row.show_reason = bool(
            score and (is_deduction(point, score.points) or score.deduction_reason)
        )
    answered = sum(
        1 for row in leaves if row.own and (row.own.points is not None or row.own.not_applicable)
    )
    return {
        "summary": sheet_summary.summarise(rows, show=request.GET.get("show", "all")),
        "round": round,
        "school": school,
        "sheet": sheet,
        "rows": rows,
        "editable": editable,
        "closed_reason": closed_reason,
        "show_self_scores": bool(self_scores),
        "show_peers": bool(peers),
        "progress": {"answered": answered, "total": len(leaves)},
    }


# ------------------------------------------------------ evaluator: views


@login_required
@require_safe
def sheet(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """An evaluator's score sheet for one school: the tree, evidence, self scores, inputs."""
    round, school = round_and_school(round_id, school_id)
    try:
        _evaluator_assignment(request, round, school)
    except Refused as refused:
        return refused.response
    return render(request, "sheets/sheet.html", _sheet_context(request, round, school))


@login_required
@require_POST
def score(request: HttpRequest, round_id: int, school_id: int, indicator_id: int) -> HttpResponse:
    """Autosave one score (htmx): answers the point's status and the progress bar.

    The hot path of a scoring day, so its queries are counted: the assignment brings
    the round, framework and school, and ``services.score_autosave`` the progress.
    """
    user = request.user
    if not can_write_score_sheets(user):
        return forbidden(request, _("Score sheets are for the evaluators of the round."))
    assignment = round_selectors.evaluator_assignment(
        round_id=round_id, school_id=school_id, evaluator_id=user.pk
    )
    if assignment is None:
        round, school = round_and_school(round_id, school_id)  # 404 for a wrong address
        raise Http404(_("You are not assigned to this school."))
    round, school = assignment.round, assignment.school
    if assignment.status == AssignmentStatus.RECUSED:
        return _recused(request, assignment)
    form = ScoreForm(request.POST)
    page_url = reverse("sheets:sheet", args=[round.pk, school.pk])
    saved = None
    try:
        if not form.is_valid():
            point = observation_point_or_404(round, indicator_id)
            raise DomainError(
                _("%(code)s: the input is too long.") % {"code": point.code}, code="invalid"
            )
        data = form.cleaned_data
        # A deadlock or a busy lock is not the person's fault: the save runs again.
        saved = transaction_retried(
            lambda: services.score_autosave(
                round=round,
                school=school,
                actor=user,
                indicator_id=indicator_id,
                points=data.get("points"),
                not_applicable=bool(data.get("not_applicable")),
                deduction_reason=data.get("deduction_reason") or "",
            )
        )
        point, error = saved.score.indicator, None
    except DomainError as refusal:
        if refusal.code == "unknown_indicator":
            raise Http404(str(refusal)) from None
        point, error = observation_point_or_404(round, indicator_id), refusal
    if not is_htmx(request):
        return point_saved_redirect(request, point, error, page_url)
    if saved is None:
        answered = selectors.sheet_answered_count(
            sheet=selectors.score_sheet_of(round=round, school_id=school.pk, evaluator_id=user.pk)
        )
        progress = {"answered": answered, "total": framework_leaf_count(round=round)}
    else:
        progress = {"answered": saved.answered, "total": saved.total}
    return render(
        request,
        "sheets/_score_status.html",
        {
            "point": point,
            "saved": saved.score if saved else None,
            "error": error,
            "progress": progress,
            "oob": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """Lock the sheet once complete, after the confirmation step (GET or an unconfirmed
    POST shows it); a confirmed POST checks, locks and records the time."""
    round, school = round_and_school(round_id, school_id)
    try:
        _evaluator_assignment(request, round, school)
    except Refused as refused:
        return refused.response
    if not is_confirmed(request):
        return _submit_confirmation(request, round, school)
    try:
        sheet = services.score_sheet_open(round=round, school=school, actor=request.user)
        sheet = services.score_sheet_submit(sheet=sheet, actor=request.user)
    except DomainError as error:
        context = _sheet_context(request, round, school)
        context["submit_error"] = error
        context["missing"] = missing_points(context["rows"], error)
        return render(request, "sheets/sheet.html", context)
    messages.success(
        request,
        _("The score sheet is submitted (%(time)s) and locked.")
        % {"time": local_time(sheet.submitted_at)},
    )
    return redirect("sheets:sheet", round.pk, school.pk)


def _submit_confirmation(request: HttpRequest, round: Round, school: School) -> HttpResponse:
    context = _sheet_context(request, round, school)
    progress, summary = context["progress"], context["summary"]
    unanswered = progress["total"] - progress["answered"]
    sheet_url = reverse("sheets:sheet", args=[round.pk, school.pk])
    refusal = None
    if not context["editable"]:
        refusal = context["closed_reason"]
    elif unanswered:
        refusal = _(
            "%(count)d observation point(s) still need a score or “not applicable”; "
            "go back to the sheet to finish it."
        ) % {"count": unanswered}
    warnings = []
    if summary.without_reason:
        warnings.append(
            _("%(count)d deduction(s) have no reason yet: each deduction needs one.")
            % {"count": len(summary.without_reason)}
        )
    if summary.vetoes_failed:
        warnings.append(
            _("%(count)d veto item(s) are failed: the school will be graded unqualified.")
            % {"count": len(summary.vetoes_failed)}
        )
    confirmation = Confirmation(
        heading=_("Submit the score sheet for %(school)s") % {"school": school.name_zh},
        action_url=reverse("sheets:submit", args=[round.pk, school.pk]),
        button=_("Submit the score sheet"),
        cancel_url=sheet_url,
        becomes_final=[
            _(
                "Your scores for %(school)s are locked: you can no longer change them, in the "
                "browser, the offline workbook or the API."
            )
            % {"school": school.name_zh},
            _("The time of submission is recorded in the audit trail."),
        ],
        audience=[
            _("The group leader, who consolidates the experts' scores of the school."),
            _("The bureau, which computes the round's results from them."),
            _("The other experts of the group, once the phase allows it."),
        ],
        details=[
            (_("Round"), round.name),
            (_("School"), school.name_zh),
            (_("Answered"), f"{progress['answered']} / {progress['total']}"),
        ],
        warnings=warnings,
        refusal=refusal,
    )
    return confirm_page(request, confirmation)
