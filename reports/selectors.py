"""Reads for the reports: what each PDF shows, artifacts, jobs and their progress.

The figures of every document come from the stored result set (its rows and
their stored inputs), never from a new computation. Deduction reasons are not
part of the stored inputs, so they are read from the expert scores of the
submitted sheets that counted (active assignments), as the result pages do.
Evaluators stay anonymous (“专家1”…) in everything that goes to a school.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from core import permissions
from rectification.models import Rectification
from reports.enums import SCHOOL_KINDS, RenderJobStatus, ReportKind
from reports.models import DocumentNumber, GroupOpinion, RenderFailure, RenderJob, ReportArtifact
from reports.permissions import can_download_every_report
from rounds.enums import AssignmentStatus, ConflictKind, Grade, GroupRole, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, GroupMember, Indicator, PhaseWindow, Round
from scoring import engine, engine_inputs, presenter
from scoring import selectors as scoring_selectors
from scoring.charts import bar_chart, radar_chart
from scoring.models import ResultRow, ResultSet

# The documents are Chinese official documents whatever the interface language; the
# grade and group names come from the results presenter, like every figure.
LAYER_ZH = {
    engine.Layer.EXPERT.value: "专家评分",
    engine.Layer.CONSENSUS.value: "组长合议分",
    engine.Layer.AUDIT.value: "审核分",
}
METHOD_ZH = {
    engine.Method.MEAN.value: "算术平均",
    engine.Method.MEDIAN.value: "中位数",
    engine.Method.TRIMMED_MEAN.value: "去掉一个最高分和一个最低分后平均",
}
RANK_NOTE_ZH = {
    engine.RankNote.VETO_FAILED_RANKED_LAST.value: "否决项未通过，排在未触发否决项的学校之后",
    engine.RankNote.TIE_BROKEN_BY_DIMENSION.value: "总分相同，按维度得分依次比较确定名次",
    engine.RankNote.TIED.value: "与其他学校总分相同，名次并列",
}
# Beside the failed veto items the summary names already.
VETO_RANK_NOTE_ZH = "排在未触发否决项的学校之后"
ROLE_ZH = {GroupRole.LEADER: "组长", GroupRole.EVALUATOR: "评估专家"}
CONFLICT_ZH = {ConflictKind.DECLARED: "本人申报", ConflictKind.DETECTED: "核查发现"}
# An observation point scoring below this share of its points is an item to rectify
# (the same 60 % as the qualifying grade band).
RECTIFY_SHARE = Decimal("0.6")
DEFAULT_RECTIFICATION_DAYS = 90


def bureau_name() -> str:
    return getattr(settings, "REPORTS_BUREAU_NAME", "厦门市人力资源和社会保障局")


def _person(user: Any) -> str:
    return f"{user.last_name}{user.first_name}".strip() or user.username


@dataclass(frozen=True, slots=True)
class DocumentHeader:
    """What every page of every document carries (title block and running footer)."""

    bureau: str
    title: str
    round: Round
    result_set: ResultSet
    generated_at: dt.datetime

    @property
    def stylesheet_url(self) -> str:
        # Not ``{% static %}``: a worker has no collected, hashed static files;
        # the URL fetcher finds the file with the static finders.
        return "/" + settings.STATIC_URL.strip("/") + "/reports/pdf.css"

    @property
    def version_text(self) -> str:
        state = "已公布" if self.result_set.is_published else "未公布"
        return f"v{self.result_set.version}（{state}）"


def _header(result_set: ResultSet, title: str) -> DocumentHeader:
    return DocumentHeader(
        bureau=bureau_name(),
        title=title,
        round=result_set.round,
        result_set=result_set,
        generated_at=timezone.localtime(),
    )


def result_set_for_reports(*, result_set_id: int) -> ResultSet:
    return ResultSet.objects.select_related("round__framework").get(pk=result_set_id)


def _indicators(round: Round) -> dict[str, Indicator]:
    return {
        indicator.code: indicator
        for indicator in Indicator.objects.filter(framework_id=round.framework_id).order_by(
            "order", "code"
        )
    }


# ----------------------------------------------------------- school report


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One row of the indicator table of a school report."""

    indicator: Indicator
    depth: int
    is_leaf: bool
    score: Decimal | None
    max_points: Decimal
    status: str
    layer: str
    self_score: Decimal | None
    self_not_applicable: bool
    gap: Decimal | None
    reasons: tuple[str, ...]

    @property
    def deducted(self) -> bool:
        return self.score is not None and self.score < self.max_points

    @property
    def below_rectify_mark(self) -> bool:
        return self.score is not None and self.score < self.max_points * RECTIFY_SHARE


