"""Offline scoring: an evaluator's pre-filled workbook, and its upload back.

The workbook has one sheet per school (named by the school code) listing every
observation point with its path, guidance, method and maximum; the evaluator
fills in points (a decimal between 0 and the maximum, checked by Excel's data
validation), “不适用” (a drop-down) and the reason for a deduction. Everything
but those cells is locked (sheet protection) and the sheets cannot be added,
removed or renamed (workbook protection). A very hidden ``_meta`` sheet names
the round, the evaluator and the school of each sheet.

The upload is checked by ``xm_eval.xlsx_safety`` first. Every cell is then read
and checked with the rules of the score pages (``scoring.sheets.clean_points``,
the same function ``score_set`` applies), so every problem is reported at once,
by sheet and cell. Only then are the changed scores written, a sheet at a time
through ``score_set_many`` (the rules and audit events of ``score_set``, in
bulk), and, when asked, every sheet submitted through ``score_sheet_submit``,
inside one transaction: if any of them refuses, the whole upload is rolled back
and nothing is saved.
"""

from __future__ import annotations

import io
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from core.errors import DomainError
from core.xlsx_safety import CellProblem, CheckedWorkbook, cell_number, cell_text
from rounds.enums import IndicatorMethod
from rounds.models import Round
from rounds.permissions import has_active_assignment
from schools.models import School
from scoring import selectors
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet
from scoring.permissions import can_score_school
from scoring.services import ScoreEntry, score_set_many, score_sheet_open, score_sheet_submit
from scoring.sheets import clean_points

FORMAT = "xm_eval-offline-scores/1"
META_SHEET = "_meta"
HEADER_ROW = 3
FIRST_ROW = 4
# (heading, width); the last four are the ones the evaluator fills in.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("编码", 9),
    ("维度 / 指标", 26),
    ("观测点", 40),
    ("评分标准", 50),
    ("评估方式", 10),
    ("满分", 7),
    ("得分", 8),
    ("不适用", 8),
    ("扣分原因", 40),
    ("备注", 24),
)
CODE, PATH, TITLE, GUIDANCE, METHOD, MAX, POINTS, NOT_APPLICABLE, REASON, COMMENT = range(1, 11)
ALL_COLUMNS = tuple(range(1, len(COLUMNS) + 1))
YES, NO = "是", "否"
METHOD_ZH = {
    IndicatorMethod.DOCUMENT_REVIEW: "材料审查",
    IndicatorMethod.DATA_COMPARISON: "数据比对",
    IndicatorMethod.ON_SITE: "现场考察",
    IndicatorMethod.QUESTIONNAIRE: "问卷调查",
}
HEADER_FILL = PatternFill("solid", start_color="DDE6F0")
INPUT_FILL = PatternFill("solid", start_color="FFF7CC")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


def _letter(column: int) -> str:
    return get_column_letter(column)


def _protection_password() -> str:
    # Protection keeps the structure from being changed by accident; it is not a
    # secret (Excel's sheet protection never is).
    return "xm-eval"


