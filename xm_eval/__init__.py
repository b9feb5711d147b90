"""xm_eval: quality-assessment rounds for technical schools."""

from xm_eval.celery import app as celery_app

__all__ = ("celery_app",)
