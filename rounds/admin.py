from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from core.admin import (
    AuditedAdminMixin,
    ServiceFormAdminMixin,
    ViewOnlyAdminMixin,
    ViewOnlyInline,
    copy_saved_fields,
)
from core.errors import DomainError
from rounds import group_services, services
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.forms import (
    AssignmentAddForm,
    AssignmentChangeForm,
    ConflictOfInterestAddForm,
    IndicatorAdminForm,
    PhaseWindowInlineFormSet,
    RoundAdminForm,
    problem_text,
)
from rounds.models import (
    Assignment,
    ConflictOfInterest,
    EvaluationGroup,
    Evidence,
    Framework,
    GroupMember,
    Indicator,
    PhaseWindow,
    Round,
)

FROZEN_MESSAGE = _(
    "Framework “%(name)s” is frozen because a round uses it: the framework and its "
    "indicators are read-only. To change indicators, create a new framework."
)
ROUND_OPEN_MESSAGE = _(
    "Round “%(name)s” has left the draft phase: its framework, cycle, consolidation "
    "method and schools in scope can no longer change."
)
ROUND_CLOSED_MESSAGE = _("Round “%(name)s” is closed: it is read-only.")

# What decides a round's results and scope: fixed once the round leaves its draft phase.
ROUND_FIXED_FIELDS = ("framework", "cycle_start", "cycle_end", "consolidation_method", "schools")


def _report_domain_error(
    model_admin: admin.ModelAdmin, request: HttpRequest, obj: Any, error: DomainError
) -> None:
    model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    for detail in error.details or ():
        if isinstance(detail, dict):
            code = detail.get("indicator_code", "")
            message = detail.get("message", "")
            text = message if not code or message.startswith(code) else f"{code}: {message}"
        else:
            text = str(detail)
        model_admin.message_user(request, f"{obj}: {text}", messages.ERROR)


# ---------------------------------------------------------------- frameworks


class IndicatorInlineFormSet(BaseInlineFormSet):
    """Renders the parent choices once for all rows instead of one query per row.

    Changed rows are saved by ``indicator_update`` (see ``FrameworkAdmin.save_formset``).
    """

    changes_audited_by_services = True

    parent_queryset: QuerySet[Indicator]

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        if "parent" not in form.fields:
            return
        if not hasattr(self, "_parent_choices"):
            self._parent_choices = [
                ("", "---------"),
                *((indicator.pk, str(indicator)) for indicator in self.parent_queryset),
            ]
        form.fields["parent"].choices = self._parent_choices


class IndicatorInline(admin.TabularInline):
    model = Indicator
    form = IndicatorAdminForm
    formset = IndicatorInlineFormSet
    fk_name = "framework"
    fields = (
        "order",
        "code",
        "parent",
        "title_zh",
        "max_points",
        "weight",
        "method",
        "is_veto",
        "tags",
    )
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Indicator]:
        return super().get_queryset(request).select_related("parent").order_by("order", "code")

    def get_formset(self, request: HttpRequest, obj: Framework | None = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        parents = (
            Indicator.objects.filter(framework=obj).order_by("order", "code")
            if obj is not None and obj.pk is not None
            else Indicator.objects.none()
        )
        formset.parent_queryset = parents
        if "parent" in formset.form.base_fields:
            formset.form.base_fields["parent"].queryset = parents
        return formset

    def has_add_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj):
            return False
        return super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj):
            return False
        return super().has_delete_permission(request, obj)


def _indicator_level_set(indicator: Indicator) -> None:
    """A new indicator's level: one below its parent's, as stored."""
    parent_level = (
        Indicator.objects.filter(pk=indicator.parent_id).values_list("level", flat=True).first()
    )
    indicator.level = (parent_level or 0) + 1


