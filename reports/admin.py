"""Read-only admin of report artifacts and jobs; group opinions through the service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from xm_eval.errors import DomainError

from .models import GroupOpinion, RenderFailure, RenderJob, ReportArtifact
from .services import group_opinion_set


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ReportArtifact)
class ReportArtifactAdmin(ReadOnlyAdmin):
    list_display = ("kind", "school", "result_set", "version", "page_count", "size", "rendered_at")
    list_filter = ("kind",)
    list_select_related = ("school", "result_set__round")
    search_fields = ("school__name_zh", "school__code", "sha256")


class RenderFailureInline(admin.TabularInline):
    model = RenderFailure
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "school", "error", "failed_at")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(RenderJob)
class RenderJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "result_set", "status", "total", "requested_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("result_set__round", "requested_by")
    inlines = [RenderFailureInline]


@admin.register(GroupOpinion)
class GroupOpinionAdmin(admin.ModelAdmin):
    list_display = ("school", "round", "author", "updated_at")
    list_select_related = ("school", "round", "author")
    fields = ("round", "school", "text")

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: GroupOpinion, form: Any, change: bool) -> None:
        # Through the service, so the rules and the audit trail apply.
        try:
            group_opinion_set(round=obj.round, school=obj.school, actor=request.user, text=obj.text)
        except DomainError as error:
            messages.error(request, str(error))
