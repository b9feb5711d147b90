import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from core.enums import Role
from rounds.enums import AssignmentStatus, FrameworkStatus, GroupRole, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, Framework, GroupMember, Round
from rounds.services import framework_validate
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, StaffMembership
from xm_eval.demo import (
    DEMO_PASSWORD,
    FRAMEWORK_NAME,
    ROUND_NAME,
    demo_phase_windows,
    demo_seed,
)

TODAY = dt.date(2026, 11, 26)
XIAMEN_DISTRICTS = {"思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区"}


@pytest.fixture
def summary(db):  # noqa: ANN001, ANN201
    return demo_seed(today=TODAY)


def row_counts() -> dict[str, int]:
    """Rows of every table of our apps and of users and groups, m2m tables included."""
    counts = {}
    for label in (
        "core",
        "schools",
        "rounds",
        "scoring",
        "publication",
        "rectification",
        "reports",
        "xm_eval",
        "auth",
    ):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            counts[model._meta.label] = model.objects.count()
    return counts


def test_schools_are_the_one_public_college_and_eight_sample_private_schools(summary):
    public = School.objects.get(kind=SchoolKind.PUBLIC_TECHNICIAN_COLLEGE)
    private = School.objects.filter(kind=SchoolKind.PRIVATE_TECHNICAL_SCHOOL)

    assert School.objects.count() == 9
    assert (public.name_zh, public.ranking_group, public.is_sample) == (
        "厦门技师学院",
        RankingGroup.PUBLIC,
        False,
    )
    assert private.count() == 8
    for school in private:
        assert school.is_sample is True
        assert school.ranking_group == RankingGroup.PRIVATE
        assert school.name_zh.endswith("（样例）")
        assert school.district in XIAMEN_DISTRICTS
        assert school.address.startswith(f"厦门市{school.district}")
        assert school.licence_number
    assert {school.district for school in private} == XIAMEN_DISTRICTS
    for school in School.objects.all():
        assert 2 <= school.specialties.count() <= 4


def test_framework_is_the_frozen_sample_tree(summary):
    framework = Framework.objects.get(name=FRAMEWORK_NAME)
    indicators = list(framework.indicators.all())
    leaves = [item for item in indicators if not any(i.parent_id == item.pk for i in indicators)]

    assert framework.status == FrameworkStatus.FROZEN
    assert framework.policy_title == "《厦门市民办技工学校办学质量评估办法》"
    assert (framework.valid_from, framework.valid_to) == (
        dt.date(2025, 1, 1),
        dt.date(2029, 12, 31),
    )
    assert framework.total_points == Decimal(100)
    assert [sum(1 for i in indicators if i.level == level) for level in (1, 2, 3)] == [4, 14, 40]
    assert len(leaves) == 40
    assert sum(leaf.max_points for leaf in leaves) == Decimal(100)
    assert sorted(item.code for item in indicators if item.is_veto) == ["A1.1", "A3.1", "A4.1"]
    assert all(item.tags for item in indicators if item.level >= 2)
    assert framework_validate(framework=framework) == []


def test_round_is_open_for_self_assessment_over_all_schools(summary):
    round = Round.objects.get(name=ROUND_NAME)
    framework = round.framework
    windows = {window.phase: window for window in round.phase_windows.all()}

    assert round.phase == RoundPhase.SELF_ASSESSMENT
    assert (round.cycle_start, round.cycle_end) == (2025, 2027)
    assert round.consolidation_method == "trimmed_mean"
    assert round.schools.count() == 9
    assert set(windows) == set(RoundPhase.values) - {RoundPhase.DRAFT}
    for window in windows.values():
        assert framework.valid_from <= window.starts_on <= window.ends_on <= framework.valid_to
    self_assessment = windows[RoundPhase.SELF_ASSESSMENT]
    assert self_assessment.starts_on <= TODAY <= self_assessment.ends_on


