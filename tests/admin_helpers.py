"""Driving the Django admin in tests: URLs, the data a change form posts, new audit events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db import models
from django.urls import reverse

from core.audit import audit_verify
from core.models import AuditEvent


def admin_url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_values(form: Any, data: dict[str, Any]) -> None:
    for name in form.fields:
        value = form[name].value()
        key = form.add_prefix(name)
        if value is None or value is False:
            continue
        widget = form.fields[name].widget
        if isinstance(widget, forms.MultiWidget):  # e.g. a date and a time
            for index, part in enumerate(widget.decompress(value)):
                if part is not None:
                    data[f"{key}_{index}"] = str(part)
        elif value is True:
            data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        elif isinstance(value, dt.datetime):
            data[key] = value.isoformat()
        else:
            data[key] = str(value)


def form_data(response: Any) -> dict[str, Any]:
    """What the rendered add or change page posts back unchanged: its form and inlines."""
    data: dict[str, Any] = {}
    _form_values(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.initial_forms:
            _form_values(form, data)
    return data


def inline_rows(response: Any, prefix: str) -> dict[Any, int]:
    """The index of each stored row in the inline ``prefix``, by primary key."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return {form.instance.pk: i for i, form in enumerate(inline.formset.initial_forms)}
    raise AssertionError(f"no inline {prefix}")


def add_inline_row(data: dict[str, Any], prefix: str, values: dict[str, Any]) -> None:
    """Append a new row to the inline ``prefix`` of posted ``data``."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)


def last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def events_after(sequence: int) -> list[AuditEvent]:
    """The events recorded after ``sequence``, oldest first."""
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"))


def actions(events: list[AuditEvent]) -> list[tuple[str, str]]:
    return [(event.action, event.object_id) for event in events]


def assert_chain_verifies() -> None:
    report = audit_verify()
    assert report.ok, report.broken
