"""Pages and downloads of the reports: PDFs, render progress, xlsx imports and exports.

Thin: each view checks the permission predicate, calls one service or selector,
and renders. Whatever a person may not see answers 404 (as the result pages do),
so unpublished documents do not even show that they exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from core import permissions
from core.errors import DomainError
from core.views import allowed, render_fragment_or_page, render_page, signed_in
from reports import export as scoring_export
from reports import framework_xlsx, selectors, services
from reports import workbook as scoring_workbook
from reports.models import GroupOpinion
from reports.permissions import (
    can_download_every_report,
    can_download_report,
    can_export_ranking,
    can_export_score_details,
    can_render_reports,
    can_use_offline_workbook,
    can_view_render_jobs,
    can_write_group_opinion,
)
from rounds import selectors as round_selectors
from rounds.models import Round
from rounds.permissions import can_import_frameworks
from schools.models import School
from scoring import selectors as scoring_selectors
from scoring.models import ResultSet
from scoring.permissions import can_view_unpublished_results, can_write_score_sheets
from scoring.services import result_set_statistics_compute

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _round_or_404(round_id: int) -> Round:
    round = round_selectors.round_for_page(round_id=round_id)
    if round is None:
        raise Http404
    return round


def _result_set(request: HttpRequest, round: Round) -> ResultSet | None:
    """``?version=`` or the latest the person may see (bureau: any; others: published)."""
    result_sets = scoring_selectors.result_sets_of_round(
        round=round, published_only=not can_view_unpublished_results(request.user)
    )
    version = request.GET.get("version") or request.POST.get("version")
    if version:
        if not version.isdigit():
            raise Http404
        result_sets = result_sets.filter(version=int(version))
    chosen = result_sets.first()
    if version and chosen is None:
        raise Http404
    return chosen


# ------------------------------------------------------------------ PDFs


@signed_in
@require_safe
def round_reports(request: HttpRequest, round_id: int) -> HttpResponse:
    """The documents of a round's result set the person may download, and the render jobs."""
    round = _round_or_404(round_id)
    result_set = _result_set(request, round)
    user = request.user
    if result_set is None and not can_view_unpublished_results(user):
        raise Http404
    artifacts = (
        list(selectors.artifacts_visible_to(user=user, result_set=result_set)) if result_set else []
    )
    if (
        not artifacts
        and not can_download_every_report(user)
        and not permissions.school_ids_of(user)
    ):
        raise Http404
    context = {
        "round": round,
        "result_set": result_set,
        "artifacts": artifacts,
        "jobs": selectors.render_jobs_of(result_set=result_set)
        if result_set and can_view_render_jobs(user)
        else [],
        "can_render": bool(result_set) and can_render_reports(user),
        "can_export_ranking": bool(result_set) and can_export_ranking(user, result_set),
        "can_export_details": bool(result_set) and can_export_score_details(user),
    }
    return render_page(request, "reports/round.html", context)


