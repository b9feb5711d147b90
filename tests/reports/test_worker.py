"""A real Celery worker on Redis, killed in the middle of a render and started again.

Runs in CI (PostgreSQL + Redis, ``REDIS_URL`` set); skipped elsewhere. The worker
processes read the test database through ``DATABASE_URL`` built from the test
connection (as ``tests/rounds/test_tasks.py`` does). In the worker, WeasyPrint's
``write_pdf`` is wrapped so the first render marks a file and then stalls after
the layout: the test kills that worker with SIGKILL (no warm shutdown, the
message stays unacknowledged), starts another, and waits for the redelivered
task to store the document. A short visibility timeout makes Redis hand the
message out again within seconds instead of an hour.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from reports.enums import ReportKind
from reports.models import ReportArtifact
from tests.reports.conftest import SmallRound

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os, pathlib, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xm_eval.settings")
import django
django.setup()
import weasyprint
from xm_eval.celery import app

if os.environ.get("XM_EVAL_TEST_VISIBILITY"):
    app.conf.broker_transport_options = {
        "visibility_timeout": int(os.environ["XM_EVAL_TEST_VISIBILITY"]),
        "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
    }
marker = pathlib.Path(os.environ["XM_EVAL_TEST_MARKER"])
write_pdf = weasyprint.Document.write_pdf

def stalling_write_pdf(self, *args, **kwargs):
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)
    return write_pdf(self, *args, **kwargs)

weasyprint.Document.write_pdf = stalling_write_pdf
app.worker_main([
    "worker", "-Q", "reports", "-P", "solo", "-c", "1", "--without-heartbeat",
    "--without-gossip", "--without-mingle", "-n", os.environ["XM_EVAL_TEST_WORKER"],
    "--loglevel", "WARNING",
])
"""


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{quote(s['USER'] or '')}{password}@{host}{port}/{s['NAME']}"


@pytest.fixture
def worker_factory(transactional_db, tmp_path, settings):
    """Start ``reports`` workers on Redis against the test database; stop them after."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: the real-worker test runs in CI on Redis")
    if connection.vendor != "postgresql":
        pytest.skip("a separate worker process needs a shared database (PostgreSQL)")
    from xm_eval.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("reports")
    processes: list[subprocess.Popen] = []
    marker = tmp_path / "render-started"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "XM_EVAL_TEST_MARKER": str(marker),
    }

    def start(name: str, **extra: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env={
                "XM_EVAL_TEST_VISIBILITY": "4",
                **env,
                "XM_EVAL_TEST_WORKER": f"{name}-{os.getpid()}@%h",
                **extra,
            },
        )
        processes.append(process)
        return process

    start.marker = marker
    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _wait(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.mark.celery_worker
def test_killing_a_worker_mid_render_still_ends_with_one_artifact(worker_factory):
    from reports.tasks import render_document
    from xm_eval.celery import app

    assert app.conf.task_always_eager is False
    data = SmallRound(publish=True)
    school = data.schools[0]
    args = (data.result_set.pk, ReportKind.SCHOOL_REPORT, school.pk)

    first = worker_factory("doomed")
    render_document.delay(*args)
    _wait(worker_factory.marker.exists, 90, "the first worker to start rendering")
    assert int(worker_factory.marker.read_text()) == first.pid
    first.send_signal(signal.SIGKILL)  # mid-render: laid out, not written, not acked
    first.wait(timeout=30)
    # Publishing also renders unqualified schools' rectification notices; this test
    # follows the one school report it asked for.
    reports = ReportArtifact.objects.filter(kind=ReportKind.SCHOOL_REPORT)
    assert not reports.exists()

    second = worker_factory("survivor")
    _wait(reports.exists, 120, "the redelivered task to store the document")
    # the same document asked for again is not rendered a second time
    render_document.delay(*args).get(timeout=60)
    time.sleep(6)  # past the visibility timeout: any stray redelivery would have run
    assert second.poll() is None, "the second worker died"
    artifacts = list(reports)
    assert len(artifacts) == 1
    artifact = artifacts[0]
    assert (artifact.kind, artifact.school_id) == (ReportKind.SCHOOL_REPORT, school.pk)
    assert Path(artifact.file.path).read_bytes()[:5] == b"%PDF-"


@pytest.mark.celery_worker
def test_a_job_whose_worker_was_killed_is_sent_again_and_ends_with_each_document_once(
    worker_factory, settings
):
    """No short visibility timeout here: the job's own recovery (what the beat runs
    every minute) sends the missing documents again once the job is stale."""
    from reports import services
    from reports.tasks import render_job_enqueue

    settings.REPORTS_STALE_AFTER = 8  # the workers' render limit is 20 s
    data = SmallRound(publish=True)
    from xm_eval.celery import app

    with app.connection_for_write() as conn:  # the notices publishing sent: the job has them
        conn.default_channel.queue_purge("reports")
    job = services.render_job_start(result_set=data.result_set, actor=None, enqueue=False)
    limits = {"XM_EVAL_TEST_VISIBILITY": "", "REPORTS_RENDER_TIME_LIMIT": "20"}
    first = worker_factory("doomed", **limits)
    render_job_enqueue(job.pk)
    _wait(worker_factory.marker.exists, 90, "the first worker to start rendering")
    first.send_signal(signal.SIGKILL)  # mid-render, its message unacknowledged
    first.wait(timeout=30)
    killed_at = time.monotonic()
    worker_factory("survivor", **limits)

    def complete() -> bool:
        services.render_jobs_recover()  # as the beat does, every minute
        return ReportArtifact.objects.count() >= job.total

    _wait(complete, 180, "every document of the job")
    recovered_in = time.monotonic() - killed_at
    time.sleep(5)  # any duplicate render would try to store now
    stored = sorted(ReportArtifact.objects.values_list("kind", "school_id"))
    assert stored == sorted((kind, school) for kind, school in job.documents)
    job.refresh_from_db()
    assert job.requeue_count >= 1
    assert recovered_in < 180
    print(f"every document stored {recovered_in:.0f} s after the worker was killed")
