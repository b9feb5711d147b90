"""The admin pages: every page answers, frozen data stays read-only, services decide writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from core.audit import audit_record
from core.models import AuditEvent
from rectification.models import Rectification
from rounds import group_services, services
from rounds.admin import FROZEN_MESSAGE
from rounds.enums import AssignmentStatus, FrameworkStatus, Grade, IndicatorMethod, RoundPhase
from rounds.models import (
    Assignment,
    ConflictOfInterest,
    EvaluationGroup,
    Evidence,
    Framework,
    Indicator,
    Round,
)
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, Specialty, StaffMembership
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    Score,
    ScoreSheet,
    SelfAssessment,
    SelfScore,
)
from tests.factories import round_to_phase

pytestmark = pytest.mark.django_db

User = get_user_model()


def admin_url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def message_texts(response, level: int | None = None) -> list[str]:
    return [
        str(message)
        for message in get_messages(response.wsgi_request)
        if level is None or message.level == level
    ]


def make_school(number: int) -> School:
    return School.objects.create(
        code=f"T{number:03d}",
        name_zh=f"测试学校{number}",
        kind=SchoolKind.PRIVATE_TECHNICAL_SCHOOL,
        ranking_group=RankingGroup.PRIVATE,
        district="思明区",
    )


def make_valid_framework(name: str = "2025版评估指标体系") -> Framework:
    """Four dimensions of 25 points, each one indicator with one observation point."""
    rows = []
    for dimension in "ABCD":
        rows += [
            services.IndicatorData(
                code=dimension,
                parent_code=None,
                title_zh=f"维度{dimension}",
                max_points=Decimal(25),
            ),
            services.IndicatorData(
                code=f"{dimension}1",
                parent_code=dimension,
                title_zh=f"指标{dimension}1",
                max_points=Decimal(25),
            ),
            services.IndicatorData(
                code=f"{dimension}1.1",
                parent_code=f"{dimension}1",
                title_zh=f"观测点{dimension}1.1",
                max_points=Decimal(25),
                method=IndicatorMethod.DOCUMENT_REVIEW,
                tags=("compliant_operation",),
            ),
        ]
    return services.framework_create(
        actor=None,
        name=name,
        policy_title="厦门市民办技工学校办学质量评估办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=rows,
    )


def make_broken_framework() -> Framework:
    """Problems on A (children's points), A1 (children's points), A1.1 (no method),
    B (a leaf at the first level, no method) and the dimension count."""
    framework = Framework.objects.create(
        name="有问题的体系",
        policy_title="办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
    )
    dimension_a = Indicator.objects.create(
        framework=framework, code="A", title_zh="维度A", max_points=Decimal(25)
    )
    indicator_a1 = Indicator.objects.create(
        framework=framework, parent=dimension_a, code="A1", title_zh="指标A1", level=2,
        max_points=Decimal(20),
    )  # fmt: skip
    Indicator.objects.create(
        framework=framework, parent=indicator_a1, code="A1.1", title_zh="观测点", level=3,
        max_points=Decimal(10),
    )  # fmt: skip
    Indicator.objects.create(
        framework=framework, code="B", title_zh="维度B", max_points=Decimal(75)
    )
    return framework


def make_round(framework: Framework, schools: list[School], name: str = "2025轮") -> Round:
    return services.round_create(
        actor=None,
        framework=framework,
        name=name,
        cycle_start=2025,
        cycle_end=2027,
        schools=schools,
    )


@pytest.fixture
def populated(admin_user):
    """One object of every model the admin shows, so list and change pages render rows."""
    school = make_school(1)
    Specialty.objects.create(school=school, code="0101", name="数控加工")
    staff = User.objects.create_user("staff1", password="pw-for-tests-1")
    StaffMembership.objects.create(user=staff, school=school, title="教务处长")
    framework = make_valid_framework()
    round = make_round(framework, [school])
    leaf = framework.indicators.get(code="A1.1")
    evaluator = User.objects.create_user("expert1", password="pw-for-tests-1")
    services.evaluation_group_member_add(round=round, actor=admin_user, user=evaluator)
    assignment = services.assignment_create(
        round=round, actor=admin_user, school=school, evaluator=evaluator
    )
    other = make_school(2)
    services.conflict_record(actor=admin_user, evaluator=evaluator, school=other, reason="曾任教")
    Evidence.objects.create(
        school=school,
        round=round,
        indicator=leaf,
        file="evidence/x",
        original_name="许可证.pdf",
        size=1024,
        sha256="a" * 64,
        uploaded_by=staff,
    )
    sheet = ScoreSheet.objects.create(round=round, school=school, evaluator=evaluator)
    Score.objects.create(
        sheet=sheet, indicator=leaf, points=Decimal(20), max_points=leaf.max_points
    )
    self_assessment = SelfAssessment.objects.create(round=round, school=school)
    SelfScore.objects.create(
        self_assessment=self_assessment, indicator=leaf, points=Decimal(25), max_points=Decimal(25)
    )
    ConsensusScore.objects.create(
        round=round, school=school, indicator=leaf, points=Decimal(22), max_points=Decimal(25),
        leader=evaluator, justification="合议",
    )  # fmt: skip
    AuditScore.objects.create(
        round=round, school=school, indicator=leaf, points=Decimal(21), max_points=Decimal(25),
        auditor=admin_user, reason="复核",
    )  # fmt: skip
    result_set = ResultSet.objects.create(round=round, version=1, consolidation_method="mean")
    ResultRow.objects.create(
        result_set=result_set, school=school, total=Decimal(88), grade=Grade.GOOD, rank=1,
        group_rank=1,
    )  # fmt: skip
    Rectification.objects.create(round=round, school=school, deadline=dt.date(2026, 6, 30))
    return {"round": round, "assignment": assignment, "school": school, "framework": framework}


# ------------------------------------------------------------ every page


def test_every_changelist_add_and_change_page_answers_for_a_superuser(
    admin_client, admin_user, populated
):
    request = RequestFactory().get("/")
    request.user = admin_user
    ours = {
        model
        for model in admin.site._registry
        if model._meta.app_label
        in {"core", "schools", "rounds", "scoring", "publication", "rectification", "xm_eval"}
    }
    assert ours == {
        School, Specialty, StaffMembership, Evidence, Framework, Indicator, Round,
        EvaluationGroup, Assignment, ConflictOfInterest, Rectification, ScoreSheet,
        SelfAssessment, ConsensusScore, AuditScore, ResultSet, AuditEvent,
    }  # fmt: skip
    for model, model_admin in admin.site._registry.items():
        response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        response = admin_client.get(admin_url(model, "add"))
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert response.status_code == expected, model
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            response = admin_client.get(admin_url(model, "change", obj.pk))
            assert response.status_code == 200, model


def test_the_school_changelist_runs_the_same_queries_for_2_and_10_schools(admin_client):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            response = admin_client.get(admin_url(School, "changelist"))
        assert response.status_code == 200
        return len(context.captured_queries)

    for number in range(2):
        make_school(number)
    admin_client.get(admin_url(School, "changelist"))  # warm the session and caches
    with_two = count_queries()
    for number in range(2, 10):
        make_school(number)
    assert count_queries() == with_two


@pytest.mark.parametrize("model", [Framework, Round, Assignment, Evidence, AuditEvent, ScoreSheet])
def test_other_changelists_keep_their_query_count(admin_client, admin_user, populated, model):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        return len(context.captured_queries)

    admin_client.get(admin_url(model, "changelist"))
    before = count_queries()
    # A second round over new schools and a new framework: one more row everywhere.
    framework = make_valid_framework("第二体系")
    schools = [make_school(10), make_school(11)]
    round = make_round(framework, schools, name="第二轮")
    evaluator = User.objects.create_user("expert2")
    services.evaluation_group_member_add(round=round, actor=admin_user, user=evaluator)
    services.assignment_create(
        round=round, actor=admin_user, school=schools[0], evaluator=evaluator
    )
    leaf = framework.indicators.get(code="B1.1")
    Evidence.objects.create(
        school=schools[0], round=round, indicator=leaf, file="evidence/y", original_name="y.pdf",
        size=1, sha256="b" * 64, uploaded_by=evaluator,
    )  # fmt: skip
    ScoreSheet.objects.create(round=round, school=schools[0], evaluator=evaluator)
    assert count_queries() == before


# --------------------------------------------------------------- frameworks


def test_a_frozen_framework_is_read_only_and_a_post_changes_nothing(admin_client):
    framework = make_valid_framework()
    services.framework_freeze(framework=framework, actor=None)
    url = admin_url(Framework, "change", framework.pk)

    response = admin_client.get(url)

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="name"' not in response.content.decode()
    assert set(response.context["adminform"].readonly_fields) >= {"name", "total_points"}
    (indicators,) = response.context["inline_admin_formsets"]
    assert indicators.has_add_permission is False
    assert indicators.has_change_permission is False
    assert indicators.has_delete_permission is False
    assert 'name="indicators-0-max_points"' not in response.content.decode()
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        expected_message = str(FROZEN_MESSAGE % {"name": framework.name})
    assert message_texts(response, messages.WARNING) == [expected_message]

    response = admin_client.post(
        url,
        {
            "name": "改名",
            "policy_title": "改",
            "valid_from": "2025-01-01",
            "valid_to": "2029-12-31",
            "total_points": "50",
            "grade_bands": "[]",
            "indicators-TOTAL_FORMS": "0",
            "indicators-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    framework.refresh_from_db()
    assert (framework.name, framework.total_points) == ("2025版评估指标体系", Decimal(100))

    leaf = framework.indicators.get(code="A1.1")
    response = admin_client.post(
        admin_url(Indicator, "change", leaf.pk),
        {"framework": framework.pk, "code": "A1.1", "title_zh": "改", "max_points": "1"},
    )
    assert response.status_code == 403
    assert (
        admin_client.post(admin_url(Indicator, "delete", leaf.pk), {"post": "yes"}).status_code
        == 403
    )
    leaf.refresh_from_db()
    assert (leaf.title_zh, leaf.max_points) == ("观测点A1.1", Decimal(25))


def test_a_draft_framework_is_edited_in_the_admin_and_levels_follow_the_tree(admin_client):
    framework = make_valid_framework()
    indicators = list(framework.indicators.order_by("order", "code"))
    data = {
        "name": framework.name,
        "policy_title": framework.policy_title,
        "valid_from": "2025-01-01",
        "valid_to": "2029-12-31",
        "total_points": "100",
        "grade_bands": '[{"grade": "qualified", "min": "60"}, '
        '{"grade": "unqualified", "min": "0"}]',
        "indicators-TOTAL_FORMS": str(len(indicators)),
        "indicators-INITIAL_FORMS": str(len(indicators)),
        "indicators-MIN_NUM_FORMS": "0",
        "indicators-MAX_NUM_FORMS": "1000",
    }
    for index, indicator in enumerate(indicators):
        prefix = f"indicators-{index}-"
        data.update(
            {
                prefix + "id": indicator.pk,
                prefix + "framework": framework.pk,
                prefix + "order": indicator.order,
                prefix + "code": indicator.code,
                prefix + "parent": indicator.parent_id or "",
                prefix + "title_zh": indicator.title_zh,
                prefix + "max_points": indicator.max_points,
                prefix + "weight": "",
                prefix + "method": indicator.method,
                prefix + "tags": list(indicator.tags),
            }
        )
    # Move the observation point A1.1 directly under the dimension A.
    a_index = next(i for i, ind in enumerate(indicators) if ind.code == "A1.1")
    data[f"indicators-{a_index}-parent"] = framework.indicators.get(code="A").pk
    data[f"indicators-{a_index}-title_zh"] = "新标题"

    response = admin_client.post(admin_url(Framework, "change", framework.pk), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    leaf = framework.indicators.get(code="A1.1")
    assert (leaf.title_zh, leaf.parent.code, leaf.level) == ("新标题", "A", 2)


def test_the_framework_change_page_runs_the_same_queries_for_4_and_12_indicators(admin_client):
    def count_queries(framework: Framework) -> int:
        with CaptureQueriesContext(connection) as context:
            response = admin_client.get(admin_url(Framework, "change", framework.pk))
        assert response.status_code == 200
        return len(context.captured_queries)

    small = make_broken_framework()
    big = make_valid_framework()
    assert (small.indicators.count(), big.indicators.count()) == (4, 12)
    count_queries(small)
    assert count_queries(small) == count_queries(big)


def test_the_validate_action_reports_every_problem_code(admin_client):
    broken = make_broken_framework()
    valid = make_valid_framework()
    expected = services.framework_validate(framework=broken)
    assert {problem.indicator_code for problem in expected} == {"", "A", "A1", "A1.1", "B"}

    response = admin_client.post(
        admin_url(Framework, "changelist"),
        {"action": "validate_framework", "_selected_action": [broken.pk, valid.pk]},
    )

    assert response.status_code == 302
    errors = message_texts(response, messages.ERROR)
    problem_lines = [text for text in errors if text.startswith(f"{broken.name}: ")]
    assert len(problem_lines) == len(expected)
    for problem in expected:
        assert any(problem.message in line for line in problem_lines), problem
    for code in ("A", "A1", "A1.1", "B"):
        assert any(line.startswith(f"{broken.name}: {code}") for line in problem_lines), code
    assert [text for text in message_texts(response, messages.SUCCESS) if valid.name in text]


def test_the_framework_changelist_counts_indicators(admin_client):
    make_valid_framework()
    response = admin_client.get(admin_url(Framework, "changelist"))
    (row,) = response.context["cl"].result_list
    assert row.indicator_count == 12


# -------------------------------------------------------------------- rounds


def round_post_data(framework: Framework, school: School, name: str = "新一轮") -> dict:
    return {
        "name": name,
        "framework": framework.pk,
        "cycle_start": "2025",
        "cycle_end": "2027",
        "consolidation_method": "mean",
        "spread_threshold": "0.30",
        "schools": [school.pk],
        "phase_windows-TOTAL_FORMS": "0",
        "phase_windows-INITIAL_FORMS": "0",
    }


def test_a_round_on_a_broken_framework_is_refused_naming_the_codes(admin_client):
    broken = make_broken_framework()
    school = make_school(1)

    response = admin_client.post(admin_url(Round, "add"), round_post_data(broken, school))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["framework"]
    for code in ("A", "A1", "A1.1", "B"):
        assert any(error.startswith(code) for error in errors), code
    assert Round.objects.count() == 0


def test_a_round_on_a_valid_framework_is_created(admin_client):
    framework = make_valid_framework()
    school = make_school(1)
    data = round_post_data(framework, school)
    data.update(
        {
            "phase_windows-TOTAL_FORMS": "1",
            "phase_windows-0-phase": RoundPhase.SELF_ASSESSMENT,
            "phase_windows-0-starts_on": "2025-03-01",
            "phase_windows-0-ends_on": "2025-03-31",
        }
    )

    response = admin_client.post(admin_url(Round, "add"), data)

    assert response.status_code == 302
    round = Round.objects.get(name="新一轮")
    assert list(round.schools.all()) == [school]
    assert round.phase_windows.get().phase == RoundPhase.SELF_ASSESSMENT


def test_a_phase_window_outside_the_framework_validity_is_refused(admin_client):
    framework = make_valid_framework()
    data = round_post_data(framework, make_school(1))
    data.update(
        {
            "phase_windows-TOTAL_FORMS": "1",
            "phase_windows-0-phase": RoundPhase.SELF_ASSESSMENT,
            "phase_windows-0-starts_on": "2024-03-01",
            "phase_windows-0-ends_on": "2024-03-31",
        }
    )
    response = admin_client.post(admin_url(Round, "add"), data)
    assert response.status_code == 200
    assert Round.objects.count() == 0


def test_the_advance_action_moves_the_phase_and_reports_refusals(admin_client):
    framework = make_valid_framework()
    ready = make_round(framework, [make_school(1)], name="有学校")
    empty = make_round(framework, [], name="无学校")

    response = admin_client.post(
        admin_url(Round, "changelist"),
        {"action": "advance_phase", "_selected_action": [ready.pk, empty.pk]},
    )

    assert response.status_code == 302
    ready.refresh_from_db()
    empty.refresh_from_db()
    assert (ready.phase, empty.phase) == (RoundPhase.SELF_ASSESSMENT, RoundPhase.DRAFT)
    framework.refresh_from_db()
    assert framework.status == FrameworkStatus.FROZEN
    errors = message_texts(response, messages.ERROR)
    assert len(errors) == 1
    assert errors[0].startswith("无学校: ")
    assert AuditEvent.objects.filter(action="round.phase_advance").count() == 1


# --------------------------------------------------------------- assignments


@pytest.fixture
def group_setting(admin_user):
    school = make_school(1)
    framework = make_valid_framework()
    round = make_round(framework, [school])
    evaluator = User.objects.create_user("expert1")
    services.evaluation_group_member_add(round=round, actor=admin_user, user=evaluator)
    return round, school, evaluator


def test_the_assignment_form_refuses_a_conflicting_evaluator(admin_client, group_setting):
    round, school, evaluator = group_setting
    services.conflict_record(
        actor=None, evaluator=evaluator, school=school, reason="曾任该校专职教师"
    )
    events_before = AuditEvent.objects.count()

    response = admin_client.post(
        admin_url(Assignment, "add"),
        {"round": round.pk, "school": school.pk, "evaluator": evaluator.pk},
    )

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.errors["evaluator"]
    assert "曾任该校专职教师" in error
    assert Assignment.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_the_assignment_form_refuses_an_evaluator_affiliated_with_the_school(
    admin_client, admin_user
):
    school = make_school(1)
    round = make_round(make_valid_framework(), [school])
    evaluator = User.objects.create_user("expert1")
    services.evaluation_group_member_add(
        round=round,
        actor=admin_user,
        user=evaluator,
        affiliation="该校副校长",
        affiliated_school=school,
    )

    response = admin_client.post(
        admin_url(Assignment, "add"),
        {"round": round.pk, "school": school.pk, "evaluator": evaluator.pk},
    )

    assert response.status_code == 200
    assert "该校副校长" in response.context["adminform"].form.errors["evaluator"][0]
    assert Assignment.objects.count() == 0


def test_an_assignment_added_in_the_admin_goes_through_the_service(
    admin_client, admin_user, group_setting
):
    round, school, evaluator = group_setting

    response = admin_client.post(
        admin_url(Assignment, "add"),
        {"round": round.pk, "school": school.pk, "evaluator": evaluator.pk},
    )

    assert response.status_code == 302
    assignment = Assignment.objects.get()
    event = AuditEvent.objects.get(action="assignment.create")
    assert (event.actor, event.object_id) == (admin_user, str(assignment.pk))


def test_a_service_refusal_after_the_form_checks_is_shown_on_the_form(
    admin_client, group_setting, monkeypatch
):
    # A conflict recorded between the form's checks and the write (a race): the
    # service's refusal is shown on the evaluator field and nothing is written.
    round, school, evaluator = group_setting
    original = group_services.assignment_create

    def record_conflict_then_create(**kwargs):
        services.conflict_record(
            actor=None, evaluator=evaluator, school=school, reason="同一举办者"
        )
        return original(**kwargs)

    monkeypatch.setattr(group_services, "assignment_create", record_conflict_then_create)

    response = admin_client.post(
        admin_url(Assignment, "add"),
        {"round": round.pk, "school": school.pk, "evaluator": evaluator.pk},
    )

    assert response.status_code == 200
    assert "同一举办者" in response.context["adminform"].form.errors["evaluator"][0]
    assert Assignment.objects.count() == 0
    assert ConflictOfInterest.objects.count() == 0


def test_entering_a_recusal_reason_recuses_through_the_service(admin_client, group_setting):
    round, school, evaluator = group_setting
    assignment = services.assignment_create(
        round=round, actor=None, school=school, evaluator=evaluator
    )

    response = admin_client.post(
        admin_url(Assignment, "change", assignment.pk), {"recusal_reason": "本人申请回避"}
    )

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.status, assignment.recusal_reason) == (
        AssignmentStatus.RECUSED,
        "本人申请回避",
    )
    assert AuditEvent.objects.filter(action="assignment.recuse").count() == 1


def test_a_conflict_added_in_the_admin_recuses_open_assignments(admin_client, group_setting):
    round, school, evaluator = group_setting
    assignment = services.assignment_create(
        round=round, actor=None, school=school, evaluator=evaluator
    )

    response = admin_client.post(
        admin_url(ConflictOfInterest, "add"),
        {"evaluator": evaluator.pk, "school": school.pk, "kind": "detected", "reason": "亲属任职"},
    )

    assert response.status_code == 302
    assert ConflictOfInterest.objects.get().reason == "亲属任职"
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.RECUSED


# ------------------------------------------------------------------- scoring


def test_an_audit_score_outside_the_points_range_is_refused(admin_client, admin_user):
    # The admin shows audit scores only; they are given on the audit page, through
    # ``audit_score_set``, whose checks the admin's add form used to duplicate.
    school = make_school(1)
    framework = make_valid_framework()
    round = make_round(framework, [school])
    round_to_phase(round, RoundPhase.CONSOLIDATION)
    leaf = framework.indicators.get(code="A1.1")
    assert admin_client.get(admin_url(AuditScore, "add")).status_code == 403
    refused = admin_client.post(
        admin_url(AuditScore, "add"),
        {"round": round.pk, "school": school.pk, "indicator": leaf.pk, "points": "20"},
    )
    assert refused.status_code == 403
    url = reverse("sheets:audit_score", args=(round.pk, school.pk, leaf.pk))
    data = {"points": "26", "text": "复核扣分"}
    events = AuditEvent.objects.count()

    response = admin_client.post(url, data)

    assert response.status_code == 302
    (refusal,) = get_messages(response.wsgi_request)
    assert (refusal.level, str(refusal)) == (
        messages.ERROR,
        "A1.1: points must lie between 0 and 25.00.",
    )
    assert AuditScore.objects.count() == 0
    assert AuditEvent.objects.count() == events

    data["points"] = "20"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    score = AuditScore.objects.get()
    assert (score.points, score.max_points, score.auditor) == (
        Decimal(20),
        Decimal(25),
        admin_user,
    )
    assert AuditEvent.objects.filter(action="audit_score.set").count() == 1


@pytest.mark.parametrize(
    "model", [ScoreSheet, SelfAssessment, ConsensusScore, AuditScore, ResultSet]
)
def test_score_data_is_view_only(admin_client, admin_user, model):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False


# ----------------------------------------------------------------- audit trail


def test_the_audit_trail_refuses_add_change_and_delete(admin_client, admin_user):
    school = make_school(1)
    event = audit_record(actor=admin_user, action="school.update", obj=school)
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[AuditEvent]
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request, event) is False
    assert model_admin.has_delete_permission(request, event) is False

    assert admin_client.get(admin_url(AuditEvent, "add")).status_code == 403
    assert admin_client.post(admin_url(AuditEvent, "add"), {"action": "x"}).status_code == 403
    response = admin_client.get(admin_url(AuditEvent, "change", event.pk))
    assert response.status_code == 200
    assert 'name="action"' not in response.content.decode()
    response = admin_client.post(
        admin_url(AuditEvent, "change", event.pk),
        {"action": "forged", "object_type": "x", "object_id": "1"},
    )
    assert response.status_code == 403
    assert (
        admin_client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action == "school.update"
    assert AuditEvent.objects.count() == 1


def test_evidence_is_read_only_and_cannot_be_added(admin_client, admin_user, populated):
    evidence = Evidence.objects.get()
    assert admin_client.get(admin_url(Evidence, "add")).status_code == 403
    response = admin_client.get(admin_url(Evidence, "change", evidence.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "a" * 64 in content
    assert 'name="original_name"' not in content
    assert (
        admin_client.post(admin_url(Evidence, "delete", evidence.pk), {"post": "yes"}).status_code
        == 403
    )
    assert Evidence.objects.count() == 1


def test_the_audit_trail_changelist_has_a_date_hierarchy(admin_client, admin_user):
    audit_record(actor=admin_user, action="school.update", obj=make_school(1))
    response = admin_client.get(
        admin_url(AuditEvent, "changelist"), {"created_at__year": timezone.now().year}
    )
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
