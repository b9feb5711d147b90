"""The bureau's round pages: list, detail, monitoring, advance, create, clone, the
evaluation group and the assignments of evaluators to schools."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.enums import Role
from core.models import AuditEvent
from rounds import services
from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
from rounds.models import Assignment, Evidence, GroupMember, Indicator, PhaseWindow, Round
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from tests.factories import (
    SchoolFactory,
    StaffMembershipFactory,
    UserFactory,
    make_framework,
    make_round,
    round_to_phase,
    small_tree,
)
from tests.factories.core import CONFIRMED
from tests.factories.scoring import scored_round

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
    assert "Expert scoring closes: score sheets can no longer change." in html
    assert 'name="confirmed" value="yes"' in html

    assert admin_client.post(url).status_code == 200  # without the confirmation: nothing
    round.refresh_from_db()
    assert round.phase == RoundPhase.EXPERT_SCORING
    response = admin_client.post(url, CONFIRMED)
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


# ------------------------------------------------------ evaluation group, assignments


def round_with_group(bureau_admin: Any, schools: int = 3) -> tuple[Round, list[Any], list[Any]]:
    """A draft round with a leader, an evaluator affiliated with the first school, an
    evaluator with a declared conflict at the second school, and one assignment recused."""
    school_list = [SchoolFactory() for _ in range(schools)]
    round = make_round(schools=school_list)
    leader, affiliated, declared = (
        UserFactory(username=f"r{round.pk}-{name}", roles=[Role.EVALUATOR])
        for name in ("leader", "affiliated", "declared")
    )
    services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=leader, role=GroupRole.LEADER
    )
    services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=affiliated,
        affiliation="第一校教师",
        affiliated_school=school_list[0],
    )
    services.evaluation_group_member_add(round=round, actor=bureau_admin, user=declared)
    services.conflict_record(
        actor=bureau_admin, evaluator=declared, school=school_list[1], reason="其子女在该校就读"
    )
    services.assignment_create(
        round=round, actor=bureau_admin, school=school_list[0], evaluator=leader
    )
    recused = services.assignment_create(
        round=round, actor=bureau_admin, school=school_list[-1], evaluator=declared
    )
    services.assignment_recuse(assignment=recused, actor=bureau_admin, reason="本人申请回避")
    return round, school_list, [leader, affiliated, declared]


def cell_status(html: str, school: Any, user: Any) -> str:
    marker = f'data-school="{school.code}" data-evaluator="{user.username}" data-status="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_the_group_page_lists_members_and_adds_an_evaluator(admin_client, bureau_admin):
    round, schools, (leader, affiliated, _declared) = round_with_group(bureau_admin)
    newcomer = UserFactory(username="new-expert", roles=[Role.EVALUATOR])
    staff = StaffMembershipFactory(user__roles=[Role.SCHOOL_STAFF]).user
    url = reverse("rounds:group", args=(round.pk,))
    html = admin_client.get(url).content.decode()
    assert "第一校教师" in html
    assert schools[0].name_zh in html
    # the choice lists people with an evaluating role who are not members yet
    assert f'<option value="{newcomer.pk}">new-expert</option>' in html
    assert f">{staff.username}</option>" not in html
    assert f">{leader.username}</option>" not in html

    response = admin_client.post(
        url,
        {
            "user": newcomer.pk,
            "role": GroupRole.EVALUATOR,
            "affiliation": "  某职业技术学院  ",
            "affiliated_school": schools[2].pk,
        },
    )
    assert response["Location"] == url
    member = GroupMember.objects.get(group__round=round, user=newcomer)
    assert (member.role, member.affiliation, member.affiliated_school) == (
        GroupRole.EVALUATOR,
        "某职业技术学院",
        schools[2],
    )
    assert AuditEvent.objects.filter(action="group_member.add", round_id=round.pk).count() == 4


def test_a_second_leader_is_refused_with_the_services_message(admin_client, bureau_admin):
    round, _schools, _members = round_with_group(bureau_admin)
    newcomer = UserFactory(roles=[Role.GROUP_LEADER])
    response = admin_client.post(
        reverse("rounds:group", args=(round.pk,)),
        {"user": newcomer.pk, "role": GroupRole.LEADER, "affiliation": ""},
    )
    assert response.status_code == 200
    assert "The evaluation group already has a leader." in response.content.decode()
    assert not GroupMember.objects.filter(user=newcomer).exists()


def test_a_person_without_an_evaluating_role_cannot_join(admin_client, bureau_admin):
    round, _schools, _members = round_with_group(bureau_admin)
    staff = StaffMembershipFactory(user__roles=[Role.SCHOOL_STAFF]).user
    response = admin_client.post(
        reverse("rounds:group", args=(round.pk,)),
        {"user": staff.pk, "role": GroupRole.EVALUATOR},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not GroupMember.objects.filter(user=staff).exists()


def member_of(round: Round, user: Any) -> GroupMember:
    return GroupMember.objects.get(group__round=round, user=user)


def remove_url(member: GroupMember) -> str:
    return reverse("rounds:group_member_remove", args=(member.group.round_id, member.pk))


def test_each_member_has_a_remove_button_that_removes_them(admin_client, bureau_admin):
    round, _schools, (_leader, affiliated, _declared) = round_with_group(bureau_admin)
    url = reverse("rounds:group", args=(round.pk,))
    html = admin_client.get(url).content.decode()
    members = GroupMember.objects.filter(group__round=round)
    assert html.count('class="remove-member"') == members.count() == 3
    for member in members:
        assert f'action="{remove_url(member)}"' in html
    member = member_of(round, affiliated)

    response = admin_client.post(remove_url(member))

    assert response["Location"] == url
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{affiliated.username} was removed from the evaluation group."
    ]
    assert not GroupMember.objects.filter(pk=member.pk).exists()
    event = AuditEvent.objects.get(action="group_member.remove")
    assert (event.actor, event.object_id, event.round_id) == (
        bureau_admin,
        str(member.pk),
        round.pk,
    )
    assert event.before["affiliation"] == "第一校教师"
    html = admin_client.get(url).content.decode()
    assert f'data-username="{affiliated.username}"' not in html
    assert f'<option value="{affiliated.pk}">{affiliated.username}</option>' in html


def test_the_remove_button_posts_with_the_csrf_token(bureau_admin):
    round, _schools, (_leader, affiliated, _declared) = round_with_group(bureau_admin)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bureau_admin)
    html = client.get(reverse("rounds:group", args=(round.pk,))).content.decode()
    member = member_of(round, affiliated)
    form = html[html.index(f'action="{remove_url(member)}"') :]
    form = form[: form.index("</form>")]
    assert 'name="csrfmiddlewaretoken"' in form

    assert client.post(remove_url(member)).status_code == 403  # no token
    assert GroupMember.objects.filter(pk=member.pk).exists()


def test_a_refused_removal_is_shown_in_the_members_row_and_changes_nothing(
    admin_client, bureau_admin
):
    round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
    member = member_of(round, leader)
    before = (GroupMember.objects.count(), AuditEvent.objects.count())

    response = admin_client.post(remove_url(member))

    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index(f'<tr class="member-refusal" data-refused="{leader.username}">') :]
    row = row[: row.index("</tr>")]
    assert (
        f"{leader.username} is still assigned to {schools[0].name_zh} in this round; "
        "recuse those assignments first."
    ) in row
    assert html.count('class="member-refusal"') == 1
    assert 'class="stacked-form group-member-form"' in html  # the add form is still there
    assert (GroupMember.objects.count(), AuditEvent.objects.count()) == before


def test_the_group_can_no_longer_lose_members_from_consolidation_on(admin_client, bureau_admin):
    round, _schools, (_leader, affiliated, _declared) = round_with_group(bureau_admin)
    round_to_phase(round, RoundPhase.CONSOLIDATION)
    html = admin_client.get(reverse("rounds:group", args=(round.pk,))).content.decode()
    assert 'class="remove-member"' not in html
    assert "Members can leave the evaluation group only until expert scoring ends." in html

    member = member_of(round, affiliated)
    response = admin_client.post(remove_url(member))

    assert response.status_code == 200
    assert (
        "Members can leave the evaluation group only until expert scoring ends; "
        "the round is in the phase “Consolidation”."
    ) in response.content.decode()
    assert GroupMember.objects.filter(pk=member.pk).exists()


def test_a_group_without_its_leader_says_so_until_a_new_one_joins(admin_client, bureau_admin):
    round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
    url = reverse("rounds:group", args=(round.pk,))
    warning = "The evaluation group has no leader"
    assert warning not in admin_client.get(url).content.decode()
    assignment = Assignment.objects.get(round=round, evaluator=leader, school=schools[0])
    services.assignment_recuse(assignment=assignment, actor=bureau_admin, reason="调离")

    admin_client.post(remove_url(member_of(round, leader)))

    assert warning in admin_client.get(url).content.decode()
    successor = UserFactory(roles=[Role.GROUP_LEADER])
    admin_client.post(url, {"user": successor.pk, "role": GroupRole.LEADER})
    assert member_of(round, successor).role == GroupRole.LEADER
    assert warning not in admin_client.get(url).content.decode()


def test_the_assignment_matrix_shows_assigned_recused_conflict_and_free(admin_client, bureau_admin):
    round, schools, (leader, affiliated, declared) = round_with_group(bureau_admin)
    html = admin_client.get(reverse("rounds:assignments", args=(round.pk,))).content.decode()
    assert cell_status(html, schools[0], leader) == "assigned"
    assert cell_status(html, schools[0], affiliated) == "conflict"
    assert cell_status(html, schools[1], declared) == "conflict"
    assert cell_status(html, schools[2], declared) == "recused"
    assert cell_status(html, schools[1], leader) == "free"
    assert "the evaluator&#x27;s affiliation is this school (第一校教师)" in html
    assert "conflict of interest (Declared by the evaluator): 其子女在该校就读" in html
    assert "本人申请回避" in html


def test_a_free_pair_is_assigned(admin_client, bureau_admin):
    round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
    url = reverse("rounds:assignments", args=(round.pk,))
    response = admin_client.post(url, {"school": schools[1].pk, "evaluator": leader.pk})
    assert response["Location"] == url
    assignment = Assignment.objects.get(round=round, school=schools[1], evaluator=leader)
    assert assignment.status == AssignmentStatus.ACTIVE
    html = admin_client.get(url).content.decode()
    assert cell_status(html, schools[1], leader) == "assigned"


@pytest.mark.parametrize("who", ["affiliated", "declared"])
def test_a_conflicting_assignment_is_refused_with_the_reason_and_writes_nothing(
    admin_client, bureau_admin, who
):
    round, schools, (_leader, affiliated, declared) = round_with_group(bureau_admin)
    evaluator, school, reason = {
        "affiliated": (affiliated, schools[0], "the evaluator&#x27;s affiliation is this school"),
        "declared": (declared, schools[1], "conflict of interest (Declared by the evaluator)"),
    }[who]
    before = (Assignment.objects.count(), AuditEvent.objects.count())
    response = admin_client.post(
        reverse("rounds:assignments", args=(round.pk,)),
        {"school": school.pk, "evaluator": evaluator.pk},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{evaluator.username} cannot be assigned to {school.name_zh}: {reason}" in html
    assert (Assignment.objects.count(), AuditEvent.objects.count()) == before


def test_a_school_out_of_scope_or_a_stranger_is_not_a_choice(admin_client, bureau_admin):
    round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
    stranger = UserFactory(roles=[Role.EVALUATOR])
    url = reverse("rounds:assignments", args=(round.pk,))
    for data in (
        {"school": SchoolFactory().pk, "evaluator": leader.pk},
        {"school": schools[1].pk, "evaluator": stranger.pk},
    ):
        response = admin_client.post(url, data)
        assert "Select a valid choice" in response.content.decode()
    assert Assignment.objects.filter(round=round).count() == 2


def test_assignments_cannot_change_once_results_are_published(admin_client, bureau_admin):
    round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
    round_to_phase(round, RoundPhase.PUBLISHED)
    url = reverse("rounds:assignments", args=(round.pk,))
    html = admin_client.get(url).content.decode()
    assert 'class="assign"' not in html
    response = admin_client.post(url, {"school": schools[1].pk, "evaluator": leader.pk})
    assert "Assignments cannot change once results are published." in response.content.decode()
    assert not Assignment.objects.filter(round=round, school=schools[1]).exists()


def test_the_detail_page_links_the_group_and_assignments_for_the_admin_only(
    admin_client, bureau_admin
):
    round, _schools, _members = round_with_group(bureau_admin)
    links = (
        reverse("rounds:group", args=(round.pk,)),
        reverse("rounds:assignments", args=(round.pk,)),
    )
    html = admin_client.get(reverse("rounds:detail", args=(round.pk,))).content.decode()
    assert all(link in html for link in links)
    supervisor = signed_in(UserFactory(roles=[Role.SUPERVISOR]))
    html = supervisor.get(reverse("rounds:detail", args=(round.pk,))).content.decode()
    assert not any(link in html for link in links)


ROLES = ("anonymous", "admin", "supervisor", "leader", "evaluator", "staff")


def test_the_group_and_assignment_urls_answer_every_role_as_expected(bureau_admin):
    """URL × role: only the bureau admin; everybody else 403, anonymous people sign in."""
    round, schools, (leader, affiliated, declared) = round_with_group(bureau_admin)
    _other_round, _other_schools, (other_leader, _a, _d) = round_with_group(bureau_admin)
    users = {
        "admin": bureau_admin,
        "supervisor": UserFactory(roles=[Role.SUPERVISOR]),
        "leader": UserFactory(roles=[Role.GROUP_LEADER, Role.EVALUATOR]),
        "evaluator": declared,
        "staff": StaffMembershipFactory(school=schools[0], user__roles=[Role.SCHOOL_STAFF]).user,
    }
    login, page, action = 302, (302, 200, 403, 403, 403, 403), (302, 302, 403, 403, 403, 403)
    assign = {"school": schools[1].pk, "evaluator": leader.pk}
    add = {"user": users["leader"].pk, "role": GroupRole.EVALUATOR}
    group_url = reverse("rounds:group", args=(round.pk,))
    assignments_url = reverse("rounds:assignments", args=(round.pk,))

    def remove_url(round: Round, user: Any) -> str:
        member = GroupMember.objects.get(group__round=round, user=user)
        return reverse("rounds:group_member_remove", args=(round.pk, member.pk))

    table = [
        ("group page", "get", group_url, {}, page),
        ("group, invalid form", "post", group_url, {}, page),
        ("group, add a member", "post", group_url, add, action),
        ("group, remove a member", "post", remove_url(round, affiliated), {}, action),
        # the leader is assigned to a school: the refusal shows on the group page
        ("group, remove an assigned member", "post", remove_url(round, leader), {}, page),
        (
            "group, remove by GET",
            "get",
            remove_url(round, affiliated),
            {},
            (login, 405, 403, 403, 403, 403),
        ),
        (
            "group, remove a member of another round",
            "post",
            reverse(
                "rounds:group_member_remove",
                args=(round.pk, GroupMember.objects.get(user=other_leader).pk),
            ),
            {},
            (login, 404, 403, 403, 403, 403),
        ),
        (
            "group, remove from an unknown round",
            "post",
            reverse("rounds:group_member_remove", args=(999_999, 1)),
            {},
            (login, 404, 403, 403, 403, 403),
        ),
        ("assignments page", "get", assignments_url, {}, page),
        ("assignments, invalid form", "post", assignments_url, {}, page),
        ("assignments, assign", "post", assignments_url, assign, action),
        (
            "assignments, unknown round",
            "get",
            reverse("rounds:assignments", args=(999_999,)),
            {},
            (login, 404, 403, 403, 403, 403),
        ),
        (
            "group, unknown round",
            "get",
            reverse("rounds:group", args=(999_999,)),
            {},
            (login, 404, 403, 403, 403, 403),
        ),
    ]
    wrong = []
    for label, method, url, data, expected in table:
        for role, status in zip(ROLES, expected, strict=True):
            client = Client() if role == "anonymous" else signed_in(users[role])
            with transaction.atomic():  # each request's writes are rolled back
                response = getattr(client, method)(url, data)
                transaction.set_rollback(True)
            if response.status_code != status:
                wrong.append(f"{label} as {role}: {response.status_code}, expected {status}")
            elif role == "anonymous":
                assert response["Location"].startswith(reverse("site:login"))
    assert wrong == []


def test_the_assignments_page_runs_the_same_queries_for_3_and_9_schools(admin_client, bureau_admin):
    counts = []
    for size in (3, 9):
        round, _schools, _members = round_with_group(bureau_admin, schools=size)
        counts.append(queries(admin_client, reverse("rounds:assignments", args=(round.pk,))))
    assert counts[0] == counts[1]


def test_the_group_page_runs_the_same_queries_for_3_and_9_members(admin_client, bureau_admin):
    counts = []
    for size in (3, 9):
        round, _schools, _members = round_with_group(bureau_admin)
        for _ in range(size - 3):
            services.evaluation_group_member_add(
                round=round, actor=bureau_admin, user=UserFactory(roles=[Role.EVALUATOR])
            )
        counts.append(queries(admin_client, reverse("rounds:group", args=(round.pk,))))
    assert counts[0] == counts[1]


def test_a_refused_removal_runs_the_same_queries_for_3_and_9_members(admin_client, bureau_admin):
    counts = []
    for size in (3, 9):
        round, schools, (leader, _affiliated, _declared) = round_with_group(bureau_admin)
        for _ in range(size - 3):
            services.evaluation_group_member_add(
                round=round, actor=bureau_admin, user=UserFactory(roles=[Role.EVALUATOR])
            )
        url = remove_url(member_of(round, leader))
        admin_client.post(url)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.post(url)
        assert response.status_code == 200
        assert "recuse those assignments first" in response.content.decode()
        counts.append(len(captured))
    assert counts[0] == counts[1]
