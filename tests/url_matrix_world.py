"""One world for the site-wide role × URL × method matrix (``tests/test_url_matrix.py``).

Schools A and B; one round per phase a URL needs, all on one framework and with one
evaluation group each (the group leader leads it; the evaluator and the recused
evaluator are members); eight identities:

- ``bureau_admin``, ``supervisor``: by role alone;
- ``group_leader``: leads every round's group, assigned to A and B;
- ``evaluator``: assigned to A in every round;
- ``school_staff``: works for A; ``other_school_staff``: works for B;
- ``recused_evaluator``: was assigned to A and began A's sheet in the scoring round, then
  declared a conflict of interest with A, which recused the assignments
  (``rounds.services.conflict_record``).

The rounds: ``self_round`` in self-assessment (A's evidence and self scores),
``scoring_round`` in expert scoring (the evaluator's draft sheet for A),
``consolidation_round`` (scored, v1 computed, not published), ``noticed_round`` under
public notice (an objection about A) and ``published_round`` (published; A failed its
veto item, so A has a rectification, reported with evidence; report artifacts, a render
job, the group's opinions).

Every project model and service this module and the matrix use is imported here, at the
top, so a move of the apps touches this block only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.authtoken.models import Token

from core.enums import Role
from core.models import AuditEvent  # noqa: F401  (the matrix reads its first row)
from publication import services as publication
from publication.models import Objection
from rectification import services as rectification_services
from rectification.models import Rectification, RectificationItem

# -- project imports: the one place to fix when apps move --------------------------------
from reports.enums import ReportKind
from reports.models import GroupOpinion, RenderJob, ReportArtifact
from rounds.enums import AssignmentStatus, FrameworkStatus, GroupRole, RoundPhase
from rounds.evidence import evidence_upload
from rounds.models import (
    Assignment,
    EvaluationGroup,
    Evidence,
    Framework,
    GroupMember,
    Indicator,
    Round,
)
from rounds.selectors import framework_leaves
from rounds.services import conflict_record
from schools.models import School, StaffMembership
from scoring import services
from scoring.models import ResultRow, ResultSet, ScoreSheet, SelfAssessment
from tests.factories import SchoolFactory, UserFactory, make_framework, make_round, round_to_phase
from tests.factories.publication import OBJECTOR, PDF, after_notice, upload
from tests.reports.helpers import score_round

# -----------------------------------------------------------------------------------------

IDENTITIES = (
    "anonymous",
    "bureau_admin",
    "supervisor",
    "group_leader",
    "evaluator",
    "school_staff",
    "other_school_staff",
    "recused_evaluator",
)


@dataclass
class World:
    users: dict[str, Any]
    framework: Framework
    school: School  # A
    other_school: School  # B
    leaves: list[Indicator]
    self_round: Round
    scoring_round: Round
    consolidation_round: Round
    noticed_round: Round
    published_round: Round
    consolidation_set: ResultSet  # v1 of the consolidation round, unpublished
    noticed_set: ResultSet  # the set under notice
    published_set: ResultSet
    sheet: ScoreSheet  # the evaluator's draft sheet for A in the scoring round
    recused_sheet: ScoreSheet  # the recused evaluator's sheet for A, begun before the conflict
    evidence: Evidence  # A's, in the self-assessment round
    objection: Objection  # about A, in the noticed round
    rectification: Rectification  # A's, in the published round, reported
    rectification_item: RectificationItem  # with an evidence file
    artifact: ReportArtifact  # A's school report of the published set
    render_job: RenderJob
    result_row: ResultRow  # A's row of the published set
    group_member: GroupMember  # the evaluator in the consolidation round's group
    evaluator_assignment: Assignment  # the evaluator → A in the scoring round
    self_assessment: SelfAssessment  # A's, in the self-assessment round
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, identity: str) -> Any:
        return self.users[identity]

    def client(self, identity: str, *, api: bool = False) -> Client:
        client = Client()
        user = self.users[identity]
        if user is None:
            return client
        if api:
            return Client(headers={"Authorization": f"Token {self.tokens[identity]}"})
        client.force_login(user)
        return client


def _people() -> dict[str, Any]:
    users: dict[str, Any] = {
        "anonymous": None,
        "bureau_admin": UserFactory(username="m-bureau", roles=[Role.BUREAU_ADMIN], is_staff=True),
        "supervisor": UserFactory(username="m-supervisor", roles=[Role.SUPERVISOR]),
        "group_leader": UserFactory(username="m-leader", roles=[Role.GROUP_LEADER]),
        "evaluator": UserFactory(username="m-evaluator", roles=[Role.EVALUATOR]),
        "school_staff": UserFactory(username="m-staff", roles=[Role.SCHOOL_STAFF]),
        "other_school_staff": UserFactory(username="m-other-staff", roles=[Role.SCHOOL_STAFF]),
        "recused_evaluator": UserFactory(username="m-recused", roles=[Role.EVALUATOR]),
    }
    return users


def _group(round: Round, users: dict[str, Any], a: School, b: School) -> GroupMember:
    group = EvaluationGroup.objects.create(round=round, name="评估工作组")
    GroupMember.objects.create(group=group, user=users["group_leader"], role=GroupRole.LEADER)
    member = GroupMember.objects.create(
        group=group, user=users["evaluator"], role=GroupRole.EVALUATOR
    )
    GroupMember.objects.create(
        group=group, user=users["recused_evaluator"], role=GroupRole.EVALUATOR
    )
    for school, who in (
        (a, "group_leader"),
        (b, "group_leader"),
        (a, "evaluator"),
        (a, "recused_evaluator"),
    ):
        Assignment.objects.create(
            round=round, school=school, evaluator=users[who], status=AssignmentStatus.ACTIVE
        )
    return member


def _set_phase(round: Round, phase: str) -> None:
    round_to_phase(round, phase)


def build_world() -> World:
    users = _people()
    admin = users["bureau_admin"]
    tokens = {key: Token.objects.create(user=user).key for key, user in users.items() if user}
    a = SchoolFactory(code="MA", name_zh="甲技工学校")
    b = SchoolFactory(code="MB", name_zh="乙技工学校")
    StaffMembership.objects.create(user=users["school_staff"], school=a)
    StaffMembership.objects.create(user=users["other_school_staff"], school=b)

    framework = make_framework(name="矩阵指标体系")
    Framework.objects.filter(pk=framework.pk).update(status=FrameworkStatus.FROZEN)
    framework.refresh_from_db()
    leaves = list(framework_leaves(framework=framework))

    rounds = {
        key: make_round(framework=framework, schools=[a, b], name=f"矩阵{key}")
        for key in ("self", "scoring", "consolidation", "noticed", "published")
    }
    members = {key: _group(round, users, a, b) for key, round in rounds.items()}
    # The recused evaluator began A's sheet in expert scoring before declaring the conflict.
    scoring_round = rounds["scoring"]
    _set_phase(scoring_round, RoundPhase.EXPERT_SCORING)
    recused_sheet = services.score_sheet_open(
        round=scoring_round, school=a, actor=users["recused_evaluator"]
    )
    services.score_set(
        sheet=recused_sheet,
        actor=users["recused_evaluator"],
        indicator=leaves[1].code,
        points=leaves[1].max_points,
    )
    # Declared after the assignments, so it recuses them (no round is published yet).
    conflict_record(
        actor=admin,
        evaluator=users["recused_evaluator"],
        school=a,
        reason="曾在该校任兼职教师",
    )
    assert not Assignment.objects.filter(
        evaluator=users["recused_evaluator"], status=AssignmentStatus.ACTIVE
    ).exists()

    # Self-assessment: A's evidence for the first observation point, one self score.
    self_round = rounds["self"]
    _set_phase(self_round, RoundPhase.SELF_ASSESSMENT)
    evidence = evidence_upload(
        round=self_round,
        school=a,
        indicator=leaves[0],
        file=upload(PDF, "a.pdf"),
        actor=users["school_staff"],
    )
    services.self_score_set(
        round=self_round,
        school=a,
        actor=users["school_staff"],
        indicator=leaves[1].code,
        points=leaves[1].max_points,
    )

    # Expert scoring: the evaluator's draft sheet for A with one score.
    sheet = services.score_sheet_open(round=scoring_round, school=a, actor=users["evaluator"])
    services.score_set(
        sheet=sheet,
        actor=users["evaluator"],
        indicator=leaves[1].code,
        points=Decimal(1),
        deduction_reason="缺近三年记录",
    )

    # Consolidation: scored by every active assignment, v1 computed.
    consolidation_round = rounds["consolidation"]
    score_round(consolidation_round)
    consolidation_set = services.round_results_compute(round=consolidation_round, actor=admin)

    # Public notice: A failed its veto item; an objection about A.
    noticed_round = rounds["noticed"]
    score_round(noticed_round, veto_zero={a.code: "A1.1"})
    noticed_set = services.round_results_compute(round=noticed_round, actor=admin)
    notice = publication.notice_open(result_set=noticed_set, actor=admin, days=7)
    noticed_round.refresh_from_db()
    objection = publication.objection_file(
        round=noticed_round,
        school=a,
        content="该校实训设备数量与实际不符。",
        objector_kind="person",
        **OBJECTOR,
    )

    # Published: A failed its veto item, so it has a rectification; reported with evidence.
    published_round = rounds["published"]
    score_round(published_round, veto_zero={a.code: "A1.1"})
    for school in (a, b):
        GroupOpinion.objects.create(
            round=published_round, school=school, text="办学规范。", author=users["group_leader"]
        )
    published_set = services.round_results_compute(round=published_round, actor=admin)
    published_notice = publication.notice_open(result_set=published_set, actor=admin, days=7)
    with time_machine.travel(after_notice(_Noticed(notice=published_notice)), tick=False):
        publication.result_set_publish_checked(result_set=published_set, actor=admin)
    published_round.refresh_from_db()
    published_set.refresh_from_db()
    rectification = Rectification.objects.get(round=published_round, school=a)
    reports = {
        item.pk: rectification_services.ItemReport(
            text="已整改", file=upload(PDF, f"{item.code}.pdf")
        )
        for item in rectification.items.all()
    }
    rectification_services.rectification_submit_report(
        rectification=rectification, actor=users["school_staff"], reports=reports
    )
    rectification.refresh_from_db()
    rectification_item = rectification.items.exclude(evidence="").order_by("pk").first()

    artifact = ReportArtifact(
        result_set=published_set,
        kind=ReportKind.SCHOOL_REPORT,
        school=a,
        sha256="0" * 64,
        size=len(PDF),
        page_count=1,
        version=published_set.version,
    )
    artifact.file.save(f"school-{a.code}.pdf", ContentFile(PDF), save=False)
    artifact.save()
    render_job = RenderJob.objects.create(
        result_set=published_set,
        requested_by=admin,
        documents=[[ReportKind.SCHOOL_REPORT, a.pk]],
        total=1,
    )
    result_row = ResultRow.objects.get(result_set=published_set, school=a)
    assert notice.pk

    return World(
        users=users,
        framework=framework,
        school=a,
        other_school=b,
        leaves=leaves,
        self_round=self_round,
        scoring_round=scoring_round,
        consolidation_round=consolidation_round,
        noticed_round=noticed_round,
        published_round=published_round,
        consolidation_set=consolidation_set,
        noticed_set=noticed_set,
        published_set=published_set,
        sheet=sheet,
        recused_sheet=recused_sheet,
        evidence=evidence,
        objection=objection,
        rectification=rectification,
        rectification_item=rectification_item,
        artifact=artifact,
        render_job=render_job,
        result_row=result_row,
        group_member=members["consolidation"],
        evaluator_assignment=Assignment.objects.get(
            round=scoring_round, school=a, evaluator=users["evaluator"]
        ),
        self_assessment=SelfAssessment.objects.get(round=self_round, school=a),
        tokens=tokens,
    )


@dataclass
class _Noticed:
    """The one attribute ``after_notice`` reads."""

    notice: Any
