"""The supervisor's pages (监督), mounted at ``/supervision/`` (namespace ``supervision``).

Read-only, for supervisors and bureau admins (``can_view_supervision``); everybody
else gets 403, anonymous people the sign-in page. The pages check the
evaluation's soundness, fairness and integrity: the audit trail filtered by
round, school, actor and action; every score's history (who, when, before,
after) rebuilt from the audit events; recusals and conflicts of interest; the
consistency statistics of a computation with their flags; and every change
made after its phase's deadline, which the log and the histories highlight too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core.display import number
from core.views import allowed, render_page, signed_in
from rounds.enums import RoundPhase
from supervision import selectors
from supervision.permissions import can_view_supervision

EVENTS_PER_PAGE = 50
HISTORY_EVENTS_PER_PAGE = 100
LATE_PER_PAGE = 50

LAYER_LABELS = {
    "self": _("Self score"),
    "expert": _("Expert score"),
    "consensus": _("Consensus score"),
    "audit": _("Audit score"),
}


def _page(request: HttpRequest, queryset: Any, per_page: int) -> Any:
    """One page of ``queryset``; a page number out of range shows the last page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    """The filters of the current URL, for the pagination links."""
    params = [(key, value) for key, value in request.GET.items() if key != "page" and value]
    return urlencode(params)


