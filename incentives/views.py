"""Incentive pages: scholarship quota allocation and preference lists of a published
result set, on screen and as an xlsx workbook. Mounted at ``/incentives/``
(namespace ``incentives``).

Who uses what: the bureau admin sets the total quota, the grade weights and the
list rules; the supervisor reads the same page (and its export) without the
form, with whatever parameters the link carries. Everybody else gets 403,
anonymous people the sign-in page. Nothing is stored: the parameters travel in
the query string, so a link or an export always says exactly what was shown.
Only published result sets have incentives; any other id answers 404.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.views import allowed, render_page, signed_in
from incentives import selectors
from incentives.allocation import (
    DEFAULT_GRADE_WEIGHTS,
    DEFAULT_RULES,
    GRADES,
    IncentiveCandidate,
    IncentiveError,
    PreferenceKind,
    PreferenceList,
    PreferenceRule,
    QuotaShare,
    allocate_quota,
    preference_list,
)
from incentives.permissions import can_set_incentive_parameters, can_view_incentives
from rounds.enums import Grade
from scoring.models import ResultSet
from scoring.presenter import GRADE_ZH

# The lists as the Measures name them (shown in Chinese whatever the page language).
LIST_ZH = {
    PreferenceKind.AWARDS: "评优评先",
    PreferenceKind.COMPETITION_TRAINING: "竞赛集训",
    PreferenceKind.SPECIALTY_SUPPORT: "专业帮扶",
}
LIST_LABELS = {
    PreferenceKind.AWARDS: _("Awards"),
    PreferenceKind.COMPETITION_TRAINING: _("Competition training"),
    PreferenceKind.SPECIALTY_SUPPORT: _("Specialty support"),
}
EXCLUSION_REASONS = {
    "veto_failed": _("failed a veto item"),
    "incomplete": _("scores incomplete"),
    "limit": _("beyond the limit"),
}
EXCLUSION_ZH = {"veto_failed": "否决项未通过", "incomplete": "评分不完整", "limit": "超出限额"}
DEFAULT_TOTAL_QUOTA = 100
MAX_TOTAL_QUOTA = 1_000_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _display(value: Fraction | Decimal, places: int = 4) -> Decimal:
    """An exact figure rounded half up for reading (never fed back into anything)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------- form