@admin.register(Framework)
class FrameworkAdmin(ServiceFormAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Frameworks that are not frozen are edited here; a frozen one is read-only.

    Changes go through ``framework_update`` and ``indicator_update``, which
    apply the frozen-framework rule and record the audit trail; added and
    deleted draft frameworks and indicators are recorded by the admin.
    """

    list_display = (
        "name",
        "policy_title",
        "valid_from",
        "valid_to",
        "total_points",
        "status",
        "indicator_count",
    )
    list_filter = ("status",)
    search_fields = ("name", "policy_title")
    fields = (
        "name",
        "policy_title",
        "valid_from",
        "valid_to",
        "total_points",
        "grade_bands",
        "status",
        "created_at",
    )
    readonly_fields = ("status", "created_at")
    inlines = (IndicatorInline,)
    actions = ("validate_framework",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Framework]:
        return super().get_queryset(request).annotate(indicator_count=Count("indicators"))

    @admin.display(description=_("indicators"), ordering="indicator_count")
    def indicator_count(self, obj: Framework) -> int:
        return obj.indicator_count

    def has_change_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Framework | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            framework = self.get_object(request, object_id)
            if framework is not None and services.framework_is_frozen(framework=framework):
                self.message_user(
                    request, FROZEN_MESSAGE % {"name": framework.name}, messages.WARNING
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Framework, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
        elif form.changed_data:
            updated = services.framework_update(
                framework=obj,
                actor=request.user,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
            copy_saved_fields(obj, updated)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Indicator:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for indicator in formset.deleted_objects:
            indicator.delete()
        for indicator, fields in formset.changed_objects:
            updated = services.indicator_update(
                indicator=indicator,
                actor=request.user,
                **{name: getattr(indicator, name) for name in fields},
            )
            copy_saved_fields(indicator, updated)
        for indicator in formset.new_objects:
            _indicator_level_set(indicator)
            indicator.save()

    @admin.action(description=_("Validate the selected frameworks"))
    def validate_framework(self, request: HttpRequest, queryset: QuerySet[Framework]) -> None:
        for framework in queryset:
            problems = services.framework_validate(framework=framework)
            if not problems:
                self.message_user(
                    request,
                    _("Framework “%(name)s” is valid.") % {"name": framework.name},
                    messages.SUCCESS,
                )
                continue
            self.message_user(
                request,
                _("Framework “%(name)s” has %(count)d problem(s):")
                % {"name": framework.name, "count": len(problems)},
                messages.ERROR,
            )
            for problem in problems:
                self.message_user(
                    request, f"{framework.name}: {problem_text(problem)}", messages.ERROR
                )


@admin.register(Indicator)
class IndicatorAdmin(ServiceFormAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Indicators of frameworks that are not frozen; a frozen framework's are read-only.

    Changes go through ``indicator_update`` (which records them); added and
    deleted indicators are recorded by the admin.
    """

    form = IndicatorAdminForm
    list_display = (
        "code",
        "title_zh",
        "framework",
        "parent",
        "level",
        "max_points",
        "weight",
        "method",
        "is_veto",
    )
    list_filter = ("framework", "level", "method", "is_veto")
    search_fields = ("code", "title_zh", "title_en")
    list_select_related = ("framework", "parent")
    autocomplete_fields = ("parent",)

    def get_readonly_fields(self, request: HttpRequest, obj: Indicator | None = None) -> tuple:
        # An indicator stays in its framework; its level follows its parent.
        return ("level",) if obj is None else ("framework", "level")

    fields = (
        "framework",
        "parent",
        "level",
        "code",
        "order",
        "title_zh",
        "title_en",
        "max_points",
        "weight",
        "method",
        "is_veto",
        "veto_pass_mark",
        "tags",
        "guidance",
        "required_evidence",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Indicator]:
        return super().get_queryset(request).select_related("framework", "parent")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "framework":
            kwargs["queryset"] = services.frameworks_not_frozen()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj.framework):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        if obj is not None and services.framework_is_frozen(framework=obj.framework):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # A bulk delete would bypass the per-framework freeze check.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            indicator = self.get_object(request, object_id)
            if indicator is not None and services.framework_is_frozen(
                framework=indicator.framework
            ):
                self.message_user(
                    request, FROZEN_MESSAGE % {"name": indicator.framework.name}, messages.WARNING
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Indicator, form: Any, change: bool) -> None:
        if not change:
            _indicator_level_set(obj)
            super().save_model(request, obj, form, change)
        elif form.changed_data:
            updated = services.indicator_update(
                indicator=obj,
                actor=request.user,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
            copy_saved_fields(obj, updated)


# -------------------------------------------------------------------- rounds


class PhaseWindowInline(admin.TabularInline):
    """Phase dates stay editable (deadlines get extended) through ``round_phase_window_set``
    and ``round_phase_window_remove``, which record them; a closed round's are read-only."""

    model = PhaseWindow
    formset = PhaseWindowInlineFormSet
    fields = ("phase", "starts_on", "ends_on")
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        if obj is not None and obj.phase == RoundPhase.CLOSED:
            return False
        return super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        if obj is not None and obj.phase == RoundPhase.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        if obj is not None and obj.phase == RoundPhase.CLOSED:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Round)
