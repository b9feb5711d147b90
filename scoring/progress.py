"""Progress and monitoring reads for the browser pages: rounds, evaluators, schools,
the bureau's monitoring matrix and the phase checklist.

Every function here runs a fixed number of queries whatever the number of rounds,
schools, evaluators or observation points, so the pages built on them keep a
constant query count as the data grows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Evidence, Indicator, Round
from schools.models import School
from scoring.enums import SheetStatus
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultSet,
    Score,
    ScoreSheet,
    SelfAssessment,
    SelfScore,
)


def _subquery_count(queryset: QuerySet, group_by: str) -> Coalesce:
    """``COUNT(*)`` of ``queryset`` (already filtered on an OuterRef) as an annotation."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _answered() -> Q:
    """A score row that says something: points, or not applicable."""
    return Q(points__isnull=False) | Q(not_applicable=True)


def _leaf_count(framework_ref: str) -> Coalesce:
    return _subquery_count(
        Indicator.objects.filter(framework=OuterRef(framework_ref), children__isnull=True),
        "framework",
    )


def rounds_progress(*, include_closed: bool = False) -> QuerySet[Round]:
    """Rounds with their progress: schools, sheets expected and submitted, latest version.

    ``sheets_expected`` counts active (not recused) assignments; ``sheets_submitted``
    the submitted sheets among them. Phase windows come prefetched.
    """
    active = Assignment.objects.filter(round=OuterRef("pk"), status=AssignmentStatus.ACTIVE)
    submitted = ScoreSheet.objects.filter(
        round=OuterRef("pk"), status=SheetStatus.SUBMITTED
    ).filter(
        Exists(
            Assignment.objects.filter(
                round=OuterRef("round"),
                school=OuterRef("school"),
                evaluator=OuterRef("evaluator"),
                status=AssignmentStatus.ACTIVE,
            )
        )
    )
    rounds = Round.objects.select_related("framework").prefetch_related("phase_windows")
    if not include_closed:
        rounds = rounds.exclude(phase=RoundPhase.CLOSED)
    return rounds.annotate(
        school_count=_subquery_count(
            Round.schools.through.objects.filter(round=OuterRef("pk")), "round"
        ),
        sheets_expected=_subquery_count(active, "round"),
        sheets_submitted=_subquery_count(submitted, "round"),
        latest_version=Subquery(
            ResultSet.objects.filter(round=OuterRef("pk"))
            .order_by("-version")
            .values("version")[:1]
        ),
    ).order_by("-cycle_start", "name")


def evaluator_assignments_progress(*, evaluator_id: int) -> QuerySet[Assignment]:
    """An evaluator's assignments in rounds that are not closed, with sheet progress.

    Annotates ``scores_entered`` (points or not applicable), ``sheet_status``,
    ``sheet_submitted_at`` and ``leaf_count`` (observation points of the framework).
    """
    sheet = ScoreSheet.objects.filter(
        round=OuterRef("round"), school=OuterRef("school"), evaluator=OuterRef("evaluator")
    )
    entered = Score.objects.filter(
        sheet__round=OuterRef("round"),
        sheet__school=OuterRef("school"),
        sheet__evaluator=OuterRef("evaluator"),
    ).filter(_answered())
    return (
        Assignment.objects.filter(evaluator_id=evaluator_id)
        .exclude(round__phase=RoundPhase.CLOSED)
        .select_related("round", "school")
        .prefetch_related("round__phase_windows")
        .annotate(
            scores_entered=_subquery_count(entered, "sheet"),
            sheet_status=Subquery(sheet.values("status")[:1]),
            sheet_submitted_at=Subquery(sheet.values("submitted_at")[:1]),
            leaf_count=_leaf_count("round__framework"),
        )
        .order_by("-round__cycle_start", "round__name", "school__code")
    )


@dataclass(frozen=True, slots=True)
class SchoolRoundProgress:
    """A school's self-assessment and evidence in one round."""

    round: Round
    school: School
    self_status: str | None  # None: not started
    self_scored: int
    leaf_count: int
    evidence_required: int  # observation points that ask for evidence
    evidence_present: int  # of those, the points with at least one file

    @property
    def evidence_missing(self) -> int:
        return self.evidence_required - self.evidence_present


