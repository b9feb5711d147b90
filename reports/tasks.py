"""Celery tasks of the reports, on the ``reports`` queue: thin wrappers over services.

One task renders one document from ids only; a job's documents go out as one
Celery group. Tasks are acknowledged late (a worker that dies mid-render leaves
the message to be delivered again) and idempotent (the service keeps one
artifact per document), and retry a few times before the failure is recorded
on the job.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import group, shared_task
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from core.errors import DomainError
from reports import services
from reports.enums import ReportKind
from reports.models import RenderJob
from reports.services import render_failure_record, render_job_refresh, report_artifact_render

logger = logging.getLogger(__name__)

QUEUE = "reports"
MAX_RETRIES = 3
RENDER_LIMIT = settings.REPORTS_RENDER_TIME_LIMIT  # seconds; the soft limit a minute before


@shared_task(
    name="reports.tasks.render_document",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=max(RENDER_LIMIT - 60, RENDER_LIMIT // 2),
    time_limit=RENDER_LIMIT,
)
def render_document(
    self,  # noqa: ANN001 - the bound task
    result_set_id: int,
    kind: str,
    school_id: int | None = None,
    job_id: int | None = None,
) -> dict:
    """Render and store one document (or find it stored); returns the artifact id.

    Errors are retried with a growing delay; after the last retry (or at once for
    a broken rule or a missing object, which no retry mends) the failure is
    recorded on the job and the task ends without raising.
    """
    try:
        artifact = report_artifact_render(
            result_set_id=result_set_id, kind=kind, school_id=school_id
        )
    except Exception as error:
        permanent = isinstance(error, DomainError | ObjectDoesNotExist)
        if not permanent and self.request.retries < self.max_retries:
            logger.warning("Rendering %s %s failed, retrying: %s", kind, school_id, error)
            raise self.retry(exc=error, countdown=5 * 2**self.request.retries) from error
        logger.exception("Rendering %s %s of result set %s failed", kind, school_id, result_set_id)
        if job_id is not None:
            render_failure_record(
                job_id=job_id,
                kind=kind,
                school_id=school_id,
                error=f"{type(error).__name__}: {error}",
            )
            render_job_refresh(job_id=job_id)
        return {"failed": str(error), "kind": kind, "school_id": school_id}
    if job_id is not None:
        render_job_refresh(job_id=job_id)
    return {"artifact_id": artifact.pk, "kind": kind, "school_id": school_id}


def render_job_enqueue(job_id: int, documents: Any = None) -> None:
    """Send a job's documents (or only ``documents``, as ``[kind, school id]`` pairs)
    as one group of ``render_document`` tasks."""
    job = RenderJob.objects.get(pk=job_id)
    group(
        render_document.si(job.result_set_id, kind, school_id, job.pk)
        for kind, school_id in (job.documents if documents is None else documents)
    ).apply_async()


@shared_task(name="reports.tasks.render_jobs_recover")
def render_jobs_recover() -> list[int]:
    """Every minute (beat): send again the missing documents of stale render jobs, the
    ones whose worker died without a word (killed, out of memory, the machine lost)."""
    return services.render_jobs_recover()


def rectification_notices_enqueue(
    *, result_set_id: int, school_ids: list[int], **kwargs: Any
) -> None:
    """Connected to ``rectification.signals.notices_due``: render each school's
    rectification notice (PDF) on the reports queue."""
    for school_id in school_ids:
        render_document.delay(result_set_id, ReportKind.RECTIFICATION_NOTICE, school_id)