def _reasons(
    indicator: Indicator,
    expert: list[Any],
    school_input: engine.SchoolInput,
    *,
    deducted: bool,
) -> tuple[str, ...]:
    """The group's reasons for one observation point, each text once.

    The bureau's and the leader's justifications come first; then the experts'
    deduction reasons, without who gave them or their scores (a school sees the
    consolidated score only), a reason several experts gave counted once with
    how many gave it. Experts' reasons are left out where the consolidated score
    lost nothing: they explain no deduction.
    """
    reasons = []
    audit = school_input.audit_scores.get(indicator.code)
    consensus = school_input.consensus_scores.get(indicator.code)
    if audit is not None and audit.justification:
        reasons.append(f"审核意见：{audit.justification}")
    if consensus is not None and consensus.justification:
        reasons.append(f"组长合议：{consensus.justification}")
    if deducted:
        given = Counter(
            score.deduction_reason.strip()
            for score in sorted(expert, key=lambda score: score.sheet.evaluator_id)
            if score.deduction_reason.strip()
            and score.points is not None
            and score.points < score.max_points
        )
        for text, count in given.items():
            reasons.append(text if count == 1 else f"{text}（{count}位专家）")
    return tuple(reasons)


def school_report_context(*, result_set: ResultSet, school_id: int) -> dict[str, Any]:
    """Everything the school report shows, from the stored result set (fixed query count)."""
    round = result_set.round
    row = (
        ResultRow.objects.filter(result_set=result_set, school_id=school_id)
        .select_related("school")
        .get()
    )
    indicators = _indicators(round)
    code_of = {indicator.pk: code for code, indicator in indicators.items()}
    school_input = engine_inputs.stored_school_input(row=row, code_of=code_of)
    presented = presenter.result_set_present(result_set=result_set, school_id=school_id)
    result = presented.school

    expert = scoring_selectors.submitted_expert_scores_by_point(round=round, school_id=school_id)
    lines: list[ReportLine] = []
    for tree_row in _tree(indicators):
        indicator = tree_row[0]
        node = row.node(indicator.code)
        score = presenter.number(node.score)
        self_value = school_input.self_scores.get(indicator.code)
        self_na = self_value is engine.NOT_APPLICABLE
        self_score = None if self_na or self_value is None else presenter.number(self_value)
        gap = None
        if tree_row[1] == 0:
            gap = presenter.number((row.self_gap or {}).get(indicator.code))
        elif self_score is not None and score is not None:
            gap = self_score - score
        lines.append(
            ReportLine(
                indicator=indicator,
                depth=tree_row[1],
                is_leaf=tree_row[2],
                score=score,
                max_points=indicator.max_points,
                status=node.status,
                layer=LAYER_ZH.get(node.layer or "", ""),
                self_score=self_score,
                self_not_applicable=self_na,
                gap=gap,
                reasons=_reasons(
                    indicator,
                    expert.get(indicator.pk, []),
                    school_input,
                    deducted=score is None or score < indicator.max_points,
                )
                if tree_row[2]
                else (),
            )
        )
    veto_failed = [indicators[code] for code in row.veto_failed or [] if code in indicators]
    unqualified = row.grade == Grade.UNQUALIFIED or bool(veto_failed)
    rectify = _items_to_rectify(lines, veto_failed) if unqualified else []
    opinion = (
        GroupOpinion.objects.filter(round=round, school_id=school_id)
        .select_related("author")
        .first()
    )
    school = row.school
    return {
        "header": _header(result_set, f"{school.name_zh} 办学质量评估报告"),
        "school": school,
        "row": row,
        "total": result.total,
        "framework_total": round.framework.total_points,
        "grade_zh": result.grade_zh,
        "rank_note": RANK_NOTE_ZH.get(row.rank_note, row.rank_note),
        "school_count": len(presented.schools),
        "group_name": result.group_zh,
        "group_count": result.group_size,
        "dimensions": [
            {
                "indicator": cell,
                "value": cell.score,
                "average": cell.group_average,
                "gap": presenter.number((row.self_gap or {}).get(cell.code)),
            }
            for cell in result.dimensions
        ],
        "dimension_total": result.total,
        "group_average_total": getattr(presented.group_average(result.group), "total", None),
        "self_gap_total": _sum_or_none(
            [presenter.number((row.self_gap or {}).get(cell.code)) for cell in result.dimensions]
        ),
        "grade_bands": grade_bands_zh(round.framework.grade_bands),
        "rectify_percent": int(RECTIFY_SHARE * 100),
        "radar": _radar(school.name_zh, result.scores, result.group_averages, presented.dimensions),
        "lines": lines,
        "veto_failed": veto_failed,
        "unqualified": unqualified,
        "rectify": rectify,
        "opinion": opinion,
        "method": METHOD_ZH.get(result_set.consolidation_method, result_set.consolidation_method),
        "incomplete": not row.is_complete,
    }


