"""A small world for the REST API tests: one user per role, a published round, a round
in expert scoring with sheets, a draft round, self-assessments and evidence.

``school`` (A) is the school-staff user's own school and the evaluator's and group
leader's assigned school; ``other_school`` (B) belongs to nobody in particular.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from core.enums import Role
from rounds.enums import RoundPhase
from rounds.models import Assignment, Evidence, Framework, Round
from rounds.selectors import framework_leaves
from schools.models import School, StaffMembership
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import ResultSet, ScoreSheet, SelfAssessment, SelfScore
from tests.factories import make_round, role_user, round_to_phase
from tests.factories.publication import publish_after_notice
from tests.factories.rounds import assign, evidence_row
from tests.factories.scoring import computed, scored_round

ROLES = ("anonymous", "bureau_admin", "supervisor", "group_leader", "evaluator", "school_staff")


@pytest.fixture(autouse=True)
def _api_settings(settings):  # noqa: ANN001, ANN202
    # Throttling has its own test; elsewhere it would only get in the way (the
    # counters live in the shared cache, Redis in CI).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


@dataclass
class World:
    users: dict[str, Any]
    tokens: dict[str, str]
    framework: Framework
    school: School  # A: the staff user's school; evaluator and leader assigned to it
    other_school: School  # B
    published: Round  # v1 published after its public notice; v2 computed, unpublished
    published_v1: ResultSet
    unpublished_v2: ResultSet
    scoring: Round  # expert scoring
    draft: Round
    sheet: ScoreSheet  # the evaluator's draft sheet for A in ``scoring``, complete
    leader_sheet: ScoreSheet  # the group leader's empty draft sheet for A
    assignment: Assignment  # evaluator → A in ``scoring``
    self_assessment: SelfAssessment  # A's, submitted
    other_self_assessment: SelfAssessment  # B's
    evidence: Evidence  # A's
    other_evidence: Evidence  # B's
    leaves: list = field(default_factory=list)

    def client(self, role: str) -> Client:
        if role == "anonymous":
            return Client()
        return Client(headers={"Authorization": f"Token {self.tokens[role]}"})


def _fill_sheet(sheet: ScoreSheet, actor: Any, leaves: list) -> None:
    for leaf in leaves:
        services.score_set(sheet=sheet, actor=actor, indicator=leaf.code, points=leaf.max_points)


def build_world(bureau_admin: Any) -> World:
    users = {
        "anonymous": None,
        "bureau_admin": bureau_admin,
        "supervisor": role_user(Role.SUPERVISOR, "supervisor"),
        "group_leader": role_user(Role.GROUP_LEADER, "leader"),
        "evaluator": role_user(Role.EVALUATOR, "evaluator"),
        "school_staff": role_user(Role.SCHOOL_STAFF, "staff"),
    }
    tokens = {role: Token.objects.create(user=user).key for role, user in users.items() if user}

    # scored_round leaves the draft through the service, which freezes the framework.
    published = scored_round(schools=2, evaluators=2, actor=bureau_admin)
    framework = published.framework
    school, other_school = list(published.schools.order_by("code"))
    StaffMembership.objects.create(user=users["school_staff"], school=school)

    v1 = computed(published, bureau_admin)
    publish_after_notice(v1, actor=bureau_admin)
    published.refresh_from_db()
    v2 = computed(published, bureau_admin)
    v1.refresh_from_db()

    scoring = round_to_phase(
        make_round(framework=framework, schools=[school, other_school]),
        RoundPhase.EXPERT_SCORING,
        actor=bureau_admin,
    )
    assignment = assign(scoring, school, users["evaluator"])
    assign(scoring, other_school, users["evaluator"])
    assign(scoring, school, users["group_leader"])
    leaves = list(framework_leaves(framework=framework))
    sheet = services.score_sheet_open(round=scoring, school=school, actor=users["evaluator"])
    _fill_sheet(sheet, users["evaluator"], leaves)
    leader_sheet = services.score_sheet_open(
        round=scoring, school=school, actor=users["group_leader"]
    )

    draft = make_round(framework=framework, schools=[school])

    from django.utils import timezone

    self_assessments = []
    for each in (school, other_school):
        assessment = SelfAssessment.objects.create(
            round=scoring,
            school=each,
            status=SheetStatus.SUBMITTED,
            submitted_at=timezone.now(),
            submitted_by=users["school_staff"],
        )
        SelfScore.objects.bulk_create(
            SelfScore(
                self_assessment=assessment,
                indicator=leaf,
                points=leaf.max_points - Decimal("0.5"),
                max_points=leaf.max_points,
            )
            for leaf in leaves
        )
        self_assessments.append(assessment)

    evidence = evidence_row(
        round=scoring, school=school, indicator=leaves[0], user=users["school_staff"], name="a.pdf"
    )
    other_evidence = evidence_row(
        round=scoring, school=other_school, indicator=leaves[0], user=bureau_admin, name="b.pdf"
    )
    return World(
        users=users,
        tokens=tokens,
        framework=framework,
        school=school,
        other_school=other_school,
        published=published,
        published_v1=v1,
        unpublished_v2=v2,
        scoring=scoring,
        draft=draft,
        sheet=sheet,
        leader_sheet=leader_sheet,
        assignment=assignment,
        self_assessment=self_assessments[0],
        other_self_assessment=self_assessments[1],
        evidence=evidence,
        other_evidence=other_evidence,
        leaves=leaves,
    )


@pytest.fixture
def world(bureau_admin) -> World:  # noqa: ANN001
    return build_world(bureau_admin)
