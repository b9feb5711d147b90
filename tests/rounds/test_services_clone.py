"""Cloning the previous cycle's round: framework, schools, group, dates three years on."""

import datetime as dt
from decimal import Decimal

import pytest

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rounds import clone_services, services
from rounds.enums import ConsolidationMethod, GroupRole, RoundPhase
from rounds.models import EvaluationGroup, GroupMember, PhaseWindow, Round
from tests.factories import SchoolFactory, UserFactory, small_tree

pytestmark = pytest.mark.django_db


def long_framework(name: str = "长期指标体系", valid_to: dt.date = dt.date(2034, 12, 31)):  # noqa: ANN201
    return services.framework_create(
        actor=None,
        name=name,
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=valid_to,
        indicators=small_tree(),
    )


@pytest.fixture
def source(bureau_admin):
    schools = [SchoolFactory(), SchoolFactory(), SchoolFactory()]
    round = services.round_create(
        actor=bureau_admin,
        framework=long_framework(),
        name="2025–2027 年度办学质量评估",
        cycle_start=2025,
        cycle_end=2027,
        schools=schools,
        consolidation_method=ConsolidationMethod.MEDIAN,
        phase_windows={
            RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 4, 30)),
            # 29 February of a leap year has no day three years later
            RoundPhase.EXPERT_SCORING: (dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        },
    )
    Round.objects.filter(pk=round.pk).update(
        peer_scores_visible=True, spread_threshold=Decimal("0.25"), tie_break_by_dimension=True
    )
    leader = UserFactory(roles=[Role.GROUP_LEADER, Role.EVALUATOR])
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=leader,
        role=GroupRole.LEADER,
        group_name="2025–2027 年度评估工作组",
    )
    services.evaluation_group_member_add(
        round=round,
        actor=bureau_admin,
        user=evaluator,
        affiliation="原任职学校",
        affiliated_school=schools[0],
    )
    services.assignment_create(
        round=round, actor=bureau_admin, school=schools[1], evaluator=evaluator
    )
    round.refresh_from_db()
    return round


def test_clone_copies_framework_schools_group_settings_and_shifts_dates(source, bureau_admin):
    clone = clone_services.round_clone(
        round=source, actor=bureau_admin, name="2028–2030 年度办学质量评估"
    )

    assert (clone.cycle_start, clone.cycle_end) == (2028, 2030)
    assert clone.phase == RoundPhase.DRAFT
    assert clone.framework_id == source.framework_id
    assert clone.consolidation_method == ConsolidationMethod.MEDIAN
    assert (clone.peer_scores_visible, clone.spread_threshold, clone.tie_break_by_dimension) == (
        True,
        Decimal("0.25"),
        True,
    )
    assert set(clone.schools.values_list("pk", flat=True)) == set(
        source.schools.values_list("pk", flat=True)
    )
    windows = {w.phase: (w.starts_on, w.ends_on) for w in PhaseWindow.objects.filter(round=clone)}
    assert windows == {
        RoundPhase.SELF_ASSESSMENT: (dt.date(2028, 3, 1), dt.date(2028, 4, 30)),
        RoundPhase.EXPERT_SCORING: (dt.date(2031, 2, 1), dt.date(2031, 2, 28)),
    }
    group = EvaluationGroup.objects.get(round=clone)
    assert group.name == "2028–2030 年度评估工作组"
    members = {
        (m.user_id, m.role, m.affiliation, m.affiliated_school_id)
        for m in GroupMember.objects.filter(group=group)
    }
    assert members == {
        (m.user_id, m.role, m.affiliation, m.affiliated_school_id)
        for m in GroupMember.objects.filter(group__round=source)
    }
    # assignments belong to their cycle
    assert not clone.assignments.exists()
    event = AuditEvent.objects.get(action="round.clone")
    assert event.round_id == clone.pk
    assert event.before == {"source_round": source.pk, "source_name": source.name}


def test_clone_with_a_newer_framework_version(source, bureau_admin):
    newer = long_framework(name="长期指标体系（第二版）")
    clone = clone_services.round_clone(
        round=source, actor=bureau_admin, name="下一轮", framework=newer
    )
    assert clone.framework_id == newer.pk


def test_clone_outside_the_framework_validity_writes_nothing(bureau_admin):
    framework = long_framework(name="短期指标体系", valid_to=dt.date(2029, 12, 31))
    round = services.round_create(
        actor=bureau_admin,
        framework=framework,
        name="本轮",
        cycle_start=2025,
        cycle_end=2027,
        schools=[SchoolFactory()],
    )
    services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=UserFactory(roles=[Role.EVALUATOR])
    )
    rounds, members, events = (
        Round.objects.count(),
        GroupMember.objects.count(),
        (AuditEvent.objects.count()),
    )
    with pytest.raises(DomainError) as raised:
        clone_services.round_clone(round=round, actor=bureau_admin, name="下一轮")
    assert raised.value.code == "outside_validity"
    assert (Round.objects.count(), GroupMember.objects.count(), AuditEvent.objects.count()) == (
        rounds,
        members,
        events,
    )


def test_clone_refuses_a_duplicate_name(source, bureau_admin):
    with pytest.raises(DomainError) as raised:
        clone_services.round_clone(round=source, actor=bureau_admin, name=source.name)
    assert raised.value.code == "duplicate"


def test_cycle_shifted_text_moves_the_years_in_names(source):
    assert (
        clone_services.round_cycle_shifted_text(round=source, text="2025-2027 年度（复评）")
        == "2028-2030 年度（复评）"
    )
    assert clone_services.round_cycle_shifted_text(round=source, text="无年份") == "无年份"
