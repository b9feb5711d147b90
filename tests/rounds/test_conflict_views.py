"""An evaluator declares a conflict of interest from their own page: recorded, audited,
and their open assignment at that school recused."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.enums import Role
from core.models import AuditEvent
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, ConflictOfInterest
from tests.factories import SchoolFactory, UserFactory, make_round, round_to_phase
from tests.factories.rounds import assign

pytestmark = pytest.mark.django_db


def test_an_evaluator_declares_a_conflict_and_is_recused(bureau_admin):
    school = SchoolFactory()
    round = make_round(schools=[school])
    expert = UserFactory(username="expert", roles=[Role.EVALUATOR])
    assignment = assign(round, school, expert)
    round_to_phase(round, RoundPhase.EXPERT_SCORING, actor=bureau_admin)
    client = Client()
    client.force_login(expert)
    page = client.get(reverse("rounds:conflicts"))
    assert page.status_code == 200
    assert "You have declared no conflict of interest." in page.content.decode()
    response = client.post(
        reverse("rounds:conflicts"), {"school": school.pk, "reason": "曾在该校任教"}, follow=True
    )
    html = response.content.decode()
    assert "曾在该校任教" in html
    conflict = ConflictOfInterest.objects.get(evaluator=expert, school=school)
    assert conflict.kind == "declared"
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.RECUSED
    event = AuditEvent.objects.get(action="conflict.record")
    assert event.actor_id == expert.pk


def test_a_conflict_needs_a_reason_and_is_declared_once(bureau_admin):
    school = SchoolFactory()
    expert = UserFactory(username="expert", roles=[Role.EVALUATOR])
    client = Client()
    client.force_login(expert)
    empty = client.post(reverse("rounds:conflicts"), {"school": school.pk, "reason": " "})
    assert empty.status_code == 200
    assert ConflictOfInterest.objects.count() == 0
    client.post(reverse("rounds:conflicts"), {"school": school.pk, "reason": "亲属在该校"})
    again = client.post(reverse("rounds:conflicts"), {"school": school.pk, "reason": "再次"})
    assert "This conflict of interest is recorded already." in again.content.decode()
    assert ConflictOfInterest.objects.count() == 1
    assert Assignment.objects.count() == 0


def test_the_evaluator_home_links_the_conflict_page():
    expert = UserFactory(username="expert", roles=[Role.EVALUATOR])
    client = Client()
    client.force_login(expert)
    assert reverse("rounds:conflicts") in client.get(reverse("site:home")).content.decode()


def test_the_conflict_page_runs_the_same_queries_for_1_and_4_conflicts():
    expert = UserFactory(username="expert", roles=[Role.EVALUATOR])
    client = Client()
    client.force_login(expert)
    counts = []
    for wanted in (1, 4):
        while ConflictOfInterest.objects.count() < wanted:
            ConflictOfInterest.objects.create(
                evaluator=expert, school=SchoolFactory(), kind="declared", reason="亲属"
            )
        client.get(reverse("rounds:conflicts"))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("rounds:conflicts")).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
