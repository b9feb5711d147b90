"""The bureau's round pages: list, detail, monitoring, create, clone, advance, compute,
the evaluation group and the assignments of evaluators to schools.

Bureau admins run rounds; supervisors read the list, detail and monitoring
pages (they check the fairness of the evaluation). Thin views: check the
permission predicate, call one service or selector, render. A broken rule comes
back from the service as ``DomainError`` and is shown to the person.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.views import allowed, render_page, signed_in
from rounds import clone_services, group_services, selectors, services
from rounds.enums import AssignmentStatus, GroupRole
from rounds.forms import (
    ASSIGNMENTS_CLOSED_PHASES,
    GroupMemberAddForm,
    RoundAssignmentForm,
    RoundCloneForm,
    RoundCreateForm,
)
from rounds.models import Round
from rounds.permissions import can_manage_rounds, can_score
from rounds.phases import phase_deadline
from schools.models import School


def _round_or_404(round_id: int) -> Round:
    round = selectors.round_for_page(round_id=round_id)
    if round is None:
        raise Http404
    return round


def _form_error(form: Any, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))
    for detail in error.details or ():
        message = detail.get("message") if isinstance(detail, dict) else detail
        if message:
            form.add_error(None, str(message))


@signed_in
@allowed(can_manage_rounds)
def round_create(request: HttpRequest) -> HttpResponse:
    form = RoundCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            round = services.round_create(
                actor=request.user,
                framework=data["framework"],
                name=data["name"],
                cycle_start=data["cycle_start"],
                cycle_end=data["cycle_end"],
                schools=data["schools"],
                consolidation_method=data["consolidation_method"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Round “%(name)s” created.") % {"name": round.name})
            return redirect("rounds:detail", round_id=round.pk)
    return render_page(request, "rounds/create.html", {"form": form})


@signed_in
@allowed(can_manage_rounds)
def round_clone(request: HttpRequest, round_id: int) -> HttpResponse:
    source = _round_or_404(round_id)
    suggested = clone_services.round_cycle_shifted_text(round=source, text=source.name)
    if suggested == source.name:
        suggested = _("%(name)s (next cycle)") % {"name": source.name}
    form = RoundCloneForm(request.POST or None, initial={"name": suggested})
    if request.method == "POST" and form.is_valid():
        try:
            clone = clone_services.round_clone(
                round=source,
                actor=request.user,
                name=form.cleaned_data["name"],
                framework=form.cleaned_data["framework"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("Round “%(name)s” created from “%(source)s”.")
                % {"name": clone.name, "source": source.name},
            )
            return redirect("rounds:detail", round_id=clone.pk)
    context = {
        "source": source,
        "form": form,
        "cycle_start": source.cycle_start + clone_services.CYCLE_YEARS,
        "cycle_end": source.cycle_end + clone_services.CYCLE_YEARS,
        "windows": [
            {
                "phase": window.get_phase_display(),
                "starts_on": clone_services.cycle_shifted_date(window.starts_on),
                "ends_on": clone_services.cycle_shifted_date(window.ends_on),
            }
            for window in source.phase_windows.all()
        ],
    }
    return render_page(request, "rounds/clone.html", context)


@signed_in
@allowed(can_manage_rounds)
def round_group(request: HttpRequest, round_id: int) -> HttpResponse:
    """The round's evaluation group, and a form that adds a leader or an evaluator
    (each member's remove button posts to ``round_group_member_remove``)."""
    round = _round_or_404(round_id)
    form = GroupMemberAddForm(request.POST or None, round=round)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = group_services.evaluation_group_member_add(
                round=round,
                actor=request.user,
                user=data["user"],
                role=data["role"],
                affiliation=data["affiliation"].strip(),
                affiliated_school=data["affiliated_school"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("%(user)s joined the evaluation group as %(role)s.")
                % {"user": member.user, "role": member.get_role_display()},
            )
            return redirect("rounds:group", round_id=round.pk)
    return _group_page(request, round, form)


def _group_page(
    request: HttpRequest,
    round: Round,
    form: GroupMemberAddForm,
    *,
    refused_member_id: int | None = None,
    refusal: str = "",
) -> HttpResponse:
    """The group page; a refused removal is shown in the row of the member concerned."""
    members = list(selectors.round_group_members(round=round))
    context = {
        "round": round,
        "deadline": phase_deadline(round),
        "group": members[0].group if members else None,
        "members": members,
        "has_leader": any(member.role == GroupRole.LEADER for member in members),
        "can_remove": round.phase in group_services.GROUP_MEMBER_REMOVE_PHASES,
        "refused_member_id": refused_member_id,
        "refusal": refusal,
        "form": form,
    }
    return render_page(request, "rounds/group.html", context)


@signed_in
@allowed(can_manage_rounds)
@require_POST
def round_group_member_remove(request: HttpRequest, round_id: int, member_id: int) -> HttpResponse:
    """Remove one member from the round's evaluation group; a refusal shows on the group page."""
    round = _round_or_404(round_id)
    member = selectors.round_group_members(round=round).filter(pk=member_id).first()
    if member is None:
        raise Http404
    try:
        group_services.evaluation_group_member_remove(member=member, actor=request.user)
    except DomainError as error:
        return _group_page(
            request,
            round,
            GroupMemberAddForm(round=round),
            refused_member_id=member.pk,
            refusal=str(error),
        )
    messages.success(
        request, _("%(user)s was removed from the evaluation group.") % {"user": member.user}
    )
    return redirect("rounds:group", round_id=round.pk)


def _assignment_matrix(round: Round, schools: list[Any], members: list[Any]) -> list[dict]:
    """One row per school, one cell per group member: assigned, recused, conflict or free.

    Conflicts are found in one query; only for the conflicting pairs does the
    service word the reason, so the page does not run queries per cell.
    """
    assignments = {
        (assignment.school_id, assignment.evaluator_id): assignment
        for assignment in selectors.round_assignments(round=round)
    }
    declared = selectors.declared_conflict_pairs(
        evaluator_ids=[member.user_id for member in members],
        school_ids=[school.pk for school in schools],
    )
    rows = []
    for school in schools:
        cells = []
        for member in members:
            assignment = assignments.get((school.pk, member.user_id))
            cell: dict[str, Any] = {"member": member, "school": school, "reason": ""}
            if assignment is not None and assignment.status == AssignmentStatus.RECUSED:
                cell.update(status="recused", reason=assignment.recusal_reason)
            elif assignment is not None:
                cell["status"] = "assigned"
            elif (school.pk, member.user_id) in declared or member.affiliated_school_id == (
                school.pk
            ):
                cell["status"] = "conflict"
                cell["reason"] = group_services.assignment_conflict_reason(
                    round=round, school=school, evaluator=member.user
                )
            else:
                cell["status"] = "free"
            cells.append(cell)
        rows.append({"school": school, "cells": cells})
    return rows


@signed_in
@allowed(can_manage_rounds)
def round_assignments(request: HttpRequest, round_id: int) -> HttpResponse:
    """Schools in scope × group members; POST assigns one evaluator to one school.

    A refused assignment (a conflict of interest among others) shows the
    service's message on the form and writes nothing.
    """
    round = _round_or_404(round_id)
    form = RoundAssignmentForm(request.POST or None, round=round)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = group_services.assignment_create(
                round=round,
                actor=request.user,
                school=form.cleaned_data["school"],
                evaluator=form.cleaned_data["evaluator"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("%(user)s is assigned to %(school)s.")
                % {"user": assignment.evaluator, "school": assignment.school.name_zh},
            )
            return redirect("rounds:assignments", round_id=round.pk)
    schools = list(round.schools.order_by("code"))
    members = list(selectors.round_group_members(round=round))
    context = {
        "round": round,
        "deadline": phase_deadline(round),
        "members": members,
        "rows": _assignment_matrix(round, schools, members),
        "form": form,
        "closed": round.phase in ASSIGNMENTS_CLOSED_PHASES,
    }
    return render_page(request, "rounds/assignments.html", context)


# ------------------------------------------------------ conflicts of interest


class ConflictDeclareForm(forms.Form):
    school = forms.ModelChoiceField(
        label=gettext_lazy("School"),
        queryset=School.objects.order_by("code"),
        help_text=gettext_lazy(
            "Your own or a former employer, a school of the same owners, a close relative "
            "on its staff: anything that could make your scores look partial."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


@signed_in
@allowed(can_score)
def conflict_declare(request: HttpRequest) -> HttpResponse:
    """An evaluator declares a conflict of interest with a school; their open assignments
    there are recused (``group_services.conflict_record``, audited)."""
    form = ConflictDeclareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conflict = group_services.conflict_record(
                actor=request.user,
                evaluator=request.user,
                school=form.cleaned_data["school"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("Your conflict of interest with %(school)s is recorded.")
                % {"school": conflict.school.name_zh},
            )
            return redirect("rounds:conflicts")
    context = {
        "form": form,
        "conflicts": list(selectors.conflicts_of_evaluator(evaluator_id=request.user.pk)),
    }
    return render_page(request, "rounds/conflicts.html", context)
