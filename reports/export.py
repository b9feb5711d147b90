"""Spreadsheets of a stored result set: the ranking, the full score matrix, and the
consistency of every evaluator.

Everything comes from the result set as stored (rows, their stored inputs, the
statistics), never from today's score tables, so an export of version 3 says
what version 3 said. Workbooks are written in openpyxl's write-only mode (rows
streamed, constant memory), with Chinese headings, frozen heading rows, column
widths and number formats.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.display import number
from rounds.models import GroupMember, Indicator
from scoring import engine, engine_inputs, presenter, selectors
from scoring.models import ResultRow, ResultSet

LAYER_ZH = {
    engine.Layer.EXPERT.value: "专家评分",
    engine.Layer.CONSENSUS.value: "组长合议分",
    engine.Layer.AUDIT.value: "审核分",
}
POINTS_FORMAT = "0.00"
SHARE_FORMAT = "0.0%"
HEADER_FILL = PatternFill("solid", start_color="DDE6F0")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
AVERAGES_SHEET = "平均分"


def _new_sheet(
    workbook: Workbook,
    title: str,
    heading: str,
    subtitle: str,
    columns: Sequence[tuple[str, int]],
    *,
    freeze_columns: int = 0,
) -> Any:
    """A write-only sheet with a title row, a subtitle row and a frozen heading row."""
    sheet = workbook.create_sheet(title)
    for index, (_label, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"{get_column_letter(freeze_columns + 1)}4"
    title_cell = WriteOnlyCell(sheet, value=heading)
    title_cell.font = TITLE_FONT
    sheet.append([title_cell])
    sheet.append([subtitle])
    header = []
    for label, _width in columns:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, CENTER
        header.append(cell)
    sheet.append(header)
    return sheet


def _row(sheet: Any, values: Iterable[Any], formats: dict[int, str]) -> list[Any]:
    cells = []
    for index, value in enumerate(values):
        if isinstance(value, Decimal):
            value = float(value)  # Excel stores binary floats; the text shows two places
        cell = WriteOnlyCell(sheet, value=value)
        if index in formats:
            cell.number_format = formats[index]
        cells.append(cell)
    return cells


def _subtitle(result_set: ResultSet) -> str:
    state = "已公布" if result_set.is_published else "未公布"
    return (
        f"结果版本 v{result_set.version}（{state}）；计算于 "
        f"{timezone.localtime(result_set.computed_at):%Y-%m-%d %H:%M}；导出于 "
        f"{timezone.localtime():%Y-%m-%d %H:%M}"
    )


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ranking_workbook(*, result_set: ResultSet) -> bytes:
    """The ranking: rank, group rank, school, total, grade, dimension subtotals, notes;
    and a second sheet with the averages of every school and of each ranking group
    (the group stored in the set), as the results page and the reports show them."""
    round = result_set.round
    presented = presenter.result_set_present(result_set=result_set)
    dimensions = presented.dimensions
    veto_titles = dict(
        Indicator.objects.filter(framework_id=round.framework_id, is_veto=True).values_list(
            "code", "title_zh"
        )
    )
    columns = [
        ("名次", 7),
        ("组内名次", 9),
        ("组别", 9),
        ("学校编码", 10),
        ("学校名称", 34),
        ("总分", 9),
        ("等级", 8),
        *[(f"{dim.title_zh}（{dim.max_points}）", 14) for dim in dimensions],
        ("否决项未通过", 30),
        ("评分完整", 9),
    ]
    workbook = Workbook(write_only=True)
    sheet = _new_sheet(
        workbook,
        "排名",
        f"{round.name} 评估结果排名",
        _subtitle(result_set),
        columns,
        freeze_columns=5,
    )
    number_columns = {5, *range(7, 7 + len(dimensions))}
    formats = dict.fromkeys(number_columns, POINTS_FORMAT)
    for school in presented.schools:
        sheet.append(
            _row(
                sheet,
                [
                    school.rank,
                    school.group_rank,
                    school.group_zh,
                    school.school_code,
                    school.school_name_zh,
                    school.total,
                    school.grade_zh,
                    *school.scores,
                    "；".join(veto_titles.get(code, code) for code in school.veto_failed),
                    "是" if school.is_complete else "否",
                ],
                formats,
            )
        )
    averages = _new_sheet(
        workbook,
        AVERAGES_SHEET,
        f"{round.name} 各维度平均得分",
        _subtitle(result_set) + "；组别按计算时记录的组别",
        [
            ("范围", 12),
            ("学校数", 8),
            ("总分", 9),
            *[(f"{dim.title_zh}（{dim.max_points}）", 14) for dim in dimensions],
        ],
        freeze_columns=1,
    )
    formats = dict.fromkeys(range(2, 3 + len(dimensions)), POINTS_FORMAT)
    for entry in (presented.overall, *presented.groups):
        averages.append(
            _row(
                averages,
                [entry.label_zh, entry.school_count, entry.total, *entry.dimensions],
                formats,
            )
        )
    return _save(workbook)


def _evaluator_names(round_id: int, extra_ids: Iterable[int] = ()) -> dict[int, str]:
    names = {}
    for member in GroupMember.objects.filter(group__round_id=round_id).select_related("user"):
        user = member.user
        names[user.pk] = f"{user.last_name}{user.first_name}".strip() or user.username
    missing = set(extra_ids) - set(names)
    if missing:
        names.update(selectors.user_names(user_ids=missing))
    return names


def score_matrix_workbook(*, result_set: ResultSet) -> bytes:
    """Every observation point of every school with every evaluator's score (as stored),
    the consolidated score and the layer it came from: one row per school × point."""
    round = result_set.round
    framework, code_of = engine_inputs.engine_framework(round=round)
    indicators = {
        indicator.code: indicator
        for indicator in Indicator.objects.filter(framework_id=round.framework_id).order_by(
            "order", "code"
        )
    }
    parents = {indicator.parent_id for indicator in indicators.values()}
    leaves = [i for i in indicators.values() if i.pk not in parents]
    rows = list(
        ResultRow.objects.filter(result_set=result_set)
        .select_related("school")
        .order_by("school__code")
    )
    inputs = {row.pk: engine_inputs.stored_school_input(row=row, code_of=code_of) for row in rows}
    evaluator_ids = sorted(
        {
            score.evaluator_id
            for school_input in inputs.values()
            for scores in school_input.expert_scores.values()
            for score in scores
        }
        | {pk for school_input in inputs.values() for pk in school_input.expected_evaluator_ids}
    )
    names = _evaluator_names(round.pk, evaluator_ids)
    columns = [
        ("学校编码", 10),
        ("学校名称", 30),
        ("编码", 9),
        ("观测点", 40),
        ("满分", 7),
        *[(names.get(pk, f"#{pk}"), 10) for pk in evaluator_ids],
        ("合成得分", 10),
        ("采用", 12),
    ]
    workbook = Workbook(write_only=True)
    sheet = _new_sheet(
        workbook,
        "评分矩阵",
        f"{round.name} 评分矩阵（学校 × 观测点 × 专家）",
        _subtitle(result_set) + "；“不适用”记为 N/A，空白为未评分或未分配",
        columns,
        freeze_columns=4,
    )
    position = {pk: index for index, pk in enumerate(evaluator_ids)}
    first_score = 5
    formats = dict.fromkeys(
        [4, *range(first_score, first_score + len(evaluator_ids) + 1)], POINTS_FORMAT
    )
    for row in rows:
        school_input = inputs[row.pk]
        for leaf in leaves:
            given: list[Any] = [None] * len(evaluator_ids)
            for score in school_input.expert_scores.get(leaf.code, ()):
                given[position[score.evaluator_id]] = (
                    "N/A" if score.not_applicable else score.points
                )
            node = row.node(leaf.code)
            final = "N/A" if node.status == "not_applicable" else number(node.score, places=None)
            sheet.append(
                _row(
                    sheet,
                    [
                        row.school.code,
                        row.school.name_zh,
                        leaf.code,
                        leaf.title_zh,
                        leaf.max_points,
                        *given,
                        final,
                        LAYER_ZH.get(node.layer or "", ""),
                    ],
                    formats,
                )
            )
    return _save(workbook)


def consistency_workbook(*, result_set: ResultSet) -> bytes:
    """Per evaluator: scores, leniency, share dropped by trimming; the flagged spreads;
    the inter-rater reliability (from the set's stored statistics)."""
    round = result_set.round
    statistics = result_set.statistics or {}
    evaluators = statistics.get("evaluators", [])
    names = _evaluator_names(round.pk, [entry["evaluator_id"] for entry in evaluators])
    workbook = Workbook(write_only=True)
    sheet = _new_sheet(
        workbook,
        "专家一致性",
        f"{round.name} 评估专家评分一致性",
        _subtitle(result_set) + "；宽严度 = 专家评分相对合成分的平均偏差（正数偏宽）",
        [
            ("专家", 16),
            ("评分数", 9),
            ("参与比较数", 11),
            ("宽严度（分）", 13),
            ("宽严度（占满分）", 16),
            ("被去掉次数", 11),
            ("被去掉比例", 11),
        ],
        freeze_columns=1,
    )
    formats = {3: POINTS_FORMAT, 4: SHARE_FORMAT, 6: SHARE_FORMAT}
    for entry in sorted(evaluators, key=lambda e: names.get(e["evaluator_id"], "")):
        sheet.append(
            _row(
                sheet,
                [
                    names.get(entry["evaluator_id"], f"#{entry['evaluator_id']}"),
                    entry.get("scores"),
                    entry.get("compared"),
                    number(entry.get("leniency"), places=None),
                    number(entry.get("leniency_share"), places=None),
                    entry.get("dropped"),
                    number(entry.get("dropped_share"), places=None),
                ],
                formats,
            )
        )
    schools = dict(
        ResultRow.objects.filter(result_set=result_set).values_list("school_id", "school__name_zh")
    )
    titles = dict(
        Indicator.objects.filter(framework_id=round.framework_id).values_list("code", "title_zh")
    )
    spreads = _new_sheet(
        workbook,
        "分歧观测点",
        "评分分歧超过阈值的观测点",
        f"共检查 {statistics.get('spreads_checked', 0)} 项",
        [
            ("学校", 30),
            ("编码", 9),
            ("观测点", 40),
            ("评分数", 8),
            ("最低", 8),
            ("最高", 8),
            ("极差", 8),
            ("标准差", 8),
            ("阈值", 8),
        ],
        freeze_columns=3,
    )
    formats = dict.fromkeys(range(4, 9), POINTS_FORMAT)
    for spread in statistics.get("flagged_spreads", []):
        spreads.append(
            _row(
                spreads,
                [
                    schools.get(spread["school_id"], spread["school_id"]),
                    spread["code"],
                    titles.get(spread["code"], ""),
                    spread["count"],
                    number(spread["min"], places=None),
                    number(spread["max"], places=None),
                    number(spread["spread"], places=None),
                    number(spread["std"], places=None),
                    number(spread["threshold"], places=None),
                ],
                formats,
            )
        )
    reliability = statistics.get("reliability") or {}
    summary = _new_sheet(
        workbook, "信度", "评分者信度", _subtitle(result_set), [("项目", 20), ("值", 40)]
    )
    for label, value in (
        ("方法", str(reliability.get("method") or "").upper()),
        ("系数", reliability.get("value")),
        ("单一评分者", reliability.get("single_rater")),
        ("专家人数 k", reliability.get("k")),
        ("评分对象数", reliability.get("targets")),
        ("排除的对象数", reliability.get("excluded_targets")),
        ("说明", reliability.get("reason") or ""),
    ):
        summary.append(_row(summary, [label, value], {}))
    return _save(workbook)
