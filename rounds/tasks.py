"""Celery tasks for frameworks and rounds: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from rounds.models import Framework
from rounds.services import framework_validate


@shared_task(name="rounds.framework_validate", acks_late=True, max_retries=0)
def framework_validate_task(framework_id: int) -> dict:
    """Validate a stored framework; returns its id, whether it is valid and every problem."""
    framework = Framework.objects.get(pk=framework_id)
    problems = framework_validate(framework=framework)
    return {
        "framework_id": framework.pk,
        "valid": not problems,
        "problems": [problem.as_dict() for problem in problems],
    }
