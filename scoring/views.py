"""The result pages: rankings, a school's result, explanations of any number, publishing.

Who sees what:

* bureau admins and supervisors: every version of a round's results (``?version=``),
  the missing scores and the consistency statistics, who gave which score;
* everybody signed in: the published ranking (latest published version), and the
  explanation of a school's total and dimension subtotals;
* a school's own staff: their school's full result (every indicator and observation
  point, self-assessment gap, explanations of any number) once published.

Anything a person may not see answers 404, so unpublished results do not even show
that they exist. Figures come from ``scoring.presenter`` (the same as the API, the PDFs
and the exports); explanations from ``scoring.presenter.result_explanation``
(the engine re-run on the row's stored inputs), put into words by the templates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.permissions import school_ids_of
from core.views import render_fragment_or_page, render_page, signed_in
from rounds import selectors as round_selectors
from rounds.enums import Grade
from rounds.models import Indicator, Round
from scoring import engine, presenter, result_sets, selectors
from scoring.charts import bar_chart, radar_chart
from scoring.models import ResultRow, ResultSet
from scoring.permissions import (
    can_compute_results,
    can_publish_results,
    can_see_evaluator_names,
    can_view_consistency_statistics,
    can_view_results,
    can_view_school_results,
    can_view_unpublished_results,
)

# Radars are drawn inline for rounds of up to this many schools (about 11 ms each);
# a larger round shows each school's radar on the school's own page.
RADAR_INLINE_LIMIT = 40

RANK_NOTES = {
    engine.RankNote.VETO_FAILED_RANKED_LAST.value: gettext_lazy(
        "Failed a veto item: ranked after every school without a failed veto."
    ),
    engine.RankNote.TIE_BROKEN_BY_DIMENSION.value: gettext_lazy(
        "Same total as another school; the order follows the dimension subtotals."
    ),
    engine.RankNote.TIED.value: gettext_lazy("Shares its rank with another school (same total)."),
}
LAYERS = {
    engine.Layer.EXPERT.value: gettext_lazy("the evaluators' scores"),
    engine.Layer.CONSENSUS.value: gettext_lazy("the group leader's consensus score"),
    engine.Layer.AUDIT.value: gettext_lazy("the bureau's audit score"),
}
METHODS = {
    engine.Method.MEAN.value: gettext_lazy("mean"),
    engine.Method.MEDIAN.value: gettext_lazy("median"),
    engine.Method.TRIMMED_MEAN.value: gettext_lazy("trimmed mean"),
}


# ------------------------------------------------------------------ helpers


def explain_url(row_id: int, code: str | None = None) -> str:
    url = reverse("scoring:explain", args=(row_id,))
    return f"{url}?{urlencode({'code': code})}" if code else url


def _round_or_404(round_id: int) -> Round:
    round = round_selectors.round_for_page(round_id=round_id)
    if round is None:
        raise Http404
    return round


def _chosen_result_set(request: HttpRequest, round: Round) -> tuple[ResultSet | None, list]:
    """The version asked for (``?version=``) or the latest one the person may see.

    The bureau roles choose among all versions; everybody else among the
    published ones only. An unknown or hidden version is a 404.
    """
    versions = list(
        selectors.result_sets_of_round(
            round=round, published_only=not can_view_unpublished_results(request.user)
        )
    )
    requested = request.GET.get("version")
    if requested:
        chosen = next((rs for rs in versions if str(rs.version) == requested), None)
        if chosen is None:
            raise Http404
        return chosen, versions
    return (versions[0] if versions else None), versions


def _full_result_set(result_set: ResultSet) -> ResultSet:
    # The version list defers the heavy JSON columns; the chosen set needs them.
    return ResultSet.objects.select_related("round").get(pk=result_set.pk)


def _radar(school: presenter.SchoolResult, dimensions: Iterable[presenter.Dimension]) -> str:
    """The school's dimensions against its stored group's averages."""
    return mark_safe(  # noqa: S308 - SVG built by reports.charts from escaped text
        radar_chart(
            [dim.title for dim in dimensions],
            {school.school_name: school.scores, _("Group average"): school.group_averages},
            [dim.max_points for dim in dimensions],
        )
    )


def _flags(
    row: ResultRow | presenter.SchoolResult, indicators: Mapping[str, Indicator]
) -> dict[str, Any]:
    return {
        "veto_failed": [
            {"code": code, "title": presenter.title(indicators.get(code), code)}
            for code in row.veto_failed or []
        ],
        "incomplete": not row.is_complete,
        "rank_note": RANK_NOTES.get(row.rank_note, row.rank_note),
    }


# ------------------------------------------------------------------ pages


@signed_in
def results_index(request: HttpRequest) -> HttpResponse:
    """Published rankings for everybody; the latest version of every round for the bureau."""
    context: dict[str, Any] = {"published": list(selectors.result_sets_published())}
    if can_view_unpublished_results(request.user):
        context["latest"] = list(selectors.result_sets_latest_per_round())
    return render_page(request, "results/index.html", context)


@signed_in
def round_results(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    user = request.user
    chosen, versions = _chosen_result_set(request, round)
    if chosen is None:
        if not can_view_unpublished_results(user):
            raise Http404
        context = {
            "round": round,
            "result_set": None,
            "can_compute": can_compute_results(user) and round.phase in result_sets.COMPUTE_PHASES,
        }
        return render_page(request, "results/round.html", context)
    if not can_view_results(user, chosen):
        raise Http404
    result_set = _full_result_set(chosen)
    indicators = selectors.framework_indicators_by_code(framework_id=round.framework_id)
    can_view_details = can_view_consistency_statistics(user)
    presented = presenter.result_set_present(result_set=result_set)
    dimensions = presented.dimensions
    schools = presented.schools
    own_schools = school_ids_of(user)
    radars_inline = len(schools) <= RADAR_INLINE_LIMIT

    ranking = []
    for school in schools:
        may_open = can_view_school_results(user, chosen, school.school_id)
        ranking.append(
            {
                "school": school,
                "school_name": school.school_name,
                "total_url": explain_url(school.row_id),
                "dimensions": [
                    {"value": cell.score, "url": explain_url(school.row_id, cell.code)}
                    for cell in school.dimensions
                ],
                "flags": _flags(school, indicators),
                "own": school.school_id in own_schools,
                "school_url": reverse("scoring:school", args=(round.pk, school.school_id))
                + f"?version={result_set.version}"
                if may_open
                else None,
                "radar": _radar(school, dimensions) if radars_inline else None,
            }
        )

    distribution = [
        {
            "grade": Grade(entry.grade),
            "zh": entry.grade_zh,
            "count": entry.count,
            "share": presenter.number(Decimal(100 * entry.count) / len(schools), 0)
            if schools
            else 0,
        }
        for entry in presented.grades
    ]
    context: dict[str, Any] = {
        "round": round,
        "result_set": result_set,
        "versions": versions,
        "can_view_details": can_view_details,
        "method_label": METHODS.get(result_set.consolidation_method),
        "radars_inline": radars_inline,
        "dimensions": dimensions,
        "group_averages": presented.groups,
        "ranking": ranking,
        "distribution": distribution,
        "bar_chart": mark_safe(  # noqa: S308 - SVG built by reports.charts
            bar_chart(
                [school.school_name for school in schools],
                [school.total for school in schools],
                round.framework.total_points,
            )
        )
        if schools
        else "",
        "can_publish": can_publish_results(user) and not result_set.is_published,
        "can_manage_publication": can_publish_results(user),
        "can_compute": can_compute_results(user) and round.phase in result_sets.COMPUTE_PHASES,
    }
    if can_view_details:
        context.update(_bureau_details(result_set, schools, indicators))
    return render_page(request, "results/round.html", context)


def _bureau_details(
    result_set: ResultSet,
    presented: Iterable[presenter.SchoolResult],
    indicators: Mapping[str, Indicator],
) -> dict[str, Any]:
    """Missing scores and consistency statistics, with names (bureau roles only)."""
    schools = {school.school_id: school for school in presented}
    statistics = result_set.statistics or {}
    evaluator_ids = {entry[1] for entry in result_set.missing_scores or []} | {
        entry["evaluator_id"] for entry in statistics.get("evaluators", [])
    }
    names = selectors.user_names(user_ids=evaluator_ids)

    missing: dict[tuple[int, int], dict[str, Any]] = {}
    for school_id, evaluator_id, code, covered in result_set.missing_scores or []:
        entry = missing.setdefault(
            (school_id, evaluator_id),
            {
                "school": schools.get(school_id),
                "evaluator": names.get(evaluator_id, f"#{evaluator_id}"),
                "points": [],
                "covered": 0,
            },
        )
        entry["points"].append({"code": code, "title": presenter.title(indicators.get(code), code)})
        entry["covered"] += 1 if covered else 0
    parents = {indicator.parent_id for indicator in indicators.values()}
    leaf_count = sum(1 for indicator in indicators.values() if indicator.pk not in parents)
    for entry in missing.values():
        entry["whole_sheet"] = len(entry["points"]) == leaf_count
    missing_list = sorted(
        missing.values(),
        key=lambda entry: (
            entry["school"].school_code if entry["school"] else "",
            entry["evaluator"],
        ),
    )

    flagged = [
        {
            **spread,
            "school": schools.get(spread["school_id"]),
            "title": presenter.title(indicators.get(spread["code"]), spread["code"]),
        }
        for spread in statistics.get("flagged_spreads", [])
    ]
    evaluators = [
        {
            **entry,
            "name": names.get(entry["evaluator_id"], f"#{entry['evaluator_id']}"),
            "leniency": presenter.number(entry.get("leniency"), 2),
            "leniency_share": _percent(entry.get("leniency_share")),
            "dropped_share": _percent(entry.get("dropped_share")),
        }
        for entry in statistics.get("evaluators", [])
    ]
    reliability = dict(statistics.get("reliability") or {})
    if reliability.get("value") is not None:
        reliability["value"] = presenter.number(reliability["value"], 3)
    return {
        "missing": missing_list,
        "missing_count": len(result_set.missing_scores or []),
        "flagged_spreads": flagged,
        "spreads_checked": statistics.get("spreads_checked", 0),
        "evaluator_statistics": evaluators,
        "reliability": reliability,
    }


def _percent(value: Any) -> Decimal | None:
    number = presenter.number(value, 4)
    return None if number is None else presenter.number(number * 100, 1)


def _tree(indicators: Mapping[str, Indicator]) -> list[tuple[Indicator, int, bool]]:
    """The indicators depth-first (siblings by order, code) with depth and leaf flag."""
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for indicator in indicators.values():
        children[indicator.parent_id].append(indicator)
    ordered: list[tuple[Indicator, int, bool]] = []
    stack = [(node, 0) for node in reversed(children[None])]
    while stack:
        node, depth = stack.pop()
        kids = children.get(node.pk, [])
        ordered.append((node, depth, not kids))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return ordered


@signed_in
def school_result(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """One school's full result: every indicator, the self gap, a radar against its group."""
    round = _round_or_404(round_id)
    chosen, versions = _chosen_result_set(request, round)
    if chosen is None:
        raise Http404
    row = selectors.result_row_of_school(result_set=chosen, school_id=school_id)
    if row is None or not can_view_school_results(request.user, chosen, row.school):
        raise Http404
    indicators = selectors.framework_indicators_by_code(framework_id=round.framework_id)
    presented = presenter.result_set_present(result_set=chosen, school_id=school_id).school
    nodes = []
    for indicator, depth, is_leaf in _tree(indicators):
        stored = row.node(indicator.code)
        nodes.append(
            {
                "indicator": indicator,
                "title": presenter.title(indicator),
                "depth": depth,
                "is_leaf": is_leaf,
                "score": presenter.number(stored.score),
                "max": indicator.max_points,
                "status": stored.status or None,
                "layer": LAYERS.get(stored.layer or ""),
                "self_gap": presenter.number((row.self_gap or {}).get(indicator.code))
                if depth == 0
                else None,
                "url": explain_url(row.pk, indicator.code),
            }
        )
    context = {
        "round": round,
        "result_set": chosen,
        "versions": [rs for rs in versions if can_view_unpublished_results(request.user)],
        "row": row,
        "school": presented,
        "school_name": presented.school_name,
        "total": presented.total,
        "total_url": explain_url(row.pk),
        "grade_zh": presented.grade_zh,
        "flags": _flags(presented, indicators),
        "nodes": nodes,
        "radar": _radar(presented, presented.dimensions),
        "dimensions": [
            {
                "title": cell.title,
                "value": cell.score,
                "average": cell.group_average,
                "max": cell.max_points,
            }
            for cell in presented.dimensions
        ],
    }
    return render_page(request, "results/school.html", context)


