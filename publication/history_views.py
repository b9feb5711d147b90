"""Results across cycles, mounted at ``/history/`` (namespace ``history``).

* a school's page: its total, grade, rank and dimension subtotals in every round
  with published results, a trend chart, and each round's change since the
  previous round of the same framework lineage;
* a round's comparison with the previous round of its lineage, school by school.

Who sees it: **anyone, signed in or not.** These pages show published result
sets only (the latest published version of each round), and published results
are public — the ranking is announced in the public notice and served by the
API — so the school's own staff, the bureau roles, the other schools and the
public all read the same page. Links to the full, per-indicator result are
offered to those who may open it (the school's own staff and the bureau roles).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.display import number, school_name, title
from core.views import render_page
from publication import history_selectors as selectors
from publication.permissions import can_view_school_history
from publication.trend_chart import line_chart
from rounds.enums import Grade
from rounds.models import Indicator
from schools.models import School
from scoring.models import ResultRow
from scoring.permissions import can_view_school_results
from scoring.presenter import grade_zh

GRADE_ORDER = [grade.value for grade in Grade]  # best first


def _share(value: Decimal | None, maximum: Decimal) -> Decimal | None:
    """``value`` as a percentage of ``maximum`` (for comparing unequal frameworks)."""
    if value is None or not maximum:
        return None
    return number(value * 100 / maximum, 1)


def _grade(grade: str) -> dict[str, Any]:
    return {"value": grade, "zh": grade_zh(grade), "label": Grade(grade).label}


def _matching_dimension(dimension: Indicator, candidates: Sequence[Indicator]) -> Indicator | None:
    """The same dimension in another framework of the lineage: same code, else same title."""
    for other in candidates:
        if other.code == dimension.code:
            return other
    for other in candidates:
        if other.title_zh == dimension.title_zh:
            return other
    return None


def _rescaled(value: Decimal | None, from_max: Decimal, to_max: Decimal) -> Decimal | None:
    """A figure of one framework on the scale of another (equal maxima: unchanged)."""
    if value is None or from_max == to_max or not from_max:
        return value
    return value * to_max / from_max


def _delta(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or before is None:
        return None
    return number(now - before)


def _movement(before_grade: str, now_grade: str) -> str:
    before, now = GRADE_ORDER.index(before_grade), GRADE_ORDER.index(now_grade)
    return "up" if now < before else "down" if now > before else "same"


def _compare(
    now: ResultRow,
    before: ResultRow,
    dims_now: Sequence[Indicator],
    dims_before: Sequence[Indicator],
) -> dict[str, Any]:
    """How ``now`` changed since ``before`` (the previous round of the lineage).

    When the two frameworks carry different points, the earlier figures are put
    on the later framework's scale first, and the page says so.
    """
    total_now_max = now.result_set.round.framework.total_points
    total_before_max = before.result_set.round.framework.total_points
    before_total = _rescaled(Decimal(before.total), total_before_max, total_now_max)
    dimensions = []
    for dim in dims_now:
        match = _matching_dimension(dim, dims_before)
        value_now = number((now.dimension_subtotals or {}).get(dim.code))
        value_before = (
            _rescaled(
                number((before.dimension_subtotals or {}).get(match.code)),
                match.max_points,
                dim.max_points,
            )
            if match is not None
            else None
        )
        dimensions.append({"title": title(dim), "delta": _delta(value_now, value_before)})
    return {
        "round_name": before.result_set.round.name,
        "cycle": before.result_set.round.cycle,
        "total": number(before.total),
        "grade": _grade(before.grade),
        "rank": before.rank,
        "total_delta": _delta(Decimal(now.total), before_total),
        "rank_change": before.rank - now.rank,  # positive: moved up
        "rank_steps": abs(before.rank - now.rank),
        "movement": _movement(before.grade, now.grade),
        "rescaled": total_now_max != total_before_max,
        "dimensions": dimensions,
    }


def _result_links(user: Any, row: ResultRow, school: School) -> dict[str, str | None]:
    result_set = row.result_set
    if not getattr(user, "is_authenticated", False):
        return {"ranking_url": None, "result_url": None}
    version = f"?version={result_set.version}"
    ranking = reverse("scoring:round", args=(result_set.round_id,)) + version
    result = None
    if can_view_school_results(user, result_set, school):
        result = reverse("scoring:school", args=(result_set.round_id, school.pk)) + version
    return {"ranking_url": ranking, "result_url": result}


# ------------------------------------------------------------------ pages


@require_safe
def history_index(request: HttpRequest) -> HttpResponse:
    """Every school (each with its history) and every round with published results."""
    return render_page(
        request,
        "history/index.html",
        {
            "schools": list(selectors.history_schools()),
            "rounds": list(selectors.rounds_with_published_results()),
        },
    )


@require_safe
def school_history(request: HttpRequest, school_id: int) -> HttpResponse:
    """A school's published results in every round, with trend charts and changes."""
    school = selectors.history_school(school_id=school_id)
    if school is None or not can_view_school_history(request.user, school):
        raise Http404
    rows = selectors.school_history_rows(school=school)
    frameworks = {row.result_set.round.framework_id for row in rows}
    dimensions = selectors.dimensions_of(framework_ids=frameworks)
    lineages = selectors.lineages(
        policy_titles={row.result_set.round.framework.policy_title for row in rows}
    )
    by_round = {row.result_set.round_id: row for row in rows}

    entries = []
    for row in rows:
        round = row.result_set.round
        framework = round.framework
        dims = dimensions.get(framework.pk, [])
        previous = selectors.previous_in_lineage(round.pk, lineages.get(framework.policy_title, []))
        before_row = by_round.get(previous.round_id) if previous else None
        entries.append(
            {
                "row": row,
                "round": round,
                "result_set": row.result_set,
                "total": number(row.total),
                "total_max": framework.total_points,
                "grade": _grade(row.grade),
                "dimensions": [
                    {
                        "title": title(dim),
                        "value": number((row.dimension_subtotals or {}).get(dim.code)),
                        "max": dim.max_points,
                    }
                    for dim in dims
                ],
                "previous_round": previous,
                "change": _compare(
                    row,
                    before_row,
                    dims,
                    dimensions.get(before_row.result_set.round.framework_id, []),
                )
                if before_row is not None
                else None,
                **_result_links(request.user, row, school),
            }
        )
    context = {
        "school": school,
        "school_name": school_name(school),
        "entries": entries,
        **_trend_charts(entries),
    }
    return render_page(request, "history/school.html", context)


