"""Score data changes through the scoring services; the admin shows it.

The one exception is the bureau's audit score (审核分), which bureau admins may
add here during consolidation.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rounds.enums import RoundPhase
from xm_eval.admin import ViewOnlyAdminMixin, ViewOnlyInline
from xm_eval.audit import audit_record, model_snapshot

from .models import (
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


class AuditScoreForm(forms.ModelForm):
    """An audit score on one observation point, within 0 … its maximum points."""

    class Meta:
        model = AuditScore
        fields = ("round", "school", "indicator", "points", "not_applicable", "reason")

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        round = cleaned_data.get("round")
        school = cleaned_data.get("school")
        indicator = cleaned_data.get("indicator")
        points = cleaned_data.get("points")
        not_applicable = cleaned_data.get("not_applicable")
        if round is not None:
            if round.phase != RoundPhase.CONSOLIDATION:
                self.add_error(
                    "round",
                    _(
                        "Audit scores are given in the consolidation phase; this round is in "
                        "the phase “%(phase)s”."
                    )
                    % {"phase": round.get_phase_display()},
                )
            if school is not None and not round.schools.filter(pk=school.pk).exists():
                self.add_error("school", _("This school is not in the scope of the round."))
        if indicator is None:
            return cleaned_data
        if round is not None and indicator.framework_id != round.framework_id:
            self.add_error("indicator", _("The indicator belongs to another framework."))
            return cleaned_data
        if indicator.children.exists():
            self.add_error(
                "indicator",
                _(
                    "Audit scores are given on observation points "
                    "(indicators without children) only."
                ),
            )
            return cleaned_data
        # Copied so the database constraint checks the points against the maximum too.
        self.instance.max_points = indicator.max_points
        if not_applicable:
            if points is not None:
                self.add_error("points", _("A not-applicable observation point has no points."))
        elif points is None:
            self.add_error("points", _("Enter the points, or mark the point not applicable."))
        elif not (0 <= points <= indicator.max_points):
            self.add_error(
                "points",
                ValidationError(
                    _("Points must lie between 0 and %(max)s, the maximum of %(code)s."),
                    code="points_out_of_range",
                    params={"max": indicator.max_points, "code": indicator.code},
                ),
            )
        return cleaned_data


@admin.register(AuditScore)
class AuditScoreAdmin(admin.ModelAdmin):
    form = AuditScoreForm
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
    autocomplete_fields = ("round", "school", "indicator")
    actions = None

    def get_fields(self, request: HttpRequest, obj: AuditScore | None = None) -> tuple:
        if obj is None:
            return AuditScoreForm.Meta.fields
        return (
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

    def has_change_permission(self, request: HttpRequest, obj: AuditScore | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditScore | None = None) -> bool:
        return False

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: AuditScore, form: Any, change: bool) -> None:
        obj.auditor = request.user
        obj.max_points = form.cleaned_data["indicator"].max_points
        obj.save()
        audit_record(
            actor=request.user,
            action="audit_score.create",
            obj=obj,
            after=model_snapshot(obj),
            round_id=obj.round_id,
            school_id=obj.school_id,
        )


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
