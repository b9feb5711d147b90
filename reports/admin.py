"""Read-only admin of report artifacts, jobs and group opinions: services write them."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ViewOnlyAdminMixin, ViewOnlyInline
from reports.models import (
    DocumentNumber,
    DocumentNumberCounter,
    GroupOpinion,
    RenderFailure,
    RenderJob,
    ReportArtifact,
)


class ReadOnlyAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(ReportArtifact)
class ReportArtifactAdmin(ReadOnlyAdmin):
    list_display = ("kind", "school", "result_set", "version", "page_count", "size", "rendered_at")
    list_filter = ("kind",)
    list_select_related = ("school", "result_set__round")
    search_fields = ("school__name_zh", "school__code", "sha256")


class RenderFailureInline(ViewOnlyInline):
    model = RenderFailure
    fields = ("kind", "school", "error", "failed_at")
    readonly_fields = fields


@admin.register(RenderJob)
class RenderJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "result_set", "status", "total", "requested_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("result_set__round", "requested_by")
    inlines = [RenderFailureInline]


@admin.register(GroupOpinion)
class GroupOpinionAdmin(ReadOnlyAdmin):
    """Written on the consolidation pages through ``group_opinion_set``, which checks who
    may write it and when, and records the audit trail."""

    list_display = ("school", "round", "author", "updated_at")
    list_select_related = ("school", "round", "author")
    fields = ("round", "school", "text", "author", "updated_at")
    readonly_fields = fields
    actions = None


@admin.register(DocumentNumber)
class DocumentNumberAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "school", "result_set", "issued_on")
    list_filter = ("kind", "year")
    list_select_related = ("school", "result_set__round")
    search_fields = ("school__name_zh", "school__code")


@admin.register(DocumentNumberCounter)
class DocumentNumberCounterAdmin(ReadOnlyAdmin):
    list_display = ("kind", "year", "last_number")
