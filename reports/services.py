"""Use cases of the reports: rendering and storing PDFs, render jobs, the group's opinion.

Rendering is idempotent: one artifact per (result set, kind, school), enforced
by the database. A document whose artifact exists is not rendered again; two
renders racing for the same document (a task redelivered while the first run
was still going) both lay it out, but only the first to store it keeps its
file, the other's is discarded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
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
from reports.models import (
    DocumentNumber,
    DocumentNumberCounter,
    GroupOpinion,
    RenderFailure,
    RenderJob,
    ReportArtifact,
)
from reports.pdf import RenderedPdf, html_to_pdf
from reports.permissions import can_render_reports, can_write_group_opinion
from rounds.enums import Grade
from rounds.models import Round
from schools.models import School
from scoring.models import ResultRow, ResultSet
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


def _check_notice_due(*, result_set: ResultSet, school_id: int | None) -> None:
    row = (
        ResultRow.objects.filter(result_set=result_set, school_id=school_id)
        .select_related("school")
        .first()
    )
    if row is not None and row.grade != Grade.UNQUALIFIED:
        raise DomainError(
            _("%(school)s is not unqualified; it gets no rectification notice.")
            % {"school": row.school},
            code="not_unqualified",
        )


# Each kind's mark after the issuing authority's abbreviation, so numbers of different
# kinds (each its own sequence) never read alike: 厦人社评整〔2026〕3号.
KIND_MARKS = {
    ReportKind.RECTIFICATION_NOTICE: "整",
    ReportKind.SCHOOL_REPORT: "报",
    ReportKind.ROUND_SUMMARY: "汇",
}
DEFAULT_DOCUMENT_NUMBER_PREFIX = "厦人社评"


def document_number_prefix(kind: str) -> str:
    """The prefix of a kind's numbers from ``DOCUMENT_NUMBER_PREFIX``.

    A string is the issuing authority's abbreviation, followed by the kind's mark
    (整 notice, 报 report, 汇 summary); a mapping gives each kind's whole prefix.
    """
    configured = getattr(settings, "DOCUMENT_NUMBER_PREFIX", DEFAULT_DOCUMENT_NUMBER_PREFIX)
    if isinstance(configured, Mapping):
        return str(configured.get(kind) or configured.get(str(kind)) or "")
    return f"{configured}{KIND_MARKS[kind]}"


def document_number_issue(
    *, result_set: ResultSet, kind: str, school_id: int | None = None, today: dt.date | None = None
) -> DocumentNumber:
    """The number and date of issue of one document, issued now if it has none.

    Writes a ``DocumentNumber`` and advances the (kind, year of issue) counter,
    locked with ``select_for_update``, so numbers run 1, 2, 3… per kind and year
    and are never reused; the database's unique constraints back this. A document
    keeps its number when rendered again. Records a ``document_number.issue`` event.
    """
    _check_document(kind, school_id)
    issued_on = today or timezone.localdate()
    with transaction.atomic():
        # Serialises the documents of one result set: a redelivered render waits here.
        ResultSet.objects.select_for_update().filter(pk=result_set.pk).first()
        existing = selectors.document_number_of(
            result_set_id=result_set.pk, kind=kind, school_id=school_id
        )
        if existing is not None:
            return existing
        DocumentNumberCounter.objects.get_or_create(kind=kind, year=issued_on.year)
        counter = DocumentNumberCounter.objects.select_for_update().get(
            kind=kind, year=issued_on.year
        )
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        document = DocumentNumber.objects.create(
            result_set=result_set,
            kind=kind,
            school_id=school_id,
            year=issued_on.year,
            number=counter.last_number,
            prefix=document_number_prefix(kind),
            issued_on=issued_on,
        )
        audit_record(
            actor=None,
            action="document_number.issue",
            obj=document,
            after={"number": document.text, "kind": kind, "issued_on": issued_on.isoformat()},
            round_id=result_set.round_id,
            school_id=school_id,
        )
    return document


def report_html(*, result_set: ResultSet, kind: str, school_id: int | None = None) -> str:
    """The HTML of one document, from our templates only (always in Chinese).

    It carries its issued number and date when it has them; a document not yet
    issued (a preview) says so instead of a number.
    """
    _check_document(kind, school_id)
    if kind == ReportKind.ROUND_SUMMARY:
        context = selectors.round_summary_context(result_set=result_set)
    elif kind == ReportKind.SCHOOL_REPORT:
        context = selectors.school_report_context(result_set=result_set, school_id=school_id)
    else:
        _check_notice_due(result_set=result_set, school_id=school_id)
        context = selectors.rectification_notice_context(result_set=result_set, school_id=school_id)
    context["document"] = selectors.document_number_of(
        result_set_id=result_set.pk, kind=kind, school_id=school_id
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
    if kind == ReportKind.RECTIFICATION_NOTICE:
        # Refuse a notice to a school that is not unqualified before it takes a number.
        _check_notice_due(result_set=result_set, school_id=school_id)
    document_number_issue(result_set=result_set, kind=kind, school_id=school_id)
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


def _enqueue(job_id: int, documents: Any = None) -> None:
    from reports.tasks import render_job_enqueue  # the task module imports this one

    render_job_enqueue(job_id, documents)


def render_failure_record(*, job_id: int, kind: str, school_id: int | None, error: str) -> None:
    """Note that a document of a job failed after its retries (kept until it succeeds)."""
    RenderFailure.objects.update_or_create(
        job_id=job_id, kind=kind, school_id=school_id, defaults={"error": error[:2000]}
    )


def render_job_refresh(*, job_id: int) -> RenderJob:
    """Note the job's progress (its heartbeat) and mark it finished once every
    document is either stored or failed."""
    job = RenderJob.objects.get(pk=job_id)
    if job.status == RenderJobStatus.FINISHED:
        return job
    RenderJob.objects.filter(pk=job.pk).update(progress_at=timezone.now())
    progress = selectors.render_job_progress(job=job)
    if progress.finished:
        RenderJob.objects.filter(pk=job.pk, status=RenderJobStatus.RUNNING).update(
            status=RenderJobStatus.FINISHED, finished_at=timezone.now()
        )
        job.refresh_from_db()
    return job


@transaction.atomic
def render_job_requeue(*, job_id: int, actor: AbstractBaseUser | None) -> RenderJob:
    """Send a job's missing documents (not stored yet, or failed) to the workers again.

    For a job whose worker died (``render_jobs_recover`` calls it with no actor) or
    that the bureau retries from its page. Rendering is idempotent, so a document
    whose first message is still delivered later is not stored twice. Audited.
    """
    if actor is not None and not can_render_reports(actor):
        raise DomainError(_("Only the bureau renders the round's reports."), code="not_allowed")
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    missing = selectors.render_job_missing_documents(job=job)
    if not missing:
        raise DomainError(_("Every document of this job is stored."), code="nothing_missing")
    RenderFailure.objects.filter(job=job).delete()  # counted again once they fail again
    job.status = RenderJobStatus.RUNNING
    job.finished_at = None
    job.requeued_at = timezone.now()
    job.requeue_count += 1
    job.save(update_fields=["status", "finished_at", "requeued_at", "requeue_count"])
    audit_record(
        actor=actor,
        action="report.render_job_requeue",
        obj=job,
        after={"documents": [list(document) for document in missing], "times": job.requeue_count},
        round_id=job.result_set.round_id,
    )
    transaction.on_commit(lambda: _enqueue(job.pk, missing), robust=False)
    return job


def render_jobs_recover(*, now: Any = None) -> list[int]:
    """Send again the missing documents of every stale job (no progress for
    ``REPORTS_STALE_AFTER`` seconds, see ``selectors.render_jobs_stale``), at most
    ``REPORTS_AUTO_REQUEUES`` times each; later the job waits for the bureau's retry.
    Returns the ids of the jobs sent again."""
    requeued = []
    for job in selectors.render_jobs_stale(now=now):
        if job.requeue_count >= settings.REPORTS_AUTO_REQUEUES:
            continue
        try:
            render_job_requeue(job_id=job.pk, actor=None)
        except DomainError:  # stored meanwhile
            render_job_refresh(job_id=job.pk)
            continue
        logger.warning("Render job %s made no progress; its missing documents went again", job.pk)
        requeued.append(job.pk)
    return requeued


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