@signed_in
@allowed(can_render_reports)
@require_POST
def render_start(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    result_set = _result_set(request, round)
    if result_set is None:
        raise Http404
    job = services.render_job_start(result_set=result_set, actor=request.user)
    return redirect("reports:job", job_id=job.pk)


@signed_in
@allowed(can_view_render_jobs)
@require_safe
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A render job's progress; the fragment polls itself (htmx) until the job is done."""
    found = selectors.render_job_for_page(job_id=job_id)
    if found is None:
        raise Http404
    progress = selectors.render_job_progress(job=found)
    context = {
        "job": found,
        "progress": progress,
        "round": found.result_set.round,
        "can_retry": can_render_reports(request.user),
    }
    return render_fragment_or_page(
        request, "reports/_job_progress.html", "reports/job.html", context
    )


@signed_in
@allowed(can_render_reports)
@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Send a stalled or failed job's missing documents to the workers again."""
    if selectors.render_job_for_page(job_id=job_id) is None:
        raise Http404
    try:
        services.render_job_requeue(job_id=job_id, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The missing documents were sent to the workers again."))
    return redirect("reports:job", job_id=job_id)


@signed_in
@require_safe
def artifact_download(request: HttpRequest, artifact_id: int) -> HttpResponse:
    artifact = selectors.artifact_for_download(artifact_id=artifact_id)
    if artifact is None or not can_download_report(request.user, artifact):
        raise Http404
    try:
        handle = artifact.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    school = f"-{artifact.school.code}" if artifact.school else ""
    filename = f"{artifact.kind}{school}-v{artifact.version}.pdf"
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------ group opinion


class GroupOpinionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Consolidated opinion of the evaluation group"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
    )


@signed_in
def group_opinion(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    if not can_write_group_opinion(request.user, round):
        raise Http404
    school = round.schools.filter(pk=school_id).first()
    if school is None:
        raise Http404
    opinion = GroupOpinion.objects.filter(round=round, school=school).first()
    form = GroupOpinionForm(request.POST or None, initial={"text": opinion.text if opinion else ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.group_opinion_set(
                round=round, school=school, actor=request.user, text=form.cleaned_data["text"]
            )
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, _("The group's opinion was saved."))
            return redirect("reports:group_opinion", round_id=round.pk, school_id=school.pk)
    return render_page(
        request, "reports/group_opinion.html", {"round": round, "school": school, "form": form}
    )


# --------------------------------------------------------- framework import


class FrameworkImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Workbook (.xlsx)"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    policy_title = forms.CharField(label=gettext_lazy("Policy title"), max_length=255)
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), initial=dt.date(2025, 1, 1))
    valid_to = forms.DateField(label=gettext_lazy("Valid to"), initial=dt.date(2029, 12, 31))
    total_points = forms.DecimalField(
        label=gettext_lazy("Total points"), max_digits=7, decimal_places=2, initial=100
    )


@signed_in
@allowed(can_import_frameworks)
def framework_import(request: HttpRequest) -> HttpResponse:
    form = FrameworkImportForm(request.POST or None, request.FILES or None)
    problems: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            framework = framework_xlsx.framework_import_xlsx(
                actor=request.user,
                upload=data["file"],
                name=data["name"],
                policy_title=data["policy_title"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                total_points=data["total_points"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
            problems = list(error.details or [])
        else:
            messages.success(
                request,
                _("Framework “%(name)s” imported with %(count)d indicators.")
                % {"name": framework.name, "count": framework.indicators.count()},
            )
            return redirect("reports:framework_import")
    status = 400 if problems or form.errors else 200
    return render_page(
        request,
        "reports/framework_import.html",
        {"form": form, "problems": problems},
        status=status,
    )


@signed_in
@allowed(can_import_frameworks)
@require_safe
def framework_template(request: HttpRequest) -> HttpResponse:
    return _xlsx_response(framework_xlsx.framework_template_workbook(), "framework-template.xlsx")


# ------------------------------------------------------- offline scoring


@signed_in
@require_safe
def score_workbook(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    school = School.objects.filter(pk=school_id).first()
    if school is None or not can_use_offline_workbook(request.user, round, school):
        raise Http404
    data = scoring_workbook.score_workbook_export(
        round=round, evaluator=request.user, schools=[school]
    )
    return _xlsx_response(data, f"scores-{school.code}-{request.user.username}.xlsx")


class ScoreWorkbookUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Filled-in scoring workbook (.xlsx)"))
    submit = forms.BooleanField(
        label=gettext_lazy("Submit the score sheets after saving (locks them)"), required=False
    )


@signed_in
@allowed(can_write_score_sheets)
def score_workbook_upload(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    form = ScoreWorkbookUploadForm(request.POST or None, request.FILES or None)
    problems: list[dict[str, Any]] = []
    summary = None
    if request.method == "POST" and form.is_valid():
        try:
            summary = scoring_workbook.score_workbook_import(
                round=round,
                actor=request.user,
                upload=form.cleaned_data["file"],
                submit=form.cleaned_data["submit"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
            problems = list(error.details or [])
    status = 400 if problems or form.errors else 200
    return render_page(
        request,
        "reports/score_workbook_upload.html",
        {"round": round, "form": form, "problems": problems, "summary": summary},
        status=status,
    )


# ------------------------------------------------------------------ exports


@signed_in
@require_safe
def export_ranking(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    result_set = _result_set(request, round)
    if result_set is None or not can_export_ranking(request.user, result_set):
        raise Http404
    data = scoring_export.ranking_workbook(result_set=result_set)
    return _xlsx_response(data, f"ranking-r{round.pk}-v{result_set.version}.xlsx")


@signed_in
@require_safe
def export_score_matrix(request: HttpRequest, round_id: int) -> HttpResponse:
    if not can_export_score_details(request.user):
        raise Http404
    round = _round_or_404(round_id)
    result_set = _result_set(request, round)
    if result_set is None:
        raise Http404
    data = scoring_export.score_matrix_workbook(result_set=result_set)
    return _xlsx_response(data, f"score-matrix-r{round.pk}-v{result_set.version}.xlsx")


@signed_in
@require_safe
def export_consistency(request: HttpRequest, round_id: int) -> HttpResponse:
    if not can_export_score_details(request.user):
        raise Http404
    round = _round_or_404(round_id)
    result_set = _result_set(request, round)
    if result_set is None:
        raise Http404
    result_set = result_set_statistics_compute(
        result_set=ResultSet.objects.select_related("round").get(pk=result_set.pk)
    )
    data = scoring_export.consistency_workbook(result_set=result_set)
    return _xlsx_response(data, f"consistency-r{round.pk}-v{result_set.version}.xlsx")
