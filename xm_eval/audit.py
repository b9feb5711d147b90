"""Recording audit events; every service that changes state calls ``audit_record``."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db import models

from .models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def model_snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance`` as JSON-ready data (FKs as ids)."""
    names = fields or [
        field.attname for field in instance._meta.concrete_fields if field.name != "id"
    ]
    return {name: _jsonable(getattr(instance, name)) for name in names}


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    round_id: int | None = None,
    school_id: int | None = None,
) -> AuditEvent:
    """Insert one audit event for a change of ``obj`` made by ``actor``."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        round_id=round_id,
        school_id=school_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
