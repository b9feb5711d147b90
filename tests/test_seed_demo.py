import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from core.errors import DomainError
from incentives.selectors import incentive_candidates, incentive_result_sets
from publication.history_selectors import school_history_rows
from publication.models import NoticePeriod
from publication.services import notice_open
from rectification.enums import RectificationItemKind, RectificationStatus
from rectification.models import Rectification
from rounds.enums import AssignmentStatus, FrameworkStatus, Grade, GroupRole, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, Framework, GroupMember, Round
from rounds.services import framework_validate
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, StaffMembership
from scoring.enums import SheetStatus
from scoring.models import ResultRow, ResultSet, ScoreSheet, SelfAssessment
from xm_eval.demo import (
    DEMO_PASSWORD,
    FRAMEWORK_NAME,
    ROUND_NAME,
    demo_phase_windows,
    demo_seed,
)
from xm_eval.demo_previous import (
    PREVIOUS_FRAMEWORK_NAME,
    PREVIOUS_NOTICE_STARTS_AT,
    PREVIOUS_ROUND_NAME,
)

TODAY = dt.date(2026, 11, 26)
XIAMEN_DISTRICTS = {"思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区"}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # noqa: ANN001, ANN202
    # The previous cycle's rectification report stores its evidence files.
    settings.MEDIA_ROOT = tmp_path / "media"


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
        "incentives",
        "reports",
        "supervision",
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
    # The previous cycle is among the tables compared, from scores to rectification.
    for label in (
        "scoring.SelfScore",
        "scoring.Score",
        "scoring.ResultSet",
        "scoring.ResultRow",
        "publication.NoticePeriod",
        "rectification.Rectification",
        "rectification.RectificationItem",
    ):
        assert before[label] > 0, label
    assert again.previous_phase == summary.previous_phase


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


# ------------------------------------------------------------ the previous cycle


def previous_round() -> Round:
    return Round.objects.select_related("framework").get(name=PREVIOUS_ROUND_NAME)


def published_set(round: Round) -> ResultSet:
    return ResultSet.objects.get(round=round, is_published=True)


def test_previous_round_is_a_closed_2022_2024_sample_on_a_predecessor_framework(summary):
    round = previous_round()
    framework = round.framework
    current = Framework.objects.get(name=FRAMEWORK_NAME)
    windows = {window.phase: window for window in round.phase_windows.all()}

    assert round.phase == RoundPhase.CLOSED
    assert (round.cycle_start, round.cycle_end) == (2022, 2024)
    assert round.name.endswith("（样例）")
    assert round.schools.count() == 9
    assert framework.name == PREVIOUS_FRAMEWORK_NAME
    assert framework.name.endswith("（2022，样例）")
    assert framework.status == FrameworkStatus.FROZEN
    assert (framework.valid_from, framework.valid_to) == (
        dt.date(2022, 1, 1),
        dt.date(2024, 12, 31),
    )
    # The same lineage (policy) and the same indicator table as today's framework.
    assert framework.policy_title == current.policy_title
    assert sorted(framework.indicators.values_list("code", "max_points", "is_veto")) == sorted(
        current.indicators.values_list("code", "max_points", "is_veto")
    )
    assert set(windows) == set(RoundPhase.values) - {RoundPhase.DRAFT}
    for window in windows.values():
        assert framework.valid_from <= window.starts_on <= window.ends_on <= framework.valid_to
        assert window.ends_on < dt.date(2025, 1, 1)
    assert GroupMember.objects.filter(group__round=round).count() == 7
    assert summary.previous_round == PREVIOUS_ROUND_NAME


def test_previous_round_was_self_assessed_and_scored_by_five_evaluators_a_school(summary):
    round = previous_round()
    active = Assignment.objects.filter(round=round, status=AssignmentStatus.ACTIVE)
    conflicts = set(ConflictOfInterest.objects.values_list("evaluator_id", "school_id"))
    sheets = ScoreSheet.objects.filter(round=round)

    assert SelfAssessment.objects.filter(round=round, status=SheetStatus.SUBMITTED).count() == 9
    for school in round.schools.all():
        assert active.filter(school=school).count() == 5
    assert set(active.values_list("evaluator_id", "school_id")).isdisjoint(conflicts)
    assert not Assignment.objects.filter(
        round=round, evaluator__username="expert6", school__code="XM-02"
    ).exists()
    assert sheets.count() == active.count() == 45
    assert set(sheets.values_list("status", flat=True)) == {SheetStatus.SUBMITTED}
    for sheet in sheets:
        assert sheet.scores.count() == 40
        assert all(
            score.deduction_reason
            for score in sheet.scores.all()
            if score.points < score.max_points
        )


