"""Every list endpoint runs the same number of queries whatever the amount of data.

Each test measures a list, adds rows that the same user sees, and measures again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.audit import audit_record
from rounds.enums import RoundPhase
from rounds.models import Assignment, Evidence, Round
from schools.models import StaffMembership
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet, SelfAssessment, SelfScore
from tests.api.conftest import World
from tests.factories import SchoolFactory, make_framework, make_round, round_to_phase
from tests.factories.publication import publish_after_notice
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db


def measure(world: World, role: str, url: str, **params: object) -> tuple[int, int]:
    """(number of queries, number of items) of one GET."""
    client = world.client(role)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    return len(queries), body.get("count", len(body.get("results", ())))


def new_schools_in_scoring_round(world: World, count: int) -> list:
    schools = [SchoolFactory() for _ in range(count)]
    world.scoring.schools.add(*schools)
    return schools


def grow_schools(world: World) -> None:
    new_schools_in_scoring_round(world, 4)


def grow_frameworks(world: World) -> None:
    for _ in range(3):
        make_framework()


def grow_rounds(world: World) -> None:
    for _ in range(3):
        round = make_round(framework=world.framework, schools=[world.school, world.other_school])
        today = timezone.localdate()
        round_to_phase(
            round, RoundPhase.SELF_ASSESSMENT, windows={RoundPhase.SELF_ASSESSMENT: (today, today)}
        )


def grow_assignments_and_sheets(world: World) -> None:
    evaluator = world.users["evaluator"]
    now = timezone.now()
    for school in new_schools_in_scoring_round(world, 4):
        Assignment.objects.create(round=world.scoring, school=school, evaluator=evaluator)
        sheet = ScoreSheet.objects.create(
            round=world.scoring,
            school=school,
            evaluator=evaluator,
            status=SheetStatus.SUBMITTED,
            submitted_at=now,
        )
        Score.objects.bulk_create(
            Score(sheet=sheet, indicator=leaf, points=leaf.max_points, max_points=leaf.max_points)
            for leaf in world.leaves
        )


def grow_self_assessments(world: World) -> None:
    for school in new_schools_in_scoring_round(world, 4):
        StaffMembership.objects.create(user=world.users["school_staff"], school=school)
        assessment = SelfAssessment.objects.create(round=world.scoring, school=school)
        SelfScore.objects.bulk_create(
            SelfScore(
                self_assessment=assessment,
                indicator=leaf,
                points=Decimal(1),
                max_points=leaf.max_points,
            )
            for leaf in world.leaves
        )


def grow_evidence(world: World) -> None:
    for school in new_schools_in_scoring_round(world, 4):
        StaffMembership.objects.create(user=world.users["school_staff"], school=school)
        Assignment.objects.create(
            round=world.scoring, school=school, evaluator=world.users["evaluator"]
        )
        for leaf in world.leaves[:2]:
            digest = hashlib.sha256(f"{school.pk}/{leaf.pk}".encode()).hexdigest()
            Evidence.objects.create(
                school=school,
                round=world.scoring,
                indicator=leaf,
                file=f"evidence/x/{digest}",
                original_name=f"{leaf.code}.pdf",
                size=10,
                sha256=digest,
                uploaded_by=world.users["school_staff"],
            )


def grow_result_sets(world: World) -> None:
    for _ in range(3):
        services.round_results_compute(round=world.scoring, actor=world.users["bureau_admin"])


def grow_audit_events(world: World) -> None:
    for index in range(5):
        audit_record(
            actor=world.users["bureau_admin"],
            action="test.event",
            obj=world.school,
            after={"n": index},
            round_id=world.scoring.pk,
            school_id=world.school.pk,
        )


LISTS: list[tuple[str, str, Callable[[World], None]]] = [
    ("school-list", "anonymous", grow_schools),
    ("framework-list", "bureau_admin", grow_frameworks),
    ("round-list", "anonymous", grow_rounds),
    ("round-list", "bureau_admin", grow_rounds),
    ("assignment-list", "evaluator", grow_assignments_and_sheets),
    ("assignment-list", "bureau_admin", grow_assignments_and_sheets),
    ("score-sheet-list", "evaluator", grow_assignments_and_sheets),
    ("score-sheet-list", "supervisor", grow_assignments_and_sheets),
    ("self-assessment-list", "school_staff", grow_self_assessments),
    ("self-assessment-list", "bureau_admin", grow_self_assessments),
    ("evidence-list", "school_staff", grow_evidence),
    ("evidence-list", "evaluator", grow_evidence),
    ("evidence-list", "supervisor", grow_evidence),
    ("result-set-list", "bureau_admin", grow_result_sets),
    ("audit-event-list", "supervisor", grow_audit_events),
]


@pytest.mark.parametrize(("name", "role", "grow"), LISTS, ids=[f"{n}-{r}" for n, r, _ in LISTS])
def test_list_query_count_is_constant(world, name, role, grow):
    url = reverse(f"api:{name}")
    small_queries, small_count = measure(world, role, url)
    grow(world)
    large_queries, large_count = measure(world, role, url)
    assert large_count > small_count
    assert large_queries == small_queries


def test_every_list_endpoint_is_measured():
    from tests.api.test_matrix import EXPECTED

    lists = {name for name, method in EXPECTED if name.endswith("-list") and method == "GET"}
    assert lists == {name for name, _role, _grow in LISTS}


def test_framework_tree_query_count_does_not_grow_with_the_tree(world):
    larger = make_framework(leaves_per_indicator=5)
    small = measure(
        world, "bureau_admin", reverse("api:framework-detail", args=[world.framework.pk])
    )
    large = measure(world, "bureau_admin", reverse("api:framework-detail", args=[larger.pk]))
    assert small[0] == large[0]


def published(schools: int, actor) -> Round:  # noqa: ANN001
    round = scored_round(schools=schools, evaluators=3)
    result_set = services.round_results_compute(round=round, actor=actor)
    publish_after_notice(result_set, actor=actor)
    return round


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page_size": 500},
        {"page_size": 500, "ordering": "-dimension_2,school_name"},
        {"group": "private", "format": "csv"},
    ],
    ids=["first-page", "all", "ordered", "csv"],
)
def test_rankings_query_count_is_the_same_at_9_and_90_schools(world, params):
    actor = world.users["bureau_admin"]
    counts = []
    for size in (9, 90):
        round = published(size, actor)
        url = reverse("api:round-rankings", args=[round.pk])
        client = world.client("anonymous")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200
        if "format" not in params:
            assert response.json()["count"] == size
            assert len(response.json()["results"]) == min(size, params.get("page_size", 50))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_school_result_query_count_does_not_grow_with_the_round(world):
    actor = world.users["bureau_admin"]
    counts = []
    for size in (9, 90):
        round = published(size, actor)
        school = round.schools.order_by("code").last()
        url = reverse("api:round-result", args=[round.pk, school.pk])
        counts.append(measure(world, "anonymous", url)[0])
    assert counts[0] == counts[1]
