"""The bureau's round pages: list, detail, monitoring, advance, create, clone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rounds import services
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, GroupMember, Indicator, PhaseWindow, Round
from schools.models import Evidence
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from tests.factories import SchoolFactory, UserFactory, make_framework, small_tree
from tests.factories.scoring import scored_round
from xm_eval.enums import Role
from xm_eval.models import AuditEvent

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(bureau_admin) -> Client:
    return signed_in(bureau_admin)


def round_in_scoring(schools: int = 3) -> Round:
    """A scored round moved back to expert scoring, with one sheet undone and one recusal."""
    round = scored_round(schools=schools, evaluators=3, phase=RoundPhase.EXPERT_SCORING)
    sheet = ScoreSheet.objects.filter(round=round).order_by("school__code", "evaluator__username")[
        0
    ]
    ScoreSheet.objects.filter(pk=sheet.pk).update(status=SheetStatus.DRAFT, submitted_at=None)
    sheet.scores.filter(indicator__code__startswith="B").delete()
    recused = (
        Assignment.objects.filter(round=round)
        .order_by("-school__code", "-evaluator__username")
        .first()
    )
    Assignment.objects.filter(pk=recused.pk).update(
        status=AssignmentStatus.RECUSED, recusal_reason="本人曾任该校顾问"
    )
    return round


def test_the_monitoring_matrix_shows_submitted_draft_and_recused_sheets(admin_client):
    round = round_in_scoring()
    response = admin_client.get(reverse("rounds:monitoring", args=(round.pk,)))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="cell cell--submitted"') == 7
    assert html.count('class="cell cell--draft"') == 1
    assert html.count('class="cell cell--recused"') == 1
    assert "draft 6/8" in html  # the two observation points of dimension B are blank
    for school in round.schools.all():
        assert school.code in html


def test_the_advance_page_lists_what_is_incomplete_then_moves_the_phase(admin_client):
    round = round_in_scoring()
    school = round.schools.order_by("code").first()
    point = Indicator.objects.get(framework=round.framework, code="A1.1")
    Indicator.objects.filter(pk=point.pk).update(required_evidence=["办学许可证"])
    SelfAssessment.objects.create(round=round, school=school)
    url = reverse("rounds:advance", args=(round.pk,))
    html = admin_client.get(url).content.decode()
    assert "1 score sheet not submitted" in html
    assert "3 self-assessments not submitted" in html
    assert "3 pieces of required evidence missing" in html
    assert "Consolidation" in html

    response = admin_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:detail", args=(round.pk,))
    round.refresh_from_db()
    assert round.phase == RoundPhase.CONSOLIDATION
    assert AuditEvent.objects.filter(action="round.phase_advance", round_id=round.pk).exists()


def test_evidence_uploaded_counts_as_present(admin_client, bureau_admin):
    round = round_in_scoring(schools=1)
    school = round.schools.get()
    point = Indicator.objects.get(framework=round.framework, code="A1.1")
    Indicator.objects.filter(pk=point.pk).update(required_evidence=["办学许可证"])
    Evidence.objects.create(
        school=school,
        round=round,
        indicator=point,
        file="evidence/x",
        original_name="许可证.pdf",
        size=10,
        sha256="0" * 64,
        uploaded_by=bureau_admin,
    )
    html = admin_client.get(reverse("rounds:advance", args=(round.pk,))).content.decode()
    assert "0 pieces of required evidence missing" in html


def test_advancing_a_closed_round_shows_why(admin_client):
    round = scored_round(schools=1, evaluators=1, phase=RoundPhase.CLOSED)
    response = admin_client.post(reverse("rounds:advance", args=(round.pk,)), follow=True)
    assert "there is no next phase" in response.content.decode()


def test_the_detail_page_shows_phases_schools_group_and_assignments(admin_client):
    round = round_in_scoring()
    PhaseWindow.objects.create(
        round=round,
        phase=RoundPhase.EXPERT_SCORING,
        starts_on=dt.date(2026, 5, 1),
        ends_on=dt.date(2026, 6, 15),
    )
    html = admin_client.get(reverse("rounds:detail", args=(round.pk,))).content.decode()
    for school in round.schools.all():
        assert school.name_zh in html
    for member in GroupMember.objects.filter(group__round=round).select_related("user"):
        assert member.user.username in html
    assert "本人曾任该校顾问" in html
    assert "June 15, 2026" in html  # the phase deadline, in the active language's format
    assert reverse("rounds:advance", args=(round.pk,)) in html
    assert reverse("rounds:compute", args=(round.pk,)) in html


def test_the_supervisor_reads_the_round_pages_without_the_actions(bureau_admin):
    round = round_in_scoring()
    client = signed_in(UserFactory(roles=[Role.SUPERVISOR]))
    html = client.get(reverse("rounds:detail", args=(round.pk,))).content.decode()
    assert reverse("rounds:advance", args=(round.pk,)) not in html
    assert reverse("rounds:compute", args=(round.pk,)) not in html
    assert client.get(reverse("rounds:advance", args=(round.pk,))).status_code == 403


def test_a_round_is_created_from_a_framework(admin_client):
    framework = make_framework()
    schools = [SchoolFactory(), SchoolFactory()]
    response = admin_client.post(
        reverse("rounds:create"),
        {
            "name": "2026–2028 年度评估",
            "framework": framework.pk,
            "cycle_start": 2026,
            "cycle_end": 2028,
            "consolidation_method": "median",
            "schools": [school.pk for school in schools],
        },
    )
    round = Round.objects.get(name="2026–2028 年度评估")
    assert response["Location"] == reverse("rounds:detail", args=(round.pk,))
    assert round.phase == RoundPhase.DRAFT
    assert set(round.schools.all()) == set(schools)


def test_a_round_outside_the_framework_validity_is_refused_with_the_reason(admin_client):
    framework = make_framework()
    response = admin_client.post(
        reverse("rounds:create"),
        {
            "name": "太晚的轮次",
            "framework": framework.pk,
            "cycle_start": 2029,
            "cycle_end": 2031,
            "consolidation_method": "mean",
            "schools": [SchoolFactory().pk],
        },
    )
    assert response.status_code == 200
    assert "lies outside the framework" in response.content.decode()
    assert not Round.objects.filter(name="太晚的轮次").exists()


def test_the_previous_cycle_round_is_cloned(admin_client, bureau_admin):
    framework = services.framework_create(
        actor=None,
        name="十年指标体系",
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2034, 12, 31),
        indicators=small_tree(),
    )
    round = services.round_create(
        actor=bureau_admin,
        framework=framework,
        name="2025–2027 年度评估",
        cycle_start=2025,
        cycle_end=2027,
        schools=[SchoolFactory()],
        phase_windows={RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 4, 30))},
    )
    services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=UserFactory(roles=[Role.EVALUATOR])
    )
    url = reverse("rounds:clone", args=(round.pk,))
    page = admin_client.get(url).content.decode()
    assert 'value="2028–2030 年度评估"' in page
    assert "March 1, 2028" in page  # the self-assessment window, three years on
    response = admin_client.post(url, {"name": "2028–2030 年度评估", "framework": ""})
    clone = Round.objects.get(name="2028–2030 年度评估")
    assert response["Location"] == reverse("rounds:detail", args=(clone.pk,))
    assert GroupMember.objects.filter(group__round=clone).count() == 1
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Round “2028–2030 年度评估” created from “2025–2027 年度评估”."
    ]


def test_cloning_past_the_framework_validity_shows_why(admin_client):
    round = scored_round(schools=1, evaluators=1)  # framework valid to 2029, cycle 2025–2027
    response = admin_client.post(
        reverse("rounds:clone", args=(round.pk,)), {"name": "下一轮", "framework": ""}
    )
    assert response.status_code == 200
    assert "lies outside the framework" in response.content.decode()


# ---------------------------------------------------------------- query counts


def queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["rounds:detail", "rounds:monitoring", "rounds:advance"])
def test_round_pages_run_the_same_queries_for_3_and_12_schools(admin_client, page):
    counts = []
    for size in (3, 12):
        round = round_in_scoring(schools=size)
        Indicator.objects.filter(framework=round.framework).update(required_evidence=["文件"])
        counts.append(queries(admin_client, reverse(page, args=(round.pk,))))
    assert counts[0] == counts[1]


def test_the_round_list_runs_the_same_queries_for_1_and_4_rounds(admin_client):
    counts = []
    for wanted in (1, 4):
        while Round.objects.count() < wanted:
            round_in_scoring(schools=2)
        counts.append(queries(admin_client, reverse("rounds:list")))
    assert counts[0] == counts[1]


def test_the_create_and_clone_forms_run_the_same_queries_for_3_and_12_schools(admin_client):
    counts: dict[str, list[int]] = {"create": [], "clone": []}
    for size in (3, 12):
        round = round_in_scoring(schools=size)
        for phase in (RoundPhase.SELF_ASSESSMENT, RoundPhase.EXPERT_SCORING):
            PhaseWindow.objects.create(
                round=round, phase=phase, starts_on=dt.date(2025, 3, 1), ends_on=dt.date(2025, 4, 1)
            )
        counts["create"].append(queries(admin_client, reverse("rounds:create")))
        counts["clone"].append(queries(admin_client, reverse("rounds:clone", args=(round.pk,))))
    assert counts["create"][0] == counts["create"][1]
    assert counts["clone"][0] == counts["clone"][1]
