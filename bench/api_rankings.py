"""Benchmark: the public rankings endpoint against a trivial endpoint of the same API.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/xm_eval \
        .venv/bin/python bench/api_rankings.py [--schools 300] [--repeat 100]

Builds a throw-away database (the configured backend's test database) with a round of
SCHOOLS schools on the 150-point framework of ``bench/scoring_round.py`` and one
published result set whose rows are inserted directly (as a computation stores them),
then times through the Django test client, anonymously, in the same run:

  (a) ``GET /api/v1/schools/{id}/``, a one-row detail: the floor of a DRF request;
  (b) ``GET /api/v1/rounds/{id}/rankings/``, the first page (50 rows);
  (c) the same with ``page_size=SCHOOLS``, the whole ranking in one page;
  (d) the whole ranking as CSV, for reference.

Prints the medians and the ratios to (a) (target: (b) and (c) ≤ 3). Throttling is
switched off for the run (it would stop the loop, and costs both endpoints the same).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal

from _setup import median_time, scratch_database


def build_published_round(schools: int):  # noqa: ANN201
    from django.utils import timezone
    from scoring_round import framework_with_150_points

    from rounds.enums import FrameworkStatus, RoundPhase
    from rounds.models import Framework, Indicator, Round
    from rounds.services import round_create
    from schools.models import School
    from scoring.models import ResultRow, ResultSet

    rng = random.Random(300)
    framework = framework_with_150_points()
    Framework.objects.filter(pk=framework.pk).update(status=FrameworkStatus.FROZEN)
    school_rows = School.objects.bulk_create(
        School(
            code=f"B{i:04d}",
            name_zh=f"基准学校{i}",
            kind="public_technician_college" if i % 10 == 0 else "private_technical_school",
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
    Round.objects.filter(pk=round.pk).update(phase=RoundPhase.PUBLISHED)
    nodes = list(Indicator.objects.filter(framework=framework).values_list("code", "max_points"))
    dimensions = [code for code, _max in nodes if "." not in code and len(code) == 1]
    result_set = ResultSet.objects.create(
        round=round,
        version=1,
        consolidation_method=round.consolidation_method,
        is_published=True,
        published_at=timezone.now(),
    )
    cent = Decimal("0.01")
    scored = []
    for school in school_rows:
        quality = Decimal(str(rng.uniform(0.55, 0.98)))
        subtotals = {
            code: (Decimal(25) * quality).quantize(cent, ROUND_HALF_UP) for code in dimensions
        }
        indicator_scores = {
            code: {
                "score": str((maximum * quality).quantize(cent, ROUND_HALF_UP)),
                "max": str(maximum),
                "status": "scored",
                "layer": "expert",
            }
            for code, maximum in nodes
        }
        scored.append((school, sum(subtotals.values()), subtotals, indicator_scores))
    scored.sort(key=lambda item: item[1], reverse=True)
    group_seen = {"public": 0, "private": 0}
    rows = []
    for rank, (school, total, subtotals, indicator_scores) in enumerate(scored, start=1):
        group_seen[school.ranking_group] += 1
        grade = (
            "excellent"
            if total >= 90
            else "good"
            if total >= 80
            else "qualified"
            if total >= 60
            else "unqualified"
        )
        rows.append(
            ResultRow(
                result_set=result_set,
                school=school,
                total=total,
                grade=grade,
                rank=rank,
                group_rank=group_seen[school.ranking_group],
                group=school.ranking_group,
                dimension_subtotals={code: str(value) for code, value in subtotals.items()},
                indicator_scores=indicator_scores,
                inputs=b"",
            )
        )
    ResultRow.objects.bulk_create(rows, batch_size=500)
    return round, school_rows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()

    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    no_throttle = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    with scratch_database(), override_settings(REST_FRAMEWORK=no_throttle):
        started = time.perf_counter()
        round, school = build_published_round(args.schools)
        print(
            f"backend: {connection.vendor}; a published result set of {args.schools} schools "
            f"(built in {time.perf_counter() - started:.1f} s); {args.repeat} requests each"
        )
        client = Client()
        urls = {
            "(a) GET /api/v1/schools/{id}/ (one row)": (f"/api/v1/schools/{school.pk}/", {}),
            "(b) rankings, first page (50 rows)": (f"/api/v1/rounds/{round.pk}/rankings/", {}),
            f"(c) rankings, page_size={args.schools}": (
                f"/api/v1/rounds/{round.pk}/rankings/",
                {"page_size": args.schools},
            ),
            f"(d) rankings as CSV ({args.schools} rows)": (
                f"/api/v1/rounds/{round.pk}/rankings/",
                {"format": "csv"},
            ),
        }
        for label, (url, params) in urls.items():
            response = client.get(url, params)
            assert response.status_code == 200, (label, response.status_code, response.content)
            for _ in range(5):  # warm up
                client.get(url, params)
        # Interleaved: each round times every endpoint once, so a busy machine slows
        # them all alike and the ratios stay meaningful.
        samples: dict[str, list[float]] = {label: [] for label in urls}
        for _ in range(args.repeat):
            for label, (url, params) in urls.items():
                samples[label].append(median_time(lambda u=url, p=params: client.get(u, p), 1))
        medians = {label: statistics.median(times) for label, times in samples.items()}
        floor = next(iter(medians.values()))
        for label, median in medians.items():
            print(f"{label:<44} median {median * 1000:7.2f} ms   ratio {median / floor:5.2f}")
        print("target: (b) and (c) ≤ 3 × (a)")


if __name__ == "__main__":
    main()
