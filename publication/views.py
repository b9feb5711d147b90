"""Pages of the public notice (公示), objections (异议), publication and corrections.

Mounted at ``/notice/`` (namespace ``notice``). Who uses what:

* anybody, signed in or not: the notices, a round's provisional ranking and
  grades, the objection form (answers with a tracking code) and the tracking page;
* the bureau admin only: the objections with the objector's identity, their
  answers, opening a notice, publishing and correcting.

Views validate the input, check the permission, call one service or selector
and render; the rules live in ``scoring.publication``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.confirm import Confirmation, carried_values, confirm_page, is_confirmed
from core.errors import DomainError
from core.views import allowed, render_page, signed_in
from publication import selectors
from publication import services as publication
from publication.enums import ObjectionStatus
from publication.forms import (
    CorrectionForm,
    NoticeOpenForm,
    ObjectionForm,
    PublishForm,
    ResponseForm,
    TrackingForm,
    UpholdForm,
)
from publication.models import Objection
from publication.permissions import (
    can_correct_results,
    can_handle_objections,
    can_open_notice,
    can_view_objector_identity,
)
from scoring.models import ResultSet
from scoring.permissions import can_publish_results
from scoring.presenter import grade_zh
from scoring.selectors import result_set_incomplete_schools


def _round_or_404(round_id: int) -> Any:
    round = selectors.notice_round(round_id=round_id)
    if round is None:
        raise Http404
    return round


def _form_error(form: Any, error: DomainError) -> None:
    """Put a service's refusal on the form field it names (else on the whole form), and
    every further problem it carries on its own field."""
    problems = [p for p in error.details or [] if isinstance(p, DomainError)] or [error]
    for problem in problems:
        field = problem.field if problem.field in form.fields else None
        if field is not None and field in form.errors:
            continue
        form.add_error(field, str(problem))


# ---------------------------------------------------------------- public


@require_safe
def notice_index(request: HttpRequest) -> HttpResponse:
    """The public notices of every round, newest first (anybody)."""
    now = timezone.now()
    notices = [
        {"notice": notice, "running": publication.notice_is_running(notice, now)}
        for notice in selectors.notices_latest_per_round()
    ]
    return render_page(request, "notice/index.html", {"notices": notices})


@require_safe
def notice_round(request: HttpRequest, round_id: int) -> HttpResponse:
    """A round's ranking and grades under public notice, provisional until published."""
    round = _round_or_404(round_id)
    notice = publication.notice_of_round(round=round)
    if notice is None:
        raise Http404
    result_set = selectors.result_set_shown_on_notice(round=round)
    rows = [
        {"row": row, "grade_zh": grade_zh(row.grade)}
        for row in selectors.notice_ranking(result_set=result_set)
    ]
    context = {
        "round": round,
        "notice": notice,
        "running": publication.notice_is_running(notice),
        "result_set": result_set,
        "rows": rows,
    }
    return render_page(request, "notice/round.html", context)


def _objection_form(request: HttpRequest, round: Any, notice: Any) -> ObjectionForm:
    return ObjectionForm(
        request.POST or None,
        request.FILES or None,
        schools=selectors.notice_schools(result_set=notice.result_set),
        indicators=selectors.framework_indicator_choices(round=round),
    )


@never_cache
def objection_new(request: HttpRequest, round_id: int) -> HttpResponse:
    """File an objection during the notice (anybody, by real name); answers the tracking code."""
    round = _round_or_404(round_id)
    notice = publication.notice_of_round(round=round)
    if notice is None:
        raise Http404
    running = publication.notice_is_running(notice)
    form = _objection_form(request, round, notice)
    context = {"round": round, "notice": notice, "running": running, "form": form}
    if request.method != "POST":
        return render_page(request, "notice/objection_form.html", context)
    if not form.is_valid():
        return render_page(request, "notice/objection_form.html", context, status=400)
    data = form.cleaned_data
    try:
        objection = publication.objection_file(
            round=round,
            school=data["school"],
            indicator=data["indicator"],
            content=data["content"],
            objector_kind=data["objector_kind"],
            name=data["name"],
            id_number=data["id_number"],
            phone=data["phone"],
            organisation=data["organisation"],
            seal=data["seal"],
        )
    except DomainError as error:
        _form_error(form, error)
        return render_page(request, "notice/objection_form.html", context, status=409)
    # Rendered, not redirected: the code is never put into a URL.
    return render_page(
        request,
        "notice/objection_filed.html",
        {"round": round, "objection": objection},
        status=201,
    )


