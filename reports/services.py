"""Use cases of the reports: rendering and storing PDFs, render jobs, the group's opinion.

Rendering is idempotent: one artifact per (result set, kind, school), enforced
by the database. A document whose artifact exists is not rendered again; two
renders racing for the same document (a task redelivered while the first run
was still going) both lay it out, but only the first to store it keeps its
file, the other's is discarded.
"""

from __future__ import annotations

import hashlib
import logging
import time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from reports import selectors
from reports.enums import SCHOOL_KINDS, RenderJobStatus, ReportKind
from reports.models import GroupOpinion, RenderFailure, RenderJob, ReportArtifact
from reports.pdf import RenderedPdf, html_to_pdf
from reports.permissions import can_render_reports, can_write_group_opinion
from rounds.models import Round
from schools.models import School
from scoring.models import ResultSet
from scoring.result_sets import result_set_statistics_compute

logger = logging.getLogger(__name__)

TEMPLATES = {
    ReportKind.SCHOOL_REPORT: "reports/pdf/school_report.html",
    ReportKind.ROUND_SUMMARY: "reports/pdf/round_summary.html",
    ReportKind.RECTIFICATION_NOTICE: "reports/pdf/rectification_notice.html",
}
FILE_STEMS = {
    ReportKind.SCHOOL_REPORT: "school-report",
    ReportKind.ROUND_SUMMARY: "round-summary",
    ReportKind.RECTIFICATION_NOTICE: "rectification-notice",
}


def _check_document(kind: str, school_id: int | None) -> None:
    if kind not in ReportKind.values:
        raise DomainError(
            _("Unknown document kind “%(kind)s”.") % {"kind": kind}, code="invalid", field="kind"
        )
    if (kind in SCHOOL_KINDS) != (school_id is not None):
        raise DomainError(
            _("A school report or notice needs a school; the round summary has none."),
            code="invalid",
            field="school",
        )


def report_html(*, result_set: ResultSet, kind: str, school_id: int | None = None) -> str:
    """The HTML of one document, from our templates only (always in Chinese)."""
    _check_document(kind, school_id)
    if kind == ReportKind.ROUND_SUMMARY:
        context = selectors.round_summary_context(result_set=result_set)
    elif kind == ReportKind.SCHOOL_REPORT:
        context = selectors.school_report_context(result_set=result_set, school_id=school_id)
    else:
        context = selectors.rectification_notice_context(result_set=result_set, school_id=school_id)
        if context["row"].grade != "unqualified":
            raise DomainError(
                _("%(school)s is not unqualified; it gets no rectification notice.")
                % {"school": context["school"]},
                code="not_unqualified",
            )
    with translation.override("zh-hans"):
        return render_to_string(TEMPLATES[kind], context)


def report_render(*, result_set: ResultSet, kind: str, school_id: int | None = None) -> RenderedPdf:
    """Render one document to PDF bytes (nothing stored)."""
    return html_to_pdf(report_html(result_set=result_set, kind=kind, school_id=school_id))


def report_artifact_render(
    *,
    result_set_id: int,
    kind: str,
    school_id: int | None = None,
    actor: AbstractBaseUser | None = None,
) -> ReportArtifact:
    """The artifact of one document of a result set, rendered and stored if missing.

    Renders outside any transaction (seconds of work), then stores file and row
    in one short transaction that locks the result set row, so two concurrent
    renders of one set's documents store one after the other. Records a
    ``report.render`` audit event. Returns the existing artifact when there is one.
    """
    _check_document(kind, school_id)
    existing = selectors.artifact_of(result_set_id=result_set_id, kind=kind, school_id=school_id)
    if existing is not None:
        return existing
    result_set = selectors.result_set_for_reports(result_set_id=result_set_id)
    if kind == ReportKind.ROUND_SUMMARY and not result_set.statistics:
        result_set = result_set_statistics_compute(result_set=result_set)
    started = time.perf_counter()
    rendered = report_render(result_set=result_set, kind=kind, school_id=school_id)
    seconds = Decimal(f"{time.perf_counter() - started:.3f}")
    school = School.objects.filter(pk=school_id).first() if school_id else None
    digest = hashlib.sha256(rendered.data).hexdigest()
    stem = FILE_STEMS[kind] + (f"-{school.code}" if school else "")
    name = f"{stem}-v{result_set.version}-{digest[:12]}.pdf"
    artifact = ReportArtifact(
        result_set=result_set,
        kind=kind,
        school=school,
        sha256=digest,
        size=len(rendered.data),
        page_count=rendered.pages,
        version=result_set.version,
        render_seconds=seconds,
    )
    try:
        with transaction.atomic():
            ResultSet.objects.select_for_update().filter(pk=result_set.pk).first()
            winner = selectors.artifact_of(
                result_set_id=result_set_id, kind=kind, school_id=school_id
            )
            if winner is not None:
                return winner
            artifact.file.save(name, ContentFile(rendered.data), save=False)
            try:
                artifact.save()
                audit_record(
                    actor=actor,
                    action="report.render",
                    obj=artifact,
                    after=model_snapshot(
                        artifact, ["kind", "school_id", "version", "sha256", "size", "page_count"]
                    ),
                    round_id=result_set.round_id,
                    school_id=school_id,
                )
            except Exception:
                artifact.file.delete(save=False)
                raise
    except IntegrityError:
        # Another process stored the same document between our check and insert.
        winner = selectors.artifact_of(result_set_id=result_set_id, kind=kind, school_id=school_id)
        if winner is None:
            raise
        return winner
    return artifact