class IncentiveParametersForm(forms.Form):
    """The total quota, a weight per grade, and each list's eligible grades and limit."""

    total_quota = forms.IntegerField(
        label=_("Total scholarship quota"),
        min_value=0,
        max_value=MAX_TOTAL_QUOTA,
        initial=DEFAULT_TOTAL_QUOTA,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grade_choices = [(grade.value, _grade_choice_label(grade)) for grade in Grade]
        for grade in Grade:
            self.fields[f"weight_{grade.value}"] = forms.DecimalField(
                label=_("Weight of %(grade)s") % {"grade": GRADE_ZH[grade]},
                min_value=Decimal(0),
                max_value=Decimal(100),
                max_digits=7,
                decimal_places=3,
                initial=DEFAULT_GRADE_WEIGHTS[grade.value],
            )
        for kind in PreferenceKind:
            rule = DEFAULT_RULES[kind]
            self.fields[f"{kind.value}_grades"] = forms.MultipleChoiceField(
                label=_("Eligible grades"),
                choices=grade_choices,
                widget=forms.CheckboxSelectMultiple,
                initial=list(rule.eligible_grades),
                error_messages={"required": _("Choose at least one grade.")},
            )
            self.fields[f"{kind.value}_limit"] = forms.IntegerField(
                label=_("At most (empty: no limit)"),
                min_value=1,
                max_value=MAX_TOTAL_QUOTA,
                required=False,
                initial=rule.limit,
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{grade.value}"] for grade in Grade]

    def list_fields(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind.value,
                "zh": LIST_ZH[kind],
                "label": LIST_LABELS[kind],
                "grades": self[f"{kind.value}_grades"],
                "limit": self[f"{kind.value}_limit"],
            }
            for kind in PreferenceKind
        ]

    def parameters(self) -> tuple[int, dict[str, Decimal], dict[str, PreferenceRule]]:
        """(total quota, weights, rules) from the valid data, or the defaults when unbound."""
        data = self.cleaned_data if self.is_bound else self._initial_data()
        weights = {grade.value: data[f"weight_{grade.value}"] for grade in Grade}
        rules = {
            kind.value: PreferenceRule(
                # eligible grades in priority order: the better grade first
                eligible_grades=tuple(g for g in GRADES if g in data[f"{kind.value}_grades"]),
                limit=data[f"{kind.value}_limit"],
            )
            for kind in PreferenceKind
        }
        return data["total_quota"], weights, rules

    def _initial_data(self) -> dict[str, Any]:
        fields = self.fields.items()
        return {name: self.get_initial_for_field(field, name) for name, field in fields}


def _grade_choice_label(grade: Grade) -> str:
    # The grade as the Measures write it; its translation beside it in other languages.
    if get_language() == "zh-hans":
        return GRADE_ZH[grade]
    return f"{GRADE_ZH[grade]} {grade.label}"


def _weight_text(weight: Decimal) -> str:
    """1.500 → "1.5", 0 → "0": the weight as it would be written."""
    return f"{weight.normalize():f}"


def _parameters_form(request: HttpRequest) -> IncentiveParametersForm:
    # Bound only once the person asked for something; a first visit shows the defaults.
    return IncentiveParametersForm(request.GET if "total_quota" in request.GET else None)


# ------------------------------------------------------------ computation


def _incentives(
    candidates: Sequence[IncentiveCandidate],
    total_quota: int,
    weights: Mapping[str, Decimal],
    rules: Mapping[str, PreferenceRule],
) -> tuple[list[QuotaShare], dict[str, PreferenceList]]:
    shares = allocate_quota(candidates, total_quota=total_quota, grade_weights=weights)
    lists = {
        kind: preference_list(candidates, rule=rule, kind=kind) for kind, rule in rules.items()
    }
    return shares, lists


def _result_set_or_404(result_set_id: int) -> ResultSet:
    result_set = selectors.incentive_result_set(result_set_id=result_set_id)
    if result_set is None:
        raise Http404
    return result_set


def _grades_text(grades: Sequence[str]) -> str:
    return "、".join(GRADE_ZH.get(grade, grade) for grade in grades)


# ------------------------------------------------------------------ pages


@signed_in
@allowed(can_view_incentives)
@require_safe
def incentive_index(request: HttpRequest) -> HttpResponse:
    """The published result sets, each with a link to its incentives."""
    return render_page(
        request,
        "incentives/index.html",
        {"result_sets": list(selectors.incentive_result_sets())},
    )


@signed_in
@allowed(can_view_incentives)
@require_safe
def incentive_page(request: HttpRequest, result_set_id: int) -> HttpResponse:
    """The quota allocation and the three preference lists of a published result set."""
    result_set = _result_set_or_404(result_set_id)
    form = _parameters_form(request)
    context: dict[str, Any] = {
        "result_set": result_set,
        "round": result_set.round,
        "form": form,
        "can_edit": can_set_incentive_parameters(request.user),
        "shares": None,
        "lists": None,
    }
    if form.is_bound and not form.is_valid():
        return render_page(request, "incentives/page.html", context, status=400)
    total_quota, weights, rules = form.parameters()
    candidates = selectors.incentive_candidates(result_set=result_set)
    try:
        shares, lists = _incentives(candidates, total_quota, weights, rules)
    except IncentiveError as error:
        context["error"] = (
            _(
                "No school has a weighted score above zero, so the quota cannot be shared; "
                "give at least one grade that schools reached a weight above zero."
            )
            if error.code == "nothing_to_share_by"
            else str(error)
        )
        return render_page(request, "incentives/page.html", context, status=400)
    query = urlencode(_query(total_quota, weights, rules), doseq=True)
    context.update(
        {
            "total_quota": total_quota,
            "weights": [
                {
                    "grade": grade,
                    "zh": GRADE_ZH[grade],
                    "weight": _weight_text(weights[grade.value]),
                }
                for grade in Grade
            ],
            "shares": [_share_context(share) for share in shares],
            "allocated": sum(share.quota for share in shares),
            "lists": [_list_context(kind, lists[kind.value]) for kind in PreferenceKind],
            "export_url": f"{reverse('incentives:export', args=(result_set.pk,))}?{query}",
            "query": query,
        }
    )
    return render_page(request, "incentives/page.html", context)


def _query(
    total_quota: int, weights: Mapping[str, Decimal], rules: Mapping[str, PreferenceRule]
) -> dict[str, Any]:
    query: dict[str, Any] = {"total_quota": total_quota}
    query.update({f"weight_{grade}": weight for grade, weight in weights.items()})
    for kind, rule in rules.items():
        query[f"{kind}_grades"] = list(rule.eligible_grades)
        query[f"{kind}_limit"] = "" if rule.limit is None else rule.limit
    return query


def _candidate_context(candidate: IncentiveCandidate) -> dict[str, Any]:
    return {
        "candidate": candidate,
        "grade_zh": GRADE_ZH.get(candidate.grade, candidate.grade),
        "grade_label": Grade(candidate.grade).label,
    }


def _share_context(share: QuotaShare) -> dict[str, Any]:
    return {
        **_candidate_context(share.candidate),
        "weight": _weight_text(share.weight),
        "weighted": _display(share.weighted_score, 2),
        "exact": _display(share.exact),
        "whole": share.whole,
        "remainder": _display(share.remainder),
        "extra": share.extra,
        "quota": share.quota,
    }


def _list_context(kind: PreferenceKind, listed: PreferenceList) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "zh": LIST_ZH[kind],
        "label": LIST_LABELS[kind],
        "grades_zh": _grades_text(listed.rule.eligible_grades),
        "limit": listed.rule.limit,
        "entries": [
            {
                **_candidate_context(entry.candidate),
                "position": entry.position,
                "tied": entry.tied,
                "beyond_limit": entry.beyond_limit,
            }
            for entry in listed.entries
        ],
        "excluded": [
            {**_candidate_context(candidate), "reason": EXCLUSION_REASONS.get(reason, reason)}
            for candidate, reason in listed.excluded
        ],
    }


