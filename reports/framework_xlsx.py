"""Indicator frameworks from and to Excel workbooks (.xlsx).

The workbook has one sheet of indicators (``指标体系``, else the first sheet),
one row per node of the tree below a header row, with the columns of the CSV
format (``rounds.framework_csv``), headed in Chinese or by the CSV names:

====================  ==================  =========================================
header                CSV name            content
====================  ==================  =========================================
编码                   code                required, unique
上级编码               parent              empty for a dimension
中文名称               title_zh            required
英文名称               title_en
分值                   max_points          number above 0
权重                   weight              0–1, where the parent weights its children
评估方式               method              材料审查 / 数据比对 / 现场考察 / 问卷调查 (or the codes)
否决项                 veto                是 / 否
否决及格分             veto_pass_mark      below full points, else empty
重点标签               tags                规范办学；人才培养；校企合作；专业建设
评分标准               guidance_zh
备查材料               evidence_zh         ；-separated
====================  ==================  =========================================

The upload is checked by ``xm_eval.xlsx_safety`` before it is parsed. Each cell
is then turned into the text the CSV parser expects (a formula, a date or text
where a number belongs is refused here, naming the cell), and every row goes
through the CSV parser's own row rules, so both formats accept and refuse the
same things. Every problem is reported with its sheet, row and column; the
tree rules are then ``framework_create``'s, whose problems are mapped back to
the row of the indicator. Nothing is imported unless the whole file is valid.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.errors import DomainError
from core.xlsx_safety import CellProblem, cell_number, cell_text, workbook_open
from rounds import framework_csv
from rounds.enums import FOCUS_TAG_BY_CHINESE, IndicatorMethod
from rounds.framework_csv import sample_framework_path
from rounds.models import Framework
from rounds.services import IndicatorData, framework_create

SHEET_NAME = "指标体系"
HELP_SHEET_NAME = "说明"
# (CSV name, Chinese header, column width)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("code", "编码", 10),
    ("parent", "上级编码", 10),
    ("title_zh", "中文名称", 40),
    ("title_en", "英文名称", 30),
    ("max_points", "分值", 8),
    ("weight", "权重", 8),
    ("method", "评估方式", 12),
    ("veto", "否决项", 8),
    ("veto_pass_mark", "否决及格分", 10),
    ("tags", "重点标签", 16),
    ("guidance_zh", "评分标准", 50),
    ("evidence_zh", "备查材料", 40),
)
NUMBER_COLUMNS = frozenset({"max_points", "weight", "veto_pass_mark"})
HEADER_TO_NAME = {zh: name for name, zh, _width in COLUMNS} | {
    name: name for name, _zh, _width in COLUMNS
}
METHOD_ZH = {
    IndicatorMethod.DOCUMENT_REVIEW: "材料审查",
    IndicatorMethod.DATA_COMPARISON: "数据比对",
    IndicatorMethod.ON_SITE: "现场考察",
    IndicatorMethod.QUESTIONNAIRE: "问卷调查",
}
METHOD_BY_ZH = {zh: str(code) for code, zh in METHOD_ZH.items()}
VETO_TEXT = {"是": "yes", "否": "", "yes": "yes", "no": "", "y": "yes", "n": "", "true": "yes"}


def _locate(
    problems: list[dict[str, Any]], sheet: str, letters: dict[str, str]
) -> list[dict[str, Any]]:
    located = []
    for problem in problems:
        column = str(problem.get("column") or "")
        row = problem.get("row")
        # CSV parser problems name the column (lower case); ours give its letter.
        letter = letters.get(column) or (column if column.isupper() else "")
        cell = f"{letter}{row}" if letter and row else (f"{row}" if row else "")
        where = (
            _("Sheet “%(sheet)s”, cell %(cell)s") % {"sheet": sheet, "cell": cell}
            if letter and row
            else _("Sheet “%(sheet)s”, row %(row)s") % {"sheet": sheet, "row": row}
            if row
            else _("Sheet “%(sheet)s”") % {"sheet": sheet}
        )
        located.append(
            {**problem, "sheet": sheet, "cell": cell, "message": f"{where}: {problem['message']}"}
        )
    return located


def _invalid(problems: list[dict[str, Any]]) -> DomainError:
    return DomainError(
        _("The workbook has %(count)d problem(s); nothing was imported.")
        % {"count": len(problems)},
        code="xlsx_invalid",
        field="file",
        details=problems,
    )


def _cell_value(name: str, cell: Any) -> str | CellProblem:
    value = getattr(cell, "value", cell)
    data_type = getattr(cell, "data_type", None)
    if name in NUMBER_COLUMNS:
        number = cell_number(value, data_type)
        if isinstance(number, CellProblem):
            return number
        return "" if number is None else format(number, "f")
    text = cell_text(value, data_type)
    if isinstance(text, CellProblem):
        return text
    if name == "method":
        return METHOD_BY_ZH.get(text, text)
    if name == "veto":
        return VETO_TEXT.get(text.lower(), text)
    return text


def _parse(upload: Any) -> tuple[list[IndicatorData], dict[str, int], str, dict[str, str]]:
    workbook = workbook_open(upload)
    try:
        sheet = (
            workbook[SHEET_NAME] if SHEET_NAME in workbook.sheetnames else workbook.worksheets[0]
        )
        title = sheet.title
        problems = framework_csv._Problems()
        lines = sheet.iter_rows()
        header_cells = next(lines, None)
        columns: list[str] = []
        letters: dict[str, str] = {}
        for index, cell in enumerate(header_cells or (), start=1):
            text = cell_text(getattr(cell, "value", None), getattr(cell, "data_type", None))
            text = "" if isinstance(text, CellProblem) else text
            if not text:
                columns.append(f"__empty{index}")
                continue
            name = HEADER_TO_NAME.get(text)
            letter = get_column_letter(index)
            if name is None:
                problems.add(
                    1,
                    letter,
                    "wrong_header",
                    _("unknown column heading “%(heading)s”; the template's headings are %(known)s")
                    % {"heading": text, "known": "、".join(zh for _n, zh, _w in COLUMNS)},
                    text,
                )
                columns.append(f"__unknown{index}")
                continue
            if name in letters:
                problems.add(
                    1,
                    letter,
                    "wrong_header",
                    _("column “%(heading)s” appears twice") % {"heading": text},
                    text,
                )
            letters[name] = letter
            columns.append(name)
        for name in framework_csv.REQUIRED_COLUMNS:
            if name not in letters:
                zh = next(zh for n, zh, _w in COLUMNS if n == name)
                problems.add(
                    1,
                    "",
                    "wrong_header",
                    _("the header row has no column “%(heading)s” (%(name)s)")
                    % {"heading": zh, "name": name},
                )
        if problems.items:
            # Without the right header every cell would be misread: report the header only.
            raise _invalid(_locate(problems.items, title, {}))

        known = [name for name in columns if not name.startswith("__")]
        rows: list[IndicatorData] = []
        tags_by_code: dict[str, tuple[str, ...]] = {}
        first_row_of: dict[str, int] = {}
        for row_number, cells in enumerate(lines, start=2):
            values: dict[str, str] = {}
            bad: set[str] = set()
            for name, cell in zip(columns, cells, strict=False):
                if name.startswith("__"):
                    continue
                value = _cell_value(name, cell)
                if isinstance(value, CellProblem):
                    problems.add(row_number, letters[name], value.code, value.message)
                    bad.add(name)
                    value = ""
                values[name] = value
            if not any(values.values()) and not bad:
                continue
            ordered = [values.get(name, "") for name in known]
            before = len(problems.items)
            item = framework_csv._parse_row(
                ordered, known, row_number, problems, tags_by_code, first_row_of
            )
            # A cell refused above is reported once, not again as empty by the row rules.
            problems.items[before:] = [
                problem for problem in problems.items[before:] if problem["column"] not in bad
            ]
            if item is not None and not bad:
                rows.append(item)
        if not rows and not problems.items:
            problems.add(None, "", "empty", _("the sheet has a header but no indicator rows"))
        if problems.items:
            raise _invalid(_locate(problems.items, title, letters))
        return rows, first_row_of, title, letters
    except DomainError:
        raise
    except Exception as error:  # openpyxl and defusedxml errors of a broken or hostile part
        raise DomainError(
            _("The workbook could not be read: %(error)s.") % {"error": error},
            code="xlsx_refused",
            field="file",
            details=[{"problem": "damaged", "message": str(error)}],
        ) from None
    finally:
        workbook.close()


def framework_import_xlsx(
    *,
    actor: AbstractBaseUser | None,
    upload: Any,
    name: str,
    policy_title: str,
    valid_from: dt.date,
    valid_to: dt.date,
    total_points: Decimal = Decimal("100"),
) -> Framework:
    """Create a draft framework from a workbook, all of it or nothing.

    The rows go to ``framework_create`` (validation, one transaction, audit);
    its problems come back with the sheet, row and cell of the indicator.
    """
    rows, first_row_of, sheet, letters = _parse(upload)
    try:
        return framework_create(
            actor=actor,
            name=name,
            policy_title=policy_title,
            valid_from=valid_from,
            valid_to=valid_to,
            indicators=rows,
            total_points=total_points,
        )
    except DomainError as error:
        if error.code != "framework_invalid" or not error.details:
            raise
        field_to_column = {"parent_code": "parent", "is_veto": "veto", "tags": "tags"}
        problems = []
        for detail in error.details:
            column = field_to_column.get(detail.get("field", ""), detail.get("field", ""))
            problems.append(
                {
                    **detail,
                    "row": first_row_of.get(detail.get("indicator_code", "")),
                    "column": column if column in letters else "",
                }
            )
        raise _invalid(_locate(problems, sheet, letters)) from error


# ------------------------------------------------------------------ template

HEADER_FILL = PatternFill("solid", start_color="DDE6F0")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def framework_template_workbook(rows: list[IndicatorData] | None = None) -> bytes:
    """The import template: the header, drop-downs for method and veto, an explanation
    sheet, and example rows (default: the sample framework, which imports as it is)."""
    if rows is None:
        rows = framework_csv.framework_rows_from_csv(
            (framework_csv_path()).read_text(encoding="utf-8")
        )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append([zh for _name, zh, _width in COLUMNS])
    for index, (_name, _zh, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = BOLD, HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    for item in rows:
        sheet.append(
            [
                item.code,
                item.parent_code or "",
                item.title_zh,
                item.title_en,
                float(item.max_points),
                float(item.weight) if item.weight is not None else None,
                METHOD_ZH.get(item.method, item.method) if item.method else "",
                "是" if item.is_veto else "",
                float(item.veto_pass_mark) if item.veto_pass_mark is not None else None,
                "；".join(_tag_zh(tag) for tag in item.tags),
                item.guidance,
                "；".join(item.required_evidence),
            ]
        )
    last = max(sheet.max_row, 200)
    letters = {name: get_column_letter(i) for i, (name, _zh, _w) in enumerate(COLUMNS, start=1)}
    method = DataValidation(
        type="list", formula1='"' + ",".join(METHOD_ZH.values()) + '"', allow_blank=True
    )
    method.error = "请从列表中选择评估方式"
    method.add(f"{letters['method']}2:{letters['method']}{last}")
    veto = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    veto.add(f"{letters['veto']}2:{letters['veto']}{last}")
    points = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True)
    points.error = "分值须为大于 0 的数"
    points.add(f"{letters['max_points']}2:{letters['max_points']}{last}")
    weight = DataValidation(
        type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True
    )
    weight.add(f"{letters['weight']}2:{letters['weight']}{last}")
    for validation in (method, veto, points, weight):
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
    for row in sheet.iter_rows(min_row=2, min_col=10, max_col=12):
        for cell in row:
            cell.alignment = WRAP
    for column in (letters["max_points"], letters["weight"], letters["veto_pass_mark"]):
        for cell in sheet[column][1:]:
            cell.number_format = "0.00##"

    help_sheet = workbook.create_sheet(HELP_SHEET_NAME)
    help_sheet.column_dimensions["A"].width = 14
    help_sheet.column_dimensions["B"].width = 90
    help_sheet.append(["列", "填写说明"])
    for cell in help_sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for line in (
        ("编码", "必填，每行唯一；维度、指标、观测点各占一行，上级在前。"),
        ("上级编码", "维度留空；其余填上级的编码。"),
        ("中文名称", "必填。"),
        ("分值", "大于 0 的数，最多两位小数；子项分值之和等于上级分值，观测点分值合计为总分。"),
        ("权重", "可选，0–1；同一上级的子项都填权重时按权重折算，权重之和为 1。"),
        ("评估方式", "观测点必填：" + "、".join(METHOD_ZH.values()) + "。"),
        ("否决项", "观测点为否决项时填“是”。"),
        ("否决及格分", "可选；否决项低于此分即不通过，留空为满分。"),
        ("重点标签", "规范办学、人才培养、校企合作、专业建设，用“；”分隔；留空继承上级。"),
        ("评分标准", "观测点的评分细则。"),
        ("备查材料", "学校需上传的材料，用“；”分隔。"),
        ("注意", "请勿使用公式、外部链接或宏；整个文件无误时才会导入，否则逐格列出问题。"),
    ):
        help_sheet.append(list(line))
    for row in help_sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _tag_zh(tag: str) -> str:

    return next((zh for zh, code in FOCUS_TAG_BY_CHINESE.items() if code == tag), tag)


def framework_csv_path():  # noqa: ANN201 - a Path

    return sample_framework_path()
