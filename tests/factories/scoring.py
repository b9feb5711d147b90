"""Scored rounds (sheets and scores, bulk inserted for speed) and computed results.

The round reaches its phase through ``round_to_phase`` (``rounds.services``).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from rounds.enums import RoundPhase
from rounds.models import Round
from rounds.selectors import framework_leaves
from schools.models import School
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import ResultSet, Score, ScoreSheet
from tests.factories.rounds import assign_all, group_form, leaf, make_round, round_to_phase
from tests.factories.schools import SchoolFactory

__all__ = ["computed", "leaf", "school_codes", "scored_round"]


def scored_round(
    *,
    schools: int,
    evaluators: int = 5,
    framework=None,  # noqa: ANN001
    seed: int = 7,
    skip: set[tuple[int, int, str]] | None = None,
    phase: str = RoundPhase.CONSOLIDATION,
    actor: Any = None,
) -> Round:
    """A round whose every evaluator scored every school (submitted sheets).

    Scores are random multiples of 0.5 between half and full points; ``skip``
    leaves out (school index, evaluator index, leaf code) scores. The first evaluator
    leads the group. ``actor`` (a bureau admin) moves the round to ``phase``.
    """
    rng = random.Random(seed)
    school_list = [SchoolFactory() for _ in range(schools)]
    round = make_round(schools=school_list, framework=framework)
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"r{round.pk}-expert{i}") for i in range(evaluators)]
    )
    group_form(round, leader=users[0] if users else None, evaluators=users[1:])
    assign_all(round, school_list, users)
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
        for point in leaves:
            if (school_index, evaluator_index, point.code) in skip:
                continue
            halves = int(point.max_points * 2)
            points = Decimal(rng.randint(halves // 2, halves)) / 2
            scores.append(
                Score(sheet=sheet, indicator=point, points=points, max_points=point.max_points)
            )
    Score.objects.bulk_create(scores, batch_size=5000)
    return round_to_phase(round, phase, actor=actor)


def school_codes(round: Round) -> list[str]:
    return list(School.objects.filter(rounds=round).order_by("code").values_list("code", flat=True))


def computed(round: Round, actor: Any) -> ResultSet:
    """The round's next result set, computed by ``actor``."""
    return services.round_results_compute(round=round, actor=actor)
