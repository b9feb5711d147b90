"""The result pages: rankings, a school's result, explanations of any number, publishing.

Who sees what:

* bureau admins and supervisors: every version of a round's results (``?version=``),
  the missing scores and the consistency statistics, who gave which score;
* everybody signed in: the published ranking (latest published version), and the
  explanation of a school's total and dimension subtotals;
* a school's own staff: their school's full result (every indicator and observation
  point, self-assessment gap, explanations of any number) once published.

Anything a person may not see answers 404, so unpublished results do not even show
that they exist. Explanations come from ``scoring.selectors.result_row_explain``
(the engine re-run on the row's stored inputs), put into words by the templates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from core import permissions
from core.views import render_fragment_or_page, render_page, signed_in
from rounds import selectors as round_selectors
from rounds.enums import Grade
from rounds.models import Indicator, Round
from scoring import engine, selectors, services
from scoring.charts import bar_chart, radar_chart
from scoring.models import ResultRow, ResultSet
from scoring.permissions import (
    can_compute_results,
    can_publish_results,
    can_see_evaluator_names,
    can_view_results,
    can_view_school_results,
)

# Radars are drawn inline for rounds of up to this many schools (about 11 ms each);
# a larger round shows each school's radar on the school's own page.
RADAR_INLINE_LIMIT = 40

# The grade as the Measures write it; shown in Chinese whatever the page language.
GRADE_ZH = {
    Grade.EXCELLENT: "优秀",
    Grade.GOOD: "良好",
    Grade.QUALIFIED: "合格",
    Grade.UNQUALIFIED: "不合格",
}
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


def _bureau(user: Any) -> bool:
    return permissions.is_bureau_admin(user) or permissions.is_supervisor(user)


def _number(value: Any, places: int = 2) -> Decimal | None:
    """A stored figure (string or Decimal) rounded half up for display."""
    if value is None or value == "":
        return None
    quantum = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _title(indicator: Indicator | None, code: str | None = None) -> str:
    if indicator is None:
        return code or ""
    if get_language() == "en" and indicator.title_en:
        return indicator.title_en
    return indicator.title_zh


def _school_name(school: Any) -> str:
    if get_language() == "en" and school.name_en:
        return school.name_en
    return school.name_zh


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
        selectors.result_sets_of_round(round=round, published_only=not _bureau(request.user))
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


def _dimensions(indicators: Mapping[str, Indicator]) -> list[Indicator]:
    return [indicator for indicator in indicators.values() if indicator.parent_id is None]


def _average(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    return _number(sum(present, Decimal(0)) / len(present))


def _group_averages(
    subtotals_by_group: Mapping[str, list[Mapping[str, Any]]], dimensions: list[Indicator]
) -> dict[str, list[Decimal | None]]:
    return {
        group: [_average(_number(row.get(dim.code)) for row in rows) for dim in dimensions]
        for group, rows in subtotals_by_group.items()
    }


def _radar(
    school_name: str,
    values: list[Decimal | None],
    average: list[Decimal | None],
    dimensions: list[Indicator],
) -> str:
    return mark_safe(  # noqa: S308 - SVG built by reports.charts from escaped text
        radar_chart(
            [_title(dim) for dim in dimensions],
            {school_name: values, _("Group average"): average},
            [dim.max_points for dim in dimensions],
        )
    )


def _flags(row: ResultRow, indicators: Mapping[str, Indicator]) -> dict[str, Any]:
    return {
        "veto_failed": [
            {"code": code, "title": _title(indicators.get(code), code)}
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
    if _bureau(request.user):
        context["latest"] = list(selectors.result_sets_latest_per_round())
    return render_page(request, "results/index.html", context)


@signed_in
def round_results(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _round_or_404(round_id)
    user = request.user
    chosen, versions = _chosen_result_set(request, round)
    if chosen is None:
        if not _bureau(user):
            raise Http404
        context = {
            "round": round,
            "result_set": None,
            "can_compute": can_compute_results(user) and round.phase in services.COMPUTE_PHASES,
        }
        return render_page(request, "results/round.html", context)
    if not can_view_results(user, chosen):
        raise Http404
    result_set = _full_result_set(chosen)
    bureau = _bureau(user)
    indicators = selectors.framework_indicators_by_code(framework_id=round.framework_id)
    dimensions = _dimensions(indicators)
    rows = list(selectors.result_set_rows(result_set=result_set))
    own_schools = permissions.school_ids_of(user)

    subtotals_by_group: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        subtotals_by_group[row.school.ranking_group].append(row.dimension_subtotals)
    averages = _group_averages(subtotals_by_group, dimensions)

    ranking = []
    for row in rows:
        values = [_number(row.dimension_subtotals.get(dim.code)) for dim in dimensions]
        may_open = bureau or row.school_id in own_schools
        ranking.append(
            {
                "row": row,
                "school_name": _school_name(row.school),
                "total": _number(row.total),
                "total_url": explain_url(row.pk),
                "grade_zh": GRADE_ZH.get(row.grade, row.grade),
                "dimensions": [
                    {"value": value, "url": explain_url(row.pk, dim.code)}
                    for value, dim in zip(values, dimensions, strict=True)
                ],
                "flags": _flags(row, indicators),
                "own": row.school_id in own_schools,
                "school_url": reverse("scoring:school", args=(round.pk, row.school_id))
                + f"?version={result_set.version}"
                if may_open
                else None,
                "radar": _radar(
                    _school_name(row.school),
                    values,
                    averages.get(row.school.ranking_group, []),
                    dimensions,
                )
                if len(rows) <= RADAR_INLINE_LIMIT
                else None,
            }
        )

    grades = Counter(row.grade for row in rows)
    distribution = [
        {
            "grade": grade,
            "zh": GRADE_ZH[grade],
            "count": grades.get(grade.value, 0),
            "share": _number(Decimal(100 * grades.get(grade.value, 0)) / len(rows), 0)
            if rows
            else 0,
        }
        for grade in Grade
    ]
    context: dict[str, Any] = {
        "round": round,
        "result_set": result_set,
        "versions": versions,
        "bureau": bureau,
        "method_label": METHODS.get(result_set.consolidation_method),
        "radars_inline": len(rows) <= RADAR_INLINE_LIMIT,
        "dimensions": [{"indicator": dim, "title": _title(dim)} for dim in dimensions],
        "ranking": ranking,
        "distribution": distribution,
        "bar_chart": mark_safe(  # noqa: S308 - SVG built by reports.charts
            bar_chart(
                [_school_name(row.school) for row in rows],
                [_number(row.total) for row in rows],
                round.framework.total_points,
            )
        )
        if rows
        else "",
        "can_publish": can_publish_results(user) and not result_set.is_published,
        "can_compute": can_compute_results(user) and round.phase in services.COMPUTE_PHASES,
    }
    if bureau:
        context.update(_bureau_details(result_set, rows, indicators))
    return render_page(request, "results/round.html", context)


def _bureau_details(
    result_set: ResultSet, rows: list[ResultRow], indicators: Mapping[str, Indicator]
) -> dict[str, Any]:
    """Missing scores and consistency statistics, with names (bureau roles only)."""
    schools = {row.school_id: row.school for row in rows}
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
        entry["points"].append({"code": code, "title": _title(indicators.get(code), code)})
        entry["covered"] += 1 if covered else 0
    parents = {indicator.parent_id for indicator in indicators.values()}
    leaf_count = sum(1 for indicator in indicators.values() if indicator.pk not in parents)
    for entry in missing.values():
        entry["whole_sheet"] = len(entry["points"]) == leaf_count
    missing_list = sorted(
        missing.values(),
        key=lambda entry: (entry["school"].code if entry["school"] else "", entry["evaluator"]),
    )

    flagged = [
        {
            **spread,
            "school": schools.get(spread["school_id"]),
            "title": _title(indicators.get(spread["code"]), spread["code"]),
        }
        for spread in statistics.get("flagged_spreads", [])
    ]
    evaluators = [
        {
            **entry,
            "name": names.get(entry["evaluator_id"], f"#{entry['evaluator_id']}"),
            "leniency": _number(entry.get("leniency"), 2),
            "leniency_share": _percent(entry.get("leniency_share")),
            "dropped_share": _percent(entry.get("dropped_share")),
        }
        for entry in statistics.get("evaluators", [])
    ]
    reliability = dict(statistics.get("reliability") or {})
    if reliability.get("value") is not None:
        reliability["value"] = _number(reliability["value"], 3)
    return {
        "missing": missing_list,
        "missing_count": len(result_set.missing_scores or []),
        "flagged_spreads": flagged,
        "spreads_checked": statistics.get("spreads_checked", 0),
        "evaluator_statistics": evaluators,
        "reliability": reliability,
    }


def _percent(value: Any) -> Decimal | None:
    number = _number(value, 4)
    return None if number is None else _number(number * 100, 1)


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
    dimensions = _dimensions(indicators)
    group_rows = selectors.group_dimension_subtotals(
        result_set=chosen, ranking_group=row.school.ranking_group
    )
    average = _group_averages({"group": group_rows}, dimensions)["group"]
    values = [_number(row.dimension_subtotals.get(dim.code)) for dim in dimensions]
    nodes = []
    for indicator, depth, is_leaf in _tree(indicators):
        stored = row.node(indicator.code)
        nodes.append(
            {
                "indicator": indicator,
                "title": _title(indicator),
                "depth": depth,
                "is_leaf": is_leaf,
                "score": _number(stored.score),
                "max": indicator.max_points,
                "status": stored.status or None,
                "layer": LAYERS.get(stored.layer or ""),
                "self_gap": _number((row.self_gap or {}).get(indicator.code))
                if depth == 0
                else None,
                "url": explain_url(row.pk, indicator.code),
            }
        )
    context = {
        "round": round,
        "result_set": chosen,
        "versions": [rs for rs in versions if _bureau(request.user)],
        "row": row,
        "school_name": _school_name(row.school),
        "total": _number(row.total),
        "total_url": explain_url(row.pk),
        "grade_zh": GRADE_ZH.get(row.grade, row.grade),
        "flags": _flags(row, indicators),
        "nodes": nodes,
        "radar": _radar(_school_name(row.school), values, average, dimensions),
        "dimensions": [
            {"title": _title(dim), "value": value, "average": avg, "max": dim.max_points}
            for dim, value, avg in zip(dimensions, values, average, strict=True)
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
        "points": _number(override.points),
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
        "expert_value": _number(expert.value) if expert and expert.value is not None else None,
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
            "pass_mark": _number(explanation.pass_mark),
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
                "title": _title(indicator, child.code),
                "score": _number(child.score_exact),
                "max": child.max_points,
                "applicable": child.applicable,
                "weight": _number(child.weight, 4),
                "effective_weight": _number(child.effective_weight, 4),
                "contribution": _number(child.contribution),
                "url": explain_url(row.pk, child.code) if drill_down or is_dimension else None,
            }
        )
    return {
        "mode": explanation.mode.value if explanation.mode else None,
        "children": children,
        "excluded": [_title(indicators.get(code), code) for code in explanation.excluded],
        "rescale_factor": _number(explanation.rescale_factor, 4),
        "not_scored": [
            {"code": code, "title": _title(indicators.get(code), code)}
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
        explanation = selectors.result_row_explain(row=row, code=code)
    except KeyError as error:
        raise Http404 from error
    indicator = indicators.get(code) if code else None
    context: dict[str, Any] = {
        "row": row,
        "result_set": result_set,
        "round": result_set.round,
        "school_name": _school_name(row.school),
        "explanation": explanation,
        "kind": explanation.kind,
        "code": code,
        "title": _title(indicator, code) if indicator else _("Total"),
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
                "grade_zh": GRADE_ZH.get(row.grade, row.grade),
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
