from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedAdminMixin
from schools.models import School, Specialty, StaffMembership


class SpecialtyInline(admin.TabularInline):
    model = Specialty
    fields = ("code", "name", "established_year", "is_active")
    extra = 0


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    fields = ("user", "title")
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("user")


@admin.register(School)
class SchoolAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The school registry is maintained here; every edit, inline rows included, is audited.

    A school in a round's scope cannot be deleted: the round's scope would
    change with it.
    """

    list_display = ("code", "name_zh", "kind", "ranking_group", "status", "district", "is_sample")
    list_display_links = ("code", "name_zh")
    list_filter = ("kind", "ranking_group", "status", "district")
    search_fields = ("code", "name_zh", "name_en", "licence_number")
    fieldsets = (
        (None, {"fields": ("code", "name_zh", "name_en", "kind", "ranking_group", "status")}),
        (_("Registration"), {"fields": ("licence_number", "district", "address", "is_sample")}),
    )
    inlines = (SpecialtyInline, StaffMembershipInline)

    def has_delete_permission(self, request: HttpRequest, obj: School | None = None) -> bool:
        if obj is not None and obj.rounds.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Specialty)
class SpecialtyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "school", "established_year", "is_active")
    list_filter = ("is_active", "school")
    search_fields = ("code", "name", "school__name_zh", "school__code")
    list_select_related = ("school",)
    autocomplete_fields = ("school",)


@admin.register(StaffMembership)
class StaffMembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Who acts for which school: maintained here, every edit audited."""

    list_display = ("user", "school", "title")
    list_filter = ("school",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "school__name_zh")
    list_select_related = ("user", "school")
    autocomplete_fields = ("user", "school")