def _sum_or_none(values: Sequence[Decimal | None]) -> Decimal | None:
    if not values or any(value is None for value in values):
        return None
    return sum(values, Decimal(0))


def grade_bands_zh(bands: Sequence[Mapping[str, str]]) -> str:
    """The grade bands in words: 优秀 ≥ 90 分，良好 ≥ 80 分，…，不合格 < 60 分."""
    ordered = sorted(bands, key=lambda band: Decimal(str(band["min"])), reverse=True)
    parts = []
    for index, band in enumerate(ordered):
        name = presenter.grade_zh(band["grade"])
        if Decimal(str(band["min"])) > 0 or index == 0:
            parts.append(f"{name} ≥ {presenter.number(Decimal(str(band['min'])), 0)} 分")
        else:
            above = presenter.number(Decimal(str(ordered[index - 1]["min"])), 0)
            parts.append(f"{name} < {above} 分")
    return "，".join(parts)


def _tree(indicators: Mapping[str, Indicator]) -> list[tuple[Indicator, int, bool]]:
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


def _radar(
    name: str,
    values: list[Decimal | None],
    averages: list[Decimal | None],
    dims: Sequence[presenter.Dimension],
) -> SafeString:
    if len(dims) < 3:
        return mark_safe("")
    return mark_safe(  # noqa: S308 - SVG built by reports.charts from escaped text
        radar_chart(
            [dim.title_zh for dim in dims],
            {name: values, "组内平均": averages},
            [dim.max_points for dim in dims],
            # drawn at 100 mm wide (pdf.css): 13 units are about 10 pt, like the text
            width=380,
            height=330,
            font_size=13,
        )
    )


def _items_to_rectify(lines: list[ReportLine], veto_failed: list[Indicator]) -> list[ReportLine]:
    """Failed veto items first, then every observation point below the rectify mark."""
    failed_codes = {indicator.code for indicator in veto_failed}
    leaves = [line for line in lines if line.is_leaf]
    first = [line for line in leaves if line.indicator.code in failed_codes]
    rest = [
        line
        for line in leaves
        if line.indicator.code not in failed_codes and line.below_rectify_mark
    ]
    return first + rest


# ---------------------------------------------------------- round summary


