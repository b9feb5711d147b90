"""Forms of the rounds admin: they check what the services would refuse, before saving."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.enums import Role
from core.errors import DomainError
from rounds import group_services, selectors, services
from rounds.enums import AssignmentStatus, ConsolidationMethod, FocusTag, GroupRole, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, Framework, Indicator, Round
from rounds.validation import Problem
from schools.models import School

# Phases in which assignments can no longer change (as in ``group_services.assignment_create``).
ASSIGNMENTS_CLOSED_PHASES = (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION, RoundPhase.CLOSED)


def problem_text(problem: Problem) -> str:
    """A framework problem as one line that names its indicator code."""
    if problem.indicator_code and not problem.message.startswith(problem.indicator_code):
        return f"{problem.indicator_code}: {problem.message}"
    return problem.message


def framework_problem_errors(framework: Framework) -> list[ValidationError]:
    """Every problem of ``framework`` as form errors; empty when it is valid."""
    problems = services.framework_validate(framework=framework)
    if not problems:
        return []
    return [
        ValidationError(
            _("Framework “%(name)s” has %(count)d problem(s) and cannot be used:"),
            code="framework_invalid",
            params={"name": framework.name, "count": len(problems)},
        ),
        *(ValidationError(problem_text(problem), code=problem.code) for problem in problems),
    ]


class IndicatorAdminForm(forms.ModelForm):
    tags = forms.MultipleChoiceField(
        label=_("focus tags"),
        choices=FocusTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Indicator
        fields = (
            "framework",
            "parent",
            "code",
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
            "order",
        )

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        # In the framework's inline the framework is the formset's instance.
        framework = cleaned_data.get("framework") or (
            self.instance.framework if self.instance.framework_id else None
        )
        if framework is not None and services.framework_is_frozen(framework=framework):
            raise ValidationError(
                _("Framework “%(name)s” is frozen because a round uses it; it cannot change."),
                code="framework_frozen",
                params={"name": framework.name},
            )
        parent = cleaned_data.get("parent")
        if parent is not None:
            if self.instance.pk is not None and parent.pk == self.instance.pk:
                self.add_error("parent", _("An indicator cannot be its own parent."))
            elif framework is not None and parent.framework_id != framework.pk:
                self.add_error("parent", _("The parent must belong to the same framework."))
        return cleaned_data


class RoundAdminForm(forms.ModelForm):
    """Refuses a framework with problems, naming every problem's indicator code."""

    class Meta:
        model = Round
        fields = (
            "name",
            "framework",
            "cycle_start",
            "cycle_end",
            "consolidation_method",
            "peer_scores_visible",
            "spread_threshold",
            "schools",
        )

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        framework: Framework | None = cleaned_data.get("framework")
        if framework is None and "framework" not in self.fields and self.instance.framework_id:
            framework = self.instance.framework
        if framework is None:
            return cleaned_data
        if self.instance._state.adding or "framework" in self.changed_data:
            errors = framework_problem_errors(framework)
            if errors:
                self.add_error("framework", errors)
                return cleaned_data
        cycle_start = cleaned_data.get("cycle_start")
        cycle_end = cleaned_data.get("cycle_end")
        if (
            cycle_start is not None
            and cycle_end is not None
            and (cycle_start < framework.valid_from.year or cycle_end > framework.valid_to.year)
        ):
            self.add_error(
                "cycle_start",
                ValidationError(
                    _(
                        "The cycle %(start)d–%(end)d lies outside the framework's validity "
                        "(%(from)s to %(to)s)."
                    ),
                    code="outside_validity",
                    params={
                        "start": cycle_start,
                        "end": cycle_end,
                        "from": framework.valid_from,
                        "to": framework.valid_to,
                    },
                ),
            )
        return cleaned_data


class PhaseWindowInlineFormSet(forms.BaseInlineFormSet):
    """Phase dates are checked by the services' rule and saved by ``round_phase_window_set``
    and ``round_phase_window_remove``, which record the audit trail."""

    audited_by_services = True

    def clean(self) -> None:
        super().clean()
        if not getattr(self.instance, "framework_id", None):
            return
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            phase = form.cleaned_data.get("phase")
            starts_on = form.cleaned_data.get("starts_on")
            ends_on = form.cleaned_data.get("ends_on")
            if phase is None or starts_on is None or ends_on is None:
                continue
            try:
                services.phase_window_check(
                    framework=self.instance.framework,
                    phase=phase,
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            except DomainError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, str(error.message)
                )