class RoundAdmin(ServiceFormAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Rounds are set up here in their draft phase, every edit audited.

    The phase moves only through ``round_phase_advance``. Once the round has
    left its draft phase, what decides its results and scope is fixed; its
    name, settings and phase dates stay editable, audited, until it is closed.
    Only a draft round can be deleted. Phase dates are saved by the round
    services after the round itself.
    """

    form = RoundAdminForm
    list_display = (
        "name",
        "framework",
        "cycle_display",
        "phase",
        "consolidation_method",
        "school_count",
    )
    list_filter = ("phase", "framework")
    search_fields = ("name",)
    list_select_related = ("framework",)
    filter_horizontal = ("schools",)
    fields = (
        "name",
        "framework",
        ("cycle_start", "cycle_end"),
        "phase",
        "consolidation_method",
        "peer_scores_visible",
        "spread_threshold",
        "schools",
    )
    inlines = (PhaseWindowInline,)
    actions = ("advance_phase",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Round]:
        return (
            super()
            .get_queryset(request)
            .select_related("framework")
            .annotate(school_count=Count("schools", distinct=True))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Round | None = None) -> tuple:
        # The phase moves only through the "advance" action; once a round is
        # open its framework is frozen under the scores that refer to it, and
        # its method and scope decide results being scored.
        if obj is not None and obj.phase != RoundPhase.DRAFT:
            return ("phase", *ROUND_FIXED_FIELDS)
        return ("phase",)

    def has_change_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        if obj is not None and obj.phase == RoundPhase.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PhaseWindow:
            super().save_formset(request, form, formset, change)
            return
        # Collected only: ``save_related`` hands them to the services once the
        # round's own event is recorded.
        formset.save(commit=False)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        round = form.instance
        for formset in formsets:
            if formset.model is not PhaseWindow:
                continue
            for window in formset.deleted_objects:
                services.round_phase_window_remove(window=window, actor=request.user)
            for window, fields in formset.changed_objects:
                if "phase" in fields:
                    services.round_phase_window_remove(window=window, actor=request.user)
            for window in [
                *(window for window, _fields in formset.changed_objects),
                *formset.new_objects,
            ]:
                saved = services.round_phase_window_set(
                    round=round,
                    actor=request.user,
                    phase=window.phase,
                    starts_on=window.starts_on,
                    ends_on=window.ends_on,
                )
                copy_saved_fields(window, saved)

    def has_delete_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        if obj is not None and obj.phase != RoundPhase.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        # A draft round's evaluation group is part of its set-up and goes with
        # it (each row recorded as deleted); on its own the group is view-only.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if all(round.phase == RoundPhase.DRAFT for round in objs):
            group_names = {
                str(EvaluationGroup._meta.verbose_name),
                str(GroupMember._meta.verbose_name),
            }
            perms_needed = {name for name in perms_needed if str(name) not in group_names}
        return deleted, model_count, perms_needed, protected

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            round = self.get_object(request, object_id)
            if round is not None and round.phase == RoundPhase.CLOSED:
                self.message_user(
                    request, ROUND_CLOSED_MESSAGE % {"name": round.name}, messages.WARNING
                )
            elif round is not None and round.phase != RoundPhase.DRAFT:
                self.message_user(
                    request, ROUND_OPEN_MESSAGE % {"name": round.name}, messages.WARNING
                )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("cycle"), ordering="cycle_start")
    def cycle_display(self, obj: Round) -> str:
        return obj.cycle

    @admin.display(description=_("schools"), ordering="school_count")
    def school_count(self, obj: Round) -> int:
        return obj.school_count

    @admin.action(description=_("Advance to the next phase"))
    def advance_phase(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        for round in queryset:
            try:
                advanced = services.round_phase_advance(round=round, actor=request.user)
            except DomainError as error:
                _report_domain_error(self, request, round, error)
            else:
                self.message_user(
                    request,
                    _("Round “%(name)s” is now in the phase “%(phase)s”.")
                    % {"name": advanced.name, "phase": advanced.get_phase_display()},
                    messages.SUCCESS,
                )


class GroupMemberInline(ViewOnlyInline):
    model = GroupMember
    fields = ("user", "role", "affiliation", "affiliated_school")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[GroupMember]:
        return super().get_queryset(request).select_related("user", "affiliated_school")


@admin.register(EvaluationGroup)
class EvaluationGroupAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View-only: groups are formed on the round's group page through
    ``evaluation_group_member_add``, which checks roles and records the audit trail."""

    list_display = ("name", "round", "member_count")
    list_filter = ("round__phase",)
    search_fields = ("name", "round__name")
    list_select_related = ("round",)
    fields = ("name", "round")
    readonly_fields = fields
    inlines = (GroupMemberInline,)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvaluationGroup]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: EvaluationGroup) -> int:
        return obj.member_count