def round_summary_context(*, result_set: ResultSet) -> dict[str, Any]:
    """The bureau's summary of a round: ranking, grades, dimensions, consistency, evaluators."""
    round = result_set.round
    indicators = _indicators(round)
    presented = presenter.result_set_present(result_set=result_set)
    dimensions = presented.dimensions
    rows = presented.schools
    ranking = [
        {
            "row": row,
            "group": row.group_zh,
            "total": row.total,
            "grade_zh": row.grade_zh,
            "dimensions": row.scores,
            "note": VETO_RANK_NOTE_ZH
            if row.veto_failed and row.rank_note == engine.RankNote.VETO_FAILED_RANKED_LAST.value
            else RANK_NOTE_ZH.get(row.rank_note, row.rank_note),
            "veto_failed": [
                indicators[code].title_zh for code in row.veto_failed if code in indicators
            ],
        }
        for row in rows
    ]
    distribution = [{"grade": entry.grade_zh, "count": entry.count} for entry in presented.grades]
    averages = [
        {"name": entry.label_zh, "values": list(entry.dimensions), "total": entry.total}
        for entry in (presented.overall, *presented.groups)
    ]
    schools = {row.school_id: row for row in rows}
    statistics = result_set.statistics or {}
    members = list(
        GroupMember.objects.filter(group__round=round)
        .select_related("user", "affiliated_school")
        .order_by("role", "user__username")
    )
    assignments = list(
        Assignment.objects.filter(round=round)
        .select_related("school", "evaluator")
        .order_by("school__code", "evaluator__username")
    )
    names = {member.user_id: _person(member.user) for member in members}
    for assignment in assignments:
        names.setdefault(assignment.evaluator_id, _person(assignment.evaluator))
    evaluator_ids = {entry["evaluator_id"] for entry in statistics.get("evaluators", [])}
    missing_names = evaluator_ids - set(names)
    if missing_names:
        names.update(scoring_selectors.user_names(user_ids=missing_names))
    active = Counter(a.evaluator_id for a in assignments if a.status == AssignmentStatus.ACTIVE)
    conflicts = list(
        ConflictOfInterest.objects.filter(school_id__in=list(schools))
        .filter(evaluator_id__in=[m.user_id for m in members])
        .select_related("school", "evaluator")
        .order_by("school__code", "evaluator__username")
    )
    reliability = reliability_reading(statistics.get("reliability") or {})
    return {
        "header": _header(result_set, f"{round.name} 评估结果汇总报告"),
        "round": round,
        "result_set": result_set,
        "dimensions": dimensions,
        "ranking": ranking,
        "distribution": distribution,
        "distribution_chart": mark_safe(  # noqa: S308 - SVG built by reports.charts
            bar_chart(
                [entry["grade"] for entry in distribution],
                [Decimal(entry["count"]) for entry in distribution],
                Decimal(max(len(rows), 1)),
                width=620,
            )
        ),
        "averages": averages,
        "method": METHOD_ZH.get(result_set.consolidation_method, result_set.consolidation_method),
        "statistics_ready": bool(statistics),
        "flagged_spreads": [
            {
                **spread,
                "school": schools.get(spread["school_id"]),
                "title": indicators[spread["code"]].title_zh
                if spread["code"] in indicators
                else spread["code"],
                "spread": presenter.number(spread["spread"]),
                "std": presenter.number(spread["std"]),
            }
            for spread in statistics.get("flagged_spreads", [])
        ],
        "spreads_checked": statistics.get("spreads_checked", 0),
        "evaluator_statistics": [
            {
                **entry,
                "name": names.get(entry["evaluator_id"], f"#{entry['evaluator_id']}"),
                "leniency": _signed(presenter.number(entry.get("leniency"))),
                "dropped_share": presenter.number(
                    None
                    if entry.get("dropped_share") is None
                    else Decimal(str(entry["dropped_share"])) * 100,
                    1,
                ),
            }
            for entry in statistics.get("evaluators", [])
        ],
        "reliability": reliability,
        "members": _members(members, names, active),
        "recusals": recusal_rows(
            recused=[a for a in assignments if a.status == AssignmentStatus.RECUSED],
            conflicts=conflicts,
            names=names,
        ),
        "spread_threshold_percent": presenter.number(round.spread_threshold * 100, 0),
        "missing_count": len(result_set.missing_scores or []),
    }


