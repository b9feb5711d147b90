"""Demo data of the previous cycle: a 2022–2024 round taken all the way to closed.

The round of today's cycle (2025–2027) is in progress, so without this the
results, the history of a school, the PDFs, the API rankings and the incentives
would have nothing published to show. This module runs the previous round
through every phase with the same services a bureau would use: self-assessment
by each school's staff, expert scoring and submitted sheets, computation,
public notice, publication (which opens the rectification of the one
unqualified school), the school's rectification report, the group leader's
passing re-check, and closing.

The Measures came into force on 2025-01-01, so no real 2022–2024 round under
them exists. The round, its group and its framework are therefore named as
samples (样例). The sample framework's validity (2025–2029) excludes the
cycle, so the round uses a sample predecessor framework: the same indicator
table, valid 2022–2024, under the same policy title so that the results
history places both rounds in one framework lineage.

Everything happened in the past but is recorded now: the phase windows and the
public notice carry their 2022 dates (``notice_open(starts_at=…)``), while
computation, publication, the rectification and the audit trail carry the time
of seeding, which is when they were entered. The rectification deadline
follows from that publication time.

Scores are drawn from a fixed seed per (school, evaluator), so every database
gets the same results; one school fails a veto item and is unqualified.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from publication.services import notice_of_round, notice_open, result_set_publish_checked
from rectification.enums import (
    RECTIFICATION_AWAITING_REPORT,
    RectificationItemKind,
    RectificationStatus,
)
from rectification.models import Rectification, RectificationItem
from rectification.services import ItemReport, rectification_recheck, rectification_submit_report
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.framework_csv import framework_rows_from_csv
from rounds.models import Assignment, Framework, Indicator, Round
from rounds.services import framework_create, round_create, round_phase_advance
from scoring.enums import SheetStatus
from scoring.models import ResultSet, SelfAssessment
from scoring.services import (
    ScoreEntry,
    round_results_compute,
    score_set_many,
    score_sheet_open,
    score_sheet_submit,
    self_assessment_submit,
    self_score_set,
)

if TYPE_CHECKING:
    from xm_eval.demo import _Seeder

PREVIOUS_FRAMEWORK_NAME = "厦门市民办技工学校办学质量评估指标（2022，样例）"
PREVIOUS_FRAMEWORK_VALID_FROM = dt.date(2022, 1, 1)
PREVIOUS_FRAMEWORK_VALID_TO = dt.date(2024, 12, 31)

PREVIOUS_ROUND_NAME = "2022–2024 年度办学质量评估（样例）"
PREVIOUS_ROUND_CYCLE = (2022, 2024)
PREVIOUS_GROUP_NAME = "2022–2024 年度办学质量评估工作组（样例）"

PREVIOUS_PHASE_WINDOWS: dict[str, tuple[dt.date, dt.date]] = {
    RoundPhase.SELF_ASSESSMENT: (dt.date(2022, 3, 1), dt.date(2022, 4, 30)),
    RoundPhase.EXPERT_SCORING: (dt.date(2022, 5, 1), dt.date(2022, 6, 15)),
    RoundPhase.CONSOLIDATION: (dt.date(2022, 6, 16), dt.date(2022, 6, 30)),
    RoundPhase.PUBLIC_NOTICE: (dt.date(2022, 7, 1), dt.date(2022, 7, 7)),
    RoundPhase.PUBLISHED: (dt.date(2022, 7, 8), dt.date(2022, 7, 31)),
    RoundPhase.RECTIFICATION: (dt.date(2022, 8, 1), dt.date(2023, 1, 31)),
    RoundPhase.CLOSED: (dt.date(2023, 2, 1), dt.date(2024, 12, 31)),
}
PREVIOUS_NOTICE_STARTS_AT = dt.datetime(2022, 7, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PREVIOUS_NOTICE_DAYS = 7

# The share of each observation point's points a school earns, before each
# evaluator's spread: chosen so the grades cover 优秀, 良好 and 合格.
SCHOOL_LEVELS: dict[str, Decimal] = {
    "XM-01": Decimal("0.93"),
    "XM-02": Decimal("0.86"),
    "XM-03": Decimal("0.91"),
    "XM-04": Decimal("0.82"),
    "XM-05": Decimal("0.76"),
    "XM-06": Decimal("0.80"),
    "XM-07": Decimal("0.72"),
    "XM-08": Decimal("0.87"),
    "XM-09": Decimal("0.67"),
}
# Schools rate themselves a little higher than the experts do.
SELF_ASSESSMENT_LIFT = Decimal("0.06")
# Each evaluator's habit: points added to (or taken from) every score.
EVALUATOR_LENIENCY: dict[str, Decimal] = {
    "expert1": Decimal("0"),
    "expert2": Decimal("0.15"),
    "expert3": Decimal("-0.15"),
    "expert4": Decimal("0.1"),
    "expert5": Decimal("0.25"),
    "expert6": Decimal("-0.1"),
    "expert7": Decimal("-0.25"),
}
SCORE_SEED = "xm_eval demo 2022"

# The unqualified school: every evaluator finds its operating funds short (veto A4.1).
FAILED_VETO = ("XM-06", "A4.1", "办学经费未足额到位，存在以学费收入垫付校舍租金的情形（样例）")

DEDUCTION_REASONS = {
    "document_review": "备查材料不完整，部分年度记录缺失",
    "data_comparison": "报送数据与核查数据存在差异",
    "on_site": "现场核查发现部分设施或记录未达要求",
    "questionnaire": "问卷满意度低于本轮平均水平",
}
DEFAULT_DEDUCTION_REASON = "未完全达到评分标准"

RECTIFICATION_REPORTS = {
    RectificationItemKind.VETO_FAILED: (
        "举办方已补足办学经费并转入学校基本账户，设立专户独立核算，"
        "校舍租金改由举办方承担；附会计师事务所专项审计报告（样例）。"
    ),
    RectificationItemKind.BELOW_MARK: "已按评估组意见逐项整改，整改措施与佐证见整改台账（样例）。",
    RectificationItemKind.OVERALL: "已按评估组意见全面整改，整改措施与佐证见整改台账（样例）。",
}
RECHECK_COMMENT = "复查组现场核查并查阅专项审计报告：办学经费已足额到位，整改措施落实，复查通过。"


class PreviousCycle:
    """Seeds the previous round with the demo's users and schools (from ``seeder``)."""

    def __init__(self, seeder: _Seeder) -> None:
        self.seeder = seeder
        self.actor = seeder.actor

    def seed(self, *, framework_csv: str, policy_title: str) -> Round:
        """Create what is missing of the previous round and take it to closed.

        Each phase's step is done only while the round is in that phase, and
        a closed round is left alone, so a second run writes nothing.
        """
        framework = self.seed_framework(framework_csv, policy_title)
        round = self.seed_round(framework)
        steps = {
            RoundPhase.DRAFT: self.open,
            RoundPhase.SELF_ASSESSMENT: self.self_assess,
            RoundPhase.EXPERT_SCORING: self.score,
            RoundPhase.CONSOLIDATION: self.compute_and_notice,
            RoundPhase.PUBLIC_NOTICE: self.publish,
            RoundPhase.PUBLISHED: self.advance,
            RoundPhase.RECTIFICATION: self.rectify,
        }
        while round.phase != RoundPhase.CLOSED:
            round = steps[round.phase](round)
        return round

    # -------------------------------------------------------- framework, round

    def seed_framework(self, framework_csv: str, policy_title: str) -> Framework:
        framework = Framework.objects.filter(name=PREVIOUS_FRAMEWORK_NAME).first()
        if framework is None:
            rows = framework_rows_from_csv(framework_csv)
            framework = framework_create(
                actor=self.actor,
                name=PREVIOUS_FRAMEWORK_NAME,
                policy_title=policy_title,
                valid_from=PREVIOUS_FRAMEWORK_VALID_FROM,
                valid_to=PREVIOUS_FRAMEWORK_VALID_TO,
                indicators=rows,
            )
            self.seeder.new(f"framework {framework.name} ({len(rows)} indicators)")
        return framework

    def seed_round(self, framework: Framework) -> Round:
        round = Round.objects.filter(name=PREVIOUS_ROUND_NAME).first()
        if round is None:
            round = round_create(
                actor=self.actor,
                framework=framework,
                name=PREVIOUS_ROUND_NAME,
                cycle_start=PREVIOUS_ROUND_CYCLE[0],
                cycle_end=PREVIOUS_ROUND_CYCLE[1],
                schools=list(self.seeder.schools.values()),
                phase_windows=PREVIOUS_PHASE_WINDOWS,
            )
            self.seeder.new(f"round {round.name}")
        return round

    def advance(self, round: Round) -> Round:
        round = round_phase_advance(round=round, actor=self.actor)
        self.seeder.new(f"{round.name}: {round.get_phase_display()}")
        return round

    def open(self, round: Round) -> Round:
        """The group and its assignments (conflicts of interest respected), then open."""
        self.seeder.seed_group(round, group_name=PREVIOUS_GROUP_NAME)
        self.seeder.seed_assignments(round)
        return self.advance(round)

    # --------------------------------------------------------------- scoring

    def self_assess(self, round: Round) -> Round:
        """Each school's staff self-scores every observation point and submits."""
        leaves = _leaves(round)
        submitted = set(
            SelfAssessment.objects.filter(round=round, status=SheetStatus.SUBMITTED).values_list(
                "school_id", flat=True
            )
        )
        for person_username, code in _staff_by_school(self.seeder):
            school = self.seeder.schools[code]
            if school.pk in submitted:
                continue
            staff = self.seeder.users[person_username]
            rng = random.Random(f"{SCORE_SEED}/{code}/self")
            level = SCHOOL_LEVELS[code] + SELF_ASSESSMENT_LIFT
            for leaf in leaves:
                points = leaf.max_points if leaf.is_veto else _draw(rng, leaf, level)
                self_score_set(
                    round=round, school=school, actor=staff, indicator=leaf, points=points
                )
            self_assessment_submit(round=round, school=school, actor=staff)
            self.seeder.new(f"self-assessment {code} submitted")
        return self.advance(round)

    def score(self, round: Round) -> Round:
        """Every active assignment's evaluator scores the school and submits the sheet."""
        leaves = _leaves(round)
        assignments = (
            Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE)
            .select_related("school", "evaluator")
            .order_by("school__code", "evaluator__username")
        )
        for assignment in assignments:
            school, evaluator = assignment.school, assignment.evaluator
            sheet = score_sheet_open(round=round, school=school, actor=evaluator)
            if sheet.status == SheetStatus.SUBMITTED:
                continue
            rng = random.Random(f"{SCORE_SEED}/{school.code}/{evaluator.username}")
            level = SCHOOL_LEVELS[school.code]
            leniency = EVALUATOR_LENIENCY.get(evaluator.username, Decimal(0))
            entries = [_expert_entry(rng, leaf, school.code, level, leniency) for leaf in leaves]
            score_set_many(sheet=sheet, actor=evaluator, entries=entries)
            score_sheet_submit(sheet=sheet, actor=evaluator)
            self.seeder.new(f"score sheet {evaluator.username} → {school.code} submitted")
        return self.advance(round)

    # ------------------------------------------------- results and publication

    def compute_and_notice(self, round: Round) -> Round:
        """Compute the results and put them under the 2022 public notice (7 days)."""
        result_set = ResultSet.objects.filter(round=round).order_by("-version").first()
        if result_set is None:
            result_set = round_results_compute(round=round, actor=self.actor)
            self.seeder.new(f"{round.name}: results v{result_set.version} computed")
        notice_open(
            result_set=result_set,
            actor=self.actor,
            days=PREVIOUS_NOTICE_DAYS,
            starts_at=PREVIOUS_NOTICE_STARTS_AT,
        )
        self.seeder.new(f"{round.name}: public notice from {PREVIOUS_NOTICE_STARTS_AT:%Y-%m-%d}")
        round.refresh_from_db()
        return round

    def publish(self, round: Round) -> Round:
        """Publish the noticed version (no objection was filed); this opens the
        rectification of the unqualified school."""
        notice = notice_of_round(round=round)
        assert notice is not None  # a round reaches the notice phase only through notice_open
        result_set_publish_checked(result_set=notice.result_set, actor=self.actor)
        self.seeder.new(f"{round.name}: results v{notice.result_set.version} published")
        round.refresh_from_db()
        return round

    # ----------------------------------------------------------- rectification

    def rectify(self, round: Round) -> Round:
        """The school reports on every item with evidence; the leader's re-check passes it."""
        leader = self.seeder.users["expert1"]
        for rectification in Rectification.objects.filter(round=round).select_related("school"):
            if rectification.status in RECTIFICATION_AWAITING_REPORT:
                staff = self.seeder.users[_staff_username(rectification.school.code)]
                items = list(rectification.items.order_by("order", "code"))
                reports = {
                    item.pk: ItemReport(
                        text=RECTIFICATION_REPORTS[item.kind],
                        file=_rectification_ledger(rectification.school.name_zh, item),
                    )
                    for item in items
                }
                rectification = rectification_submit_report(
                    rectification=rectification, actor=staff, reports=reports
                )
                self.seeder.new(f"rectification report {rectification.school.code} submitted")
            items = list(rectification.items.order_by("order", "code"))
            if rectification.status == RectificationStatus.SUBMITTED:
                rectification_recheck(
                    rectification=rectification,
                    actor=leader,
                    scores={item.pk: _passing_points(item) for item in items},
                    comment=RECHECK_COMMENT,
                )
                self.seeder.new(f"rectification {rectification.school.code} re-checked: passed")
        return self.advance(round)