@never_cache
def objection_track(request: HttpRequest) -> HttpResponse:
    """An objection's status and response by its tracking code (posted, never in a URL)."""
    form = TrackingForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "objection": None, "searched": False}
    if request.method == "POST" and form.is_valid():
        code = publication.normalise_tracking_code(form.cleaned_data["code"])
        context["searched"] = True
        context["objection"] = selectors.objection_by_tracking_code(code=code)
    return render_page(request, "notice/track.html", context)


# -------------------------------------------------------- bureau: objections


@signed_in
@allowed(can_handle_objections)
@require_safe
def objection_list(request: HttpRequest) -> HttpResponse:
    round_id = request.GET.get("round")
    status = request.GET.get("status") or None
    if status not in (None, *ObjectionStatus.values):
        status = None
    objections = selectors.objections_for_handling(
        round_id=int(round_id) if round_id and round_id.isdigit() else None, status=status
    )
    context = {
        "objections": list(objections),
        "rounds": selectors.rounds_with_objections(),
        "statuses": ObjectionStatus.choices,
        "chosen_round": round_id,
        "chosen_status": status,
    }
    return render_page(request, "notice/objection_list.html", context)


def _objection_or_404(objection_id: int) -> Objection:
    objection = selectors.objection_for_handling(objection_id=objection_id)
    if objection is None:
        raise Http404
    return objection


