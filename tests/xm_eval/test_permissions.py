"""Role predicates allow and deny as the design says."""

import pytest

from core import permissions as p
from core.enums import Role
from rounds import services
from rounds.enums import GroupRole, RoundPhase
from rounds.permissions import can_edit_self_assessment, can_upload_evidence, can_view_evidence
from schools.permissions import can_view_school_internals
from scoring.models import ResultSet
from scoring.permissions import (
    can_give_audit_score,
    can_give_consensus_score,
    can_score_school,
    can_view_peer_scores,
    can_view_results,
)
from supervision.permissions import can_view_audit_trail
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(bureau_admin):
    own, other = SchoolFactory(), SchoolFactory()
    round = make_round(schools=[own, other], actor=bureau_admin)
    users = {
        "admin": bureau_admin,
        "supervisor": UserFactory(roles=[Role.SUPERVISOR]),
        "leader": UserFactory(roles=[Role.GROUP_LEADER, Role.EVALUATOR]),
        "evaluator": UserFactory(roles=[Role.EVALUATOR]),
        "recused": UserFactory(roles=[Role.EVALUATOR]),
        "staff": StaffMembershipFactory(school=own, user__roles=[Role.SCHOOL_STAFF]).user,
        "nobody": UserFactory(),
    }
    services.evaluation_group_member_add(
        round=round, actor=bureau_admin, user=users["leader"], role=GroupRole.LEADER
    )
    for name in ("evaluator", "recused"):
        services.evaluation_group_member_add(round=round, actor=bureau_admin, user=users[name])
        services.assignment_create(
            round=round, actor=bureau_admin, school=own, evaluator=users[name]
        )
    services.conflict_record(
        actor=users["recused"], evaluator=users["recused"], school=own, reason="前雇主"
    )
    return round, own, other, users


def fresh(user):  # noqa: ANN001, ANN201 - predicates cache roles on the instance
    return type(user).objects.get(pk=user.pk)


def set_phase(round, phase):  # noqa: ANN001, ANN201
    round.phase = phase
    round.save(update_fields=["phase"])
    return round


def test_school_staff_see_only_their_own_school(world):
    _round, own, other, users = world
    staff = fresh(users["staff"])
    assert can_view_school_internals(staff, own)
    assert not can_view_school_internals(staff, other)
    for name in ("admin", "supervisor"):
        assert can_view_school_internals(fresh(users[name]), other)
    for name in ("evaluator", "nobody"):
        assert not can_view_school_internals(fresh(users[name]), own)


def test_self_assessment_only_by_own_staff_in_its_phase(world):
    round, own, other, users = world
    set_phase(round, RoundPhase.SELF_ASSESSMENT)
    staff = fresh(users["staff"])
    assert can_edit_self_assessment(staff, round, own)
    assert can_upload_evidence(staff, round, own)
    assert not can_edit_self_assessment(staff, round, other)
    assert not can_edit_self_assessment(fresh(users["admin"]), round, own)
    set_phase(round, RoundPhase.EXPERT_SCORING)
    assert not can_edit_self_assessment(fresh(users["staff"]), round, own)


def test_evaluators_score_only_active_assignments_in_the_scoring_phase(world):
    round, own, other, users = world
    set_phase(round, RoundPhase.SELF_ASSESSMENT)
    assert not can_score_school(fresh(users["evaluator"]), round, own)
    set_phase(round, RoundPhase.EXPERT_SCORING)
    assert can_score_school(fresh(users["evaluator"]), round, own)
    assert not can_score_school(fresh(users["evaluator"]), round, other)
    assert not can_score_school(fresh(users["recused"]), round, own)
    assert not can_score_school(fresh(users["staff"]), round, own)
    assert not can_score_school(fresh(users["supervisor"]), round, own)


def test_evidence_visible_to_own_staff_assigned_evaluators_and_bureau(world):
    round, own, other, users = world
    assert can_view_evidence(fresh(users["evaluator"]), round, own)
    assert not can_view_evidence(fresh(users["evaluator"]), round, other)
    assert not can_view_evidence(fresh(users["recused"]), round, own)
    assert can_view_evidence(fresh(users["staff"]), round, own)
    assert not can_view_evidence(fresh(users["staff"]), round, other)
    assert can_view_evidence(fresh(users["supervisor"]), round, other)


def test_peer_scores_hidden_until_the_phase_allows(world):
    round, _own, _other, users = world
    set_phase(round, RoundPhase.EXPERT_SCORING)
    round.peer_scores_visible = True
    assert not can_view_peer_scores(fresh(users["evaluator"]), round)
    set_phase(round, RoundPhase.CONSOLIDATION)
    assert can_view_peer_scores(fresh(users["evaluator"]), round)
    round.peer_scores_visible = False
    assert not can_view_peer_scores(fresh(users["evaluator"]), round)
    assert can_view_peer_scores(fresh(users["supervisor"]), round)


def test_consensus_by_the_leader_and_audit_by_the_bureau_in_consolidation(world):
    round, _own, _other, users = world
    set_phase(round, RoundPhase.CONSOLIDATION)
    assert can_give_consensus_score(fresh(users["leader"]), round)
    assert not can_give_consensus_score(fresh(users["evaluator"]), round)
    assert can_give_audit_score(fresh(users["admin"]), round)
    assert not can_give_audit_score(fresh(users["supervisor"]), round)
    set_phase(round, RoundPhase.EXPERT_SCORING)
    assert not can_give_consensus_score(fresh(users["leader"]), round)


def test_unpublished_results_only_for_bureau_roles(world):
    round, _own, _other, users = world
    draft = ResultSet(round=round, version=1, is_published=False)
    published = ResultSet(round=round, version=2, is_published=True)
    from django.contrib.auth.models import AnonymousUser

    for name in ("admin", "supervisor"):
        assert can_view_results(fresh(users[name]), draft)
    for user in (fresh(users["staff"]), fresh(users["evaluator"]), AnonymousUser()):
        assert not can_view_results(user, draft)
        assert can_view_results(user, published)


def test_audit_trail_only_for_supervisors_and_bureau(world):
    _round, _own, _other, users = world
    assert can_view_audit_trail(fresh(users["supervisor"]))
    assert can_view_audit_trail(fresh(users["admin"]))
    for name in ("leader", "evaluator", "staff", "nobody"):
        assert not can_view_audit_trail(fresh(users[name]))


def test_inactive_users_have_no_role(world):
    _round, _own, _other, users = world
    admin = fresh(users["admin"])
    admin.is_active = False
    assert not p.is_bureau_admin(admin)
