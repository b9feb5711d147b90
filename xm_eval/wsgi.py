"""WSGI entry point (gunicorn xm_eval.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xm_eval.settings")

application = get_wsgi_application()
