"""Build scored rounds quickly (bulk inserts) for scoring tests and benchmarks."""

from __future__ import annotations

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
from rounds.models import Assignment, EvaluationGroup, GroupMember, Indicator, Round
from rounds.selectors import framework_leaves
from schools.models import School
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet
from tests.factories import SchoolFactory, make_round


def scored_round(
    *,
    schools: int,
    evaluators: int = 5,
    framework=None,  # noqa: ANN001
    seed: int = 7,
    skip: set[tuple[int, int, str]] | None = None,
    phase: str = RoundPhase.CONSOLIDATION,
) -> Round:
    """A round whose every evaluator scored every school (submitted sheets).

    Scores are random multiples of 0.5 between half and full points; ``skip``
    leaves out (school index, evaluator index, leaf code) scores.
    """
    rng = random.Random(seed)
    school_list = [SchoolFactory() for _ in range(schools)]
    round = make_round(schools=school_list, framework=framework)
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"r{round.pk}-expert{i}") for i in range(evaluators)]
    )
    group = EvaluationGroup.objects.create(round=round, name="组")
    GroupMember.objects.bulk_create(
        GroupMember(group=group, user=u, role=GroupRole.LEADER if i == 0 else GroupRole.EVALUATOR)
        for i, u in enumerate(users)
    )
    Assignment.objects.bulk_create(
        Assignment(round=round, school=s, evaluator=u, status=AssignmentStatus.ACTIVE)
        for s in school_list
        for u in users
    )
    now = timezone.now()
    sheets = ScoreSheet.objects.bulk_create(
        ScoreSheet(
            round=round, school=s, evaluator=u, status=SheetStatus.SUBMITTED, submitted_at=now
        )
        for s in school_list
        for u in users
    )
    leaves = list(framework_leaves(framework=round.framework))
    skip = skip or set()
    scores = []
    for index, sheet in enumerate(sheets):
        school_index, evaluator_index = divmod(index, evaluators)
        for leaf in leaves:
            if (school_index, evaluator_index, leaf.code) in skip:
                continue
            halves = int(leaf.max_points * 2)
            points = Decimal(rng.randint(halves // 2, halves)) / 2
            scores.append(
                Score(sheet=sheet, indicator=leaf, points=points, max_points=leaf.max_points)
            )
    Score.objects.bulk_create(scores, batch_size=5000)
    Round.objects.filter(pk=round.pk).update(phase=phase)
    round.refresh_from_db()
    return round


def school_codes(round: Round) -> list[str]:
    return list(School.objects.filter(rounds=round).order_by("code").values_list("code", flat=True))


def leaf(round: Round, code: str) -> Indicator:
    return Indicator.objects.get(framework=round.framework, code=code)
