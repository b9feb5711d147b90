"""Admin for the audit trail, and the admin helpers the apps share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse

from .errors import DomainError
from .models import AuditEvent


class ViewOnlyAdminMixin:
    """Rows written only by services: the admin shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ViewOnlyInline(ViewOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ServiceFormAdminMixin:
    """Turn a ``DomainError`` raised by a service in ``save_model`` into a form error.

    The admin runs the whole add/change view inside one transaction, so the
    refused attempt is rolled back; the view then runs once more on the same
    POST and the form shows the service's message on the field it names.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if request.method != "POST" or hasattr(request, "_xm_eval_service_error"):
                raise
            request._xm_eval_service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error: DomainError | None = getattr(request, "_xm_eval_service_error", None)
        if error is None:
            return form_class

        class RefusedByServiceForm(form_class):
            def clean(self) -> dict[str, Any]:
                cleaned_data = super().clean()
                field = error.field if error.field in self.fields else None
                self.add_error(field, str(error.message))
                return cleaned_data

        return RefusedByServiceForm


def copy_saved_fields(target: models.Model, saved: models.Model) -> None:
    """Give the admin's unsaved instance the row a service wrote (pk included)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail is append-only: nobody, superusers included, edits it here."""

    list_display = ("created_at", "actor", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr",)
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    fields = (
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "round_id",
        "school_id",
        "before",
        "after",
    )
    readonly_fields = fields
    actions = None