def test_previous_round_is_published_with_varied_grades_and_one_unqualified_school(summary):
    round = previous_round()
    result_set = published_set(round)
    rows = list(ResultRow.objects.filter(result_set=result_set).select_related("school"))
    grades = [row.grade for row in rows]
    unqualified = [row for row in rows if row.grade == Grade.UNQUALIFIED]

    assert ResultSet.objects.filter(round=round).count() == 1
    assert result_set.version == 1
    assert len(rows) == 9
    assert all(row.is_complete for row in rows)
    assert {Grade.EXCELLENT, Grade.GOOD, Grade.QUALIFIED, Grade.UNQUALIFIED} == set(grades)
    assert [(row.school.code, row.veto_failed) for row in unqualified] == [("XM-06", ["A4.1"])]
    # A failed veto ranks the school after every other one, whatever its total.
    assert unqualified[0].rank == 9
    assert unqualified[0].total >= min(row.total for row in rows if row.grade == Grade.QUALIFIED)
    assert summary.previous_version == 1
    assert sum(count for _grade, count in summary.previous_grades) == 9


def test_previous_round_went_through_a_seven_day_notice_in_july_2022(summary):
    round = previous_round()
    notice = NoticePeriod.objects.get(result_set__round=round)
    result_set = published_set(round)

    assert notice.result_set_id == result_set.pk
    assert notice.starts_at == PREVIOUS_NOTICE_STARTS_AT
    assert timezone.localtime(notice.starts_at).date() == dt.date(2022, 7, 1)
    assert notice.ends_at - notice.starts_at == dt.timedelta(days=7)
    assert notice.objections.count() == 0
    # Recorded when seeded, after the notice it records had ended.
    assert notice.ends_at < notice.opened_at <= result_set.published_at


def test_notice_cannot_start_in_the_future(summary):
    round = Round.objects.get(name=ROUND_NAME)
    admin = get_user_model().objects.get(username="admin_demo")
    Round.objects.filter(pk=round.pk).update(phase=RoundPhase.CONSOLIDATION)
    result_set = ResultSet.objects.create(round=round, version=1)

    with pytest.raises(DomainError) as refused:
        notice_open(
            result_set=result_set,
            actor=admin,
            starts_at=timezone.now() + dt.timedelta(hours=1),
        )

    assert refused.value.code == "invalid"
    assert not NoticePeriod.objects.filter(result_set=result_set).exists()


def test_the_unqualified_school_rectified_and_passed_its_recheck(summary):
    round = previous_round()
    rectification = Rectification.objects.get(round=round)
    items = list(rectification.items.all())

    assert rectification.school.code == "XM-06"
    assert rectification.status == RectificationStatus.PASSED
    assert rectification.result_set_id == published_set(round).pk
    assert (rectification.attempts, rectification.failures) == (1, 0)
    assert rectification.submitted_by.username == "school06"
    assert rectification.rechecked_by.username == "expert1"
    assert rectification.recheck_comment
    assert items[0].code == "A4.1"
    assert items[0].kind == RectificationItemKind.VETO_FAILED
    for item in items:
        assert item.report
        assert item.evidence_name.endswith(".xlsx")
        assert item.evidence_sha256
        assert item.recheck_passed is True
        assert item.recheck_points >= item.pass_mark
    assert summary.rectifications_passed == 1


def test_history_of_a_school_shows_the_previous_round(summary, client):
    school = School.objects.get(code="XM-01")
    current = Round.objects.get(name=ROUND_NAME)

    rows = school_history_rows(school=school)
    page = client.get(reverse("history:school", args=[school.pk]))

    # Today's round is in self-assessment, so the trend has one published point so far.
    assert not ResultSet.objects.filter(round=current, is_published=True).exists()
    assert [row.result_set.round.name for row in rows] == [PREVIOUS_ROUND_NAME]
    assert rows[0].schools_ranked == 9
    assert page.status_code == 200
    assert PREVIOUS_ROUND_NAME in page.content.decode()


def test_api_rankings_of_the_previous_round_list_nine_schools(summary, client):
    round = previous_round()

    response = client.get(reverse("api:round-rankings", args=[round.pk]), {"page_size": 100})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 9
    assert [row["rank"] for row in body["results"]] == sorted(
        row["rank"] for row in body["results"]
    )
    assert body["results"][-1]["school_code"] == "XM-06"


def test_incentives_have_the_previous_results_to_work_on(summary, client):
    result_set = published_set(previous_round())
    admin = get_user_model().objects.get(username="admin_demo")
    client.force_login(admin)

    page = client.get(reverse("incentives:page", args=[result_set.pk]))

    assert [item.pk for item in incentive_result_sets()] == [result_set.pk]
    assert len(incentive_candidates(result_set=result_set)) == 9
    assert page.status_code == 200
