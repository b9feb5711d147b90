"""Evidence pages: upload per observation point, the file lists, the download.

Files are private: they are served only by ``download``, after
``can_view_evidence``; whoever may not see a file gets 404, so a guessed id
tells nothing. Uploads go through ``schools.evidence.evidence_upload`` one file
at a time, so one refused file (type, size, duplicate, deadline) does not stop
the others, and each refusal is shown with the service's message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core import permissions
from core.display import title
from core.errors import DomainError
from rounds import evidence_selectors
from rounds import selectors as round_selectors
from rounds.enums import AssignmentStatus
from rounds.evidence import ALLOWED_LABEL, evidence_upload
from rounds.models import Indicator, Round
from rounds.permissions import can_fill_self_assessment, can_score, can_view_evidence
from schools.models import School


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "sheets/forbidden.html",
        {"title": _("Not allowed"), "message": message},
        status=403,
    )


def _refusal(request: HttpRequest, round: Round, school: School) -> HttpResponse | None:
    """None when the user may see the school's evidence; else the 403 page (or Http404)."""
    user = request.user
    if can_view_evidence(user, round, school):
        return None
    if can_score(user):
        assignment = round_selectors.assignment_of(
            round=round, school_id=school.pk, evaluator_id=user.pk
        )
        if assignment is not None and assignment.status == AssignmentStatus.RECUSED:
            return render(
                request,
                "sheets/recused.html",
                {"round": round, "school": school, "assignment": assignment},
                status=403,
            )
        raise Http404(_("You are not assigned to this school."))
    if can_fill_self_assessment(user):
        raise Http404(_("This is another school's evidence."))
    return _forbidden(request, _("Evidence is seen by the school, its evaluators and the bureau."))


def _upload_state(request: HttpRequest, round: Round, school: School) -> dict[str, Any]:
    window = evidence_selectors.evidence_upload_window(round=round)
    own_staff = school.pk in permissions.school_ids_of(request.user)
    reason = ""
    if not own_staff:
        reason = _("Only the school's own staff upload its evidence.")
    elif not window.phase_open:
        reason = _("Evidence upload is closed: the round is in the phase “%(phase)s”.") % {
            "phase": round.get_phase_display()
        }
    elif window.deadline_passed:
        reason = _("Evidence upload closed on %(date)s.") % {"date": window.deadline}
    return {
        "window": window,
        "can_upload": own_staff and window.is_open,
        "upload_closed_reason": reason,
        "own_staff": own_staff,
        "allowed_types": ALLOWED_LABEL,
        "max_upload_bytes": settings.EVIDENCE_MAX_BYTES,
    }


def _upload(
    request: HttpRequest, round: Round, school: School, point: Indicator
) -> tuple[list[Any], list[str]]:
    """Store each posted file; (stored evidence, refusal messages)."""
    files = request.FILES.getlist("files")
    if not files:
        return [], [_("Choose at least one file to upload.")]
    stored, refused = [], []
    for upload in files:
        try:
            stored.append(
                evidence_upload(
                    round=round, school=school, indicator=point, file=upload, actor=request.user
                )
            )
        except DomainError as error:
            refused.append(str(error.message))
    return stored, refused


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _point_page(request: HttpRequest, round: Round, school: School, point: Indicator):
    refusal = _refusal(request, round, school)
    if refusal is not None:
        return refusal
    stored: list[Any] = []
    refused: list[str] = []
    if request.method == "POST":
        if school.pk not in permissions.school_ids_of(request.user):
            return _forbidden(request, _("Only the school's own staff upload its evidence."))
        stored, refused = _upload(request, round, school, point)
        if not _is_htmx(request):
            for evidence in stored:
                messages.success(
                    request,
                    _("%(name)s uploaded (version %(version)d).")
                    % {"name": evidence.original_name, "version": evidence.version},
                )
            for message in refused:
                messages.error(request, message)
            target = _safe_next(request) or reverse(
                "evidence:school_point", args=[round.pk, school.pk, point.pk]
            )
            return redirect(target)
    context = {
        "round": round,
        "school": school,
        "point": point,
        "point_title": title(point),
        "files": evidence_selectors.evidence_for_point(
            round=round, school_id=school.pk, indicator_id=point.pk
        ),
        "stored": stored,
        "refused": refused,
        **_upload_state(request, round, school),
    }
    if request.method == "POST":
        context["next"] = _safe_next(request) or ""
        context["with_checklist"] = bool(request.POST.get("with_checklist"))
        if context["with_checklist"]:
            context["checklist"] = evidence_selectors.evidence_checklist(
                round=round, school_id=school.pk
            )
        return render(request, "evidence/_upload_response.html", context)
    return render(request, "evidence/point.html", context)


def _round_point(round_id: int, indicator_id: int) -> tuple[Round, Indicator]:
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    point = get_object_or_404(
        Indicator, pk=indicator_id, framework_id=round.framework_id, children__isnull=True
    )
    return round, point


@login_required
@require_http_methods(["GET", "POST"])
def point(request: HttpRequest, round_id: int, indicator_id: int) -> HttpResponse:
    """The signed-in staff member's school's files for one point, and the upload form."""
    round, indicator = _round_point(round_id, indicator_id)
    if not can_fill_self_assessment(request.user):
        return _forbidden(request, _("This page is for school staff; open a school's evidence."))
    school = evidence_selectors.schools_of_staff_in_round(
        round=round, user_id=request.user.pk
    ).first()
    if school is None:
        raise Http404(_("Your school is not in this round."))
    return _point_page(request, round, school, indicator)


@login_required
@require_http_methods(["GET", "POST"])
def school_point(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    """A school's files for one point (its staff, evaluators assigned, the bureau)."""
    round, indicator = _round_point(round_id, indicator_id)
    school = get_object_or_404(School.objects.filter(rounds=round), pk=school_id)
    return _point_page(request, round, school, indicator)


@login_required
@require_safe
def download(request: HttpRequest, evidence_id: int) -> FileResponse:
    """One evidence file, as an attachment under its original name; 404 for anyone else."""
    evidence = evidence_selectors.evidence_get(evidence_id=evidence_id)
    if evidence is None or not can_view_evidence(request.user, evidence.round, evidence.school):
        raise Http404(_("No such file."))
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing from the storage.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