def _with_json_text(page: Any) -> Any:
    """Give each event of the page its before/after as readable JSON text."""
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.before_text = None if event.before is None else _json_text(event.before)
        event.after_text = None if event.after is None else _json_text(event.after)
    return page


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _optional_id(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


# ------------------------------------------------------------------ forms


class _Filters(forms.Form):
    """A GET filter form: every field optional; an unknown choice is a clear error."""

    def chosen_id(self, name: str) -> int | None:
        return _optional_id(self.cleaned_data.get(name))


def _choices(pairs: list[tuple[Any, str]]) -> list[tuple[str, str]]:
    return [("", "—"), *[(str(pk), label) for pk, label in pairs]]


class EventFilterForm(_Filters):
    round = forms.ChoiceField(label=_("Round"), required=False)
    school = forms.ChoiceField(label=_("School"), required=False)
    actor = forms.ChoiceField(label=_("Who"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["round"].choices = _choices(selectors.round_choices())
        self.fields["school"].choices = _choices(selectors.school_choices())
        self.fields["actor"].choices = _choices(selectors.actor_choices())
        self.fields["action"].choices = _choices([(a, a) for a in selectors.action_choices()])


class ScoreHistoryFilterForm(_Filters):
    round = forms.ChoiceField(label=_("Round"), required=False)
    school = forms.ChoiceField(label=_("School"), required=False)
    actor = forms.ChoiceField(label=_("Evaluator (who scored)"), required=False)
    indicator = forms.CharField(label=_("Observation point code"), required=False, max_length=32)
    layer = forms.ChoiceField(label=_("Layer"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["round"].choices = _choices(selectors.round_choices())
        self.fields["school"].choices = _choices(selectors.school_choices())
        self.fields["actor"].choices = _choices(selectors.actor_choices())
        self.fields["layer"].choices = _choices(list(LAYER_LABELS.items()))


class RoundFilterForm(_Filters):
    round = forms.ChoiceField(label=_("Round"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["round"].choices = _choices(selectors.round_choices())


def _filter_form(form_class: type[_Filters], request: HttpRequest) -> _Filters:
    # Always bound (an empty query is "no filter"), so the page validates what it uses.
    return form_class(request.GET)


def _invalid(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render_page(request, template, {**context, "page": None}, status=400)


# ------------------------------------------------------------------ pages

supervision_view = allowed(can_view_supervision)


@signed_in
@supervision_view
@require_safe
def supervision_index(request: HttpRequest) -> HttpResponse:
    """The rounds, each with links to its log, score histories, late changes and statistics."""
    return render_page(
        request, "supervision/index.html", {"rounds": list(selectors.rounds_overview())}
    )


@signed_in
@supervision_view
@require_safe
def event_log(request: HttpRequest) -> HttpResponse:
    """The audit trail, newest first, filtered by round, school, actor and action."""
    form = _filter_form(EventFilterForm, request)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return _invalid(request, "supervision/events.html", context)
    events = selectors.audit_events(
        round_id=form.chosen_id("round"),
        school_id=form.chosen_id("school"),
        actor_id=form.chosen_id("actor"),
        action=form.cleaned_data["action"] or None,
    )
    context["page"] = _with_json_text(_page(request, events, EVENTS_PER_PAGE))
    context["query"] = _query_without_page(request)
    return render_page(request, "supervision/events.html", context)


@signed_in
@supervision_view
@require_safe
def score_history(request: HttpRequest) -> HttpResponse:
    """Every score's history — who, when, before, after — from the audit events."""
    form = _filter_form(ScoreHistoryFilterForm, request)
    context: dict[str, Any] = {"form": form, "layer_labels": LAYER_LABELS}
    if not form.is_valid():
        return _invalid(request, "supervision/scores.html", context)
    events = selectors.score_events(
        round_id=form.chosen_id("round"),
        school_id=form.chosen_id("school"),
        actor_id=form.chosen_id("actor"),
        indicator_code=form.cleaned_data["indicator"].strip() or None,
        layer=form.cleaned_data["layer"] or None,
    )
    page = _page(request, events, HISTORY_EVENTS_PER_PAGE)
    histories = selectors.score_histories(page.object_list)
    context.update(
        {
            "page": page,
            "histories": [
                {"history": history, "layer_label": LAYER_LABELS.get(history.layer, "")}
                for history in histories
            ],
            "query": _query_without_page(request),
        }
    )
    return render_page(request, "supervision/scores.html", context)


@signed_in
@supervision_view
@require_safe
def recusal_list(request: HttpRequest) -> HttpResponse:
    """Recusals (回避) and conflicts of interest, optionally of one round."""
    form = _filter_form(RoundFilterForm, request)
    context: dict[str, Any] = {"form": form, "recusals": None, "conflicts": None}
    if not form.is_valid():
        return _invalid(request, "supervision/recusals.html", context)
    round_id = form.chosen_id("round")
    context.update(
        {
            "recusals": list(selectors.recusals(round_id=round_id)),
            "conflicts": list(selectors.conflicts(round_id=round_id)),
        }
    )
    return render_page(request, "supervision/recusals.html", context)


@signed_in
@supervision_view
@require_safe
def late_change_list(request: HttpRequest) -> HttpResponse:
    """Changes made after the deadline of their phase (date in Xiamen > the phase's end)."""
    form = _filter_form(RoundFilterForm, request)
    context: dict[str, Any] = {
        "form": form,
        "phase_labels": dict(RoundPhase.choices),
    }
    if not form.is_valid():
        return _invalid(request, "supervision/late.html", context)
    events = selectors.late_changes(round_id=form.chosen_id("round"))
    context["page"] = _with_json_text(_page(request, events, LATE_PER_PAGE))
    context["query"] = _query_without_page(request)
    return render_page(request, "supervision/late.html", context)


def _share_flagged(value: Any) -> bool:
    return value is not None and abs(Decimal(str(value))) > Decimal(
        str(selectors.LENIENCY_FLAG_SHARE)
    )


@signed_in
@supervision_view
@require_safe
def consistency(request: HttpRequest, round_id: int) -> HttpResponse:
    """A computation's consistency statistics with their flags (``?version=`` to choose)."""
    round = selectors.round_for_supervision(round_id=round_id)
    if round is None:
        raise Http404
    versions = selectors.round_result_sets(round=round)
    chosen = versions[0] if versions else None
    requested = request.GET.get("version")
    if requested:
        chosen = next((rs for rs in versions if str(rs.version) == requested), None)
        if chosen is None:
            raise Http404
    context: dict[str, Any] = {"round": round, "versions": versions, "result_set": chosen}
    if chosen is None:
        return render_page(request, "supervision/consistency.html", context)
    statistics = selectors.result_set_statistics(result_set_id=chosen.pk) or {}
    schools = selectors.round_school_names(round=round)
    titles = selectors.framework_titles(framework_id=round.framework_id)
    evaluators = statistics.get("evaluators", [])
    names = selectors.user_names(user_ids={entry["evaluator_id"] for entry in evaluators})
    reliability = dict(statistics.get("reliability") or {})
    value = reliability.get("value")
    reliability["shown"] = number(value, 3)
    reliability["flagged"] = value is not None and value < selectors.RELIABILITY_FLAG_BELOW
    evaluator_rows = [
        {
            **entry,
            "name": names.get(entry["evaluator_id"], f"#{entry['evaluator_id']}"),
            "leniency": number(entry.get("leniency"), 2),
            "leniency_percent": None
            if entry.get("leniency_share") is None
            else number(Decimal(str(entry["leniency_share"])) * 100, 1),
            "flagged": _share_flagged(entry.get("leniency_share")),
        }
        for entry in evaluators
    ]
    context.update(
        {
            "computed": bool(statistics),
            "spreads_checked": statistics.get("spreads_checked", 0),
            "flagged_spreads": [
                {
                    **spread,
                    "school": schools.get(spread["school_id"], f"#{spread['school_id']}"),
                    "title": titles.get(spread["code"], ""),
                }
                for spread in statistics.get("flagged_spreads", [])
            ],
            "evaluators": evaluator_rows,
            "evaluators_flagged": sum(1 for row in evaluator_rows if row["flagged"]),
            "reliability": reliability,
            "leniency_flag_percent": int(selectors.LENIENCY_FLAG_SHARE * 100),
            "reliability_flag_below": selectors.RELIABILITY_FLAG_BELOW,
        }
    )
    return render_page(request, "supervision/consistency.html", context)