class AssignmentAddForm(forms.ModelForm):
    """Checks what ``group_services.assignment_create`` would refuse; the admin then calls it."""

    class Meta:
        model = Assignment
        fields = ("round", "school", "evaluator")

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        round = cleaned_data.get("round")
        school = cleaned_data.get("school")
        evaluator = cleaned_data.get("evaluator")
        if round is not None and round.phase in ASSIGNMENTS_CLOSED_PHASES:
            self.add_error("round", _("Assignments cannot change once results are published."))
        if round is None or school is None or evaluator is None:
            return cleaned_data
        if not round.schools.filter(pk=school.pk).exists():
            self.add_error(
                "school",
                ValidationError(
                    _("%(school)s is not in the scope of this round."),
                    code="out_of_scope",
                    params={"school": school},
                ),
            )
        if selectors.round_member(round=round, user_id=evaluator.pk) is None:
            self.add_error(
                "evaluator",
                ValidationError(
                    _("%(user)s is not a member of the round's evaluation group."),
                    code="not_in_group",
                    params={"user": evaluator},
                ),
            )
        reason = group_services.assignment_conflict_reason(
            round=round, school=school, evaluator=evaluator
        )
        if reason is not None:
            self.add_error(
                "evaluator",
                ValidationError(
                    _("%(user)s cannot be assigned to %(school)s: %(reason)s."),
                    code="conflict_of_interest",
                    params={"user": evaluator, "school": school, "reason": reason},
                ),
            )
        return cleaned_data


class AssignmentChangeForm(forms.ModelForm):
    """Only a recusal can change an assignment: entering a reason recuses it."""

    class Meta:
        model = Assignment
        fields = ("recusal_reason",)
        help_texts = {
            "recusal_reason": _(
                "Entering a reason withdraws the evaluator from this school (回避); "
                "their score sheet can no longer be scored."
            )
        }

    def clean_recusal_reason(self) -> str:
        reason = self.cleaned_data.get("recusal_reason", "").strip()
        if self.instance.status == AssignmentStatus.RECUSED and reason != (
            self.instance.recusal_reason
        ):
            raise ValidationError(_("The assignment is recused already."), code="recused")
        return reason

    @property
    def recuses(self) -> bool:
        return self.instance.status == AssignmentStatus.ACTIVE and bool(
            self.cleaned_data.get("recusal_reason")
        )


class ConflictOfInterestAddForm(forms.ModelForm):
    class Meta:
        model = ConflictOfInterest
        fields = ("evaluator", "school", "kind", "reason")

    def clean_reason(self) -> str:
        reason = self.cleaned_data.get("reason", "").strip()
        if not reason:
            raise ValidationError(_("A conflict of interest needs a reason."), code="required")
        return reason


# ------------------------------------------------------ bureau round pages


class RoundCreateForm(forms.Form):
    """A new round from a framework (``services.round_create`` decides the rules)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    framework = forms.ModelChoiceField(
        label=_("Framework"), queryset=Framework.objects.order_by("-valid_from", "name")
    )
    cycle_start = forms.IntegerField(label=_("Cycle from (year)"), min_value=2000, max_value=2100)
    cycle_end = forms.IntegerField(label=_("Cycle to (year)"), min_value=2000, max_value=2100)
    consolidation_method = forms.ChoiceField(
        label=_("Consolidation method"),
        choices=ConsolidationMethod.choices,
        initial=ConsolidationMethod.TRIMMED_MEAN,
    )
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools in scope"),
        queryset=School.objects.order_by("code"),
        widget=forms.CheckboxSelectMultiple,
    )


class RoundCloneForm(forms.Form):
    """The next cycle's round from a previous one; a newer framework version is optional."""

    name = forms.CharField(label=_("Name of the new round"), max_length=200)
    framework = forms.ModelChoiceField(
        label=_("Framework version"),
        queryset=Framework.objects.order_by("-valid_from", "name"),
        required=False,
        help_text=_("Leave empty to keep the framework of the previous round."),
    )


class GroupMemberAddForm(forms.Form):
    """A person with the evaluator or group-leader role joins the round's evaluation group."""

    user = forms.ModelChoiceField(label=_("Person"), queryset=None)
    role = forms.ChoiceField(label=_("Role in the group"), choices=GroupRole.choices)
    affiliation = forms.CharField(
        label=_("Affiliation"),
        max_length=200,
        required=False,
        help_text=_("Where the person works, e.g. a school or a university."),
    )
    affiliated_school = forms.ModelChoiceField(
        label=_("Affiliated school"),
        queryset=School.objects.order_by("code"),
        required=False,
        help_text=_(
            "Set when the person works or worked for a school in the registry: "
            "they cannot be assigned to it."
        ),
    )

    def __init__(self, *args: Any, round: Round, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # People with an evaluating role who are not in the group yet.
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=(Role.EVALUATOR, Role.GROUP_LEADER))
            .exclude(group_memberships__group__round=round)
            .distinct()
            .order_by("username")
        )


class RoundAssignmentForm(forms.Form):
    """An evaluator of the round's group scores a school in scope
    (``group_services.assignment_create`` decides: conflicts of interest are refused there)."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    evaluator = forms.ModelChoiceField(label=_("Evaluator"), queryset=None)

    def __init__(self, *args: Any, round: Round, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = round.schools.order_by("code")
        self.fields["evaluator"].queryset = (
            get_user_model()
            .objects.filter(group_memberships__group__round=round)
            .order_by("username")
        )
