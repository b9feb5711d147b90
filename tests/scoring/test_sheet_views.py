"""The score pages: every URL × every role, autosave, submit, closed phases, query counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from rounds import services as round_services
from rounds.enums import PHASE_ORDER, GroupRole, RoundPhase
from rounds.evidence import evidence_upload
from rounds.models import Evidence, Indicator, Round
from schools.models import School
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import AuditScore, ConsensusScore, Score, ScoreSheet, SelfAssessment, SelfScore
from tests.factories import (
    SchoolFactory,
    StaffMembershipFactory,
    UserFactory,
    make_framework,
    make_round,
    round_to_phase,
)
from tests.factories.core import CONFIRMED

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROLES = (
    "anonymous",
    "admin",
    "supervisor",
    "leader",
    "evaluator",
    "unassigned",
    "recused",
    "staff_own",
    "staff_other",
)


@dataclass
class World:
    round: Round
    school: School  # "own": the evaluator's and staff_own's school
    other: School
    users: dict[str, Any]
    evidence: Evidence

    def leaf(self, code: str = "A1.1") -> Indicator:
        return Indicator.objects.get(framework=self.round.framework, code=code)

    def leaves(self) -> list[Indicator]:
        return list(
            Indicator.objects.filter(
                framework=self.round.framework, children__isnull=True
            ).order_by("order", "code")
        )

    def phase(self, phase: str, **fields: Any) -> None:
        """Move the round forward to ``phase`` through ``round_phase_advance``; ``fields``
        are round settings (``peer_scores_visible``) no service sets."""
        if PHASE_ORDER.index(phase) < PHASE_ORDER.index(self.round.phase):
            # The services move a round forward only. One test goes back to self-assessment
            # on purpose, to submit the school's self-assessment after the evaluator first
            # opened the sheet without it: a state only a test needs.
            Round.objects.filter(pk=self.round.pk).update(phase=phase)
            self.round.refresh_from_db()
        round_to_phase(self.round, phase, actor=self.users["admin"])
        if fields:
            Round.objects.filter(pk=self.round.pk).update(**fields)
            self.round.refresh_from_db()

    def client(self, role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client


def build_world(admin: Any, *, leaves_per_indicator: int = 2, prefix: str = "") -> World:
    """Two schools in a round in self-assessment; a user for every role; one evidence file.

    ``evaluator`` is assigned to the own school, ``unassigned`` only to the other one,
    ``recused`` was assigned to the own school and recused; ``leader`` leads the group
    without an assignment.
    """
    own, other = SchoolFactory(), SchoolFactory()
    today = timezone.localdate()
    round = make_round(
        framework=make_framework(leaves_per_indicator=leaves_per_indicator),
        schools=[own, other],
        actor=admin,
        phase_windows={
            RoundPhase.SELF_ASSESSMENT: (today - dt.timedelta(days=10), today + dt.timedelta(20)),
        },
    )
    users = {
        "admin": admin,
        "supervisor": UserFactory(username=f"{prefix}supervisor", roles=[Role.SUPERVISOR]),
        "leader": UserFactory(
            username=f"{prefix}leader",
            first_name="组长",
            roles=[Role.GROUP_LEADER, Role.EVALUATOR],
        ),
        "evaluator": UserFactory(username=f"{prefix}evaluator", roles=[Role.EVALUATOR]),
        "unassigned": UserFactory(username=f"{prefix}unassigned", roles=[Role.EVALUATOR]),
        "recused": UserFactory(username=f"{prefix}recused", roles=[Role.EVALUATOR]),
        "staff_own": StaffMembershipFactory(
            school=own, user__username=f"{prefix}staff_own", user__roles=[Role.SCHOOL_STAFF]
        ).user,
        "staff_other": StaffMembershipFactory(
            school=other, user__username=f"{prefix}staff_other", user__roles=[Role.SCHOOL_STAFF]
        ).user,
    }
    round_services.evaluation_group_member_add(
        round=round, actor=admin, user=users["leader"], role=GroupRole.LEADER
    )
    for name, school in (("evaluator", own), ("unassigned", other), ("recused", own)):
        round_services.evaluation_group_member_add(round=round, actor=admin, user=users[name])
        round_services.assignment_create(
            round=round, actor=admin, school=school, evaluator=users[name]
        )
    round = round_services.round_phase_advance(round=round, actor=admin)  # self-assessment
    round_services.conflict_record(
        actor=users["recused"], evaluator=users["recused"], school=own, reason="曾在该校任职"
    )
    evidence = evidence_upload(
        round=round,
        school=own,
        indicator="A1.1",
        actor=users["staff_own"],
        file=SimpleUploadedFile("办学许可证.pdf", PDF),
    )
    return World(round=round, school=own, other=other, users=users, evidence=evidence)


@pytest.fixture
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    return tmp_path


@pytest.fixture
def world(bureau_admin, private_media) -> World:
    return build_world(bureau_admin)


def htmx(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, HTTP_HX_REQUEST="true")


# --------------------------------------------------------------- the matrix

D = dict  # expected status per role; roles not listed answer 403
SHEET = D(anonymous=302, leader=404, evaluator=200, unassigned=404)
STAFF_PAGE = D(anonymous=302, staff_own=200, staff_other=200)
SCHOOL_SELF = D(anonymous=302, admin=200, supervisor=200, staff_own=200, staff_other=404)
OWN_STAFF_POST = D(anonymous=302, staff_own=200, staff_other=404)
LEADER_PAGE = D(anonymous=302, admin=200, supervisor=200, leader=200)
AUDIT_PAGE = D(anonymous=302, admin=200, supervisor=200)

MATRIX = [
    # (url name, args, method, phase, expected)
    ("sheets:sheet", ("round", "school"), "get", RoundPhase.EXPERT_SCORING, SHEET),
    ("sheets:score", ("round", "school", "leaf"), "post", RoundPhase.EXPERT_SCORING, SHEET),
    ("sheets:submit", ("round", "school"), "post", RoundPhase.EXPERT_SCORING, SHEET),
    ("sheets:submit", ("round", "school"), "get", RoundPhase.EXPERT_SCORING, SHEET),
    ("sheets:self_assessment", ("round",), "get", RoundPhase.SELF_ASSESSMENT, STAFF_PAGE),
    (
        "sheets:self_assessment_school",
        ("round", "school"),
        "get",
        RoundPhase.SELF_ASSESSMENT,
        SCHOOL_SELF,
    ),
    (
        "sheets:self_score",
        ("round", "school", "leaf"),
        "post",
        RoundPhase.SELF_ASSESSMENT,
        OWN_STAFF_POST,
    ),
    (
        "sheets:self_assessment_submit",
        ("round", "school"),
        "post",
        RoundPhase.SELF_ASSESSMENT,
        OWN_STAFF_POST,
    ),
    (
        "sheets:self_assessment_submit",
        ("round", "school"),
        "get",
        RoundPhase.SELF_ASSESSMENT,
        OWN_STAFF_POST,
    ),
    ("sheets:consolidation", ("round",), "get", RoundPhase.CONSOLIDATION, LEADER_PAGE),
    ("sheets:consensus", ("round", "school"), "get", RoundPhase.CONSOLIDATION, LEADER_PAGE),
    (
        "sheets:consensus_score",
        ("round", "school", "leaf"),
        "post",
        RoundPhase.CONSOLIDATION,
        D(anonymous=302, leader=200),
    ),
    ("sheets:audit", ("round", "school"), "get", RoundPhase.CONSOLIDATION, AUDIT_PAGE),
    (
        "sheets:audit_score",
        ("round", "school", "leaf"),
        "post",
        RoundPhase.CONSOLIDATION,
        D(anonymous=302, admin=200),
    ),
]


def url_args(world: World, names: tuple[str, ...]) -> list[int]:
    values = {"round": world.round.pk, "school": world.school.pk, "leaf": world.leaf().pk}
    return [values[name] for name in names]


@pytest.mark.parametrize(("name", "args", "method", "phase", "expected"), MATRIX)
def test_every_url_answers_every_role_as_expected(world, name, args, method, phase, expected):
    world.phase(phase)
    url = reverse(name, args=url_args(world, args))
    got = {}
    for role in ROLES:
        client = world.client(role)
        if method == "get":
            response = client.get(url)
        else:
            response = htmx(client, url, {"points": "2", "text": "理由"})
        got[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert got == {role: expected.get(role, 403) for role in ROLES}


def test_an_evaluator_cannot_reach_a_school_of_another_round_or_not_in_scope(world):
    client = world.client("evaluator")
    outsider = SchoolFactory()
    for school_id in (world.other.pk, outsider.pk, 999_999):
        url = reverse("sheets:sheet", args=[world.round.pk, school_id])
        assert client.get(url).status_code == 404
    assert client.get(reverse("sheets:sheet", args=[999_999, world.school.pk])).status_code == 404


def test_a_point_of_another_framework_is_404(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    foreign = Indicator.objects.exclude(framework=world.round.framework).filter(
        children__isnull=True
    )
    stray = make_framework()
    point = foreign.first() or Indicator.objects.get(framework=stray, code="A1.1")
    url = reverse("sheets:score", args=[world.round.pk, world.school.pk, point.pk])
    assert htmx(world.client("evaluator"), url, {"points": "1"}).status_code == 404


def test_a_recused_evaluator_is_told_why(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    response = world.client("recused").get(
        reverse("sheets:sheet", args=[world.round.pk, world.school.pk])
    )
    assert response.status_code == 403
    assert "曾在该校任职" in response.content.decode()


# ------------------------------------------------------ evaluator: autosave


def score_url(world: World, code: str = "A1.2") -> str:
    return reverse("sheets:score", args=[world.round.pk, world.school.pk, world.leaf(code).pk])


def sheet_url(world: World) -> str:
    return reverse("sheets:sheet", args=[world.round.pk, world.school.pk])


def test_the_sheet_shows_the_tree_guidance_evidence_and_inputs(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    Indicator.objects.filter(pk=world.leaf().pk).update(
        guidance="有效期内得满分", required_evidence=["办学许可证"]
    )
    page = world.client("evaluator").get(sheet_url(world)).content.decode()
    for text in (
        "维度A",
        "指标A1",
        "观测点A1.1",
        "有效期内得满分",
        "办学许可证.pdf",
        'name="points"',
    ):
        assert text in page
    assert reverse("evidence:download", args=[world.evidence.pk]) in page
    assert page.count('name="points"') == len(world.leaves())


def test_autosave_stores_the_score_and_updates_the_progress(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    response = htmx(world.client("evaluator"), score_url(world), {"points": "12.5"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "12.50" in body
    assert 'id="sheet-progress"' in body and 'hx-swap-oob="true"' in body
    assert 'value="1"' in body
    score = Score.objects.get(sheet__evaluator=world.users["evaluator"])
    assert (score.points, score.not_applicable) == (Decimal("12.50"), False)


def test_out_of_range_is_refused_with_the_message_and_nothing_changes(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("evaluator")
    htmx(client, score_url(world), {"points": "12.5"})
    response = htmx(client, score_url(world), {"points": "13"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "A1.2: points must lie between 0 and 12.50." in body
    assert 'data-code="out_of_range"' in body
    assert Score.objects.get().points == Decimal("12.50")


def test_a_deduction_needs_a_reason(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("evaluator")
    body = htmx(client, score_url(world), {"points": "10"}).content.decode()
    assert 'data-code="reason_required"' in body
    assert Score.objects.count() == 0
    htmx(client, score_url(world), {"points": "10", "deduction_reason": "制度不全"})
    score = Score.objects.get()
    assert (score.points, score.deduction_reason) == (Decimal("10.00"), "制度不全")
    page = client.get(sheet_url(world)).content.decode()
    assert "制度不全" in page
    assert 'value="10.00"' in page


@pytest.mark.parametrize(
    "data",
    [{"not_applicable": "on"}, {"points": "N/A"}, {"points": "不适用", "not_applicable": ""}],
)
def test_not_applicable_by_box_or_by_typing(world, data):
    world.phase(RoundPhase.EXPERT_SCORING)
    body = htmx(world.client("evaluator"), score_url(world), data).content.decode()
    assert "Saved: not applicable" in body
    score = Score.objects.get()
    assert (score.points, score.not_applicable) == (None, True)


def test_without_htmx_a_save_redirects_back_to_the_point(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    response = world.client("evaluator").post(score_url(world), {"points": "12.5"})
    assert response.status_code == 302
    assert response["Location"] == f"{sheet_url(world)}#point-{world.leaf('A1.2').pk}"
    assert Score.objects.get().points == Decimal("12.50")


def test_submit_lists_the_missing_points_then_locks_the_sheet(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("evaluator")
    leaves = world.leaves()
    for point in leaves[:-1]:
        htmx(client, score_url(world, point.code), {"points": str(point.max_points)})
    submit = reverse("sheets:submit", args=[world.round.pk, world.school.pk])
    # The confirmation page already says what is missing, its button disabled.
    confirm = client.get(submit).content.decode()
    assert "data-becomes-final" in confirm
    assert "1 observation point(s) still need a score" in confirm
    assert 'disabled aria-disabled="true"' in confirm
    response = client.post(submit, CONFIRMED)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="#point-{leaves[-1].pk}"' in body
    assert "have no score yet: D1.2" in body
    assert ScoreSheet.objects.get().status == SheetStatus.DRAFT

    htmx(client, score_url(world, leaves[-1].code), {"points": "N/A"})
    confirm = client.post(submit)  # from the sheet's button: the confirmation, nothing else
    assert confirm.status_code == 200
    assert "Your scores for" in confirm.content.decode()
    assert "disabled" not in confirm.content.decode().split('class="confirm"')[1]
    assert ScoreSheet.objects.get().status == SheetStatus.DRAFT
    response = client.post(submit, CONFIRMED)
    assert response.status_code == 302
    sheet = ScoreSheet.objects.get()
    assert sheet.status == SheetStatus.SUBMITTED and sheet.submitted_at is not None

    page = client.get(sheet_url(world)).content.decode()
    assert 'name="points"' not in page
    assert "it is locked" in page
    body = htmx(client, score_url(world, "A1.1"), {"points": "1", "deduction_reason": "x"})
    assert 'data-code="sheet_locked"' in body.content.decode()
    assert Score.objects.get(indicator__code="A1.1").points == leaves[0].max_points


def test_before_and_after_the_scoring_phase_the_sheet_explains_why_it_is_closed(world):
    client = world.client("evaluator")
    page = client.get(sheet_url(world)).content.decode()  # self-assessment
    assert "Scoring opens with the expert scoring phase" in page
    assert 'name="points"' not in page
    body = htmx(client, score_url(world), {"points": "12.5"}).content.decode()
    assert 'data-code="phase_closed"' in body
    world.phase(RoundPhase.CONSOLIDATION)
    page = client.get(sheet_url(world)).content.decode()
    assert "Scoring is closed" in page
    assert ScoreSheet.objects.count() == 0


def test_self_scores_show_beside_the_input_only_once_submitted(world):
    staff = world.users["staff_own"]
    for point in world.leaves():
        services.self_score_set(
            round=world.round,
            school=world.school,
            actor=staff,
            indicator=point,
            points=str(point.max_points - 1),
        )
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("evaluator")
    assert "School's self score" not in client.get(sheet_url(world)).content.decode()
    world.phase(RoundPhase.SELF_ASSESSMENT)
    services.self_assessment_submit(round=world.round, school=world.school, actor=staff)
    world.phase(RoundPhase.EXPERT_SCORING)
    page = client.get(sheet_url(world)).content.decode()
    assert "School's self score" in page
    assert "11.50" in page


def submitted_sheet(world: World, role: str, points: str) -> None:
    world.phase(RoundPhase.EXPERT_SCORING)
    user = world.users[role]
    sheet = services.score_sheet_open(round=world.round, school=world.school, actor=user)
    for point in world.leaves():
        services.score_set(
            sheet=sheet,
            actor=user,
            indicator=point,
            points=points,
            deduction_reason="" if Decimal(points) == point.max_points else "扣分",
        )
    services.score_sheet_submit(sheet=sheet, actor=user)


def test_peer_scores_stay_hidden_unless_the_round_allows_them(world):
    second = UserFactory(username="second", roles=[Role.EVALUATOR])
    round_services.evaluation_group_member_add(
        round=world.round, actor=UserFactory(roles=[Role.BUREAU_ADMIN]), user=second
    )
    round_services.assignment_create(
        round=world.round, actor=None, school=world.school, evaluator=second
    )
    world.users["second"] = second
    submitted_sheet(world, "second", "3.33")
    client = world.client("evaluator")
    assert "3.33" not in client.get(sheet_url(world)).content.decode()
    world.phase(RoundPhase.CONSOLIDATION)
    assert "3.33" not in client.get(sheet_url(world)).content.decode()
    world.phase(RoundPhase.CONSOLIDATION, peer_scores_visible=True)
    page = client.get(sheet_url(world)).content.decode()
    assert "Evaluator 1: 3.33" in page
    assert "second" not in page


# ------------------------------------------------------- self-assessment


def self_url(world: World, code: str = "A1.1") -> str:
    return reverse("sheets:self_score", args=[world.round.pk, world.school.pk, world.leaf(code).pk])


def test_staff_fill_in_and_submit_the_self_assessment(world):
    client = world.client("staff_own")
    page = client.get(reverse("sheets:self_assessment", args=[world.round.pk]))
    body = page.content.decode()
    assert world.school.name_zh in body
    assert "办学许可证.pdf" in body
    assert "days left" in body
    assert htmx(client, self_url(world), {"points": "99"}).content.decode().count("0 and") == 1
    assert SelfScore.objects.count() == 0
    for point in world.leaves():
        htmx(client, self_url(world, point.code), {"points": str(point.max_points)})
    assert SelfScore.objects.count() == len(world.leaves())
    submit = reverse("sheets:self_assessment_submit", args=[world.round.pk, world.school.pk])
    confirm = client.get(submit).content.decode()
    assert "The self scores of" in confirm
    assert "data-audience" in confirm
    assert client.post(submit).status_code == 200
    assert SelfAssessment.objects.get(school=world.school).submitted_at is None
    response = client.post(submit, CONFIRMED)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "the self-assessment is read-only" in page
    assert 'name="points"' not in page
    # evidence upload stays open until the deadline
    assert 'name="files"' in page


def test_the_self_assessment_explains_a_closed_phase(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("staff_own")
    page = client.get(reverse("sheets:self_assessment", args=[world.round.pk])).content.decode()
    assert "Self-assessment is closed" in page
    assert "Evidence upload is closed" in page
    assert 'name="files"' not in page
    body = htmx(client, self_url(world), {"points": "1"}).content.decode()
    assert 'data-code="phase_closed"' in body


def test_the_bureau_reads_the_self_assessment_without_inputs(world):
    page = (
        world.client("admin")
        .get(reverse("sheets:self_assessment_school", args=[world.round.pk, world.school.pk]))
        .content.decode()
    )
    assert "Read only" in page
    assert 'name="points"' not in page and 'name="files"' not in page


# ------------------------------------------------ consensus and audit


def test_the_leader_sees_the_experts_and_gives_a_justified_consensus(world):
    submitted_sheet(world, "evaluator", "2")
    world.phase(RoundPhase.CONSOLIDATION)
    client = world.client("leader")
    url = reverse("sheets:consensus", args=[world.round.pk, world.school.pk])
    page = client.get(url).content.decode()
    assert "Evaluator 1" in page and "2.00" in page
    assert world.users["evaluator"].username not in page
    post = reverse(
        "sheets:consensus_score", args=[world.round.pk, world.school.pk, world.leaf().pk]
    )
    body = htmx(client, post, {"points": "1.5", "text": ""}).content.decode()
    assert 'data-code="reason_required"' in body
    assert ConsensusScore.objects.count() == 0
    body = htmx(client, post, {"points": "1.5", "text": "组内合议"}).content.decode()
    assert "Saved." in body
    consensus = ConsensusScore.objects.get()
    assert (consensus.points, consensus.justification) == (Decimal("1.50"), "组内合议")


def test_the_bureau_gives_an_audit_score_and_names_the_evaluators(world):
    submitted_sheet(world, "evaluator", "2")
    world.phase(RoundPhase.CONSOLIDATION)
    client = world.client("admin")
    page = client.get(reverse("sheets:audit", args=[world.round.pk, world.school.pk]))
    assert world.users["evaluator"].username in page.content.decode()
    post = reverse("sheets:audit_score", args=[world.round.pk, world.school.pk, world.leaf().pk])
    body = htmx(client, post, {"points": "99", "text": "复核"}).content.decode()
    assert 'data-code="out_of_range"' in body
    htmx(client, post, {"points": "0", "text": "复核发现证照过期"})
    assert AuditScore.objects.get().points == Decimal("0.00")
    world.phase(RoundPhase.PUBLIC_NOTICE)
    page = client.get(reverse("sheets:audit", args=[world.round.pk, world.school.pk]))
    assert "Consolidation is over" in page.content.decode()
    assert htmx(client, post, {"points": "1", "text": "x"}).status_code == 403


# ------------------------------------------------------------ query counts


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def populated_world(admin: Any, leaves: int, prefix: str) -> World:
    world = build_world(admin, leaves_per_indicator=leaves, prefix=prefix)
    staff = world.users["staff_own"]
    for point in world.leaves():
        services.self_score_set(
            round=world.round, school=world.school, actor=staff, indicator=point, points="0"
        )
        evidence_upload(
            round=world.round,
            school=world.school,
            indicator=point,
            actor=staff,
            file=SimpleUploadedFile(f"{point.code}.pdf", PDF + point.code.encode()),
        )
    services.self_assessment_submit(round=world.round, school=world.school, actor=staff)
    return world


def expert_sheet_filled(world: World) -> None:
    """The round moved on to expert scoring; the evaluator's sheet scored on every leaf."""
    world.phase(RoundPhase.EXPERT_SCORING)
    evaluator = world.users["evaluator"]
    sheet = services.score_sheet_open(round=world.round, school=world.school, actor=evaluator)
    for point in world.leaves():
        services.score_set(
            sheet=sheet, actor=evaluator, indicator=point, points="1", deduction_reason="扣"
        )