@admin.register(Assignment)
class AssignmentAdmin(ServiceFormAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Assignments are created by ``assignment_create`` and withdrawn by ``assignment_recuse``,
    which record their audit events; deleting a mistaken one of a draft round is audited here."""

    list_display = ("round", "school", "evaluator", "status", "recusal_reason")
    list_filter = ("round", "status", "school")
    search_fields = ("school__name_zh", "evaluator__username", "recusal_reason")
    list_select_related = ("round", "school", "evaluator")
    autocomplete_fields = ("round", "school", "evaluator")
    actions = None

    def get_form(self, request: HttpRequest, obj: Assignment | None = None, **kwargs: Any):
        kwargs["form"] = AssignmentAddForm if obj is None else AssignmentChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Assignment | None = None) -> tuple:
        if obj is None:
            return ("round", "school", "evaluator")
        return ("round", "school", "evaluator", "status", "created_at", "recusal_reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Assignment | None = None) -> tuple:
        if obj is None:
            return ()
        if obj.status == AssignmentStatus.RECUSED:
            return ("round", "school", "evaluator", "status", "created_at", "recusal_reason")
        return ("round", "school", "evaluator", "status", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        # Only a mistaken assignment of a round still in draft may disappear;
        # later ones are withdrawn by a recusal, which stays on record.
        if obj is not None and (
            obj.round.phase != RoundPhase.DRAFT or obj.status != AssignmentStatus.ACTIVE
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Assignment, form: Any, change: bool) -> None:
        if not change:
            created = group_services.assignment_create(
                round=obj.round, actor=request.user, school=obj.school, evaluator=obj.evaluator
            )
            copy_saved_fields(obj, created)
        elif form.recuses:
            recused = group_services.assignment_recuse(
                assignment=obj, actor=request.user, reason=form.cleaned_data["recusal_reason"]
            )
            copy_saved_fields(obj, recused)


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    """Conflicts are recorded by ``conflict_record``, which also recuses open assignments."""

    form = ConflictOfInterestAddForm
    list_display = ("evaluator", "school", "kind", "reason", "recorded_at")
    list_filter = ("kind", "school")
    search_fields = ("evaluator__username", "school__name_zh", "reason")
    list_select_related = ("evaluator", "school")
    autocomplete_fields = ("evaluator", "school")
    actions = None

    def get_readonly_fields(
        self, request: HttpRequest, obj: ConflictOfInterest | None = None
    ) -> tuple:
        if obj is None:
            return ()
        return ("evaluator", "school", "kind", "reason", "recorded_at")

    def get_fields(self, request: HttpRequest, obj: ConflictOfInterest | None = None) -> tuple:
        if obj is None:
            return ("evaluator", "school", "kind", "reason")
        return ("evaluator", "school", "kind", "reason", "recorded_at")

    def has_change_permission(
        self, request: HttpRequest, obj: ConflictOfInterest | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ConflictOfInterest | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ConflictOfInterest, form: Any, change: bool
    ) -> None:
        conflict = group_services.conflict_record(
            actor=request.user,
            evaluator=obj.evaluator,
            school=obj.school,
            reason=obj.reason,
            kind=obj.kind,
        )
        copy_saved_fields(obj, conflict)


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    """Evidence arrives through the upload service only; the admin shows what is stored.

    The file itself is not linked here: evidence is private and served only by
    the permission-checked download view.
    """

    list_display = (
        "original_name",
        "version",
        "school",
        "round",
        "indicator",
        "size_display",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    list_filter = ("round", "school")
    search_fields = ("original_name", "sha256", "indicator__code")
    list_select_related = ("school", "round", "indicator", "uploaded_by")
    date_hierarchy = "uploaded_at"
    fields = (
        "school",
        "round",
        "indicator",
        "original_name",
        "version",
        "stored_as",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: Evidence) -> str:
        return filesizeformat(obj.size)

    @admin.display(description=_("stored as"))
    def stored_as(self, obj: Evidence) -> str:
        return obj.file.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Evidence | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Evidence | None = None) -> bool:
        return False