def score_workbook_export(*, round: Round, evaluator: Any, schools: list[School]) -> bytes:
    """The evaluator's workbook for ``schools``, pre-filled with their current scores.

    Only schools the evaluator is actively assigned to are included; none is a
    ``DomainError``.
    """
    allowed = [school for school in schools if has_active_assignment(evaluator, round, school)]
    if not allowed:
        raise DomainError(_("You are not assigned to any of these schools."), code="not_assigned")
    tree = selectors.indicator_tree_rows(round=round)
    path_of: dict[int, str] = {}
    by_id = {row.indicator.pk: row.indicator for row in tree}
    for row in tree:
        indicator = row.indicator
        if row.is_leaf:
            chain = []
            parent_id = indicator.parent_id
            while parent_id is not None:
                chain.append(by_id[parent_id].title_zh)
                parent_id = by_id[parent_id].parent_id
            path_of[indicator.pk] = " / ".join(reversed(chain))
    leaves = [row.indicator for row in tree if row.is_leaf]
    existing: dict[tuple[int, int], Score] = {
        (score.sheet_school_id, score.indicator_id): score
        for score in Score.objects.filter(
            sheet__round=round, sheet__evaluator=evaluator, sheet__school__in=allowed
        )
        .annotate(sheet_school_id=F("sheet__school_id"))
        .only("indicator_id", "points", "not_applicable", "deduction_reason", "comment")
    }
    workbook = Workbook()
    workbook.remove(workbook.active)
    _help_sheet(workbook, round, evaluator)
    meta = workbook.create_sheet(META_SHEET)
    meta.append(["format", FORMAT])
    meta.append(["round_id", round.pk])
    meta.append(["evaluator_id", evaluator.pk])
    meta.append(["evaluator", evaluator.get_username()])
    meta.append(["exported_at", timezone.localtime().isoformat()])
    for school in allowed:
        sheet = workbook.create_sheet(school.code[:31])
        meta.append(["sheet", sheet.title, school.pk])
        _school_sheet(sheet, round, school, evaluator, leaves, path_of, existing)
    meta.sheet_state = "veryHidden"
    workbook.security = WorkbookProtection(
        workbookPassword=_protection_password(), lockStructure=True
    )
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _help_sheet(workbook: Workbook, round: Round, evaluator: Any) -> None:
    sheet = workbook.create_sheet("说明")
    sheet.column_dimensions["A"].width = 100
    for line in (
        f"{round.name} · 专家离线评分表",
        f"评估专家：{evaluator.last_name}{evaluator.first_name}（{evaluator.get_username()}）",
        "每所学校一张工作表。只需在黄色单元格中填写：得分（0 至满分，最多两位小数）、"
        "不适用（是/否）、扣分原因（得分低于满分时必填）和备注。",
        "请勿使用公式、外部链接或宏，请勿增删工作表或行。",
        "上传后按与网页评分相同的规则检查；任一单元格有问题时整份文件都不保存，并逐格列出问题。",
        "留空的得分不会覆盖已保存的分数。",
    ):
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    for row in sheet.iter_rows(min_row=2):
        row[0].alignment = WRAP
    sheet.protection.sheet = True
    sheet.protection.password = _protection_password()


def _school_sheet(
    sheet: Any,
    round: Round,
    school: School,
    evaluator: Any,
    leaves: list[Any],
    path_of: dict[int, str],
    existing: dict[tuple[int, int], Score],
) -> None:
    sheet.append([f"{school.name_zh}（{school.code}）— {round.name} 专家评分表"])
    sheet.append(
        [
            f"评估专家：{evaluator.get_username()}；请只在黄色单元格中填写；得分低于满分须写扣分原因。"
        ]
    )
    sheet.append([heading for heading, _width in COLUMNS])
    sheet["A1"].font = Font(bold=True, size=13)
    for index, (_heading, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[_letter(index)].width = width
        cell = sheet.cell(row=HEADER_ROW, column=index)
        cell.font, cell.fill = BOLD, HEADER_FILL
    for leaf in leaves:
        score = existing.get((school.pk, leaf.pk))
        sheet.append(
            [
                leaf.code,
                path_of.get(leaf.pk, ""),
                leaf.title_zh,
                leaf.guidance,
                METHOD_ZH.get(leaf.method, leaf.method),
                float(leaf.max_points),
                float(score.points) if score and score.points is not None else None,
                YES if score and score.not_applicable else NO,
                score.deduction_reason if score else "",
                score.comment if score else "",
            ]
        )
    last = sheet.max_row
    rows = sheet.iter_rows(min_row=FIRST_ROW, max_row=last)
    first = next(rows, None)
    if first is not None:
        for cell in first:
            cell.alignment = WRAP
        first[MAX - 1].number_format = "0.00"
        first[POINTS - 1].number_format = "0.00"
        for column in (POINTS, NOT_APPLICABLE, REASON, COMMENT):
            first[column - 1].protection = UNLOCKED
            first[column - 1].fill = INPUT_FILL
        # Every row looks like the first: copying its style arrays is many times
        # faster than setting four style attributes on each of 450,000 cells.
        for row in rows:
            for cell, model in zip(row, first, strict=False):
                cell._style = copy(model._style)
    points = DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2=f"{_letter(MAX)}{FIRST_ROW}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="得分超出范围",
        error="得分须在 0 与该观测点满分之间，最多两位小数。",
    )
    points.add(f"{_letter(POINTS)}{FIRST_ROW}:{_letter(POINTS)}{last}")
    flag = DataValidation(
        type="list", formula1=f'"{YES},{NO}"', allow_blank=True, showErrorMessage=True
    )
    flag.add(f"{_letter(NOT_APPLICABLE)}{FIRST_ROW}:{_letter(NOT_APPLICABLE)}{last}")
    sheet.add_data_validation(points)
    sheet.add_data_validation(flag)
    sheet.freeze_panes = f"D{FIRST_ROW}"
    sheet.protection.sheet = True
    sheet.protection.password = _protection_password()
    sheet.protection.formatColumns = False  # widths may still be changed


