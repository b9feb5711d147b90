"""The school's self-assessment: the page (its own staff fill it in; the bureau and the
supervisor read it), the autosave of a self score, submit.

Thin views over ``scoring.services`` and the selectors (see ``scoring.score_pages``).
Access answers: anonymous → the sign-in page; another school's staff → 404; a role the
page is not for → 403 with an explanation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.confirm import Confirmation, confirm_page, is_confirmed
from core.errors import DomainError
from rounds import evidence_selectors
from rounds.enums import PHASE_ORDER, RoundPhase
from rounds.evidence import ALLOWED_LABEL
from rounds.models import Round
from schools.models import School
from schools.permissions import can_view_school_internals
from scoring import progress, selectors, services, sheet_summary
from scoring.enums import SheetStatus
from scoring.forms import SelfScoreForm
from scoring.permissions import (
    can_fill_in_school_self_assessment,
    can_fill_in_self_assessments,
)
from scoring.score_pages import (
    Refused,
    forbidden,
    local_time,
    missing_points,
    phase_index,
    point_autosave,
    point_rows,
    round_and_school,
)

# ------------------------------------------------------ self-assessment


def _self_assessment_access(request: HttpRequest, school: School) -> None:
    user = request.user
    if can_view_school_internals(user, school):
        return
    if can_fill_in_self_assessments(user):
        raise Http404(_("This is another school's self-assessment."))
    raise Refused(
        forbidden(request, _("The self-assessment is filled in by the school's own staff."))
    )


def _self_assessment_state(request: HttpRequest, round: Round, school: School, assessment: Any):
    """(may the self scores change now, why not, may evidence be uploaded now, why not)."""
    user = request.user
    own_staff = can_fill_in_school_self_assessment(user, school)
    window = evidence_selectors.evidence_upload_window(round=round)
    phase = round.get_phase_display()
    if not own_staff:
        reason = _("Read only: only the school's own staff fill in the self-assessment.")
        return False, reason, False, reason, window
    if round.phase != RoundPhase.SELF_ASSESSMENT:
        if phase_index(round) < PHASE_ORDER.index(RoundPhase.SELF_ASSESSMENT):
            reason = _(
                "The self-assessment opens with its phase; the round is in the phase “%(phase)s”."
            ) % {"phase": phase}
        else:
            reason = _("Self-assessment is closed: the round is in the phase “%(phase)s”.") % {
                "phase": phase
            }
        upload_reason = _("Evidence upload is closed: the round is in the phase “%(phase)s”.") % {
            "phase": phase
        }
        return False, reason, False, upload_reason, window
    editable, reason = True, ""
    if assessment is not None and assessment.status == SheetStatus.SUBMITTED:
        editable = False
        reason = _("The self-assessment was submitted on %(time)s and is locked.") % {
            "time": local_time(assessment.submitted_at)
        }
    if window.deadline_passed:
        return (
            editable,
            reason,
            False,
            _("Evidence upload closed on %(date)s.") % {"date": window.deadline},
            window,
        )
    return editable, reason, True, "", window


def _self_assessment_context(request: HttpRequest, round: Round, school: School) -> dict:
    assessment = selectors.self_assessment_of(round=round, school_id=school.pk)
    scores = selectors.self_scores_by_point(assessment=assessment)
    files = evidence_selectors.evidence_by_point(round=round, school_id=school.pk)
    editable, closed_reason, can_upload, upload_closed_reason, window = _self_assessment_state(
        request, round, school, assessment
    )
    rows = point_rows(round)
    leaves = [row for row in rows if row.is_leaf]
    for row in leaves:
        own = scores.get(row.indicator.pk)
        row.own = own
        row.files = files.get(row.indicator.pk, [])
        row.values = {
            "points": "" if own is None or own.points is None else own.points,
            "not_applicable": bool(own and own.not_applicable),
            "note": own.note if own else "",
        }
    checklist = evidence_selectors.evidence_checklist(
        round=round, school_id=school.pk, leaves=[row.indicator for row in leaves]
    )
    answered = sum(
        1 for row in leaves if row.own and (row.own.points is not None or row.own.not_applicable)
    )
    other_schools = []
    if can_fill_in_self_assessments(request.user):
        other_schools = [
            other
            for other in evidence_selectors.schools_of_staff_in_round(
                round=round, user_id=request.user.pk
            )
            if other.pk != school.pk
        ]
    return {
        "summary": sheet_summary.summarise(
            rows, show=request.GET.get("show", "all"), asks_reasons=False
        ),
        "round": round,
        "school": school,
        "assessment": assessment,
        "rows": rows,
        "editable": editable,
        "closed_reason": closed_reason,
        "can_upload": can_upload,
        "upload_closed_reason": upload_closed_reason,
        "window": window,
        "checklist": checklist,
        "progress": {"answered": answered, "total": len(leaves)},
        "other_schools": other_schools,
        "max_upload_bytes": settings.EVIDENCE_MAX_BYTES,
        "allowed_types": ALLOWED_LABEL,
    }


@login_required
@require_safe
def self_assessment(request: HttpRequest, round_id: int) -> HttpResponse:
    """The signed-in school staff member's own school's self-assessment in a round."""
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    if not can_fill_in_self_assessments(request.user):
        return forbidden(request, _("The self-assessment is filled in by the school's own staff."))
    school = evidence_selectors.schools_of_staff_in_round(
        round=round, user_id=request.user.pk
    ).first()
    if school is None:
        raise Http404(_("Your school is not in this round."))
    return render(
        request, "sheets/self_assessment.html", _self_assessment_context(request, round, school)
    )


@login_required
@require_safe
def self_assessment_school(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """A school's self-assessment: its staff fill it in; the bureau and supervisor read it."""
    round, school = round_and_school(round_id, school_id)
    try:
        _self_assessment_access(request, school)
    except Refused as refused:
        return refused.response
    return render(
        request, "sheets/self_assessment.html", _self_assessment_context(request, round, school)
    )


