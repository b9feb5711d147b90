"""Score data changes through the scoring services and their pages; the admin shows it.

Audit scores (审核分) included: the bureau gives them on the audit page of the
score sheets (``scoring.consolidation_views.audit``), which calls ``override_score_set``.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ViewOnlyAdminMixin, ViewOnlyInline
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    ScoreSheet,
    SelfAssessment,
    SelfScore,
)

POINTS_ROW_FIELDS = ("indicator", "points", "max_points", "not_applicable")


class ScoreInline(ViewOnlyInline):
    model = Score
    fields = (*POINTS_ROW_FIELDS, "deduction_reason", "comment", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Score]:
        return (
            super()
            .get_queryset(request)
            .select_related("indicator")
            .order_by("indicator__order", "indicator__code")
        )


@admin.register(ScoreSheet)
class ScoreSheetAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("round", "school", "evaluator", "status", "version", "submitted_at")
    list_filter = ("round", "status", "school")
    search_fields = ("school__name_zh", "evaluator__username")
    list_select_related = ("round", "school", "evaluator")
    fields = ("round", "school", "evaluator", "status", "version", "submitted_at", "updated_at")
    readonly_fields = fields
    inlines = (ScoreInline,)
    actions = None


class SelfScoreInline(ViewOnlyInline):
    model = SelfScore
    fields = (*POINTS_ROW_FIELDS, "note")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SelfScore]:
        return (
            super()
            .get_queryset(request)
            .select_related("indicator")
            .order_by("indicator__order", "indicator__code")
        )


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("school", "round", "status", "submitted_at", "submitted_by")
    list_filter = ("round", "status", "school")
    search_fields = ("school__name_zh", "school__code")
    list_select_related = ("round", "school", "submitted_by")
    fields = ("round", "school", "status", "submitted_at", "submitted_by")
    readonly_fields = fields
    inlines = (SelfScoreInline,)
    actions = None


@admin.register(ConsensusScore)
class ConsensusScoreAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "round",
        "school",
        "indicator",
        "points",
        "max_points",
        "not_applicable",
        "leader",
        "created_at",
    )
    list_filter = ("round", "school", "not_applicable")
    search_fields = ("school__name_zh", "indicator__code", "justification")
    list_select_related = ("round", "school", "indicator", "leader")
    fields = (
        "round",
        "school",
        "indicator",
        "points",
        "max_points",
        "not_applicable",
        "leader",
        "justification",
        "created_at",
    )
    readonly_fields = fields
    actions = None


@admin.register(AuditScore)
class AuditScoreAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View-only: the bureau gives audit scores on the audit page of a school
    (``/sheets/<round>/schools/<school>/audit/``), beside the experts' scores and the
    consensus, through ``audit_score_set``, which checks role, phase, range and reason
    and records ``audit_score.set``."""

    list_display = (
        "round",
        "school",
        "indicator",
        "points",
        "max_points",
        "not_applicable",
        "auditor",
        "created_at",
    )
    list_filter = ("round", "school", "not_applicable")
    search_fields = ("school__name_zh", "indicator__code", "reason")
    list_select_related = ("round", "school", "indicator", "auditor")
    fields = (
        "round",
        "school",
        "indicator",
        "points",
        "max_points",
        "not_applicable",
        "reason",
        "auditor",
        "created_at",
    )
    readonly_fields = fields
    actions = None


class ResultRowInline(ViewOnlyInline):
    model = ResultRow
    fields = (
        "rank",
        "school",
        "total",
        "grade",
        "group_rank",
        "rank_note",
        "veto_failed",
        "is_complete",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResultRow]:
        return super().get_queryset(request).select_related("school").order_by("rank", "school")


@admin.register(ResultSet)
class ResultSetAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "round",
        "version",
        "computed_at",
        "consolidation_method",
        "is_published",
        "published_at",
        "row_count",
    )
    list_filter = ("round", "is_published")
    list_select_related = ("round",)
    fields = (
        "round",
        "version",
        "computed_at",
        "computed_by",
        "consolidation_method",
        "is_published",
        "published_at",
        "published_by",
        "missing_scores",
        "statistics",
    )
    readonly_fields = fields
    inlines = (ResultRowInline,)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResultSet]:
        return super().get_queryset(request).annotate(row_count=Count("rows"))

    @admin.display(description=_("schools"), ordering="row_count")
    def row_count(self, obj: ResultSet) -> int:
        return obj.row_count
