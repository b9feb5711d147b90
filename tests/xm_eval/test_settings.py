"""Production settings refuse unsafe configuration; check --deploy is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!kq2-production-like-secret-key-9f8e7d6c5b4a3210zyxwvutsrqpon",
    "ALLOWED_HOSTS": "eval.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    # The audit chain's key, held outside the database (core.W001 warns without it).
    "AUDIT_HMAC_KEY": "3f1c9a7e5b2d4068a1c3e5f7092b4d6f8a0c2e4f6a8b0d2f4a6c8e0b2d4f6a8c",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_development_secret_key_refuses_to_start_without_debug():
    result = manage(
        "check", **{**PRODUCTION, "SECRET_KEY": "django-insecure-xm-eval-development-only"}
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.zh_hans
def test_language_and_time_settings(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
