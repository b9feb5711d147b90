# The production image of xm_eval: one image for web, workers and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 XM_EVAL_VAR_DIR=/var/lib/xm_eval
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-noto-cjk poppler-utils gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=1 python manage.py compilemessages -v 0
RUN useradd --system --home /app xm_eval \
 && mkdir -p /var/lib/xm_eval && chown xm_eval /var/lib/xm_eval
USER xm_eval
EXPOSE 8000
CMD ["gunicorn", "xm_eval.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