def _required_evidence_leaves(framework_ids: set[int]) -> tuple[dict[int, int], dict[int, set]]:
    """Per framework: the number of observation points, and those that ask for evidence."""
    leaf_counts: dict[int, int] = defaultdict(int)
    required: dict[int, set[int]] = defaultdict(set)
    for framework_id, indicator_id, required_evidence in Indicator.objects.filter(
        framework_id__in=framework_ids, children__isnull=True
    ).values_list("framework_id", "id", "required_evidence"):
        leaf_counts[framework_id] += 1
        if required_evidence:
            required[framework_id].add(indicator_id)
    return leaf_counts, required


def school_rounds_progress(*, school_ids: Iterable[int]) -> list[SchoolRoundProgress]:
    """Self-assessment and evidence completeness of the schools in rounds not closed."""
    pairs = list(
        Round.schools.through.objects.filter(school_id__in=list(school_ids))
        .exclude(round__phase=RoundPhase.CLOSED)
        .select_related("round", "school")
        .prefetch_related("round__phase_windows")
        .order_by("-round__cycle_start", "round__name", "school__code")
    )
    if not pairs:
        return []
    round_ids = {pair.round_id for pair in pairs}
    wanted_schools = {pair.school_id for pair in pairs}
    leaf_counts, required = _required_evidence_leaves({pair.round.framework_id for pair in pairs})
    assessments = {
        (round_id, school_id): (status, scored)
        for round_id, school_id, status, scored in SelfAssessment.objects.filter(
            round_id__in=round_ids, school_id__in=wanted_schools
        )
        .annotate(
            scored=Count(
                "scores", filter=Q(scores__points__isnull=False) | Q(scores__not_applicable=True)
            )
        )
        .values_list("round_id", "school_id", "status", "scored")
    }
    present: dict[tuple[int, int], set[int]] = defaultdict(set)
    for round_id, school_id, indicator_id in (
        Evidence.objects.filter(round_id__in=round_ids, school_id__in=wanted_schools)
        .values_list("round_id", "school_id", "indicator_id")
        .distinct()
    ):
        present[(round_id, school_id)].add(indicator_id)
    progress = []
    for pair in pairs:
        status, scored = assessments.get((pair.round_id, pair.school_id), (None, 0))
        needed = required.get(pair.round.framework_id, set())
        progress.append(
            SchoolRoundProgress(
                round=pair.round,
                school=pair.school,
                self_status=status,
                self_scored=scored,
                leaf_count=leaf_counts.get(pair.round.framework_id, 0),
                evidence_required=len(needed),
                evidence_present=len(needed & present[(pair.round_id, pair.school_id)]),
            )
        )
    return progress


@dataclass(frozen=True, slots=True)
class MonitoringCell:
    status: str  # "submitted", "draft", "not_started", "recused", "unassigned"
    scores_entered: int = 0
    submitted_at: Any = None


@dataclass(frozen=True, slots=True)
class RoundMonitoring:
    """Sheets submitted / missing per evaluator (rows) and school (columns)."""

    schools: list[School]
    evaluators: list[tuple[int, str]]  # (user id, display name)
    cells: dict[tuple[int, int], MonitoringCell]  # (evaluator id, school id)
    leaf_count: int

    def row(self, evaluator_id: int) -> list[MonitoringCell]:
        unassigned = MonitoringCell("unassigned")
        return [self.cells.get((evaluator_id, s.pk), unassigned) for s in self.schools]

    def count(self, status: str) -> int:
        return sum(1 for cell in self.cells.values() if cell.status == status)


def round_monitoring(*, round: Round) -> RoundMonitoring:
    """Every assignment of the round as a matrix cell with its sheet's state."""
    schools = list(round.schools.order_by("code"))
    assignments = list(
        Assignment.objects.filter(round=round)
        .select_related("evaluator")
        .order_by("evaluator__username", "school__code")
    )
    sheets = {
        (evaluator_id, school_id): (status, entered, submitted_at)
        for evaluator_id, school_id, status, entered, submitted_at in ScoreSheet.objects.filter(
            round=round
        )
        .annotate(
            entered=Count(
                "scores", filter=Q(scores__points__isnull=False) | Q(scores__not_applicable=True)
            )
        )
        .values_list("evaluator_id", "school_id", "status", "entered", "submitted_at")
    }
    leaf_count = Indicator.objects.filter(
        framework_id=round.framework_id, children__isnull=True
    ).count()
    evaluators: dict[int, str] = {}
    cells: dict[tuple[int, int], MonitoringCell] = {}
    for assignment in assignments:
        user = assignment.evaluator
        evaluators.setdefault(
            user.pk, f"{user.last_name}{user.first_name}".strip() or user.username
        )
        key = (user.pk, assignment.school_id)
        if assignment.status == AssignmentStatus.RECUSED:
            cells[key] = MonitoringCell("recused")
            continue
        status, entered, submitted_at = sheets.get(key, (None, 0, None))
        if status == SheetStatus.SUBMITTED:
            cells[key] = MonitoringCell("submitted", entered, submitted_at)
        elif status == SheetStatus.DRAFT:
            cells[key] = MonitoringCell("draft", entered)
        else:
            cells[key] = MonitoringCell("not_started")
    return RoundMonitoring(
        schools=schools,
        evaluators=list(evaluators.items()),
        cells=cells,
        leaf_count=leaf_count,
    )


