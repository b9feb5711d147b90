"""Site-wide views (home per role, sign-in, health) and the helpers every page view uses."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView, LogoutView
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.views import render_page, signed_in
from rounds.permissions import can_fill_self_assessment, can_manage_rounds, can_score
from supervision.permissions import can_supervise_evaluation
from xm_eval import home as home_sections
from xm_eval.context_processors import navigation, optional_url

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
        context["admin_rounds"] = home_sections.admin_section(today)
    if can_score(user):
        context["evaluator_rounds"] = home_sections.evaluator_section(user, today)
    if can_fill_self_assessment(user):
        context["school_rounds"] = home_sections.school_section(user, today)
    if can_supervise_evaluation(user):
        context["supervisor_results"] = home_sections.supervisor_section()
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