# -------------------------------------------------------------- render jobs


@transaction.atomic
def render_job_start(
    *, result_set: ResultSet, actor: AbstractBaseUser | None, enqueue: bool = True
) -> RenderJob:
    """Plan every document of a result set and enqueue their rendering after commit.

    One task per document, together a Celery group on the ``reports`` queue.
    Documents that exist already count as done at once. Refused for anyone but
    the bureau admin (``actor`` None is the shell).
    """
    if actor is not None and not can_render_reports(actor):
        raise DomainError(_("Only the bureau renders the round's reports."), code="not_allowed")
    documents = selectors.result_set_documents(result_set=result_set)
    job = RenderJob.objects.create(
        result_set=result_set,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        documents=[[document.kind, document.school_id] for document in documents],
        total=len(documents),
    )
    audit_record(
        actor=actor,
        action="report.render_job_start",
        obj=job,
        after={"result_set": result_set.pk, "version": result_set.version, "total": job.total},
        round_id=result_set.round_id,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk), robust=False)
    return job


def _enqueue(job_id: int) -> None:
    from reports.tasks import render_job_enqueue  # the task module imports this one

    render_job_enqueue(job_id)


def render_failure_record(*, job_id: int, kind: str, school_id: int | None, error: str) -> None:
    """Note that a document of a job failed after its retries (kept until it succeeds)."""
    RenderFailure.objects.update_or_create(
        job_id=job_id, kind=kind, school_id=school_id, defaults={"error": error[:2000]}
    )


def render_job_refresh(*, job_id: int) -> RenderJob:
    """Mark a job finished once every document is either stored or failed."""
    job = RenderJob.objects.get(pk=job_id)
    if job.status == RenderJobStatus.FINISHED:
        return job
    progress = selectors.render_job_progress(job=job)
    if progress.finished:
        RenderJob.objects.filter(pk=job.pk, status=RenderJobStatus.RUNNING).update(
            status=RenderJobStatus.FINISHED, finished_at=timezone.now()
        )
        job.refresh_from_db()
    return job


# ------------------------------------------------------------ group opinion


@transaction.atomic
def group_opinion_set(*, round: Round, school: School, actor: Any, text: str) -> GroupOpinion:
    """Write the evaluation group's consolidated opinion on a school (leader or bureau)."""
    if not can_write_group_opinion(actor, round):
        raise DomainError(
            _(
                "Only the group leader (or the bureau) writes the group's opinion, during "
                "consolidation and public notice."
            ),
            code="not_allowed",
        )
    if not round.schools.filter(pk=school.pk).exists():
        raise DomainError(
            _("%(school)s is not in the scope of this round.") % {"school": school},
            code="out_of_scope",
            field="school",
        )
    text = text.strip()
    if not text:
        raise DomainError(_("The opinion is empty."), code="required", field="text")
    opinion = GroupOpinion.objects.select_for_update().filter(round=round, school=school).first()
    before = model_snapshot(opinion, ["text"]) if opinion else None
    if opinion is None:
        opinion = GroupOpinion(round=round, school=school)
    opinion.text = text
    opinion.author = actor
    opinion.save()
    audit_record(
        actor=actor,
        action="group_opinion.set",
        obj=opinion,
        before=before,
        after=model_snapshot(opinion, ["text"]),
        round_id=round.pk,
        school_id=school.pk,
    )
    return opinion