# ------------------------------------------------------------------ export

HEADER_FILL = PatternFill("solid", start_color="DDE6F0")
BOLD = Font(bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _cell(sheet: Any, value: Any, number_format: str | None = None, bold: bool = False) -> Any:
    if isinstance(value, Fraction):
        value = _display(value)
    if isinstance(value, Decimal):
        value = float(value)  # Excel keeps binary floats; the format shows the places
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a name is text, never a formula
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = BOLD
    return cell


def _sheet(
    workbook: Workbook,
    title: str,
    heading: str,
    notes: Sequence[str],
    columns: Sequence[tuple[str, int]],
) -> Any:
    """A write-only sheet: a bold heading, notes, then a frozen row of column headings."""
    sheet = workbook.create_sheet(title)
    for index, (_label, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{len(notes) + 3}"
    sheet.append([_cell(sheet, heading, bold=True)])
    for note in notes:
        sheet.append([_cell(sheet, note)])
    header = []
    for label, _width in columns:
        cell = _cell(sheet, label, bold=True)
        cell.fill, cell.alignment = HEADER_FILL, CENTER
        header.append(cell)
    sheet.append(header)
    return sheet


def incentive_workbook(
    *,
    result_set: ResultSet,
    total_quota: int,
    weights: Mapping[str, Decimal],
    shares: Sequence[QuotaShare],
    lists: Mapping[str, PreferenceList],
) -> bytes:
    """The allocation and the three lists as one workbook, with Chinese headings."""
    round = result_set.round
    state = "已公布" + (
        f"，已被 v{result_set.superseded_by_version} 更正取代" if result_set.superseded else ""
    )
    version_note = (
        f"结果版本 v{result_set.version}（{state}）；导出于 {timezone.localtime():%Y-%m-%d %H:%M}"
    )
    workbook = Workbook(write_only=True)
    weights_text = "，".join(
        f"{GRADE_ZH[grade]} {_weight_text(weights[grade.value])}" for grade in Grade
    )
    sheet = _sheet(
        workbook,
        "名额分配",
        f"{round.name} 奖学金名额分配",
        [
            version_note,
            f"名额总数 {total_quota}；等级权重：{weights_text}；加权分 = 等级权重 × 总分；"
            "按加权分比例以最大余额法（汉密尔顿法）分配，余额相同时依次比较加权分、名次、学校编码。",
        ],
        [
            ("名次", 7),
            ("学校编码", 10),
            ("学校名称", 34),
            ("等级", 8),
            ("总分", 9),
            ("等级权重", 9),
            ("加权分", 10),
            ("应得名额（精确）", 14),
            ("整数部分", 9),
            ("余数", 9),
            ("余额补足", 9),
            ("分配名额", 9),
        ],
    )
    for share in shares:
        candidate = share.candidate
        sheet.append(
            [
                _cell(sheet, candidate.rank),
                _cell(sheet, candidate.code),
                _cell(sheet, candidate.name),
                _cell(sheet, GRADE_ZH.get(candidate.grade, candidate.grade)),
                _cell(sheet, candidate.total, "0.00"),
                _cell(sheet, share.weight, "0.000"),
                _cell(sheet, share.weighted_score, "0.00"),
                _cell(sheet, share.exact, "0.0000"),
                _cell(sheet, share.whole),
                _cell(sheet, share.remainder, "0.0000"),
                _cell(sheet, share.extra),
                _cell(sheet, share.quota, bold=True),
            ]
        )
    sheet.append(
        [_cell(sheet, "合计", bold=True), *[None] * 10]
        + [_cell(sheet, sum(share.quota for share in shares), bold=True)]
    )
    for kind in PreferenceKind:
        listed = lists[kind.value]
        rule = listed.rule
        limit = "不限" if rule.limit is None else f"{rule.limit} 所（并列者一并入选）"
        sheet = _sheet(
            workbook,
            LIST_ZH[kind],
            f"{round.name} {LIST_ZH[kind]}优先名单",
            [
                version_note,
                f"入选等级（依次优先）：{_grades_text(rule.eligible_grades)}；限额：{limit}；"
                "同等级按名次排列；否决项未通过的学校不入选。",
            ],
            [
                ("序号", 7),
                ("学校编码", 10),
                ("学校名称", 34),
                ("等级", 8),
                ("总分", 9),
                ("名次", 7),
                ("备注", 24),
            ],
        )
        for entry in listed.entries:
            candidate = entry.candidate
            note = "并列" if entry.tied else ""
            if entry.beyond_limit:
                note = "与末位并列，超出限额入选"
            sheet.append(
                [
                    _cell(sheet, entry.position),
                    _cell(sheet, candidate.code),
                    _cell(sheet, candidate.name),
                    _cell(sheet, GRADE_ZH.get(candidate.grade, candidate.grade)),
                    _cell(sheet, candidate.total, "0.00"),
                    _cell(sheet, candidate.rank),
                    _cell(sheet, note),
                ]
            )
        if listed.excluded:
            sheet.append([])
            sheet.append([_cell(sheet, "未入选（符合等级）", bold=True)])
            for candidate, reason in listed.excluded:
                sheet.append(
                    [
                        None,
                        _cell(sheet, candidate.code),
                        _cell(sheet, candidate.name),
                        _cell(sheet, GRADE_ZH.get(candidate.grade, candidate.grade)),
                        _cell(sheet, candidate.total, "0.00"),
                        _cell(sheet, candidate.rank),
                        _cell(sheet, EXCLUSION_ZH.get(reason, reason)),
                    ]
                )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@signed_in
@allowed(can_view_incentives)
@require_safe
def incentive_export(request: HttpRequest, result_set_id: int) -> HttpResponse:
    """The page's allocation and lists as an xlsx workbook (same query string)."""
    result_set = _result_set_or_404(result_set_id)
    form = _parameters_form(request)
    if form.is_bound and not form.is_valid():
        return incentive_page(request, result_set_id)
    total_quota, weights, rules = form.parameters()
    candidates = selectors.incentive_candidates(result_set=result_set)
    try:
        shares, lists = _incentives(candidates, total_quota, weights, rules)
    except IncentiveError:
        return incentive_page(request, result_set_id)
    content = incentive_workbook(
        result_set=result_set,
        total_quota=total_quota,
        weights=weights,
        shares=shares,
        lists=lists,
    )
    response = HttpResponse(content, content_type=XLSX_TYPE)
    filename = f"incentives-round{result_set.round_id}-v{result_set.version}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
