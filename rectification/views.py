"""Rectification pages, mounted at ``/rectification/`` (namespace ``rectification``).

* the list: the bureau roles see every rectification, school staff their
  schools', group leaders those of the rounds they lead;
* a rectification: the same people; a rectification they may not see is a 404;
* the school's report (its staff), the group's re-check (the leader or the
  bureau admin) and the one extension (the bureau admin): 403 for anyone else
  who may see the rectification.

The rules live in ``rounds.rectification``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.confirm import Confirmation, carried_values, confirm_page, is_confirmed
from core.errors import DomainError
from core.views import allowed, render_page, signed_in
from rectification import selectors, services
from rectification.enums import (
    RECTIFICATION_AWAITING_REPORT,
    RECTIFICATION_FINISHED,
    RectificationStatus,
)
from rectification.forms import (
    RectificationExtendForm,
    RectificationRecheckForm,
    RectificationReportForm,
    item_label,
)
from rectification.models import Rectification
from rectification.permissions import (
    can_extend_rectification,
    can_list_rectifications,
    can_recheck_rectification,
    can_submit_rectification_report,
    can_view_rectification,
)


def _visible_or_404(request: HttpRequest, rectification_id: int) -> Rectification:
    rectification = selectors.rectification_for_page(rectification_id=rectification_id)
    if rectification is None or not can_view_rectification(request.user, rectification):
        raise Http404
    return rectification


def _form_error(form: Any, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))
    for detail in error.details or []:
        if isinstance(detail, str) and detail != str(error):
            form.add_error(None, detail)


@signed_in
@allowed(can_list_rectifications)
@require_safe
def rectification_list(request: HttpRequest) -> HttpResponse:
    rectifications = list(selectors.rectifications_visible_to(user=request.user))
    return render_page(
        request,
        "rectification/list.html",
        {"rectifications": rectifications, "today": timezone.localdate()},
    )


@signed_in
@require_safe
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    rectification = _visible_or_404(request, rectification_id)
    user = request.user
    awaiting = rectification.status in RECTIFICATION_AWAITING_REPORT
    context = {
        "rectification": rectification,
        "items": list(rectification.items.all()),
        "today": timezone.localdate(),
        "can_report": awaiting and can_submit_rectification_report(user, rectification),
        "can_recheck": rectification.status == RectificationStatus.SUBMITTED
        and can_recheck_rectification(user, rectification),
        "can_extend": rectification.extensions_used == 0
        and rectification.status not in RECTIFICATION_FINISHED
        and can_extend_rectification(user),
    }
    return render_page(request, "rectification/detail.html", context)


@signed_in
def rectification_report(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """The school's report with evidence per failed item."""
    rectification = _visible_or_404(request, rectification_id)
    if not can_submit_rectification_report(request.user, rectification):
        raise PermissionDenied
    items = list(rectification.items.all())
    form = RectificationReportForm(request.POST or None, request.FILES or None, items=items)
    context = {"rectification": rectification, "form": form}
    if request.method != "POST":
        return render_page(request, "rectification/report.html", context)
    if not form.is_valid():
        return render_page(request, "rectification/report.html", context, status=400)
    reports = {
        item_id: services.ItemReport(text=text, file=file)
        for item_id, (text, file) in form.item_reports().items()
    }
    try:
        services.rectification_submit_report(
            rectification=rectification, actor=request.user, reports=reports
        )
    except DomainError as error:
        _form_error(form, error)
        return render_page(request, "rectification/report.html", context, status=409)
    messages.success(request, _("The rectification report is submitted for re-check."))
    return redirect("rectification:detail", rectification_id=rectification.pk)


