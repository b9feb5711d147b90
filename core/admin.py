"""Admin for the audit trail, and the admin helpers the apps share.

Every model admin of the project is one of three kinds:

- view-only (``ViewOnlyAdminMixin``): rows that services write, with their
  checks and audit events; the admin shows them and changes nothing;
- service-backed: the admin form hands the write to the service
  (``ServiceFormAdminMixin``), which records the audit event;
- audited (``AuditedAdminMixin``): reference data maintained here; every add,
  change and delete made in the admin is recorded in the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import NestedObjects, unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models, router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from core.models import AuditEvent


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


# Rows a delete cascades to are recorded when they are domain data; the
# bookkeeping of other apps (admin log, sessions, tokens, reminders sent, the
# rows behind many-to-many fields) is not. Many-to-many values are part of
# the snapshot of the row that holds the field.
AUDITED_CASCADE_APPS = frozenset({"schools", "rounds", "scoring", "reports"})


def audit_entity(model: type[models.Model]) -> str:
    """A model's name in audit actions, as the services spell it: ``staff_membership``."""
    name = model._meta.concrete_model.__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def admin_snapshot(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The row's field values as JSON-ready data: FKs as ids, files as their stored
    names, many-to-many fields as sorted ids; ``exclude`` names fields left out."""
    excluded = set(exclude)
    names = [
        field.attname
        for field in obj._meta.concrete_fields
        if not field.primary_key and field.name not in excluded
    ]
    snapshot = model_snapshot(obj, names)
    for field in obj._meta.concrete_fields:
        if isinstance(field, models.FileField) and field.attname in snapshot:
            snapshot[field.attname] = getattr(obj, field.attname).name or ""
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            if field.name not in excluded:
                snapshot[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return snapshot


class AuditedAdminMixin:
    """Edits of reference data in the admin, recorded in the audit trail.

    Every add, change and delete made through the admin appends an event, as a
    service would: ``<entity>.admin_create`` with the new row,
    ``<entity>.admin_update`` with before and after of the changed fields only
    (nothing when nothing changed), ``<entity>.admin_delete`` with the removed
    row; the acting user, and the round and school the row belongs to. Inline
    rows count like the main row, and so do the domain rows a delete cascades
    to. Before and after are read from the database, so values the admin
    derives after saving (``update_derived_fields``) are recorded as they end up.

    An admin whose ``save_model`` hands the write to a service (which records
    its own event) does not call ``super().save_model()``, so nothing is
    recorded twice; its deletes are still recorded. Likewise an inline formset
    whose class says ``changes_audited_by_services = True`` has its changed
    rows saved by a service (only its added and deleted rows are recorded
    here), and one saying ``audited_by_services = True`` is written by services
    only (nothing is recorded here). A bulk delete obeys the per-object delete
    permission, as the delete page does.
    """

    # Fields never copied into the trail (secrets such as password hashes).
    audit_exclude: Sequence[str] = ()

    _PENDING = "_xm_eval_admin_audit_pending"

    # ----------------------------------------------------------- recording

    def audit_scope(self, obj: models.Model) -> tuple[int | None, int | None]:
        """(round_id, school_id) of the events about ``obj``."""
        label = obj._meta.label_lower
        round_id = obj.pk if label == "rounds.round" else getattr(obj, "round_id", None)
        school_id = obj.pk if label == "schools.school" else getattr(obj, "school_id", None)
        return round_id, school_id

    def audit_snapshot(self, obj: models.Model) -> dict[str, Any]:
        return admin_snapshot(obj, exclude=self.audit_exclude)

    def audit_event(
        self,
        request: HttpRequest,
        obj: models.Model,
        verb: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEvent:
        round_id, school_id = self.audit_scope(obj)
        return audit_record(
            actor=request.user,
            action=f"{audit_entity(type(obj))}.admin_{verb}",
            obj=obj,
            before=before,
            after=after,
            round_id=round_id,
            school_id=school_id,
        )

    def audit_change(
        self,
        request: HttpRequest,
        obj: models.Model,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> AuditEvent | None:
        """Record the fields whose values differ between two snapshots of ``obj``."""
        changed = sorted(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
        if not changed:
            return None
        return self.audit_event(
            request,
            obj,
            "update",
            before={name: before.get(name) for name in changed},
            after={name: after.get(name) for name in changed},
        )

    def audit_deletion(self, request: HttpRequest, objs: Sequence[models.Model]) -> None:
        """Record the deletion of ``objs`` (of one model) and of the domain rows it cascades to.

        Called before the rows are deleted, in the same transaction.
        """
        if not objs:
            return
        for obj in objs:
            self.audit_event(request, obj, "delete", before=self.audit_snapshot(obj))
        collector = NestedObjects(using=router.db_for_write(type(objs[0])))
        collector.collect(list(objs))
        deleted = {(obj._meta.concrete_model, obj.pk) for obj in objs}
        for model, instances in collector.model_objs.items():
            meta = model._meta
            if meta.auto_created or meta.app_label not in AUDITED_CASCADE_APPS:
                continue
            for instance in sorted(instances, key=lambda row: row.pk):
                if (meta.concrete_model, instance.pk) in deleted:
                    continue
                deleted.add((meta.concrete_model, instance.pk))
                self.audit_event(request, instance, "delete", before=self.audit_snapshot(instance))

    def update_derived_fields(
        self, request: HttpRequest, form: Any, formsets: Sequence[Any], change: bool
    ) -> None:
        """Recompute values derived from the saved rows, before their after-snapshots."""

    # ---------------------------------------------------- ModelAdmin hooks

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change:
            stored = self.model._default_manager.filter(pk=obj.pk).first()
            before = self.audit_snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)
        setattr(request, self._PENDING, (obj, before))

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Sequence[Any], change: bool
    ) -> None:
        inline_rows = [(formset, self._inline_before(request, formset)) for formset in formsets]
        super().save_related(request, form, formsets, change)
        self.update_derived_fields(request, form, formsets, change)
        pending = getattr(request, self._PENDING, None)
        if pending is not None and pending[0] is form.instance:
            delattr(request, self._PENDING)
            obj, before = pending
            stored = self.model._default_manager.get(pk=obj.pk)
            if before is None:
                self.audit_event(request, stored, "create", after=self.audit_snapshot(stored))
            else:
                self.audit_change(request, stored, before, self.audit_snapshot(stored))
        for formset, before_rows in inline_rows:
            self._inline_after(request, formset, before_rows)

    def _inline_before(self, request: HttpRequest, formset: Any) -> dict[Any, dict[str, Any]]:
        """Snapshots of the formset's stored rows; the rows marked for deletion are
        recorded as deleted now, before the formset deletes them."""
        if getattr(formset, "audited_by_services", False):
            return {}
        pks = [form.instance.pk for form in formset.initial_forms if form.instance.pk is not None]
        stored = formset.model._default_manager.in_bulk(pks)
        doomed = {
            form.instance.pk
            for form in formset.deleted_forms
            if form in formset.initial_forms and form.instance.pk in stored
        }
        self.audit_deletion(request, [stored[pk] for pk in sorted(doomed)])
        if getattr(formset, "changes_audited_by_services", False):
            return {}
        return {pk: self.audit_snapshot(row) for pk, row in stored.items() if pk not in doomed}

    def _inline_after(
        self, request: HttpRequest, formset: Any, before_rows: dict[Any, dict[str, Any]]
    ) -> None:
        if getattr(formset, "audited_by_services", False):
            return
        manager = formset.model._default_manager
        created = manager.in_bulk([obj.pk for obj in getattr(formset, "new_objects", ())])
        for pk in sorted(created):
            row = created[pk]
            self.audit_event(request, row, "create", after=self.audit_snapshot(row))
        stored = manager.in_bulk(list(before_rows))
        for pk, before in before_rows.items():
            if pk in stored:
                self.audit_change(request, stored[pk], before, self.audit_snapshot(stored[pk]))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.audit_deletion(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic(using=router.db_for_write(self.model)):
            objs = list(queryset)
            if any(not self.has_delete_permission(request, obj) for obj in objs):
                raise PermissionDenied
            self.audit_deletion(request, objs)
            super().delete_queryset(request, queryset)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        # The bulk "delete selected" action asks only for the model permission;
        # an object its admin refuses to delete makes the whole action refused.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(not self.has_delete_permission(request, obj) for obj in objs):
            perms_needed.add(self.opts.verbose_name)
        return deleted, model_count, perms_needed, protected


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


# ------------------------------------------------------------ users and roles
# Roles are Django groups: who holds which role, and what a role may do,
# decides who scores and sees what, so their changes are recorded too.

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdminMixin, UserAdmin):
    audit_exclude = ("password",)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # The hash never enters the trail; the event says the password was set.
        user = self.get_object(request, unquote(id))
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and user is not None:
                previous = user.password
                user.refresh_from_db(fields=["password"])
                if user.password != previous:
                    self.audit_event(
                        request,
                        user,
                        "password_set",
                        after={"usable_password": user.has_usable_password()},
                    )
        return response


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass
