"""System checks of the audit chain's configuration (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from core import hashing


@checks.register(checks.Tags.security, deploy=True)
def audit_key_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    try:
        hashing.current_algorithm()
    except Exception as error:  # ImproperlyConfigured, shown as the check's text  # noqa: BLE001
        messages.append(checks.Error(str(error), id="core.E001"))
    if not getattr(settings, "AUDIT_HMAC_KEY", ""):
        messages.append(
            checks.Warning(
                "AUDIT_HMAC_KEY is not set: the audit chain is not keyed, so whoever can write "
                "to the database can recompute it after an edit.",
                hint="Set AUDIT_HMAC_KEY to a long random secret kept outside the database "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`).",
                id="core.W001",
            )
        )
    return messages