@signed_in
def rectification_recheck(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """The group's re-check: a score per item, passed or failed."""
    rectification = _visible_or_404(request, rectification_id)
    if not can_recheck_rectification(request.user, rectification):
        raise PermissionDenied
    items = list(rectification.items.all())
    form = RectificationRecheckForm(request.POST or None, items=items)
    context = {"rectification": rectification, "form": form}
    if request.method != "POST":
        return render_page(request, "rectification/recheck.html", context)
    if not form.is_valid():
        return render_page(request, "rectification/recheck.html", context, status=400)
    if not is_confirmed(request):
        return _recheck_confirmation(request, rectification, form, items)
    try:
        rectification = services.rectification_recheck(
            rectification=rectification,
            actor=request.user,
            scores=form.scores(),
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        _form_error(form, error)
        return render_page(request, "rectification/recheck.html", context, status=409)
    messages.success(
        request,
        _("Re-check recorded: %(status)s.") % {"status": rectification.get_status_display()},
    )
    return redirect("rectification:detail", rectification_id=rectification.pk)


@signed_in
@allowed(can_extend_rectification)
def rectification_extend(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """The bureau's one extension of the deadline, with a reason."""
    rectification = _visible_or_404(request, rectification_id)
    form = RectificationExtendForm(request.POST or None)
    context = {"rectification": rectification, "form": form}
    if request.method != "POST":
        return render_page(request, "rectification/extend.html", context)
    if not form.is_valid():
        return render_page(request, "rectification/extend.html", context, status=400)
    if not is_confirmed(request):
        return _extend_confirmation(request, rectification, form)
    try:
        services.rectification_extend(
            rectification=rectification,
            actor=request.user,
            new_deadline=form.cleaned_data["new_deadline"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        _form_error(form, error)
        return render_page(request, "rectification/extend.html", context, status=409)
    messages.success(
        request,
        _("The deadline is extended to %(date)s.") % {"date": form.cleaned_data["new_deadline"]},
    )
    return redirect("rectification:detail", rectification_id=rectification.pk)


def _recheck_confirmation(
    request: HttpRequest, rectification: Rectification, form: Any, items: list[Any]
) -> HttpResponse:
    scores = form.scores()
    failed = [item.code for item in items if scores[item.pk] < item.pass_mark]
    if not failed:
        outcome = _("Every item passes: the rectification is closed as passed.")
    elif rectification.failures >= 1:
        outcome = _(
            "Items %(codes)s fail for the second time: the school is escalated with a "
            "recommendation to revoke its licence."
        ) % {"codes": ", ".join(failed)}
    else:
        outcome = _("Items %(codes)s fail: the school must report again on the failed items.") % {
            "codes": ", ".join(failed)
        }
    confirmation = Confirmation(
        heading=_("Record the re-check of %(school)s") % {"school": rectification.school.name_zh},
        action_url=reverse("rectification:recheck", args=(rectification.pk,)),
        button=_("Record the re-check"),
        cancel_url=reverse("rectification:detail", args=(rectification.pk,)),
        becomes_final=[
            outcome,
            _("The re-check scores and the group's opinion cannot be changed afterwards."),
        ],
        audience=[
            _("The school: %(school)s, which reads the outcome and the opinion.")
            % {"school": rectification.school.name_zh},
            _("The bureau and the supervisors, in the audit trail."),
        ],
        details=[
            *((item_label(item), f"{scores[item.pk]} / {item.max_points}") for item in items),
            (_("The group's opinion"), form.cleaned_data["comment"] or "—"),
        ],
        carried=carried_values(request),
    )
    return confirm_page(request, confirmation)


def _extend_confirmation(
    request: HttpRequest, rectification: Rectification, form: Any
) -> HttpResponse:
    confirmation = Confirmation(
        heading=_("Extend the deadline of %(school)s") % {"school": rectification.school.name_zh},
        action_url=reverse("rectification:extend", args=(rectification.pk,)),
        button=_("Grant the extension"),
        cancel_url=reverse("rectification:detail", args=(rectification.pk,)),
        becomes_final=[
            _("The deadline moves from %(old)s to %(new)s.")
            % {"old": rectification.deadline, "new": form.cleaned_data["new_deadline"]},
            _("This is the one extension a rectification may have: no further one can be granted."),
        ],
        audience=[
            _("The school: %(school)s, which sees the new deadline.")
            % {"school": rectification.school.name_zh},
            _("The bureau and the supervisors, in the audit trail."),
        ],
        details=[(_("Reason for the extension"), form.cleaned_data["reason"])],
        carried=carried_values(request),
    )
    return confirm_page(request, confirmation)


@signed_in
@require_safe
def rectification_evidence(request: HttpRequest, item_id: int) -> FileResponse:
    """An item's evidence file, for those who may see the rectification."""
    item = selectors.rectification_item_for_download(item_id=item_id)
    if item is None or not item.evidence:
        raise Http404
    if not can_view_rectification(request.user, item.rectification):
        raise Http404
    response = FileResponse(
        item.evidence.open("rb"),
        as_attachment=True,
        filename=item.evidence_name or f"evidence-{item.code}",
        content_type=item.evidence_content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