# ------------------------------------------------------------------ upload


@dataclass(frozen=True, slots=True)
class _Entry:
    sheet: str
    row: int
    school_id: int
    indicator: Any
    points: Decimal | None
    not_applicable: bool
    reason: str
    comment: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    sheets: int
    changed: int
    unchanged: int
    submitted: int


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, sheet: str, row: int | None, column: int | None, code: str, message: str) -> None:
        cell = f"{_letter(column)}{row}" if column and row else ""
        where = (
            _("Sheet “%(sheet)s”, cell %(cell)s") % {"sheet": sheet, "cell": cell}
            if cell
            else _("Sheet “%(sheet)s”") % {"sheet": sheet}
        )
        self.items.append(
            {
                "sheet": sheet,
                "row": row,
                "column": _letter(column) if column else "",
                "cell": cell,
                "code": code,
                "message": f"{where}: {message}",
            }
        )


def _invalid(problems: _Problems) -> DomainError:
    return DomainError(
        _("The workbook has %(count)d problem(s); nothing was saved.")
        % {"count": len(problems.items)},
        code="xlsx_invalid",
        field="file",
        details=problems.items,
    )


def _read_meta(workbook: Any, round: Round, actor: Any) -> dict[str, int]:
    """Sheet title → school id, after checking the workbook is this evaluator's for this round."""
    problems = _Problems()
    if META_SHEET not in workbook.sheetnames:
        problems.add(
            META_SHEET,
            None,
            None,
            "wrong_workbook",
            _("this is not an offline scoring workbook of xm_eval; download one first"),
        )
        raise _invalid(problems)
    values: dict[str, Any] = {}
    sheets: dict[str, int] = {}
    for _number, cells in workbook.rows(META_SHEET, columns={1, 2, 3}):
        row = [cells.get(column, (None, None))[0] for column in (1, 2, 3)]
        if row[0] is None:
            continue
        if row[0] == "sheet" and row[2] is not None:
            sheets[str(row[1])] = int(row[2])
        else:
            values[str(row[0])] = row[1] if len(row) > 1 else None
    if values.get("format") != FORMAT:
        problems.add(META_SHEET, None, None, "wrong_workbook", _("unknown workbook format"))
    elif str(values.get("round_id")) != str(round.pk):
        problems.add(
            META_SHEET,
            None,
            None,
            "wrong_round",
            _("the workbook was exported for another round"),
        )
    elif str(values.get("evaluator_id")) != str(actor.pk):
        problems.add(
            META_SHEET,
            None,
            None,
            "wrong_evaluator",
            _("the workbook was exported for another evaluator (%(name)s)")
            % {"name": values.get("evaluator")},
        )
    if problems.items:
        raise _invalid(problems)
    return sheets


def _read_entries(
    workbook: Any, sheets: dict[str, int], round: Round, problems: _Problems
) -> list[_Entry]:
    leaves = {
        indicator.code: indicator
        for indicator in selectors.framework_indicators_by_code(
            framework_id=round.framework_id
        ).values()
    }
    parents = {indicator.parent_id for indicator in leaves.values()}
    leaves = {code: i for code, i in leaves.items() if i.pk not in parents}
    entries: list[_Entry] = []
    for title, school_id in sheets.items():
        if title not in workbook.sheetnames:
            problems.add(title, None, None, "missing_sheet", _("the sheet is missing"))
            continue
        seen: dict[str, int] = {}
        header_seen = False
        for row_number, cells in workbook.rows(title, columns=ALL_COLUMNS):
            if row_number < HEADER_ROW:
                continue
            values = [cells.get(column, (None, None)) for column in ALL_COLUMNS]
            if row_number > HEADER_ROW and not header_seen:
                _check_header(title, [(None, None)] * len(COLUMNS), problems)
                header_seen = True
            if row_number == HEADER_ROW:
                header_seen = True
                _check_header(title, values, problems)
                continue
            entry = _read_row(title, row_number, values, school_id, leaves, seen, problems)
            if entry is not None:
                entries.append(entry)
    return entries


