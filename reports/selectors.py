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
from reports.enums import SCHOOL_KINDS, ReportKind
from reports.models import GroupOpinion, RenderFailure, RenderJob, ReportArtifact
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


def _expert_labels(scores_by_point: Mapping[int, list[Any]]) -> dict[int, str]:
    """Anonymous labels (专家1…) for the evaluators who scored the school, in a fixed order."""
    evaluator_ids = sorted(
        {score.sheet.evaluator_id for s in scores_by_point.values() for score in s}
    )
    return {pk: f"专家{index}" for index, pk in enumerate(evaluator_ids, start=1)}


def _reasons(
    indicator: Indicator,
    expert: list[Any],
    labels: Mapping[int, str],
    school_input: engine.SchoolInput,
) -> tuple[str, ...]:
    reasons = []
    audit = school_input.audit_scores.get(indicator.code)
    consensus = school_input.consensus_scores.get(indicator.code)
    if audit is not None:
        reasons.append(f"审核意见：{audit.justification}")
    if consensus is not None:
        reasons.append(f"组长合议：{consensus.justification}")
    for score in expert:
        if score.deduction_reason and score.points is not None and score.points < score.max_points:
            label = labels.get(score.sheet.evaluator_id, "专家")
            reasons.append(
                f"{label}（{presenter.number(score.points)}分）：{score.deduction_reason}"
            )
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
    labels = _expert_labels(expert)
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
                reasons=_reasons(indicator, expert.get(indicator.pk, []), labels, school_input)
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
        "radar": _radar(school.name_zh, result.scores, result.group_averages, presented.dimensions),
        "lines": lines,
        "veto_failed": veto_failed,
        "unqualified": unqualified,
        "rectify": rectify,
        "opinion": opinion,
        "method": METHOD_ZH.get(result_set.consolidation_method, result_set.consolidation_method),
        "incomplete": not row.is_complete,
    }


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
            width=380,
            height=330,
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
            "note": RANK_NOTE_ZH.get(row.rank_note, row.rank_note),
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
    reliability = dict(statistics.get("reliability") or {})
    if reliability.get("value") is not None:
        reliability["value"] = presenter.number(reliability["value"], 3)
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
                "leniency": presenter.number(entry.get("leniency")),
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
        "members": [
            {
                "member": member,
                "name": names[member.user_id],
                "role": ROLE_ZH.get(member.role, member.role),
                "schools": active.get(member.user_id, 0),
            }
            for member in members
        ],
        "recusals": [
            {"assignment": a, "name": names.get(a.evaluator_id, "")}
            for a in assignments
            if a.status == AssignmentStatus.RECUSED
        ],
        "conflicts": [
            {
                "conflict": c,
                "name": names.get(c.evaluator_id, _person(c.evaluator)),
                "kind": CONFLICT_ZH.get(c.kind, c.kind),
            }
            for c in conflicts
        ],
        "missing_count": len(result_set.missing_scores or []),
    }


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
    school = report["school"]
    round = result_set.round
    items = report["rectify"] or [
        line for line in report["lines"] if line.is_leaf and line.deducted
    ]
    header = _header(result_set, "限期整改通知书")
    return {
        **report,
        "header": header,
        "items": items,
        "deadline": rectification_deadline(result_set=result_set, school_id=school_id),
        "notice_number": f"厦人社评整〔{round.cycle_start}〕{result_set.version}-{school.code}号",
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

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * (self.done + self.failed) / self.total)


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
    return JobProgress(job=job, total=job.total, done=len(done), failures=failures)