def test_the_score_pages_run_as_many_queries_for_a_small_and_a_large_framework(
    bureau_admin, private_media
):
    small = populated_world(bureau_admin, 2, "s-")
    large = populated_world(bureau_admin, 10, "l-")
    assert len(large.leaves()) == 5 * len(small.leaves())
    counts = {}
    for name, world in (("small", small), ("large", large)):
        # The self-assessment page first: the round is still in self-assessment, and
        # phases only go forward.
        counts[name, "self"] = queries(
            world.client("staff_own"), reverse("sheets:self_assessment", args=[world.round.pk])
        )
        expert_sheet_filled(world)
        counts[name, "sheet"] = queries(world.client("evaluator"), sheet_url(world))
        services.score_sheet_submit(
            sheet=ScoreSheet.objects.get(round=world.round), actor=world.users["evaluator"]
        )
        counts[name, "submitted sheet"] = queries(world.client("evaluator"), sheet_url(world))
        world.phase(RoundPhase.CONSOLIDATION, peer_scores_visible=True)
        counts[name, "consensus"] = queries(
            world.client("leader"),
            reverse("sheets:consensus", args=[world.round.pk, world.school.pk]),
        )
    for page in ("sheet", "submitted sheet", "self", "consensus"):
        assert counts["small", page] == counts["large", page], counts