def _check_header(title: str, values: list[tuple[Any, Any]], problems: _Problems) -> None:
    for column, (heading, _width) in enumerate(COLUMNS, start=1):
        found = values[column - 1][0]
        if (str(found).strip() if found is not None else "") != heading:
            problems.add(
                title,
                HEADER_ROW,
                column,
                "wrong_header",
                _("the heading should be “%(heading)s”, not “%(found)s”")
                % {"heading": heading, "found": found if found is not None else ""},
            )


def _read_row(
    title: str,
    row_number: int,
    values: list[tuple[Any, Any]],
    school_id: int,
    leaves: dict[str, Any],
    seen: dict[str, int],
    problems: _Problems,
) -> _Entry | None:
    code = cell_text(*values[CODE - 1])
    if isinstance(code, CellProblem):
        problems.add(title, row_number, CODE, code.code, code.message)
        return None
    if not code:
        if any(v is not None and str(v).strip() for v, _t in values[POINTS - 1 :]):
            problems.add(
                title, row_number, CODE, "unknown_point", _("a row without a code has entries")
            )
        return None
    leaf = leaves.get(code)
    if leaf is None:
        problems.add(
            title,
            row_number,
            CODE,
            "unknown_point",
            _("%(code)s is not an observation point of this round") % {"code": code},
        )
        return None
    if code in seen:
        problems.add(
            title,
            row_number,
            CODE,
            "duplicate_point",
            _("%(code)s appears already on row %(row)d") % {"code": code, "row": seen[code]},
        )
        return None
    seen[code] = row_number
    bad = False
    points = cell_number(*values[POINTS - 1])
    if isinstance(points, CellProblem):
        problems.add(title, row_number, POINTS, points.code, points.message)
        bad = True
    flag = cell_text(*values[NOT_APPLICABLE - 1])
    if isinstance(flag, CellProblem):
        problems.add(title, row_number, NOT_APPLICABLE, flag.code, flag.message)
        bad = True
    elif flag not in ("", YES, NO, "yes", "no"):
        problems.add(
            title,
            row_number,
            NOT_APPLICABLE,
            "wrong_type",
            _("“%(value)s” should be 是 or 否") % {"value": flag},
        )
        bad = True
    texts = []
    for column in (REASON, COMMENT):
        text = cell_text(*values[column - 1])
        if isinstance(text, CellProblem):
            problems.add(title, row_number, column, text.code, text.message)
            bad = True
            text = ""
        texts.append(text)
    if bad:
        return None
    not_applicable = flag in (YES, "yes")
    if points is None and not not_applicable:
        return None  # nothing entered: the stored score (if any) stays
    entry = _Entry(
        sheet=title,
        row=row_number,
        school_id=school_id,
        indicator=leaf,
        points=None if not_applicable else points,
        not_applicable=not_applicable,
        reason=texts[0],
        comment=texts[1],
    )
    try:
        clean_points(
            point=leaf,
            points=entry.points,
            not_applicable=not_applicable,
            reason=entry.reason,
            reason_required=True,
        )
    except DomainError as error:
        column = REASON if error.code == "reason_required" else POINTS
        problems.add(title, row_number, column, error.code, str(error))
        return None
    return entry


def _unchanged(entry: _Entry, stored: list[Any] | None) -> bool:
    """Whether ``score_set`` would store what is stored already (points, n/a, texts)."""
    if stored is None:
        return False
    points, not_applicable, reason, comment, max_points = stored
    given = None if entry.points is None else entry.points.quantize(Decimal("0.01"))
    given_reason = entry.reason.strip() if given != max_points else ""
    return (
        points == given
        and not_applicable == entry.not_applicable
        and reason == given_reason
        and comment == entry.comment.strip()
    )


