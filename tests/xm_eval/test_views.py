"""Site pages: every URL of the home, round and result pages × every role; the home page
per role; sign-in, language switch, friendly error pages; query counts at two sizes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from core.errors import DomainError
from core.views import signed_in
from rounds import services as round_services
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, PhaseWindow, Round
from schools.models import School
from scoring import services as scoring_services
from scoring.enums import SheetStatus
from scoring.models import ResultRow, ResultSet, SelfAssessment
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory, make_round
from tests.factories.core import CONFIRMED
from tests.factories.publication import publish_after_notice
from tests.factories.scoring import scored_round
from xm_eval.context_processors import optional_url

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "admin",
    "supervisor",
    "leader",
    "evaluator",
    "staff_own",
    "staff_other",
)


@dataclass
class World:
    """Two computed rounds: one unpublished (consolidation), one published."""

    users: dict[str, Any]
    computed: Round
    published: Round
    computed_set: ResultSet
    published_set: ResultSet
    own: School  # school 0 of the computed round (staff_own's school)
    published_own: School

    def client(self, role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client

    def row(self, result_set: ResultSet, school: School) -> ResultRow:
        return ResultRow.objects.get(result_set=result_set, school=school)


def add_roles(user: Any, *roles: str) -> Any:
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def computed_round(admin: Any, schools: int = 2, **kwargs: Any) -> tuple[Round, ResultSet]:
    round = scored_round(schools=schools, **kwargs)
    return round, scoring_services.round_results_compute(round=round, actor=admin)


def published_round(admin: Any, schools: int = 2) -> tuple[Round, ResultSet]:
    round, result_set = computed_round(admin, schools=schools, seed=11)
    result_set = publish_after_notice(result_set, actor=admin)
    round.refresh_from_db()
    return round, result_set


def school_list(round: Round) -> list[School]:
    return list(round.schools.order_by("code"))


@pytest.fixture
def world(bureau_admin) -> World:
    computed, computed_set = computed_round(bureau_admin)
    published, published_set = published_round(bureau_admin)
    own, other = school_list(computed)
    published_own, published_other = school_list(published)
    experts = list(
        Assignment.objects.filter(round=computed, school=own)
        .select_related("evaluator")
        .order_by("evaluator__username")
    )
    leader = add_roles(experts[0].evaluator, Role.GROUP_LEADER, Role.EVALUATOR)
    evaluator = add_roles(experts[1].evaluator, Role.EVALUATOR)
    staff_own = StaffMembershipFactory(school=own, user__roles=[Role.SCHOOL_STAFF]).user
    StaffMembershipFactory(school=published_own, user=staff_own)
    staff_other = StaffMembershipFactory(school=other, user__roles=[Role.SCHOOL_STAFF]).user
    StaffMembershipFactory(school=published_other, user=staff_other)
    users = {
        "admin": bureau_admin,
        "supervisor": UserFactory(roles=[Role.SUPERVISOR]),
        "leader": leader,
        "evaluator": evaluator,
        "staff_own": staff_own,
        "staff_other": staff_other,
    }
    return World(users, computed, published, computed_set, published_set, own, published_own)


def explain(row: ResultRow, code: str | None = None) -> str:
    url = reverse("scoring:explain", args=(row.pk,))
    return f"{url}?code={code}" if code else url


def url_table(w: World) -> list[tuple[str, str, str, tuple[int, ...]]]:
    """(label, method, url, expected status per role in ROLES order)."""
    login = 302
    only_bureau_pages = (login, 200, 200, 403, 403, 403, 403)
    only_admin_pages = (login, 200, 403, 403, 403, 403, 403)
    only_admin_actions = (login, 302, 403, 403, 403, 403, 403)
    hidden_unpublished = (login, 200, 200, 404, 404, 404, 404)
    everybody = (login, 200, 200, 200, 200, 200, 200)
    own_school_published = (login, 200, 200, 404, 404, 200, 404)
    computed_row = w.row(w.computed_set, w.own)
    published_row = w.row(w.published_set, w.published_own)
    c, p = w.computed.pk, w.published.pk
    return [
        ("home", "get", reverse("site:home"), everybody),
        ("login", "get", reverse("site:login"), (200,) * 7),
        ("logout", "post", reverse("site:logout"), (302,) * 7),
        ("health", "get", reverse("site:health"), (200,) * 7),
        ("round list", "get", reverse("rounds:list"), only_bureau_pages),
        ("round create", "get", reverse("rounds:create"), only_admin_pages),
        ("round detail", "get", reverse("rounds:detail", args=(c,)), only_bureau_pages),
        ("monitoring", "get", reverse("rounds:monitoring", args=(c,)), only_bureau_pages),
        ("advance form", "get", reverse("rounds:advance", args=(c,)), only_admin_pages),
        ("advance", "post", reverse("rounds:advance", args=(c,)), only_admin_actions, CONFIRMED),
        ("compute", "post", reverse("rounds:compute", args=(c,)), only_admin_actions),
        ("clone form", "get", reverse("rounds:clone", args=(c,)), only_admin_pages),
        ("clone", "post", reverse("rounds:clone", args=(c,)), only_admin_pages),
        (
            "round detail, unknown round",
            "get",
            reverse("rounds:detail", args=(999_999,)),
            (login, 404, 404, 403, 403, 403, 403),
        ),
        ("results index", "get", reverse("scoring:index"), everybody),
        ("results, unpublished", "get", reverse("scoring:round", args=(c,)), hidden_unpublished),
        ("results, published", "get", reverse("scoring:round", args=(p,)), everybody),
        (
            "results, unpublished version asked for",
            "get",
            reverse("scoring:round", args=(p,)) + "?version=99",
            (login, 404, 404, 404, 404, 404, 404),
        ),
        (
            "school result, unpublished",
            "get",
            reverse("scoring:school", args=(c, w.own.pk)),
            hidden_unpublished,
        ),
        (
            "school result, published",
            "get",
            reverse("scoring:school", args=(p, w.published_own.pk)),
            own_school_published,
        ),
        ("explain total, unpublished", "get", explain(computed_row), hidden_unpublished),
        ("explain leaf, unpublished", "get", explain(computed_row, "A1.1"), hidden_unpublished),
        ("explain total, published", "get", explain(published_row), everybody),
        ("explain dimension, published", "get", explain(published_row, "B"), everybody),
        (
            "explain leaf, published",
            "get",
            explain(published_row, "A1.1"),
            own_school_published,
        ),
        (
            "explain unknown code",
            "get",
            explain(published_row, "ZZ"),
            (login, 404, 404, 404, 404, 404, 404),
        ),
        (
            "publish",
            "post",
            reverse("notice:publish", args=(w.computed_set.pk,)),
            only_admin_actions,
            CONFIRMED,
        ),
        (
            "publish confirmation",
            "get",
            reverse("notice:publish", args=(w.computed_set.pk,)),
            only_admin_pages,
        ),
    ]


def test_every_url_answers_every_role_as_expected(world):
    wrong = []
    for label, method, url, expected, *data in url_table(world):
        # fresh clients: signing out in one row must not sign out the next rows
        clients = {role: world.client(role) for role in ROLES}
        for role, status in zip(ROLES, expected, strict=True):
            # Each request's writes are rolled back, so the table reads in any order.
            with transaction.atomic():
                response = getattr(clients[role], method)(url, *data)
                transaction.set_rollback(True)
            if response.status_code != status:
                wrong.append(f"{label} as {role}: {response.status_code}, expected {status}")
            elif status == 302 and role == "anonymous" and label not in ("logout",):
                assert response["Location"].startswith(reverse("site:login"))
    assert wrong == []


# ------------------------------------------------------------------ home page


def test_home_of_a_bureau_admin_lists_rounds_with_progress_and_days_left(world):
    today = timezone.localdate()
    PhaseWindow.objects.create(
        round=world.computed,
        phase=RoundPhase.CONSOLIDATION,
        starts_on=today - dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=12),
    )
    response = world.client("admin").get(reverse("site:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert world.computed.name in html
    assert "12 days left" in html
    # scored_round: 5 evaluators × 2 schools, every sheet submitted
    assert "10 / 10" in html
    assert reverse("rounds:monitoring", args=(world.computed.pk,)) in html


def test_home_of_an_evaluator_shows_completion_and_marks_recused_schools(world):
    evaluator = world.users["evaluator"]
    assignment = Assignment.objects.get(round=world.computed, evaluator=evaluator, school=world.own)
    Assignment.objects.filter(pk=assignment.pk).update(
        status=AssignmentStatus.RECUSED, recusal_reason="前雇主"
    )
    response = world.client("evaluator").get(reverse("site:home"))
    html = response.content.decode()
    assert "Recused" in html
    assert "前雇主" in html
    # the other school of the round: all 8 observation points scored and submitted
    assert "8 / 8" in html
    sheet_url = optional_url(("scoring:sheet", "sheets:sheet"), world.computed.pk, world.own.pk)
    if sheet_url:
        assert sheet_url not in html  # a recused school is not scorable


def test_home_of_school_staff_shows_self_assessment_and_evidence_progress(world):
    SelfAssessment.objects.create(round=world.computed, school=world.own)
    response = world.client("staff_own").get(reverse("site:home"))
    html = response.content.decode()
    assert world.own.name_zh in html
    assert "draft" in html
    # the published round links to the school's own result
    assert reverse("scoring:school", args=(world.published.pk, world.published_own.pk)) in html
    other = world.client("staff_other").get(reverse("site:home")).content.decode()
    assert world.own.name_zh not in other


def test_home_of_a_supervisor_links_the_audit_trail_and_consistency(world):
    html = world.client("supervisor").get(reverse("site:home")).content.decode()
    assert reverse("admin:core_auditevent_changelist") in html
    assert f"{reverse('scoring:round', args=(world.computed.pk,))}?version=1" in html


def test_a_user_without_a_role_is_told_so():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert "no role yet" in client.get(reverse("site:home")).content.decode()


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def evaluator_with_assignments(count: int) -> Any:
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    schools = [SchoolFactory() for _ in range(count)]
    round = make_round(schools=schools)
    round_services.evaluation_group_member_add(
        round=round, actor=UserFactory(roles=[Role.BUREAU_ADMIN]), user=evaluator
    )
    for school in schools:
        round_services.assignment_create(
            round=round, actor=None, school=school, evaluator=evaluator
        )
    PhaseWindow.objects.create(
        round=round,
        phase=RoundPhase.DRAFT,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 2, 1),
    )
    return evaluator


def test_home_of_an_evaluator_runs_the_same_queries_for_2_and_8_assignments():
    counts = []
    for size in (2, 8):
        client = Client()
        client.force_login(evaluator_with_assignments(size))
        counts.append(count_queries(client, reverse("site:home")))
    assert counts[0] == counts[1]


def test_home_of_an_admin_and_a_supervisor_runs_the_same_queries_for_1_and_3_rounds(
    bureau_admin,
):
    supervisor = UserFactory(roles=[Role.SUPERVISOR])
    counts: dict[str, list[int]] = {"admin": [], "supervisor": []}
    for wanted in (1, 3):
        while Round.objects.count() < wanted:
            computed_round(bureau_admin, schools=2, evaluators=3)
        for name, user in (("admin", bureau_admin), ("supervisor", supervisor)):
            client = Client()
            client.force_login(user)
            counts[name].append(count_queries(client, reverse("site:home")))
    assert counts["admin"][0] == counts["admin"][1]
    assert counts["supervisor"][0] == counts["supervisor"][1]


def test_home_of_school_staff_runs_the_same_queries_for_1_and_3_rounds():
    school = SchoolFactory()
    staff = StaffMembershipFactory(school=school, user__roles=[Role.SCHOOL_STAFF]).user
    counts = []
    for wanted in (1, 3):
        while Round.objects.filter(schools=school).count() < wanted:
            round = make_round(schools=[school])
            SelfAssessment.objects.create(round=round, school=school, status=SheetStatus.DRAFT)
        client = Client()
        client.force_login(staff)
        counts.append(count_queries(client, reverse("site:home")))
    assert counts[0] == counts[1]


# ------------------------------------------------------- sign-in, language


def test_sign_in_leads_home_and_sign_out_back_to_sign_in():
    UserFactory(username="staff1", roles=[Role.SCHOOL_STAFF])
    client = Client()
    page = client.get(reverse("site:login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    bad = client.post(reverse("site:login"), {"username": "staff1", "password": "wrong"})
    assert bad.status_code == 200
    assert 'role="alert"' in bad.content.decode()
    response = client.post(
        reverse("site:login"), {"username": "staff1", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("site:home")
    response = client.post(reverse("site:logout"))
    assert response["Location"] == reverse("site:login")
    assert client.get(reverse("site:home")).status_code == 302


def test_anonymous_people_are_sent_to_sign_in_and_come_back():
    response = Client().get(reverse("rounds:list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('site:login')}?next=/rounds/"


@pytest.mark.zh_hans
def test_chinese_is_the_default_and_english_is_a_switch_away(bureau_admin):
    client = Client()
    client.force_login(bureau_admin)
    assert '<html lang="zh-hans">' in client.get(reverse("site:home")).content.decode()
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("site:home")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("site:home")
    html = client.get(reverse("site:home")).content.decode()
    assert '<html lang="en">' in html
    assert "My tasks" in html


# --------------------------------------------------------------- error pages


def test_not_found_and_forbidden_pages_are_friendly(world):
    missing = world.client("admin").get("/no-such-page/")
    assert missing.status_code == 404
    assert "Nothing here" in missing.content.decode()
    forbidden = world.client("evaluator").get(reverse("rounds:list"))
    assert forbidden.status_code == 403
    assert "not for your role" in forbidden.content.decode()


def test_the_server_error_page_renders_without_any_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert "css/xm_eval.css" in html


def test_a_domain_error_in_a_view_shows_its_message_not_a_500(bureau_admin):
    @signed_in
    def refusing_view(request: Any) -> HttpResponse:
        raise DomainError("本阶段已结束，不能再提交。", code="phase_closed")

    request = RequestFactory().get("/")
    request.user = bureau_admin
    request.session = {}
    response = refusing_view(request)
    assert response.status_code == 409
    assert "本阶段已结束，不能再提交。" in response.content.decode()


def test_optional_url_is_none_until_the_view_exists():
    assert optional_url("scoring:no_such_page", 1) is None
    assert optional_url(("scoring:no_such_page", "site:home")) == reverse("site:home")