def _objection_page(
    request: HttpRequest,
    objection: Objection,
    *,
    dismiss_form: ResponseForm | None = None,
    uphold_form: UpholdForm | None = None,
    status: int = 200,
) -> HttpResponse:
    round = objection.notice.result_set.round
    schools = selectors.notice_schools(result_set=objection.notice.result_set)
    points = selectors.observation_point_choices(round=round)
    if uphold_form is None:
        uphold_form = UpholdForm(
            schools=schools,
            points=points,
            initial={
                "school": objection.school_id,
                "indicator": objection.indicator.code if objection.indicator else None,
            },
        )
    context = {
        "objection": objection,
        "round": round,
        "identity": publication.objection_identity(objection=objection, actor=request.user),
        "dismiss_form": dismiss_form or ResponseForm(auto_id="dismiss_%s"),
        "uphold_form": uphold_form,
        "is_open": objection.status in (ObjectionStatus.RECEIVED, ObjectionStatus.UNDER_REVIEW),
    }
    response = render_page(request, "notice/objection_detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@signed_in
@allowed(can_handle_objections)
@require_safe
def objection_detail(request: HttpRequest, objection_id: int) -> HttpResponse:
    """An objection with its objector's identity (bureau admin), and its answers."""
    return _objection_page(request, _objection_or_404(objection_id))


@signed_in
@allowed(can_view_objector_identity)
@require_safe
def objection_seal(request: HttpRequest, objection_id: int) -> HttpResponse:
    objection = _objection_or_404(objection_id)
    try:
        data, content_type = publication.objection_seal(objection=objection, actor=request.user)
    except DomainError as error:
        raise Http404 from error
    response = HttpResponse(data, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = f'inline; filename="seal-{objection.pk}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _back_to(objection: Objection) -> HttpResponse:
    return redirect("notice:objection", objection_id=objection.pk)


@signed_in
@allowed(can_handle_objections)
@require_POST
def objection_review(request: HttpRequest, objection_id: int) -> HttpResponse:
    objection = _objection_or_404(objection_id)
    try:
        publication.objection_review(objection=objection, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The objection is under review."))
    return _back_to(objection)


def _objection_audience(objection: Objection) -> list[str]:
    return [
        _("The objector, who reads your response with the tracking code."),
        _("The school concerned: %(school)s.") % {"school": objection.school.name_zh},
        _("The bureau and the supervisors, in the audit trail."),
    ]


def _objection_details(objection: Objection, round: Any) -> list[tuple[str, Any]]:
    return [
        (_("Tracking code"), objection.tracking_code),
        (_("Results under notice"), f"{round.name} v{objection.notice.result_set.version}"),
        (_("School concerned"), objection.school.name_zh),
    ]


@signed_in
@allowed(can_handle_objections)
@require_http_methods(["GET", "POST"])
def objection_dismiss(request: HttpRequest, objection_id: int) -> HttpResponse:
    """Dismiss an objection with a response, after the confirmation step."""
    objection = _objection_or_404(objection_id)
    round = objection.notice.result_set.round
    posted = request.method == "POST"
    form = ResponseForm(request.POST if posted else None, auto_id="dismiss_%s")
    if posted and not form.is_valid():
        return _objection_page(request, objection, dismiss_form=form, status=400)
    if is_confirmed(request):
        try:
            publication.objection_dismiss(
                objection=objection, actor=request.user, response=form.cleaned_data["response"]
            )
        except DomainError as error:
            _form_error(form, error)
            return _objection_page(request, objection, dismiss_form=form, status=409)
        messages.success(
            request, _("The objection is dismissed; the objector can read the response.")
        )
        return _back_to(objection)
    details = _objection_details(objection, round)
    if posted:
        details.append((_("Response to the objector"), form.cleaned_data["response"]))
    confirmation = Confirmation(
        heading=_("Dismiss objection %(code)s") % {"code": objection.tracking_code},
        action_url=reverse("notice:objection_dismiss", args=(objection.pk,)),
        button=_("Dismiss the objection"),
        cancel_url=reverse("notice:objection", args=(objection.pk,)),
        becomes_final=[
            _("The objection is closed as dismissed; it cannot be reopened."),
            _("Your response is final: the objector reads it as written."),
            _("The results under notice do not change."),
        ],
        audience=_objection_audience(objection),
        details=details,
        carried=carried_values(request),
        form=None if posted else form,
    )
    return confirm_page(request, confirmation)


@signed_in
@allowed(can_handle_objections)
@require_http_methods(["GET", "POST"])
def objection_uphold(request: HttpRequest, objection_id: int) -> HttpResponse:
    """Uphold an objection: an audit score and a new version, after the confirmation step."""
    objection = _objection_or_404(objection_id)
    round = objection.notice.result_set.round
    posted = request.method == "POST"
    schools = selectors.notice_schools(result_set=objection.notice.result_set)
    points = selectors.observation_point_choices(round=round)
    form = UpholdForm(
        request.POST if posted else None,
        schools=schools,
        points=points,
        initial={
            "school": objection.school_id,
            "indicator": objection.indicator.code if objection.indicator else None,
        },
    )
    if posted and not form.is_valid():
        return _objection_page(request, objection, uphold_form=form, status=400)
    if is_confirmed(request):
        data = form.cleaned_data
        change = publication.AuditScoreChange(
            school=data["school"],
            indicator=data["indicator"],
            points=data["points"],
            not_applicable=data["not_applicable"],
        )
        try:
            objection = publication.objection_uphold(
                objection=objection,
                actor=request.user,
                response=data["response"],
                changes=[change],
            )
        except DomainError as error:
            _form_error(form, error)
            return _objection_page(request, objection, uphold_form=form, status=409)
        messages.success(
            request,
            _("The objection is upheld; version %(version)d was computed.")
            % {"version": objection.result_set_after.version},
        )
        return _back_to(objection)
    details = _objection_details(objection, round)
    if posted:
        data = form.cleaned_data
        score = _("not applicable") if data["not_applicable"] else data["points"]
        details += [
            (
                _("Audit score"),
                f"{dict(schools).get(data['school'], '')} · "
                f"{dict(points).get(data['indicator'], data['indicator'])}: {score}",
            ),
            (_("Response to the objector"), data["response"]),
        ]
    confirmation = Confirmation(
        heading=_("Uphold objection %(code)s") % {"code": objection.tracking_code},
        action_url=reverse("notice:objection_uphold", args=(objection.pk,)),
        button=_("Uphold the objection"),
        cancel_url=reverse("notice:objection", args=(objection.pk,)),
        becomes_final=[
            _("The objection is closed as upheld; your response is final."),
            _(
                "The audit score is set and overrides the experts' and the leader's scores for "
                "that observation point; the change is recorded in the audit trail."
            ),
            _(
                "A new version of the results is computed at once and replaces version "
                "%(version)d on the public notice page."
            )
            % {"version": objection.notice.result_set.version},
        ],
        audience=[
            *_objection_audience(objection),
            _("The public: the notice page shows the new version."),
        ],
        details=details,
        carried=carried_values(request),
        form=None if posted else form,
    )
    return confirm_page(request, confirmation)


# ------------------------------------------------- bureau: notice, publishing


def _publication_context(round: Any, **extra: Any) -> dict[str, Any]:
    versions = selectors.round_versions(round=round)
    latest = versions[0] if versions else None
    notice = publication.notice_of_round(round=round)
    refusal = None
    if latest is not None and not latest.is_published:
        refusal = publication.publication_refusal(result_set=latest)
    return {
        "round": round,
        "versions": versions,
        "latest": latest,
        "notice": notice,
        "notice_running": publication.notice_is_running(notice),
        "open_objections": publication.open_objection_count(round=round),
        "refusal": refusal,
        "open_form": extra.pop("open_form", None)
        or NoticeOpenForm(initial={"days": getattr(settings, "NOTICE_DAYS", 7)}),
        **extra,
    }


@signed_in
@allowed(can_publish_results)
@require_safe
def publication_round(request: HttpRequest, round_id: int) -> HttpResponse:
    """A round's versions, its notice, open objections, and the publishing actions."""
    round = _round_or_404(round_id)
    return render_page(request, "notice/publication.html", _publication_context(round))


@signed_in
@allowed(can_open_notice)
@require_http_methods(["GET", "POST"])
def notice_open(request: HttpRequest, round_id: int) -> HttpResponse:
    """Put the latest version under public notice, after the confirmation step."""
    round = _round_or_404(round_id)
    latest = ResultSet.objects.filter(round=round).order_by("-version").first()
    if latest is None:
        messages.error(request, _("No results have been computed for this round yet."))
        return redirect("notice:publication", round_id=round.pk)
    posted = request.method == "POST"
    form = NoticeOpenForm(
        request.POST if posted else None,
        initial={"days": getattr(settings, "NOTICE_DAYS", 7)},
    )
    valid = posted and form.is_valid()
    if valid and is_confirmed(request):
        try:
            notice = publication.notice_open(
                result_set=latest, actor=request.user, days=form.cleaned_data["days"]
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Version %(version)d is under public notice until %(end)s.")
                % {
                    "version": latest.version,
                    "end": timezone.localtime(notice.ends_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
        return redirect("notice:publication", round_id=round.pk)
    schools = len(selectors.notice_schools(result_set=latest))
    confirmation = Confirmation(
        heading=_("Put version %(version)d of %(round)s under public notice")
        % {"version": latest.version, "round": round.name},
        action_url=reverse("notice:open", args=(round.pk,)),
        button=_("Open the public notice"),
        cancel_url=reverse("notice:publication", args=(round.pk,)),
        becomes_final=[
            _(
                "The ranking, totals and grades of version %(version)d are shown publicly from "
                "now until the notice ends; a public notice cannot be withdrawn."
            )
            % {"version": latest.version},
            _("Anybody may file an objection by real name until the notice ends."),
            _("The round moves to the public-notice phase; experts can no longer change scores."),
        ],
        audience=[
            _("The public: the notice page needs no sign-in."),
            _("The %(count)d schools of the round, who see their provisional result.")
            % {"count": schools},
        ],
        details=[
            (_("Round"), round.name),
            (_("Version"), latest.version),
            (_("Computed at"), timezone.localtime(latest.computed_at).strftime("%Y-%m-%d %H:%M")),
        ],
        form=form,
    )
    return confirm_page(request, confirmation, status=400 if posted and not valid else 200)


def _result_set_or_404(result_set_id: int) -> ResultSet:
    result_set = (
        ResultSet.objects.select_related("round")
        .defer("statistics", "missing_scores")
        .filter(pk=result_set_id)
        .first()
    )
    if result_set is None:
        raise Http404
    return result_set


def _publish_confirmation(
    request: HttpRequest, result_set: ResultSet, form: PublishForm, incomplete: list[Any]
) -> Confirmation:
    round = result_set.round
    rows = list(selectors.notice_ranking(result_set=result_set))
    unqualified = [row.school.name_zh for row in rows if row.grade == "unqualified"]
    refusal = publication.publication_refusal(result_set=result_set)
    if result_set.is_published:
        refusal = DomainError(_("This result set is published already."), code="published")
    back = request.POST.get("back") or request.GET.get("back") or ""
    becomes_final = [
        _(
            "Version %(version)d becomes the published result of %(round)s: its ranks, totals "
            "and grades never change again; a later change is a correction, a new version "
            "with a reason."
        )
        % {"version": result_set.version, "round": round.name},
        _("The round moves from public notice to published; no objection can be filed."),
    ]
    if unqualified:
        becomes_final.append(
            _("Rectification notices are issued to the unqualified schools: %(schools)s.")
            % {"schools": "、".join(unqualified)}
        )
    else:
        becomes_final.append(_("No school is unqualified: no rectification notice is issued."))
    warnings = []
    if incomplete:
        warnings.append(
            _(
                "The scoring of %(count)d school(s) is incomplete: %(schools)s. Publish only "
                "once every score is in, or give the reason for publishing now; the reason is "
                "recorded in the audit trail and printed on the round summary and the results."
            )
            % {
                "count": len(incomplete),
                "schools": "、".join(school.name_zh for school in incomplete),
            }
        )
    return Confirmation(
        heading=_("Publish version %(version)d of %(round)s")
        % {"version": result_set.version, "round": round.name},
        action_url=reverse("notice:publish", args=(result_set.pk,)),
        button=_("Publish version %(version)d") % {"version": result_set.version},
        cancel_url=(
            f"{reverse('scoring:round', args=(round.pk,))}?version={result_set.version}"
            if back == "results"
            else reverse("notice:publication", args=(round.pk,))
        ),
        becomes_final=becomes_final,
        audience=[
            _("The public: the published ranking and grades, on the site and in the API."),
            _("Each of the %(count)d schools: its result and its report.") % {"count": len(rows)},
            *(
                [_("The unqualified schools: their rectification notice and its deadline.")]
                if unqualified
                else []
            ),
        ],
        details=[
            (_("Round"), round.name),
            (_("Version"), result_set.version),
            (_("Schools"), len(rows)),
            (_("Unqualified"), "、".join(unqualified) or "—"),
        ],
        warnings=warnings,
        carried=[("back", back)] if back else [],
        form=form if incomplete else None,
        refusal=str(refusal) if refusal is not None else None,
    )


@signed_in
@allowed(can_publish_results)
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, result_set_id: int) -> HttpResponse:
    """Publish a version after its notice, after the confirmation step (with the reason
    when some school's scoring is incomplete)."""
    result_set = _result_set_or_404(result_set_id)
    incomplete = result_set_incomplete_schools(result_set=result_set)
    confirmed = is_confirmed(request)
    form = PublishForm(request.POST if confirmed else None, reason_required=bool(incomplete))
    if not confirmed or not form.is_valid():
        confirmation = _publish_confirmation(request, result_set, form, incomplete)
        return confirm_page(request, confirmation, status=400 if confirmed else 200)
    try:
        publication.result_set_publish_checked(
            result_set=result_set,
            actor=request.user,
            incomplete_reason=form.cleaned_data["incomplete_reason"],
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Version %(version)d is published; unqualified schools were notified to rectify.")
            % {"version": result_set.version},
        )
    if request.POST.get("back") == "results":  # published from the results page
        url = reverse("scoring:round", args=(result_set.round_id,))
        return redirect(f"{url}?version={result_set.version}")
    return redirect("notice:publication", round_id=result_set.round_id)


def _correct_confirmation(
    request: HttpRequest, result_set: ResultSet, data: dict[str, Any]
) -> Confirmation:
    round = result_set.round
    details: list[tuple[str, Any]] = [
        (_("Round"), round.name),
        (_("Version corrected"), result_set.version),
        (_("Reason for the correction"), data["reason"]),
    ]
    if data["change_score"]:
        score = _("not applicable") if data["not_applicable"] else data["points"]
        details.append((_("Audit score"), f"{data['indicator']}: {score}"))
    return Confirmation(
        heading=_("Publish a correction of version %(version)d") % {"version": result_set.version},
        action_url=reverse("notice:correct", args=(result_set.pk,)),
        button=_("Publish the correction"),
        cancel_url=reverse("notice:publication", args=(round.pk,)),
        becomes_final=[
            _(
                "A new version is computed and published at once; it supersedes version "
                "%(version)d, which stays readable, marked superseded."
            )
            % {"version": result_set.version},
            _("The reason is published with the new version and recorded in the audit trail."),
            _("Rectifications follow the corrected grades."),
        ],
        audience=[
            _("The public: the published ranking and grades, on the site and in the API."),
            _("Every school of the round, whose result may change."),
        ],
        details=details,
        carried=carried_values(request),
    )


@signed_in
@allowed(can_correct_results)
def correct(request: HttpRequest, result_set_id: int) -> HttpResponse:
    """Correct published results: reason, optionally an audit score; a new version."""
    result_set = _result_set_or_404(result_set_id)
    round = result_set.round
    form = CorrectionForm(
        request.POST or None,
        schools=[("", "—"), *selectors.notice_schools(result_set=result_set)],
        points=[("", "—"), *selectors.observation_point_choices(round=round)],
    )
    context = {"round": round, "result_set": result_set, "form": form}
    if request.method != "POST":
        return render_page(request, "notice/correct.html", context)
    if not form.is_valid():
        return render_page(request, "notice/correct.html", context, status=400)
    data = form.cleaned_data
    if not is_confirmed(request):
        return confirm_page(request, _correct_confirmation(request, result_set, data))
    changes = []
    if data["change_score"]:
        changes.append(
            publication.AuditScoreChange(
                school=data["school"],
                indicator=data["indicator"],
                points=data["points"],
                not_applicable=data["not_applicable"],
            )
        )
    try:
        new = publication.result_set_correct(
            result_set=result_set, actor=request.user, reason=data["reason"], changes=changes
        )
    except DomainError as error:
        _form_error(form, error)
        return render_page(request, "notice/correct.html", context, status=409)
    messages.success(
        request,
        _("Version %(new)d is published and supersedes version %(old)d.")
        % {"new": new.version, "old": result_set.version},
    )
    return redirect(reverse("notice:publication", args=(round.pk,)))
