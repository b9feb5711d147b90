"""What the score pages share: the tree of rows a page shows, access refusals, and the
autosave of one observation point.

The score pages are an evaluator's score sheet (``scoring.sheet_views``), the
school's self-assessment (``scoring.self_assessment_views``) and the consensus and
audit scores of consolidation (``scoring.consolidation_views``). Rule violations come
back from the services as ``DomainError`` and are shown where they happened, never as
a 500.

Autosave answers only the point's status line (saved value or the service's message)
and the progress bar (out of band), never the inputs themselves, so what the user
keeps typing while a save is in flight is not overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import transaction_retried
from core.errors import DomainError
from rounds.enums import PHASE_ORDER
from rounds.models import Indicator, Round
from schools.models import School
from scoring import presenter, progress, selectors
from scoring.permissions import can_see_evaluator_names


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def forbidden(request: HttpRequest, message: str, *, title: str | None = None) -> HttpResponse:
    return render(
        request,
        "sheets/forbidden.html",
        {"title": title or _("Not allowed"), "message": message},
        status=403,
    )


class Refused(Exception):
    """Carries the response (403 page) an access check decided on."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


def round_and_school(round_id: int, school_id: int) -> tuple[Round, School]:
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    school = get_object_or_404(School.objects.filter(rounds=round), pk=school_id)
    return round, school


def phase_index(round: Round) -> int:
    return PHASE_ORDER.index(round.phase)


def local_time(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@dataclass
class PointRow:
    """One row of a score page: a heading (dimension, indicator) or an observation point."""

    indicator: Indicator
    depth: int
    is_leaf: bool
    title: str
    heading_level: int
    own: Any = None  # the user's own score row (Score / SelfScore / override), if any
    self_score: Any = None
    files: list = field(default_factory=list)
    peers: list = field(default_factory=list)  # (label, score)
    experts: list = field(default_factory=list)  # (label, score)
    consolidation: Any = None
    consolidation_label: str = ""
    consensus: Any = None
    audit: Any = None
    show_reason: bool = False
    error: str = ""
    error_code: str = ""
    values: dict = field(default_factory=dict)


def point_rows(round: Round) -> list[PointRow]:
    return [
        PointRow(
            indicator=row.indicator,
            depth=row.depth,
            is_leaf=row.is_leaf,
            title=presenter.title(row.indicator),
            heading_level=min(row.depth + 2, 5),
        )
        for row in selectors.indicator_tree_rows(round=round)
    ]


def evaluator_labels(user: Any, scores_by_point: dict[int, list[Any]]) -> dict[int, str]:
    """Evaluator id → how the page names them: by name for the bureau, “Evaluator n” otherwise."""
    evaluators: dict[int, Any] = {}
    for scores in scores_by_point.values():
        for score in scores:
            evaluators.setdefault(score.sheet.evaluator_id, score.sheet.evaluator)
    ordered = sorted(evaluators.values(), key=lambda person: person.username)
    if can_see_evaluator_names(user):
        return {person.pk: (person.get_full_name() or person.get_username()) for person in ordered}
    return {
        person.pk: _("Evaluator %(number)d") % {"number": number}
        for number, person in enumerate(ordered, start=1)
    }


def is_deduction(point: Indicator, points: Any) -> bool:
    return points is not None and points < point.max_points


def missing_points(rows: list[PointRow], error: DomainError) -> list[PointRow]:
    if error.code != "incomplete" or not error.details:
        return []
    codes = set(error.details)
    return [row for row in rows if row.is_leaf and row.indicator.code in codes]


# ------------------------------------------------------------------ autosave


def observation_point_or_404(round: Round, indicator_id: int) -> Indicator:
    """An observation point (leaf) of the round's framework, or 404."""
    return get_object_or_404(
        Indicator, pk=indicator_id, framework_id=round.framework_id, children__isnull=True
    )


def point_save(
    form: forms.Form, point: Indicator, save: Callable[[Indicator, dict[str, Any]], Any]
) -> tuple[Any, DomainError | None]:
    """(what ``save(point, cleaned data)`` returned, None) for a valid form, or (None,
    why it was refused)."""
    try:
        if not form.is_valid():
            raise DomainError(
                _("%(code)s: the input is too long.") % {"code": point.code}, code="invalid"
            )
        # A deadlock or a busy lock is not the person's fault: the save runs again.
        return transaction_retried(lambda: save(point, form.cleaned_data)), None
    except DomainError as error:
        return None, error


def point_saved_redirect(
    request: HttpRequest, point: Indicator, error: DomainError | None, page_url: str
) -> HttpResponse:
    """A plain POST's answer: the outcome as a message, back to the point on its page."""
    if error is not None:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(code)s saved.") % {"code": point.code})
    return redirect(f"{page_url}#point-{point.pk}")


def point_autosave(
    request: HttpRequest,
    *,
    round: Round,
    indicator_id: int,
    form: forms.Form,
    save: Callable[[Indicator, dict[str, Any]], Any],
    page_url: str,
    answered: Callable[[], int],
) -> HttpResponse:
    """Save one observation point's score through ``save`` (one service call).

    htmx gets the point's status line and, out of band, the progress bar
    (``answered()`` counted after the save); a plain POST is redirected back to the
    point with the outcome as a message.
    """
    point = observation_point_or_404(round, indicator_id)
    saved, error = point_save(form, point, save)
    if not is_htmx(request):
        return point_saved_redirect(request, point, error, page_url)
    return render(
        request,
        "sheets/_score_status.html",
        {
            "point": point,
            "saved": saved,
            "error": error,
            "progress": {
                "answered": answered(),
                "total": progress.framework_leaf_count(round=round),
            },
            "oob": True,
        },
    )
