"""Celery tasks of the core layer, run by beat (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from core.audit_checkpoints import checkpoint_write


@shared_task(name="core.tasks.audit_checkpoint", acks_late=True, soft_time_limit=50, time_limit=60)
def audit_checkpoint() -> str:
    """Write a signed checkpoint of the audit chain's head (none if it did not move)."""
    path = checkpoint_write()
    return str(path) if path else ""
