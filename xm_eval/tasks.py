"""Celery tasks of the site as a whole, run by beat (``CELERY_BEAT_SCHEDULE``).

Thin wrappers over services; both are idempotent, so a redelivered or doubled
run changes nothing more.
"""

from __future__ import annotations

from celery import shared_task

from rectification.services import rectifications_escalate_overdue as escalate
from xm_eval.reminders import reminders_send as send


@shared_task(
    name="xm_eval.tasks.reminders_send",
    acks_late=True,
    soft_time_limit=540,
    time_limit=600,
)
def reminders_send() -> dict:
    """Send the deadline reminders due today, each once."""

    report = send()
    return {"sent": report.sent, "already_sent": report.already_sent, "failed": report.failed}


@shared_task(
    name="xm_eval.tasks.rectifications_escalate_overdue",
    acks_late=True,
    soft_time_limit=540,
    time_limit=600,
)
def rectifications_escalate_overdue() -> dict:
    """Escalate the rectifications whose deadline passed without a report."""

    return {"escalated": escalate()}