def _own_staff_only(request: HttpRequest, school: School) -> None:
    if can_fill_in_school_self_assessment(request.user, school):
        return
    if can_fill_in_self_assessments(request.user):
        raise Http404(_("This is another school's self-assessment."))
    raise Refused(forbidden(request, _("Only the school's own staff fill in its self-assessment.")))


@login_required
@require_POST
def self_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    """Autosave one self score (htmx): answers the point's status and the progress bar."""
    round, school = round_and_school(round_id, school_id)
    try:
        _own_staff_only(request, school)
    except Refused as refused:
        return refused.response

    def save(point: Any, data: dict[str, Any]) -> Any:
        return services.self_score_set(
            round=round,
            school=school,
            actor=request.user,
            indicator=point,
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
            note=data.get("note") or "",
        )

    def answered() -> int:
        assessment = selectors.self_assessment_of(round=round, school_id=school.pk)
        return progress.self_assessment_answered_count(assessment=assessment)

    return point_autosave(
        request,
        round=round,
        indicator_id=indicator_id,
        form=SelfScoreForm(request.POST),
        save=save,
        page_url=reverse("sheets:self_assessment_school", args=[round.pk, school.pk]),
        answered=answered,
    )


@login_required
@require_http_methods(["GET", "POST"])
def self_assessment_submit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """Lock the school's self-assessment once every point is answered, after the
    confirmation step (GET or an unconfirmed POST shows it)."""
    round, school = round_and_school(round_id, school_id)
    try:
        _own_staff_only(request, school)
    except Refused as refused:
        return refused.response
    if not is_confirmed(request):
        return _submit_confirmation(request, round, school)
    try:
        assessment = services.self_assessment_submit(round=round, school=school, actor=request.user)
    except DomainError as error:
        context = _self_assessment_context(request, round, school)
        context["submit_error"] = error
        context["missing"] = missing_points(context["rows"], error)
        return render(request, "sheets/self_assessment.html", context)
    messages.success(
        request,
        _("The self-assessment is submitted (%(time)s) and locked.")
        % {"time": local_time(assessment.submitted_at)},
    )
    return redirect("sheets:self_assessment_school", round.pk, school.pk)


def _submit_confirmation(request: HttpRequest, round: Round, school: School) -> HttpResponse:
    context = _self_assessment_context(request, round, school)
    progress, checklist = context["progress"], context["checklist"]
    unanswered = progress["total"] - progress["answered"]
    refusal = None
    if not context["editable"]:
        refusal = context["closed_reason"]
    elif unanswered:
        refusal = _(
            "%(count)d observation point(s) still need a self score or “not applicable”; "
            "go back to the self-assessment to finish it."
        ) % {"count": unanswered}
    warnings = []
    if checklist.missing:
        warnings.append(
            _(
                "%(count)d observation point(s) still lack the required evidence; evidence "
                "can still be uploaded until the deadline."
            )
            % {"count": len(checklist.missing)}
        )
    confirmation = Confirmation(
        heading=_("Submit the self-assessment of %(school)s") % {"school": school.name_zh},
        action_url=reverse("sheets:self_assessment_submit", args=[round.pk, school.pk]),
        button=_("Submit the self-assessment"),
        cancel_url=reverse("sheets:self_assessment_school", args=[round.pk, school.pk]),
        becomes_final=[
            _(
                "The self scores of %(school)s are locked: nobody at the school can change them "
                "any more."
            )
            % {"school": school.name_zh},
            _("The time of submission and who submitted are recorded in the audit trail."),
        ],
        audience=[
            _("The experts assigned to the school, who see the self scores beside their own."),
            _("The bureau and the supervisors."),
        ],
        details=[
            (_("Round"), round.name),
            (_("School"), school.name_zh),
            (_("Answered"), f"{progress['answered']} / {progress['total']}"),
            (
                _("Required evidence"),
                f"{checklist.complete_count} / {checklist.required_count}",
            ),
        ],
        warnings=warnings,
        refusal=refusal,
    )
    return confirm_page(request, confirmation)