def _write_sheet(
    sheet: ScoreSheet, actor: Any, entries: list[_Entry], title: str, problems: _Problems
) -> None:
    """Write one sheet's changed scores; a refusal goes to ``problems`` by cell, or by
    sheet when the sheet as a whole cannot be changed (submitted, scoring closed …)."""
    try:
        score_set_many(
            sheet=sheet,
            actor=actor,
            entries=[
                ScoreEntry(
                    indicator=entry.indicator,
                    points=entry.points,
                    not_applicable=entry.not_applicable,
                    deduction_reason=entry.reason,
                    comment=entry.comment,
                )
                for entry in entries
            ],
        )
    except DomainError as error:
        if error.code != "scores_refused":
            problems.add(title, None, None, error.code, str(error))
            return
        for refusal in error.details:
            entry = entries[refusal["index"]]
            column = REASON if refusal["code"] == "reason_required" else POINTS
            problems.add(entry.sheet, entry.row, column, refusal["code"], refusal["message"])


def score_workbook_import(
    *, round: Round, actor: Any, upload: Any, submit: bool = False
) -> ImportSummary:
    """Apply an uploaded offline scoring workbook: every changed score, or nothing.

    Checks the file (``xlsx_safety``), that it is the actor's workbook for this
    round, every cell (types, formulas, the score rules) — reporting every
    problem by sheet and cell — then writes the changed scores of each sheet
    through ``score_set_many`` and, with ``submit``, submits every sheet through
    ``score_sheet_submit``, all in one transaction that any refusal rolls back.
    """
    workbook = CheckedWorkbook(upload)
    try:
        sheets = _read_meta(workbook, round, actor)
        problems = _Problems()
        entries = _read_entries(workbook, sheets, round, problems)
    finally:
        workbook.close()
    schools = {school.pk: school for school in School.objects.filter(pk__in=sheets.values())}
    title_of = {school_id: title for title, school_id in sheets.items()}
    for school_id, title in title_of.items():
        school = schools.get(school_id)
        if school is None or not can_score_school(actor, round, school):
            problems.add(
                title,
                None,
                None,
                "not_assigned",
                _("you cannot score this school now (not assigned, recused, or scoring closed)"),
            )
    if problems.items:
        raise _invalid(problems)

    existing = {
        (school_id, indicator_id): stored
        for school_id, indicator_id, *stored in Score.objects.filter(
            sheet__round=round, sheet__evaluator=actor, sheet__school_id__in=list(schools)
        ).values_list(
            "sheet__school_id",
            "indicator_id",
            "points",
            "not_applicable",
            "deduction_reason",
            "comment",
            "max_points",
        )
    }
    changed = [e for e in entries if not _unchanged(e, existing.get((e.school_id, e.indicator.pk)))]
    changed_by_school: dict[int, list[_Entry]] = {}
    for entry in changed:
        changed_by_school.setdefault(entry.school_id, []).append(entry)
    submitted = 0
    with transaction.atomic():
        score_sheets: dict[int, ScoreSheet] = {}
        for school_id, school in schools.items():
            try:
                score_sheets[school_id] = score_sheet_open(round=round, school=school, actor=actor)
            except DomainError as error:
                problems.add(title_of[school_id], None, None, error.code, str(error))
        for school_id, school_entries in changed_by_school.items():
            sheet = score_sheets.get(school_id)
            if sheet is None:
                continue
            _write_sheet(sheet, actor, school_entries, title_of[school_id], problems)
        if submit and not problems.items:
            for school_id, sheet in score_sheets.items():
                if sheet.status == SheetStatus.SUBMITTED and school_id not in changed_by_school:
                    continue
                try:
                    score_sheet_submit(sheet=sheet, actor=actor)
                    submitted += 1
                except DomainError as error:
                    problems.add(title_of[school_id], None, None, error.code, str(error))
        if problems.items:
            transaction.set_rollback(True)
    if problems.items:
        raise _invalid(problems)
    return ImportSummary(
        sheets=len(schools),
        changed=len(changed),
        unchanged=len(entries) - len(changed),
        submitted=submitted,
    )
