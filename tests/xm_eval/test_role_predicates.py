"""The named predicates that replaced role tests in views and selectors: who each one lets in."""

import pytest

from core.enums import Role
from core.permissions import roles_held
from rectification.permissions import (
    can_view_every_rectification,
    can_view_led_rounds_rectifications,
)
from reports.permissions import can_download_every_report
from rounds.permissions import (
    can_fill_self_assessment,
    can_lead_evaluation_groups,
    can_score,
    can_view_every_assignment,
    can_view_every_evidence,
)
from supervision.permissions import can_supervise_evaluation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BUREAU_ROLES = {Role.BUREAU_ADMIN, Role.SUPERVISOR}

# predicate: the roles it lets in
LETS_IN = {
    can_score: {Role.EVALUATOR, Role.GROUP_LEADER},
    can_lead_evaluation_groups: {Role.GROUP_LEADER},
    can_fill_self_assessment: {Role.SCHOOL_STAFF},
    can_view_every_assignment: BUREAU_ROLES,
    can_view_every_evidence: BUREAU_ROLES,
    can_view_every_rectification: BUREAU_ROLES,
    can_view_led_rounds_rectifications: {Role.GROUP_LEADER},
    can_download_every_report: BUREAU_ROLES,
    can_supervise_evaluation: {Role.SUPERVISOR},
}


@pytest.mark.parametrize("predicate", list(LETS_IN), ids=lambda predicate: predicate.__name__)
def test_each_predicate_lets_in_its_roles_only(predicate):
    admitted = {role for role in Role if predicate(UserFactory(roles=[role]))}
    assert admitted == LETS_IN[predicate]


@pytest.mark.parametrize("predicate", list(LETS_IN), ids=lambda predicate: predicate.__name__)
def test_nobody_without_a_role_or_inactive_is_let_in(predicate):
    assert predicate(UserFactory(roles=[])) is False
    assert predicate(UserFactory(roles=list(Role), is_active=False)) is False


def test_roles_held_in_the_order_of_the_roles():
    user = UserFactory(roles=[Role.SCHOOL_STAFF, Role.BUREAU_ADMIN])
    assert roles_held(user) == [Role.BUREAU_ADMIN, Role.SCHOOL_STAFF]
