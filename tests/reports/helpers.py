"""Scored, computed and published rounds for the report tests and ``bench/reports.py``."""

from __future__ import annotations

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.enums import Role
from reports.models import GroupOpinion
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Round
from rounds.selectors import framework_leaves
from scoring.enums import SheetStatus
from scoring.models import ResultSet, Score, ScoreSheet, SelfAssessment, SelfScore
from scoring.services import (
    result_set_statistics_compute,
    round_results_compute,
)
from tests.factories import round_to_phase
from tests.factories.publication import publish_after_notice

REASONS = (
    "佐证材料不完整，缺近三年记录",
    "现场查看发现制度未执行到位",
    "抽查台账与系统数据不一致",
    "部分项目未按规定备案",
)


def _half_points(rng: random.Random, maximum: Decimal, quality: float) -> Decimal:
    halves = int(maximum * 2)
    value = round(halves * quality + rng.uniform(-1, 1))
    return Decimal(min(halves, max(0, value))) / 2


def score_round(
    round: Round,
    *,
    qualities: dict[str, float] | None = None,
    veto_zero: dict[str, str] | None = None,
    seed: int = 2025,
    phase: str = RoundPhase.CONSOLIDATION,
) -> None:
    """Self-assess, score (submitted sheets of every active assignment) and reach
    ``phase`` (consolidation unless told; expert scoring at the earliest), moving the
    round through ``round_phase_advance``. ``qualities`` maps school codes to a share of full points
    (default 0.9); ``veto_zero`` maps a school code to a leaf code scored 0."""
    rng = random.Random(seed)
    qualities = qualities or {}
    veto_zero = veto_zero or {}
    leaves = list(framework_leaves(framework=round.framework))
    schools = list(round.schools.order_by("code"))
    now = timezone.now()
    assessments = SelfAssessment.objects.bulk_create(
        SelfAssessment(round=round, school=s, status=SheetStatus.SUBMITTED, submitted_at=now)
        for s in schools
    )
    SelfScore.objects.bulk_create(
        SelfScore(
            self_assessment=assessment,
            indicator=leaf,
            points=_half_points(rng, leaf.max_points, min(1.0, qualities.get(s.code, 0.9) + 0.08)),
            max_points=leaf.max_points,
        )
        for assessment, s in zip(assessments, schools, strict=True)
        for leaf in leaves
    )
    round_to_phase(round, RoundPhase.EXPERT_SCORING)
    assignments = list(
        Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE).select_related(
            "school"
        )
    )
    sheets = ScoreSheet.objects.bulk_create(
        ScoreSheet(
            round=round,
            school=a.school,
            evaluator_id=a.evaluator_id,
            status=SheetStatus.SUBMITTED,
            submitted_at=now,
        )
        for a in assignments
    )
    scores = []
    for sheet, assignment in zip(sheets, assignments, strict=True):
        code = assignment.school.code
        quality = qualities.get(code, 0.9)
        for leaf in leaves:
            points = _half_points(rng, leaf.max_points, quality)
            if leaf.is_veto:
                # A veto item is passed or failed outright, not graded.
                points = Decimal(0) if veto_zero.get(code) == leaf.code else leaf.max_points
            reason = rng.choice(REASONS) if points < leaf.max_points else ""
            scores.append(
                Score(
                    sheet=sheet,
                    indicator=leaf,
                    points=points,
                    max_points=leaf.max_points,
                    deduction_reason=reason,
                )
            )
    Score.objects.bulk_create(scores, batch_size=5000)
    round_to_phase(round, phase)


def compute_and_publish(round: Round, *, actor=None, publish: bool = True) -> ResultSet:  # noqa: ANN001
    """Compute (with statistics), write the group's opinions, and publish after a public
    notice (``publish_after_notice``): the round ends published."""
    if actor is None:
        actor = get_user_model().objects.filter(groups__name=Role.BUREAU_ADMIN).first()
    for school in round.schools.order_by("code"):
        if actor is not None:
            GroupOpinion.objects.update_or_create(
                round=round,
                school=school,
                defaults={
                    "text": f"{school.name_zh}办学规范，特色较明显；建议加强校企合作与师资建设。",
                    "author": actor,
                },
            )
    result_set = round_results_compute(round=round, actor=actor)
    result_set_statistics_compute(result_set=result_set)
    if publish:
        result_set = publish_after_notice(result_set, actor=actor)
    result_set.refresh_from_db()
    return result_set
