"""Benchmark: computing a province-scale round against the bare fetch of its scores.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/xm_eval \
        .venv/bin/python bench/scoring_round.py [--schools 300] [--evaluators 7]

Builds a throw-away database (the configured backend's test database) with a
round of SCHOOLS schools, 150 observation points and EVALUATORS evaluators per
school, all sheets submitted, then times in the same run:

  (a) fetching all of the round's score rows as plain tuples (``values_list``),
      the floor no computation can beat;
  (b) the full ``round_results_compute`` (load, engine, store; the statistics
      follow in a task, timed as (c)).

Runs (a) and (b) back to back, seven times, and prints the medians of each, the
ratio of those medians, and the median of the seven paired ratios (target ≤ 3):
the pairs are what "in the same run" means on a machine whose speed drifts by a
third from one minute to the next, as shared ones do. Then the peak Python
memory of (b) (tracemalloc, measured in a separate untimed run; target ≤ 500 MB)
and the time of (c) the consistency statistics, which a task computes after
commit.
With REDIS_URL unset the statistics task would run eagerly inside (b); the
benchmark sets the broker to memory so (b) measures the computation alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
import tracemalloc
from decimal import Decimal

from _setup import scratch_database


def framework_with_150_points():  # noqa: ANN201
    """4 dimensions × 5 indicators of 5 points; 10 indicators of 7 points, 10 of 8."""
    from rounds.enums import IndicatorMethod
    from rounds.services import IndicatorData, framework_create

    rows: list[IndicatorData] = []
    indicator_number = 0
    for dimension in "ABCD":
        rows.append(
            IndicatorData(
                code=dimension, parent_code=None, title_zh=dimension, max_points=Decimal(25)
            )
        )
        for i in range(1, 6):
            code = f"{dimension}{i}"
            rows.append(
                IndicatorData(
                    code=code, parent_code=dimension, title_zh=code, max_points=Decimal(5)
                )
            )
            points = ["0.5"] * 4 + ["1"] * 3 if indicator_number % 2 else ["0.5"] * 6 + ["1"] * 2
            indicator_number += 1
            for j, value in enumerate(points, start=1):
                rows.append(
                    IndicatorData(
                        code=f"{code}.{j}",
                        parent_code=code,
                        title_zh=f"{code}.{j}",
                        max_points=Decimal(value),
                        method=IndicatorMethod.DOCUMENT_REVIEW,
                        is_veto=(code == "A1" and j == 1),
                    )
                )
    return framework_create(
        actor=None,
        name="bench",
        policy_title="bench",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=rows,
    )


def build_round(schools: int, evaluators: int):  # noqa: ANN201
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
    from rounds.models import Assignment, EvaluationGroup, GroupMember, Round
    from rounds.selectors import framework_leaves
    from rounds.services import round_create
    from schools.models import School
    from scoring.enums import SheetStatus
    from scoring.models import Score, ScoreSheet

    rng = random.Random(2025)
    framework = framework_with_150_points()
    school_rows = School.objects.bulk_create(
        School(
            code=f"B{i:04d}",
            name_zh=f"基准学校{i}",
            kind="private_technical_school",
            ranking_group="public" if i % 10 == 0 else "private",
        )
        for i in range(schools)
    )
    round = round_create(
        actor=None,
        framework=framework,
        name="bench",
        cycle_start=2025,
        cycle_end=2027,
        schools=school_rows,
    )
    User = get_user_model()
    experts = User.objects.bulk_create(User(username=f"bench{i}") for i in range(evaluators))
    group = EvaluationGroup.objects.create(round=round, name="bench")
    GroupMember.objects.bulk_create(
        GroupMember(group=group, user=u, role=GroupRole.LEADER if i == 0 else GroupRole.EVALUATOR)
        for i, u in enumerate(experts)
    )
    Assignment.objects.bulk_create(
        Assignment(round=round, school=s, evaluator=u, status=AssignmentStatus.ACTIVE)
        for s in school_rows
        for u in experts
    )
    now = timezone.now()
    sheets = ScoreSheet.objects.bulk_create(
        ScoreSheet(
            round=round, school=s, evaluator=u, status=SheetStatus.SUBMITTED, submitted_at=now
        )
        for s in school_rows
        for u in experts
    )
    leaves = list(framework_leaves(framework=framework))
    batch: list[Score] = []
    for sheet in sheets:
        quality = rng.uniform(0.5, 1.0)
        for leaf in leaves:
            halves = int(leaf.max_points * 2)
            value = min(halves, max(0, round_half(halves * quality + rng.uniform(-1, 1))))
            batch.append(
                Score(
                    sheet=sheet,
                    indicator=leaf,
                    points=Decimal(value) / 2,
                    max_points=leaf.max_points,
                )
            )
        if len(batch) >= 20_000:
            Score.objects.bulk_create(batch)
            batch = []
    Score.objects.bulk_create(batch)
    Round.objects.filter(pk=round.pk).update(phase=RoundPhase.CONSOLIDATION)
    round.refresh_from_db()
    return round, len(leaves)


def settle(connection) -> None:  # noqa: ANN001
    """Vacuum and analyse after the bulk load, as autovacuum would have long since
    done for scores entered over weeks: otherwise it starts on the 315,000 new rows
    in the middle of the timings and competes with them for the CPU."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def timed(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def round_half(value: float) -> int:
    return int(value + 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--evaluators", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from django.db import connection

    from xm_eval.celery import app

    # Keep the after-commit statistics task out of (b): publish it to an
    # in-memory broker that no worker reads; (c) times the same work directly.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"

    with scratch_database():
        from scoring.models import ResultSet, Score
        from scoring.result_sets import result_set_statistics_compute, round_results_compute

        started = time.perf_counter()
        round, leaves = build_round(args.schools, args.evaluators)
        settle(connection)
        count = Score.objects.filter(sheet__round=round).count()
        print(
            f"backend: {connection.vendor}; round: {args.schools} schools × {leaves} "
            f"observation points × {args.evaluators} evaluators = {count:,} scores "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )

        def fetch() -> None:
            list(
                Score.objects.filter(sheet__round=round).values_list(
                    "sheet__school_id",
                    "sheet__evaluator_id",
                    "indicator_id",
                    "points",
                    "not_applicable",
                )
            )

        def compute() -> None:
            round_results_compute(round=round, actor=None)

        fetch()  # warm the database cache for both, and the code paths of (b)
        compute()
        # Interleaved, so a machine that slows down or speeds up during the run
        # weighs on both sides of the ratio alike.
        floors, fulls = [], []
        for _ in range(args.repeat):
            floors.append(timed(fetch))
            fulls.append(timed(compute))
        floor, full = statistics.median(floors), statistics.median(fulls)
        tracemalloc.start()
        compute()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        latest = ResultSet.objects.filter(round=round).order_by("-version").first()
        started = time.perf_counter()
        result_set_statistics_compute(result_set=latest)
        statistics_seconds = time.perf_counter() - started

        print(f"(a) values_list fetch of all scores   median {floor:7.3f} s")
        print(f"(b) round_results_compute             median {full:7.3f} s")
        pairs = [b / a for a, b in zip(floors, fulls, strict=True)]
        print(
            f"ratio (b)/(a): {statistics.median(pairs):.2f} median of the pairs "
            f"(target ≤ 3; each: {', '.join(f'{r:.2f}' for r in pairs)}); "
            f"{full / floor:.2f} between the medians"
        )
        print(f"peak Python memory of (b): {peak / 2**20:.0f} MB  (target ≤ 500 MB)")
        print(
            f"(c) consistency statistics of the stored set (a task after commit): "
            f"{statistics_seconds:.3f} s"
        )


if __name__ == "__main__":
    main()