def _signed(value: Decimal | None) -> Decimal | None:
    # Adding zero turns a rounded −0.00 into 0.00.
    return None if value is None else value + 0


def _members(
    members: list[GroupMember], names: Mapping[int, str], active: Mapping[int, int]
) -> list[dict[str, Any]]:
    """Each person once, however many groups they sit in; a leader's role wins."""
    seen: dict[int, dict[str, Any]] = {}
    for member in members:
        entry = seen.get(member.user_id)
        if entry is None:
            seen[member.user_id] = {
                "member": member,
                "name": names[member.user_id],
                "role": ROLE_ZH.get(member.role, member.role),
                "schools": active.get(member.user_id, 0),
            }
        elif member.role == GroupRole.LEADER:
            entry["role"] = ROLE_ZH[GroupRole.LEADER]
    leader = ROLE_ZH[GroupRole.LEADER]
    return sorted(seen.values(), key=lambda entry: entry["role"] != leader)


# The recusal reason ``conflict_record`` writes, in the language of whoever recorded it.
_CONFLICT_REASON_PREFIXES = ("Conflict of interest: ", "Conflict of interest:", "利益冲突：")


def _recusal_reason_zh(reason: str) -> str:
    for prefix in _CONFLICT_REASON_PREFIXES:
        if reason.startswith(prefix):
            return "利益冲突：" + reason[len(prefix) :].strip()
    return reason


def recusal_rows(
    *,
    recused: Sequence[Assignment],
    conflicts: Sequence[ConflictOfInterest],
    names: Mapping[int, str],
) -> list[dict[str, Any]]:
    """One row per (evaluator, school): a recorded conflict and the recusal it caused are
    one fact, told once, in Chinese, with what was done about it."""
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for conflict in conflicts:
        rows[(conflict.evaluator_id, conflict.school_id)] = {
            "name": names.get(conflict.evaluator_id) or _person(conflict.evaluator),
            "school": conflict.school,
            "reason": f"利益冲突（{CONFLICT_ZH.get(conflict.kind, conflict.kind)}）："
            f"{conflict.reason}",
            "action": "未分配评估任务",
        }
    for assignment in recused:
        key = (assignment.evaluator_id, assignment.school_id)
        if key in rows:
            rows[key]["action"] = "已回避，撤回评估任务"
            continue
        rows[key] = {
            "name": names.get(assignment.evaluator_id, ""),
            "school": assignment.school,
            "reason": _recusal_reason_zh(assignment.recusal_reason) or "本人申请回避",
            "action": "已回避，撤回评估任务",
        }
    return sorted(rows.values(), key=lambda row: (row["school"].code, row["name"]))


ICC_REASON_ZH = {
    "fewer than 2 raters": "评同一批观测点的专家少于 2 位",
    "fewer than 2 targets": "同一组专家共同评分的观测点少于 2 个",
    "scores do not vary": "评分几乎没有差异，或学校、观测点之间的差异不大于专家之间的差异",
    "no target rated by the same 2 or more raters": "没有由同样 2 位以上专家共同评分的观测点",
}