# ------------------------------------------------------------- explanation


def _evaluator_labels(user: Any, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    if can_see_evaluator_names(user):
        names = selectors.user_names(user_ids=ids)
        return {pk: names.get(pk, f"#{pk}") for pk in ids}
    return {pk: _("Evaluator %(number)d") % {"number": index} for index, pk in enumerate(ids, 1)}


def _override(override: engine.OverrideScore | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {
        "points": presenter.number(override.points),
        "not_applicable": override.not_applicable,
        "justification": override.justification,
    }


def _leaf_context(explanation: engine.Explanation, labels: dict[int, str]) -> dict[str, Any]:
    expert = explanation.expert
    inputs = []
    if expert is not None:
        dropped = dict(expert.dropped)
        low_id = expert.dropped[0][0] if expert.dropped else None
        for evaluator_id, points in expert.used:
            state = "used"
            if evaluator_id in dropped:
                state = "dropped_low" if evaluator_id == low_id else "dropped_high"
            inputs.append({"name": labels[evaluator_id], "points": points, "state": state})
        for evaluator_id in expert.not_applicable_votes:
            inputs.append({"name": labels[evaluator_id], "points": None, "state": "not_applicable"})
    layer = explanation.layer.value if explanation.layer else None
    if explanation.status is engine.NodeStatus.NOT_SCORED:
        verdict = "pending"
    elif explanation.status is engine.NodeStatus.NOT_APPLICABLE:
        verdict = "not_applicable"
    else:
        verdict = "failed" if explanation.veto_failed else "passed"
    return {
        "inputs": inputs,
        "missing": [labels[pk] for pk in explanation.missing_evaluators],
        "expert": expert,
        "expert_value": presenter.number(expert.value) if expert else None,
        "method": METHODS.get(expert.method.value) if expert else None,
        "method_used": METHODS.get(expert.method_used.value)
        if expert and expert.method_used
        else None,
        "fallback": bool(expert and expert.fallback_reason == engine.FALLBACK_TOO_FEW_FOR_TRIM),
        "used_count": len(expert.used) if expert else 0,
        "layer": layer,
        "layer_text": LAYERS.get(layer or ""),
        "justification": explanation.justification,
        "consensus": _override(explanation.consensus),
        "audit": _override(explanation.audit),
        "consensus_overridden": explanation.consensus is not None
        and layer == engine.Layer.AUDIT.value,
        "expert_overridden": layer in (engine.Layer.CONSENSUS.value, engine.Layer.AUDIT.value),
        "veto": {
            "pass_mark": presenter.number(explanation.pass_mark),
            "verdict": verdict,
        }
        if explanation.is_veto
        else None,
    }


def _parent_context(
    explanation: engine.Explanation,
    row: ResultRow,
    indicators: Mapping[str, Indicator],
    drill_down: bool,
) -> dict[str, Any]:
    children = []
    for child in explanation.children:
        indicator = indicators.get(child.code)
        is_dimension = indicator is not None and indicator.parent_id is None
        children.append(
            {
                "code": child.code,
                "title": presenter.title(indicator, child.code),
                "score": presenter.number(child.score_exact),
                "max": child.max_points,
                "applicable": child.applicable,
                "weight": presenter.number(child.weight, 4),
                "effective_weight": presenter.number(child.effective_weight, 4),
                "contribution": presenter.number(child.contribution),
                "url": explain_url(row.pk, child.code) if drill_down or is_dimension else None,
            }
        )
    return {
        "mode": explanation.mode.value if explanation.mode else None,
        "children": children,
        "excluded": [presenter.title(indicators.get(code), code) for code in explanation.excluded],
        "rescale_factor": presenter.number(explanation.rescale_factor, 4),
        "not_scored": [
            {"code": code, "title": presenter.title(indicators.get(code), code)}
            for code in explanation.not_scored_leaves
        ],
    }


@signed_in
def explain(request: HttpRequest, row_id: int) -> HttpResponse:
    """Why one number of a result row is what it is (htmx fragment, or a page without JS).

    ``?code=`` names the node (none: the school total). Everybody who may see the
    result set may have the total and the dimension subtotals explained; deeper
    nodes are for those who may see the school's full result.
    """
    row = selectors.result_row_for_explain(row_id=row_id)
    if row is None:
        raise Http404
    result_set = row.result_set
    user = request.user
    if not can_view_results(user, result_set):
        raise Http404
    full = can_view_school_results(user, result_set, row.school)
    indicators = selectors.framework_indicators_by_code(framework_id=result_set.round.framework_id)
    code = request.GET.get("code") or None
    if code is not None:
        indicator = indicators.get(code)
        if indicator is None or (not full and indicator.parent_id is not None):
            raise Http404
    try:
        explanation = presenter.result_explanation(row=row, code=code)
    except KeyError as error:
        raise Http404 from error
    indicator = indicators.get(code) if code else None
    context: dict[str, Any] = {
        "row": row,
        "result_set": result_set,
        "round": result_set.round,
        "school_name": presenter.school_name(row.school),
        "explanation": explanation,
        "kind": explanation.kind,
        "code": code,
        "title": presenter.title(indicator, code) if indicator else _("Total"),
        "score": explanation.score,
        "max": explanation.max_points,
        "status": explanation.status.value,
        "is_veto_item": bool(indicator and indicator.is_veto),
    }
    if explanation.kind == "leaf":
        expert = explanation.expert
        ids = list(explanation.missing_evaluators)
        if expert is not None:
            ids += [pk for pk, _points in expert.used] + list(expert.not_applicable_votes)
        context.update(_leaf_context(explanation, _evaluator_labels(user, ids)))
        context["trim_min_count"] = result_set.trim_min_count
    else:
        context.update(_parent_context(explanation, row, indicators, drill_down=full))
    if explanation.kind == "total":
        context.update(
            {
                "grade_zh": presenter.grade_zh(row.grade),
                "flags": _flags(row, indicators),
            }
        )
    if indicator is not None and indicator.parent_id is not None:
        context["parent_url"] = explain_url(
            row.pk, next(i.code for i in indicators.values() if i.pk == indicator.parent_id)
        )
    elif indicator is not None:
        context["parent_url"] = explain_url(row.pk)
    return render_fragment_or_page(
        request, "results/_explanation.html", "results/explanation.html", context
    )
