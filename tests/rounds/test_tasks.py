"""The framework validation task, in-process and on a real Celery worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from rounds.models import Indicator
from rounds.tasks import framework_validate_task
from tests.factories import make_framework

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_task_reports_every_problem_in_process():
    framework = make_framework()
    Indicator.objects.filter(framework=framework, code="C1.2").update(method="")
    Indicator.objects.filter(framework=framework, code="D1.1").update(tags=["nonsense"])

    result = framework_validate_task.apply(args=[framework.pk]).get()

    assert result["framework_id"] == framework.pk
    assert result["valid"] is False
    assert sorted((p["code"], p["indicator_code"]) for p in result["problems"]) == [
        ("method", "C1.2"),
        ("unknown_tag", "D1.1"),
    ]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{quote(s['USER'] or '')}{password}@{host}{port}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real ``celery worker`` process on Redis, reading the test database."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: the real-worker test runs in CI on Redis")
    if connection.vendor != "postgresql":
        pytest.skip("a separate worker process needs a shared database (PostgreSQL)")
    env = {**os.environ, "DATABASE_URL": _database_url(), "DB_CONN_MAX_AGE": "0"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "xm_eval",
            "worker",
            "-Q",
            "celery,reports",
            "-P",
            "solo",
            "-c",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"pytest-{os.getpid()}@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.celery_worker
def test_task_runs_on_a_real_worker(celery_worker_process):
    from xm_eval.celery import app

    assert app.conf.task_always_eager is False
    framework = make_framework()
    Indicator.objects.filter(framework=framework, code="B1.1").update(method="")

    started = time.monotonic()
    async_result = framework_validate_task.delay(framework.pk)
    result = async_result.get(timeout=90)

    assert celery_worker_process.poll() is None, "the worker died"
    assert result["framework_id"] == framework.pk
    assert [(p["code"], p["indicator_code"]) for p in result["problems"]] == [("method", "B1.1")]
    assert async_result.status == "SUCCESS"
    assert time.monotonic() - started < 90