def reliability_reading(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The round's inter-rater reliability with what it says, in words (never a bare figure).

    ICC(2,k) reads, after Koo & Li (2016): below 0.5 poor, 0.5–0.75 moderate,
    0.75–0.9 good, above 0.9 excellent. A negative or undefined figure means
    agreement cannot be estimated from these scores: the differences between
    experts are as large as those between the things they scored.
    """
    value = stored.get("value")
    reading: dict[str, Any] = {
        "method": str(stored.get("method") or "icc(2,k)").upper(),
        "k": stored.get("k") or 0,
        "targets": stored.get("targets") or 0,
        "excluded": stored.get("excluded_targets") or 0,
        "value": None,
        "estimable": False,
    }
    reason = stored.get("reason")
    if value is None:
        reading["meaning"] = "无法估计专家之间的一致性" + (
            f"：{ICC_REASON_ZH.get(reason, '这些评分不足以估计')}。" if reason else "。"
        )
        return reading
    figure = presenter.number(value, 3)
    reading["value"] = figure
    if figure < 0:
        reading["meaning"] = (
            "该值为负，说明专家之间的分歧不小于学校、观测点之间的差异，"
            "无法从这些评分估计专家之间的一致性；这不表示一致性“低于零”，"
            "应结合下列分歧较大的观测点逐项核查。"
        )
        return reading
    reading["estimable"] = True
    if figure >= Decimal("0.9"):
        level = "很好：几位专家的合成分高度一致"
    elif figure >= Decimal("0.75"):
        level = "良好：几位专家的合成分基本一致"
    elif figure >= Decimal("0.5"):
        level = "一般：专家之间有一定分歧，合成分可信度中等"
    else:
        level = "较差：专家之间分歧较大，合成分应谨慎使用并复核分歧较大的观测点"
    reading["meaning"] = f"一致性{level}。"
    return reading


# ---------------------------------------------------- rectification notice


def rectification_deadline(*, result_set: ResultSet, school_id: int) -> dt.date:
    """The rectification's deadline, else the end of the rectification phase, else
    ``REPORTS_RECTIFICATION_DAYS`` (90) days after publication (or today)."""
    round = result_set.round
    deadline = (
        Rectification.objects.filter(round=round, school_id=school_id)
        .values_list("deadline", flat=True)
        .first()
    )
    if deadline:
        return deadline
    window_end = (
        PhaseWindow.objects.filter(round=round, phase=RoundPhase.RECTIFICATION)
        .values_list("ends_on", flat=True)
        .first()
    )
    if window_end:
        return window_end
    start = timezone.localdate(result_set.published_at) if result_set.published_at else None
    days = int(getattr(settings, "REPORTS_RECTIFICATION_DAYS", DEFAULT_RECTIFICATION_DAYS))
    return (start or timezone.localdate()) + dt.timedelta(days=days)


def rectification_notice_context(*, result_set: ResultSet, school_id: int) -> dict[str, Any]:
    """The notice (限期整改通知书) to an unqualified school: failed items, deadline, what, where."""
    report = school_report_context(result_set=result_set, school_id=school_id)
    items = report["rectify"] or [
        line for line in report["lines"] if line.is_leaf and line.deducted
    ]
    header = _header(result_set, "限期整改通知书")
    return {
        **report,
        "header": header,
        "items": items,
        "deadline": rectification_deadline(result_set=result_set, school_id=school_id),
        "submit_to": getattr(
            settings,
            "REPORTS_RECTIFICATION_SUBMIT_TO",
            "在本系统“整改”栏目上传，或书面报送厦门市人力资源和社会保障局职业能力建设处",
        ),
    }


# -------------------------------------------------------------- documents


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    kind: str
    school_id: int | None


def result_set_documents(*, result_set: ResultSet) -> list[PlannedDocument]:
    """Every document of a result set: the summary, one report per school, and a
    rectification notice for each unqualified school (in school order)."""
    rows = list(
        ResultRow.objects.filter(result_set=result_set)
        .order_by("school__code")
        .values_list("school_id", "grade")
    )
    documents = [PlannedDocument(ReportKind.ROUND_SUMMARY, None)]
    documents += [PlannedDocument(ReportKind.SCHOOL_REPORT, school_id) for school_id, _g in rows]
    documents += [
        PlannedDocument(ReportKind.RECTIFICATION_NOTICE, school_id)
        for school_id, grade in rows
        if grade == Grade.UNQUALIFIED
    ]
    return documents


def document_number_of(
    *, result_set_id: int, kind: str, school_id: int | None
) -> DocumentNumber | None:
    """The number issued to one document of a result set, if any."""
    return DocumentNumber.objects.filter(
        result_set_id=result_set_id, kind=kind, school_id=school_id
    ).first()


def artifact_of(*, result_set_id: int, kind: str, school_id: int | None) -> ReportArtifact | None:
    return ReportArtifact.objects.filter(
        result_set_id=result_set_id, kind=kind, school_id=school_id
    ).first()


def artifact_for_download(*, artifact_id: int) -> ReportArtifact | None:
    return (
        ReportArtifact.objects.filter(pk=artifact_id)
        .select_related("result_set__round", "school")
        .first()
    )


def artifacts_visible_to(*, user: Any, result_set: ResultSet) -> QuerySet[ReportArtifact]:
    """The artifacts of a result set the user may download (one query)."""
    artifacts = (
        ReportArtifact.objects.filter(result_set=result_set)
        .select_related("school", "result_set")
        .order_by("kind", "school__code")
    )
    if can_download_every_report(user):
        return artifacts
    if not result_set.is_published:
        return artifacts.none()
    return artifacts.filter(kind__in=SCHOOL_KINDS, school_id__in=permissions.school_ids_of(user))


def render_jobs_of(*, result_set: ResultSet, limit: int = 10) -> list[RenderJob]:
    return list(
        RenderJob.objects.filter(result_set=result_set)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


def render_job_for_page(*, job_id: int) -> RenderJob | None:
    return RenderJob.objects.filter(pk=job_id).select_related("result_set__round").first()


@dataclass(frozen=True, slots=True)
class JobProgress:
    job: RenderJob
    total: int
    done: int
    failures: list[RenderFailure]
    stale: bool = False  # running, but no progress for longer than a render may take

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * (self.done + self.failed) / self.total)


def render_job_missing_documents(*, job: RenderJob) -> list[tuple[str, int | None]]:
    """The job's documents not stored yet, in the job's order."""
    present = set(
        ReportArtifact.objects.filter(result_set_id=job.result_set_id).values_list(
            "kind", "school_id"
        )
    )
    return [
        (kind, school_id) for kind, school_id in job.documents if (kind, school_id) not in present
    ]


def render_job_is_stale(job: RenderJob, *, now: Any = None) -> bool:
    """A running job that made no progress for ``REPORTS_STALE_AFTER`` seconds: its
    worker most likely died (a document's hard time limit has passed)."""
    if job.status != RenderJobStatus.RUNNING:
        return False
    now = now or timezone.now()
    return (now - job.last_activity).total_seconds() > settings.REPORTS_STALE_AFTER


def render_jobs_stale(*, now: Any = None) -> list[RenderJob]:
    """Running jobs without progress for ``REPORTS_STALE_AFTER`` seconds."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REPORTS_STALE_AFTER)
    return [
        job
        for job in RenderJob.objects.filter(status=RenderJobStatus.RUNNING, created_at__lt=cutoff)
        if render_job_is_stale(job, now=now)
    ]


def render_job_progress(*, job: RenderJob) -> JobProgress:
    """Done (artifacts that exist) and failed documents of a job, in two queries."""
    wanted = {(kind, school_id) for kind, school_id in job.documents}
    present = set(
        ReportArtifact.objects.filter(result_set_id=job.result_set_id).values_list(
            "kind", "school_id"
        )
    )
    done = wanted & present
    failures = [
        failure
        for failure in RenderFailure.objects.filter(job=job)
        .select_related("school")
        .order_by("kind", "school__code")
        if (failure.kind, failure.school_id) not in done
    ]
    return JobProgress(
        job=job,
        total=job.total,
        done=len(done),
        failures=failures,
        stale=len(done) + len(failures) < job.total and render_job_is_stale(job),
    )
