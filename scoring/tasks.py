"""Celery tasks of scoring: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from scoring.models import ResultSet
from scoring.result_sets import result_set_statistics_compute


@shared_task(name="scoring.result_set_statistics", acks_late=True, max_retries=2)
def result_set_statistics_task(result_set_id: int) -> int:
    """Compute a result set's consistency statistics (idempotent)."""
    result_set = ResultSet.objects.select_related("round").get(pk=result_set_id)
    result_set_statistics_compute(result_set=result_set)
    return result_set.pk