def _trend_charts(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The total over the rounds, and each dimension as a share of its points."""
    if not entries:
        return {"total_chart": "", "dimension_chart": "", "totals_as_share": False}
    labels = [f"{entry['round'].cycle} {entry['round'].name}" for entry in entries]
    maxima = {entry["total_max"] for entry in entries}
    as_share = len(maxima) > 1
    if as_share:
        totals = [_share(entry["total"], entry["total_max"]) for entry in entries]
        y_max = Decimal(100)
    else:
        totals = [entry["total"] for entry in entries]
        y_max = maxima.pop()
    total_chart = line_chart(labels, {_("Total"): totals}, y_max=y_max)
    # Dimensions are matched across frameworks by their title (the four aspects of the
    # Measures), in the order of the latest round's framework.
    titles: list[str] = []
    for entry in reversed(entries):
        titles.extend(d["title"] for d in entry["dimensions"] if d["title"] not in titles)
    series = {
        name: [
            next(
                (_share(d["value"], d["max"]) for d in entry["dimensions"] if d["title"] == name),
                None,
            )
            for entry in entries
        ]
        for name in titles
    }
    dimension_chart = line_chart(labels, series, y_max=Decimal(100), print_values=False)
    return {
        "total_chart": mark_safe(total_chart),  # noqa: S308 - SVG from escaped text
        "dimension_chart": mark_safe(dimension_chart),  # noqa: S308
        "totals_as_share": as_share,
    }


@require_safe
def round_comparison(request: HttpRequest, round_id: int) -> HttpResponse:
    """A round's published results beside those of the previous round of its lineage."""
    found = selectors.comparison_round(round_id=round_id)
    if found is None:
        raise Http404
    round, result_set = found
    lineage = selectors.lineages(policy_titles=[round.framework.policy_title]).get(
        round.framework.policy_title, []
    )
    previous = selectors.previous_in_lineage(round.pk, lineage)
    rows = selectors.published_rows(
        round_ids=[round.pk] + ([previous.round_id] if previous else [])
    )
    now_rows = rows.get(round.pk, [])
    before_rows = rows.get(previous.round_id, []) if previous else []
    frameworks = {round.framework_id} | {r.result_set.round.framework_id for r in before_rows}
    dimensions = selectors.dimensions_of(framework_ids=frameworks)
    dims_now = dimensions.get(round.framework_id, [])
    dims_before = (
        dimensions.get(before_rows[0].result_set.round.framework_id, []) if before_rows else []
    )
    before_by_school = {row.school_id: row for row in before_rows}
    comparisons = []
    transitions: Counter[tuple[str, str]] = Counter()
    for row in now_rows:
        before = before_by_school.get(row.school_id)
        if before is not None:
            transitions[(before.grade, row.grade)] += 1
        comparisons.append(
            {
                "row": row,
                "school_name": school_name(row.school),
                "total": number(row.total),
                "grade": _grade(row.grade),
                "history_url": reverse("history:school", args=(row.school_id,)),
                "dimensions": [
                    number((row.dimension_subtotals or {}).get(dim.code)) for dim in dims_now
                ],
                "change": _compare(row, before, dims_now, dims_before)
                if before is not None
                else None,
            }
        )
    current_schools = {row.school_id for row in now_rows}
    context = {
        "round": round,
        "result_set": result_set,
        "previous": previous,
        "lineage": lineage,
        "dimensions": [{"title": title(dim), "max": dim.max_points} for dim in dims_now],
        "comparisons": comparisons,
        "dropped_out": [
            {"row": row, "school_name": school_name(row.school), "grade": _grade(row.grade)}
            for row in before_rows
            if row.school_id not in current_schools
        ],
        "transition_grades": [_grade(grade) for grade in GRADE_ORDER],
        "transitions": [
            {
                "before": _grade(before),
                "counts": [transitions.get((before, now), 0) for now in GRADE_ORDER],
            }
            for before in GRADE_ORDER
        ],
        "rescaled": any(entry["change"] and entry["change"]["rescaled"] for entry in comparisons),
    }
    return render_page(request, "history/round.html", context)