@dataclass(frozen=True, slots=True)
class RoundIncomplete:
    """What is still missing in a round, for the phase-advance confirmation."""

    sheets_not_submitted: list[tuple[str, School, MonitoringCell]]  # evaluator name, school
    self_assessments_not_submitted: list[tuple[School, str | None]]  # school, status or None
    evidence_missing: list[tuple[School, int, int]]  # school, missing, required
    leaf_count: int

    @property
    def evidence_missing_total(self) -> int:
        return sum(missing for _school, missing, _required in self.evidence_missing)

    @property
    def is_complete(self) -> bool:
        return not (
            self.sheets_not_submitted
            or self.self_assessments_not_submitted
            or self.evidence_missing
        )


def round_incomplete(*, round: Round) -> RoundIncomplete:
    """Sheets not submitted (per evaluator × school), self-assessments not submitted,
    and the observation points whose required evidence a school has not uploaded."""
    monitoring = round_monitoring(round=round)
    schools_by_id = {school.pk: school for school in monitoring.schools}
    names = dict(monitoring.evaluators)
    sheets = [
        (names[evaluator_id], schools_by_id[school_id], cell)
        for (evaluator_id, school_id), cell in sorted(
            monitoring.cells.items(),
            key=lambda item: (names[item[0][0]], schools_by_id[item[0][1]].code),
        )
        if cell.status in ("draft", "not_started") and school_id in schools_by_id
    ]
    statuses = dict(SelfAssessment.objects.filter(round=round).values_list("school_id", "status"))
    self_missing = [
        (school, statuses.get(school.pk))
        for school in monitoring.schools
        if statuses.get(school.pk) != SheetStatus.SUBMITTED
    ]
    _counts, required = _required_evidence_leaves({round.framework_id})
    needed = required.get(round.framework_id, set())
    present: dict[int, set[int]] = defaultdict(set)
    for school_id, indicator_id in (
        Evidence.objects.filter(round=round, indicator_id__in=needed)
        .values_list("school_id", "indicator_id")
        .distinct()
    ):
        present[school_id].add(indicator_id)
    evidence = [
        (school, len(needed - present[school.pk]), len(needed))
        for school in monitoring.schools
        if needed - present[school.pk]
    ]
    return RoundIncomplete(
        sheets_not_submitted=sheets,
        self_assessments_not_submitted=self_missing,
        evidence_missing=evidence,
        leaf_count=monitoring.leaf_count,
    )


def framework_leaf_count(*, round: Round) -> int:
    """How many observation points the round's framework has."""
    return Indicator.objects.filter(framework_id=round.framework_id, children__isnull=True).count()


def self_assessment_answered_count(*, assessment: SelfAssessment | None) -> int:
    if assessment is None:
        return 0
    return (
        SelfScore.objects.filter(self_assessment=assessment)
        .exclude(points__isnull=True, not_applicable=False)
        .count()
    )


def consolidation_progress(*, round: Round) -> QuerySet[School]:
    """The round's schools with their submitted sheets, consensus and audit score counts."""

    def count(queryset: QuerySet) -> Any:
        from django.db.models import Count, IntegerField, Subquery
        from django.db.models.functions import Coalesce

        return Coalesce(
            Subquery(
                queryset.filter(school_id=OuterRef("pk"))
                .order_by()
                .values("school_id")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    return round.schools.order_by("code").annotate(
        submitted_sheets=count(
            ScoreSheet.objects.filter(round=round, status=SheetStatus.SUBMITTED)
        ),
        consensus_count=count(ConsensusScore.objects.filter(round=round)),
        audit_count=count(AuditScore.objects.filter(round=round)),
    )
