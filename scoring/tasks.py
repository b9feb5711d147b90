"""Celery tasks of scoring: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from rounds.models import Round
from scoring.models import ResultSet
from scoring.services import result_set_statistics_compute, round_results_compute


@shared_task(name="scoring.round_results_compute", acks_late=True, max_retries=0)
def round_results_compute_task(round_id: int, actor_id: int | None = None) -> dict:
    """Compute a (large) round in the background; returns the new result set's id and version."""
    round = Round.objects.get(pk=round_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    result_set = round_results_compute(round=round, actor=actor)
    return {"result_set_id": result_set.pk, "version": result_set.version}


@shared_task(name="scoring.result_set_statistics", acks_late=True, max_retries=2)
def result_set_statistics_task(result_set_id: int) -> int:
    """Compute a result set's consistency statistics (idempotent)."""
    result_set = ResultSet.objects.select_related("round").get(pk=result_set_id)
    result_set_statistics_compute(result_set=result_set)
    return result_set.pk