# ------------------------------------------------------------------ helpers


def _leaves(round: Round) -> list[Indicator]:
    return list(
        Indicator.objects.filter(framework_id=round.framework_id, children__isnull=True).order_by(
            "order", "code"
        )
    )


def _staff_username(code: str) -> str:
    return f"school{code.removeprefix('XM-')}"


def _staff_by_school(seeder: _Seeder) -> list[tuple[str, str]]:
    return [(_staff_username(code), code) for code in seeder.schools]


def _draw(
    rng: random.Random, leaf: Indicator, level: Decimal, shift: Decimal = Decimal(0)
) -> Decimal:
    """Points near ``level`` × max, spread by a third of a point, in half points."""
    noise = Decimal(str(round(rng.gauss(0, 0.35), 2)))
    raw = leaf.max_points * min(level, Decimal(1)) + noise + shift
    halves = (raw * 2).quantize(Decimal(1), ROUND_HALF_UP)
    return max(Decimal(0), min(leaf.max_points, halves / 2))


def _expert_entry(
    rng: random.Random, leaf: Indicator, code: str, level: Decimal, leniency: Decimal
) -> ScoreEntry:
    if leaf.is_veto:
        # A veto item is pass (full points) or fail (0); all evaluators agree here,
        # so no consensus decision is needed before the notice.
        failed = (code, leaf.code) == FAILED_VETO[:2]
        if failed:
            return ScoreEntry(leaf, Decimal(0), deduction_reason=FAILED_VETO[2])
        return ScoreEntry(leaf, leaf.max_points)
    points = _draw(rng, leaf, level, leniency)
    reason = ""
    if points < leaf.max_points:
        reason = DEDUCTION_REASONS.get(leaf.method, DEFAULT_DEDUCTION_REASON)
    return ScoreEntry(leaf, points, deduction_reason=reason)


def _passing_points(item: RectificationItem) -> Decimal:
    """A re-check score at or just above the item's pass mark, in half points (a failed
    veto item passes with its full points)."""
    if item.kind == RectificationItemKind.VETO_FAILED:
        return item.max_points
    above = (item.pass_mark * 2).quantize(Decimal(1), ROUND_CEILING) / 2 + Decimal("0.5")
    return min(item.max_points, max(item.pass_mark, above))


def _rectification_ledger(school_name: str, item: RectificationItem) -> io.BytesIO:
    """A small rectification ledger (整改台账) workbook as the item's evidence."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    code = item.code
    sheet.append(["学校", school_name])
    sheet.append(["整改事项", code])
    sheet.append(["整改措施", RECTIFICATION_REPORTS[item.kind]])
    sheet.append(["完成时间", "2022-12-20"])
    sheet.append(["说明", "演示数据（样例），非真实材料"])
    stream = io.BytesIO()
    workbook.save(stream)
    stream.seek(0)
    stream.name = f"整改台账-{code}（样例）.xlsx"
    return stream
