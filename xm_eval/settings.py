"""The one settings module of xm_eval, configured from the environment.

Embedded default (nothing set): SQLite under ``var/``, Celery tasks run in-process,
local-memory cache. Production: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (broker,
result backend and cache), ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DEBUG=0``.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("XM_EVAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# A key that is known to everybody: accepted only while DEBUG is on.
INSECURE_DEV_SECRET_KEY = "django-insecure-xm-eval-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if (
    not SECRET_KEY
    or SECRET_KEY == INSECURE_DEV_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
):
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is the development default; set a long random "
            "SECRET_KEY in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = SECRET_KEY or INSECURE_DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The project's apps are layers, bottom to top (docs/architecture.md).
    "core",
    "schools",
    "rounds",
    "scoring",
    "publication",
    "rectification",
    "incentives",
    "reports",
    "supervision",
    "xm_eval",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not DEBUG:
    # gunicorn serves the collected static files itself in production.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "xm_eval.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xm_eval.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "xm_eval.wsgi.application"

if not os.environ.get("DATABASE_URL"):
    # The embedded default keeps its SQLite file under var/, which a fresh
    # clone does not have yet.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must hold a small round's real concurrency (a few
    # experts autosaving at once): readers never wait for the writer (WAL), a
    # write transaction takes the lock when it begins instead of failing half-way
    # when it upgrades (IMMEDIATE), and a writer waits up to 20 s for the lock
    # instead of answering "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions are read from the cache (Redis in production) and written through to
# the database, so a request such as an autosave does not query for its session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Django's model backend, loading the user's roles with the user (one query a request).
AUTHENTICATION_BACKENDS = ["core.auth_backends.RolesModelBackend"]
LOGIN_URL = "site:login"
LOGIN_REDIRECT_URL = "site:home"

# Language and time
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [Path(os.environ.get("XM_EVAL_LOCALE_DIR", BASE_DIR / "locale"))]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# Static files are public; media (evidence, reports) is private and served only
# through permission-checked views, never from STATIC_ROOT or a public URL.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Backups (core.backup): where `manage.py backup` writes, and how many it keeps.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups"))
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    },
    # Hashed, compressed static files served by gunicorn through WhiteNoise;
    # plain storage in development and tests, where nothing is collected.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
FILE_UPLOAD_PERMISSIONS = 0o640

# Redis: broker, result backend and cache when REDIS_URL is set; otherwise tasks
# run in-process and the cache is local memory (the embedded default).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "xm_eval",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits stay well below the broker's visibility timeout so a task that is
# acknowledged late is never delivered twice while it is still running.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "540"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "600"))
# One PDF's render: killed after REPORTS_RENDER_TIME_LIMIT seconds (a soft limit a
# minute before lets it record the failure).
REPORTS_RENDER_TIME_LIMIT = int(os.environ.get("REPORTS_RENDER_TIME_LIMIT", "300"))
# A message a dead worker held comes back after the visibility timeout: a minute
# above the longest hard limit (11 minutes by default), not Redis's default hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, REPORTS_RENDER_TIME_LIMIT) + 60
}
# A render job without progress for this long (a document's hard limit and a
# minute) is stale: its missing documents are sent again (reports.tasks).
REPORTS_STALE_AFTER = int(
    os.environ.get("REPORTS_STALE_AFTER", str(REPORTS_RENDER_TIME_LIMIT + 60))
)
# Automatic re-sends of a stale job before it waits for the bureau's retry.
REPORTS_AUTO_REQUEUES = 3
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"reports.tasks.*": {"queue": "reports"}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "xm-eval@localhost")

REST_FRAMEWORK = {
    # Token first, so an anonymous request to a protected endpoint answers 401
    # with a WWW-Authenticate header rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.AnonThrottle", "core.api.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "xm_eval API",
    "DESCRIPTION": (
        "Published rankings and results of the school quality-assessment rounds for anyone; "
        "assignments, score sheets, self-assessments, evidence metadata, result sets, audit "
        "events and consistency statistics by role. Errors always answer "
        '`{"error": {"code", "message", "field", "details"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SchoolKindEnum": "schools.enums.SchoolKind",
        "RankingGroupEnum": "schools.enums.RankingGroup",
        "SchoolStatusEnum": "schools.enums.SchoolStatus",
        "FrameworkStatusEnum": "rounds.enums.FrameworkStatus",
        "RoundPhaseEnum": "rounds.enums.RoundPhase",
        "AssignmentStatusEnum": "rounds.enums.AssignmentStatus",
        "IndicatorMethodEnum": "rounds.enums.IndicatorMethod",
        "ConsolidationMethodEnum": "rounds.enums.ConsolidationMethod",
        "SheetStatusEnum": "scoring.enums.SheetStatus",
        "GradeEnum": "rounds.enums.Grade",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema_add_error_responses",
    ],
    # The interactive docs load Swagger UI from the sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Production hardening: on whenever DEBUG is off, so `check --deploy` is clean.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Public notice, objections, rectification and reminders (issue 7).
# Days a result set stays under public notice (公示) before it can be published.
NOTICE_DAYS = int(os.environ.get("NOTICE_DAYS", "7"))
# Months an unqualified school has to rectify (限期整改), counted from publication.
RECTIFICATION_MONTHS = int(os.environ.get("RECTIFICATION_MONTHS", "6"))
# Render each unqualified school's rectification notice (PDF) when results are published.
RECTIFICATION_NOTICE_RENDER = env_bool("RECTIFICATION_NOTICE_RENDER", True)
# Fernet keys for the objectors' identities, comma separated (the first encrypts; all
# decrypt, for rotation). Empty: a key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY")
# The audit chain (core.hashing, core.audit_checkpoints): the hash, sha256 or sm3 (国密);
# a key kept outside the database makes the chain keyed (HMAC), so whoever can write to
# the database cannot recompute it. Signed checkpoints of its head go to a folder (by
# default in the media store), the log and these addresses, every hour (Celery beat).
AUDIT_HASH_ALGORITHM = os.environ.get("AUDIT_HASH_ALGORITHM", "sha256")
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
AUDIT_CHECKPOINT_DIR = os.environ.get("AUDIT_CHECKPOINT_DIR", "")
AUDIT_CHECKPOINT_EMAILS = env_list("AUDIT_CHECKPOINT_EMAILS")
# The largest scanned seal an organisation may attach to an objection.
OBJECTION_SEAL_MAX_BYTES = int(os.environ.get("OBJECTION_SEAL_MAX_BYTES", str(5 * 1024 * 1024)))
# Reminder e-mails go out this many days before every deadline, once each.
REMINDER_DAYS_BEFORE = (30, 7, 1)

# Celery beat (`celery -A xm_eval beat`): the daily jobs, in TIME_ZONE (Asia/Shanghai).
CELERY_BEAT_SCHEDULE = {
    "reminders-send": {
        "task": "xm_eval.tasks.reminders_send",
        "schedule": crontab(minute=0, hour=8),
    },
    "rectifications-escalate-overdue": {
        "task": "xm_eval.tasks.rectifications_escalate_overdue",
        "schedule": crontab(minute=30, hour=0),
    },
    "audit-checkpoint": {
        "task": "core.tasks.audit_checkpoint",
        "schedule": crontab(minute=5),
    },
    "render-jobs-recover": {
        "task": "reports.tasks.render_jobs_recover",
        "schedule": 60.0,
    },
}
# The site's address, for links in e-mails (reminders).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
