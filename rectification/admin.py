from __future__ import annotations

from typing import Any

from django.contrib import admin

from rectification.models import Rectification


@admin.register(Rectification)
class RectificationAdmin(admin.ModelAdmin):
    """Read-only: rectifications change through their services (rounds.rectification),
    which enforce the state machine and record the audit trail."""

    list_display = ("school", "round", "deadline", "status", "created_at")
    list_filter = ("status", "round", "school")
    search_fields = ("school__name_zh", "school__code", "round__name")
    list_select_related = ("school", "round")
    autocomplete_fields = ("round", "school")
    date_hierarchy = "deadline"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
