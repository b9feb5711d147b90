"""Site-wide views (home per role, sign-in, health) and the helpers every page view uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.views import LoginView, LogoutView
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core import permissions
from core.views import render_page, signed_in
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.permissions import (
    can_fill_self_assessment,
    can_lead_evaluation_groups,
    can_manage_rounds,
    can_score,
)
from rounds.phases import phase_deadline, phase_is_before
from scoring import progress
from scoring import selectors as scoring_selectors
from supervision.permissions import can_supervise_evaluation
from xm_eval.context_processors import navigation, optional_url

# The score pages live in another part of the site; a link is shown only once
# one of these names resolves.
SHEET_URL_NAMES = ("scoring:sheet", "sheets:sheet")
SELF_ASSESSMENT_URL_NAMES = ("scoring:self_assessment", "sheets:self_assessment")
CONSOLIDATION_URL_NAMES = ("scoring:consolidation", "sheets:consolidation")

# ----------------------------------------------------------------- helpers


# -------------------------------------------------------------- sign-in


class SignInView(LoginView):
    template_name = "registration/login.html"
    next_page = "site:home"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**navigation(self.request), **super().get_context_data(**kwargs)}


class SignOutView(LogoutView):
    next_page = "site:login"


# ----------------------------------------------------------------- home

ADMIN_TODO = {
    RoundPhase.DRAFT: _(
        "Set the phase dates, form the evaluation group, assign evaluators, then open the round."
    ),
    RoundPhase.SELF_ASSESSMENT: _(
        "Schools fill in their self-assessment and upload evidence; follow their progress."
    ),
    RoundPhase.EXPERT_SCORING: _(
        "Evaluators score their schools; follow the sheets on the monitoring page."
    ),
    RoundPhase.CONSOLIDATION: _(
        "Compute the results; the group leader gives consensus scores and the bureau audits."
    ),
    RoundPhase.PUBLIC_NOTICE: _(
        "Answer objections, then publish the results at the end of the public notice."
    ),
    RoundPhase.PUBLISHED: _("Issue rectification notices to unqualified schools."),
    RoundPhase.RECTIFICATION: _("Re-check the rectification reports of the schools."),
    RoundPhase.CLOSED: _("The round is closed."),
}


def _evaluator_todo(round: Any) -> Any:
    if round.phase == RoundPhase.EXPERT_SCORING:
        return _("Score each assigned school and submit its sheet before the deadline.")
    if phase_is_before(round, RoundPhase.EXPERT_SCORING):
        return _("Scoring opens in the expert scoring phase; you can read the evidence then.")
    if round.phase == RoundPhase.CONSOLIDATION:
        return _("Scoring is closed; the group leader consolidates the scores.")
    return _("Scoring is closed.")


def _school_todo(round: Any) -> Any:
    if round.phase == RoundPhase.SELF_ASSESSMENT:
        return _(
            "Fill in the self-assessment and upload the required evidence before the deadline."
        )
    if phase_is_before(round, RoundPhase.SELF_ASSESSMENT):
        return _("The self-assessment opens with the self-assessment phase.")
    if round.phase in (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION):
        return _("The results are published; read your school's result.")
    return _("The self-assessment is closed; the evaluators are at work.")


def _admin_section(today: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "round": round,
            "deadline": phase_deadline(round, today),
            "todo": ADMIN_TODO.get(round.phase, ""),
        }
        for round in progress.rounds_progress()
    ]


def _evaluator_section(user: Any, today: dt.date) -> list[dict[str, Any]]:
    by_round: dict[int, dict[str, Any]] = {}
    leader = can_lead_evaluation_groups(user)
    for assignment in progress.evaluator_assignments_progress(evaluator_id=user.pk):
        round = assignment.round
        entry = by_round.setdefault(
            round.pk,
            {
                "round": round,
                "deadline": phase_deadline(round, today),
                "todo": _evaluator_todo(round),
                "assignments": [],
                "consensus_url": optional_url(CONSOLIDATION_URL_NAMES, round.pk)
                if leader and round.phase == RoundPhase.CONSOLIDATION
                else None,
            },
        )
        recused = assignment.status == AssignmentStatus.RECUSED
        entry["assignments"].append(
            {
                "assignment": assignment,
                "school": assignment.school,
                "recused": recused,
                "entered": assignment.scores_entered,
                "leaf_count": assignment.leaf_count,
                "submitted": assignment.sheet_status == "submitted",
                "submitted_at": assignment.sheet_submitted_at,
                "sheet_url": None
                if recused
                else optional_url(SHEET_URL_NAMES, round.pk, assignment.school_id),
            }
        )
    return list(by_round.values())


def _school_section(user: Any, today: dt.date) -> list[dict[str, Any]]:
    rounds = progress.school_rounds_progress(school_ids=permissions.school_ids_of(user))
    published = {
        result_set.round_id: result_set
        for result_set in scoring_selectors.result_sets_published().filter(
            round_id__in={item.round.pk for item in rounds}
        )
    }
    return [
        {
            "progress": item,
            "round": item.round,
            "school": item.school,
            "deadline": phase_deadline(item.round, today),
            "todo": _school_todo(item.round),
            "self_assessment_url": optional_url(SELF_ASSESSMENT_URL_NAMES, item.round.pk),
            "result_url": reverse("scoring:school", args=(item.round.pk, item.school.pk))
            if item.round.pk in published
            else None,
        }
        for item in rounds
    ]


def _supervisor_section() -> list[dict[str, Any]]:
    entries = []
    for result_set in scoring_selectors.result_sets_latest_per_round():
        statistics = result_set.statistics or {}
        evaluators = statistics.get("evaluators", [])
        entries.append(
            {
                "result_set": result_set,
                "round": result_set.round,
                "reliability": statistics.get("reliability", {}),
                "flagged": len(statistics.get("flagged_spreads", [])),
                "checked": statistics.get("spreads_checked", 0),
                "evaluators": len(evaluators),
                "missing": len(result_set.missing_scores or []),
            }
        )
    return entries


@signed_in
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in person has to do now, one section per role they hold."""
    user = request.user
    today = timezone.localdate()
    context: dict[str, Any] = {
        "today": today,
        "admin_rounds": None,
        "evaluator_rounds": None,
        "school_rounds": None,
        "supervisor_results": None,
    }
    if can_manage_rounds(user):
        context["admin_rounds"] = _admin_section(today)
    if can_score(user):
        context["evaluator_rounds"] = _evaluator_section(user, today)
    if can_fill_self_assessment(user):
        context["school_rounds"] = _school_section(user, today)
    if can_supervise_evaluation(user):
        context["supervisor_results"] = _supervisor_section()
        context["audit_trail_url"] = optional_url("admin:core_auditevent_changelist")
    context["has_any_role"] = any(
        context[key] is not None
        for key in ("admin_rounds", "evaluator_rounds", "school_rounds", "supervisor_results")
    )
    return render_page(request, "home/home.html", context)


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