def test_phase_windows_follow_each_other_and_fall_back_far_from_the_cycle():
    near = demo_phase_windows(TODAY)
    far = demo_phase_windows(dt.date(2031, 5, 1))

    ordered = [near[phase] for phase in RoundPhase.values if phase != RoundPhase.DRAFT]
    for (_, end), (start, _) in itertools.pairwise(ordered):
        assert start == end + dt.timedelta(days=1)
    assert near[RoundPhase.PUBLIC_NOTICE][1] - near[RoundPhase.PUBLIC_NOTICE][0] == dt.timedelta(6)
    assert near[RoundPhase.CLOSED][1] == dt.date(2027, 12, 31)
    assert far[RoundPhase.SELF_ASSESSMENT] == (dt.date(2025, 3, 1), dt.date(2025, 4, 30))


def test_evaluation_group_has_seven_members_and_one_leader(summary):
    members = GroupMember.objects.filter(group__round__name=ROUND_NAME)
    leaders = members.filter(role=GroupRole.LEADER)

    assert members.count() == 7
    assert [member.user.username for member in leaders] == ["expert1"]
    assert leaders.get().user.groups.filter(name=Role.GROUP_LEADER).exists()
    assert members.exclude(affiliated_school=None).count() == 1


def test_assignments_respect_conflicts_and_keep_five_evaluators(summary):
    round = Round.objects.get(name=ROUND_NAME)
    active = Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE)
    recused = Assignment.objects.filter(round=round, status=AssignmentStatus.RECUSED)
    conflicts = set(ConflictOfInterest.objects.values_list("evaluator_id", "school_id"))
    affiliations = set(
        GroupMember.objects.filter(group__round=round)
        .exclude(affiliated_school=None)
        .values_list("user_id", "affiliated_school_id")
    )

    assert recused.count() >= 1
    assert all(assignment.recusal_reason for assignment in recused)
    assert set(recused.values_list("evaluator_id", "school_id")) <= conflicts
    active_pairs = set(active.values_list("evaluator_id", "school_id"))
    assert active_pairs.isdisjoint(conflicts)
    assert active_pairs.isdisjoint(affiliations)
    all_pairs = set(Assignment.objects.values_list("evaluator_id", "school_id"))
    assert all_pairs.isdisjoint(affiliations)
    for school in round.schools.all():
        assert active.filter(school=school).count() == 5


def test_every_role_has_its_demo_users(summary):
    users = get_user_model().objects
    by_role = {role: users.filter(groups__name=role).count() for role in Role.values}

    assert by_role == {
        Role.BUREAU_ADMIN: 1,
        Role.SUPERVISOR: 1,
        Role.GROUP_LEADER: 1,
        Role.EVALUATOR: 7,
        Role.SCHOOL_STAFF: 9,
    }
    admin = users.get(username="admin_demo")
    assert admin.is_staff is True
    assert admin.is_superuser is False
    assert admin.check_password(DEMO_PASSWORD)
    assert users.get(username="supervisor_demo").is_staff is True
    for index in range(1, 10):
        membership = StaffMembership.objects.get(user__username=f"school{index:02d}")
        assert membership.school.code == f"XM-{index:02d}"


def test_seeding_twice_changes_no_table(summary):
    before = row_counts()

    again = demo_seed(today=TODAY + dt.timedelta(days=3))

    assert row_counts() == before
    assert again.created == 0
    assert summary.created > 0
    assert (again.active_assignments, again.recused_assignments) == (
        summary.active_assignments,
        summary.recused_assignments,
    )
    assert before["core.AuditEvent"] > 0
    assert before["auth.Group"] == len(Role.values) == Group.objects.count()


def test_command_prints_accounts_urls_and_summary(db):
    out = io.StringIO()

    call_command("seed_demo", "--allow-without-debug", stdout=out)

    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert "http://127.0.0.1:8000/" in text
    assert "http://127.0.0.1:8000/admin/" in text
    for username in ("admin_demo", "supervisor_demo", "expert1", "expert7", "school09"):
        assert username in text
    assert "9 schools" in text


def test_command_refuses_without_debug(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=io.StringIO())

    assert School.objects.count() == 0
