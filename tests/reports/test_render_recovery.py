"""A render job whose worker died: the broker's timeout, stale jobs sent again, the retry.

The real worker killed mid-render is ``tests/reports/test_worker.py``; here the
rules around it run in-process (tasks eager).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from reports import selectors, services
from reports.enums import RenderJobStatus
from reports.models import RenderFailure, RenderJob, ReportArtifact
from reports.tasks import render_document
from tests.reports.conftest import SmallRound

pytestmark = pytest.mark.django_db


def test_a_dead_workers_message_returns_within_minutes_not_an_hour():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert render_document.time_limit == settings.REPORTS_RENDER_TIME_LIMIT
    assert render_document.soft_time_limit < render_document.time_limit
    # Above every hard limit (a running task is never handed out twice) ...
    assert visibility > max(settings.CELERY_TASK_TIME_LIMIT, render_document.time_limit)
    # ... and well below Redis's default hour.
    assert visibility <= 15 * 60
    assert render_document.time_limit < settings.REPORTS_STALE_AFTER
    beat = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat["reports.tasks.render_jobs_recover"]["schedule"] <= 60


def _stalled_job(data: SmallRound, *, minutes: int = 30) -> RenderJob:
    """A job whose documents were sent to a worker that died: nothing stored since."""
    job = services.render_job_start(result_set=data.result_set, actor=None, enqueue=False)
    RenderJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    job.refresh_from_db()
    return job


def test_a_stale_job_is_sent_again_and_every_document_exists_once(
    django_capture_on_commit_callbacks,
):
    data = SmallRound(publish=True)
    job = _stalled_job(data)
    fresh = services.render_job_start(result_set=data.result_set, actor=None, enqueue=False)
    assert [j.pk for j in selectors.render_jobs_stale()] == [job.pk]  # not the fresh one
    assert selectors.render_job_progress(job=job).stale

    with django_capture_on_commit_callbacks(execute=True):
        assert services.render_jobs_recover() == [job.pk]
    job.refresh_from_db()
    assert job.status == RenderJobStatus.FINISHED and job.requeue_count == 1
    wanted = {(kind, school) for kind, school in job.documents}
    stored = list(ReportArtifact.objects.values_list("kind", "school_id"))
    assert sorted(stored) == sorted(wanted)  # each exactly once
    event = AuditEvent.objects.filter(action="report.render_job_requeue").get()
    assert event.actor_id is None and len(event.after["documents"]) == job.total
    # Sent again, then stored: the other job has nothing left to send.
    RenderJob.objects.filter(pk=fresh.pk).update(created_at=job.created_at)
    assert services.render_jobs_recover() == []
    fresh.refresh_from_db()
    assert fresh.status == RenderJobStatus.FINISHED


def test_only_the_missing_documents_go_again_and_only_three_times_automatically(
    django_capture_on_commit_callbacks, monkeypatch
):
    data = SmallRound(publish=True)
    job = _stalled_job(data)
    first = job.documents[0]
    services.report_artifact_render(
        result_set_id=job.result_set_id, kind=first[0], school_id=first[1]
    )
    sent = []
    monkeypatch.setattr(
        "reports.tasks.render_job_enqueue", lambda job_id, documents=None: sent.append(documents)
    )
    for _attempt in range(settings.REPORTS_AUTO_REQUEUES):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.render_jobs_recover(now=timezone.now() + dt.timedelta(hours=1)) == [
                job.pk
            ]
    assert sent[0] == [tuple(d) for d in job.documents[1:]]
    # The fourth time it waits for the bureau: the page says so.
    assert services.render_jobs_recover(now=timezone.now() + dt.timedelta(hours=1)) == []
    job.refresh_from_db()
    assert job.requeue_count == settings.REPORTS_AUTO_REQUEUES


def test_the_job_page_shows_a_stall_and_the_bureau_retries(django_capture_on_commit_callbacks):
    data = SmallRound(publish=True)
    job = _stalled_job(data)
    RenderFailure.objects.create(job=job, kind=job.documents[0][0], school_id=job.documents[0][1])
    url = reverse("reports:job", args=[job.pk])
    retry = reverse("reports:job_retry", args=[job.pk])

    supervisor = Client()
    supervisor.force_login(data.supervisor)
    page = supervisor.get(url).content.decode()
    assert "stalled" in page and "most likely stopped" in page
    assert retry not in page  # the supervisor watches, the bureau acts
    assert supervisor.post(retry).status_code == 403

    admin = Client()
    admin.force_login(data.admin)
    page = admin.get(url).content.decode()
    assert "stalled" in page and retry in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(retry)
    assert response.status_code == 302
    body = admin.get(response.url).content.decode()
    assert "sent to the workers again" in body
    assert "Sent again once" in body and "finished" in body
    assert ReportArtifact.objects.count() == job.total
    assert not RenderFailure.objects.filter(job=job).exists()
    # Nothing missing any more: the retry says so instead of sending nothing.
    body = admin.post(retry, follow=True).content.decode()
    assert "Every document of this job is stored" in body
    assert (
        admin.get(reverse("reports:round", args=[data.round.pk]))
        .content.decode()
        .count("sent again once")
    )
