"""The Celery app of xm_eval; configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xm_eval.settings")

app = Celery("xm_eval")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
