"""Every admin either changes nothing, hands writes to a service, or is audited;
users and roles are audited; the audit trail itself is untouchable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import TokenProxy

from core.admin import AuditedAdminMixin
from core.audit import audit_record
from core.enums import Role
from core.models import AuditEvent
from rectification.models import Rectification
from reports.enums import ReportKind
from reports.models import (
    DocumentNumber,
    DocumentNumberCounter,
    GroupOpinion,
    RenderJob,
    ReportArtifact,
)
from reports.services import document_number_issue
from rounds import services
from rounds.enums import Grade, RoundPhase
from rounds.models import Assignment, ConflictOfInterest, EvaluationGroup, Evidence
from scoring.models import (
    AuditScore,
    ConsensusScore,
    ResultRow,
    ResultSet,
    ScoreSheet,
    SelfAssessment,
)
from tests.admin_helpers import (
    actions,
    admin_url,
    assert_chain_verifies,
    events_after,
    form_data,
    last_sequence,
)
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db

User = get_user_model()

# Admins whose writes go through a service that records its own audit event.
SERVICE_BACKED = {
    Assignment,  # assignment_create, assignment_recuse (and audited draft deletes)
    ConflictOfInterest,  # conflict_record
}
# Not domain data: API credentials, created by ``manage.py api_token``.
NOT_AUDITED = {TokenProxy}

VIEW_ONLY = [
    AuditEvent,
    Evidence,
    EvaluationGroup,
    Rectification,
    ScoreSheet,
    SelfAssessment,
    ConsensusScore,
    AuditScore,  # given on the audit page through audit_score_set
    ResultSet,
    ReportArtifact,
    RenderJob,
    GroupOpinion,
    DocumentNumber,  # issued by the render service, once per document
    DocumentNumberCounter,
]


def superuser_request(user) -> object:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_every_admin_is_view_only_service_backed_or_audited(admin_user):
    # A new admin fails here until someone decides which kind it is.
    request = superuser_request(admin_user)
    view_only, audited, other = set(), set(), set()
    for model, model_admin in admin.site._registry.items():
        if not (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        ):
            view_only.add(model)
        elif isinstance(model_admin, AuditedAdminMixin):
            audited.add(model)
        else:
            other.add(model)
    assert view_only == set(VIEW_ONLY)
    assert other == (SERVICE_BACKED | NOT_AUDITED) - audited


@pytest.fixture
def one_of_each(admin_user) -> dict[type, object]:
    """One row of every model whose admin is view-only."""
    school = SchoolFactory()
    round = make_round(schools=[school])
    leaf = round.framework.indicators.get(code="A1.1")
    evaluator = UserFactory()
    member = services.evaluation_group_member_add(round=round, actor=admin_user, user=evaluator)
    result_set = ResultSet.objects.create(round=round, version=1, consolidation_method="mean")
    ResultRow.objects.create(
        result_set=result_set, school=school, total=Decimal(88), grade=Grade.GOOD, rank=1,
        group_rank=1,
    )  # fmt: skip
    return {
        AuditEvent: audit_record(actor=admin_user, action="school.update", obj=school),
        Evidence: Evidence.objects.create(
            school=school,
            round=round,
            indicator=leaf,
            file="evidence/x",
            original_name="x.pdf",
            size=1,
            sha256="c" * 64,
            uploaded_by=admin_user,
        ),  # fmt: skip
        EvaluationGroup: member.group,
        Rectification: Rectification.objects.create(
            round=round, school=school, deadline=dt.date(2026, 6, 30)
        ),
        ScoreSheet: ScoreSheet.objects.create(round=round, school=school, evaluator=evaluator),
        SelfAssessment: SelfAssessment.objects.create(round=round, school=school),
        ConsensusScore: ConsensusScore.objects.create(
            round=round,
            school=school,
            indicator=leaf,
            points=Decimal(10),
            max_points=leaf.max_points,
            leader=evaluator,
            justification="合议",
        ),  # fmt: skip
        AuditScore: AuditScore.objects.create(
            round=round,
            school=school,
            indicator=leaf,
            points=Decimal(9),
            max_points=leaf.max_points,
            auditor=admin_user,
            reason="复核",
        ),  # fmt: skip
        ResultSet: result_set,
        ReportArtifact: ReportArtifact.objects.create(
            result_set=result_set,
            kind=ReportKind.ROUND_SUMMARY,
            file="reports/x.pdf",
            sha256="d" * 64,
            size=1,
            page_count=1,
            version=1,
        ),  # fmt: skip
        RenderJob: RenderJob.objects.create(
            result_set=result_set, requested_by=admin_user, total=1
        ),
        GroupOpinion: GroupOpinion.objects.create(
            round=round, school=school, text="意见", author=admin_user
        ),
        DocumentNumber: document_number_issue(result_set=result_set, kind=ReportKind.ROUND_SUMMARY),
        DocumentNumberCounter: DocumentNumberCounter.objects.get(kind=ReportKind.ROUND_SUMMARY),
    }


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda model: model._meta.label)
def test_a_view_only_admin_refuses_add_change_and_delete(admin_client, one_of_each, model):
    obj = one_of_each[model]
    stored = model._default_manager.filter(pk=obj.pk).values().get()
    count = model._default_manager.count()
    start = last_sequence()

    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "add"), {"reason": "x"}).status_code == 403
    change = admin_client.post(
        admin_url(model, "change", obj.pk), {"name": "x", "text": "x", "status": "x"}
    )
    assert change.status_code == 403
    delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
    assert delete.status_code == 403
    # No bulk delete either (the action is not offered; a forged post changes nothing).
    admin_client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )

    assert model._default_manager.filter(pk=obj.pk).values().get() == stored
    assert model._default_manager.count() == count
    assert events_after(start) == []
    assert_chain_verifies()


# ------------------------------------------------------------ users and roles


def test_a_user_added_in_the_admin_is_recorded_without_the_password_hash(admin_client, admin_user):
    start = last_sequence()

    response = admin_client.post(
        admin_url(User, "add"),
        {
            "username": "new-expert",
            "usable_password": "true",
            "password1": "Gy7#kp-2025-admin",
            "password2": "Gy7#kp-2025-admin",
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    user = User.objects.get(username="new-expert")
    (event,) = events_after(start)
    assert (event.action, event.object_id, event.actor) == (
        "user.admin_create",
        str(user.pk),
        admin_user,
    )
    assert event.after["username"] == "new-expert"
    assert event.after["groups"] == []
    assert "password" not in event.after
    assert user.password not in str(event.after)
    assert_chain_verifies()


def test_granting_a_role_in_the_admin_is_recorded(admin_client):
    user = UserFactory(username="future-admin", roles=[Role.EVALUATOR])
    # The admin's date and time fields have no microseconds: a saved user loses
    # them (the trail would say so), which is not what this test is about.
    User.objects.filter(pk=user.pk).update(date_joined=user.date_joined.replace(microsecond=0))
    evaluator, bureau = (
        Group.objects.get(name=name) for name in (Role.EVALUATOR, Role.BUREAU_ADMIN)
    )
    url = admin_url(User, "change", user.pk)
    data = form_data(admin_client.get(url))
    data["groups"] = [str(evaluator.pk), str(bureau.pk)]
    data["is_staff"] = "on"
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    (event,) = events_after(start)
    assert event.action == "user.admin_update"
    assert event.before == {"groups": [evaluator.pk], "is_staff": False}
    assert event.after == {"groups": sorted([evaluator.pk, bureau.pk]), "is_staff": True}
    assert_chain_verifies()


def test_a_password_set_in_the_admin_is_recorded_without_the_hash(admin_client, admin_user):
    user = UserFactory(username="forgetful")
    old_hash = user.password
    start = last_sequence()

    response = admin_client.post(
        admin_url(User, "password_change", user.pk),
        {"usable_password": "true", "password1": "Gy7#kp-2025-new", "password2": "Gy7#kp-2025-new"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password != old_hash
    (event,) = events_after(start)
    assert (event.action, event.object_id, event.actor) == (
        "user.admin_password_set",
        str(user.pk),
        admin_user,
    )
    assert (event.before, event.after) == (None, {"usable_password": True})
    assert_chain_verifies()


def test_deleting_a_user_records_the_staff_memberships_deleted_with_them(admin_client):
    membership = StaffMembershipFactory()
    user = membership.user
    start = last_sequence()

    response = admin_client.post(admin_url(User, "delete", user.pk), {"post": "yes"})

    assert response.status_code == 302
    events = events_after(start)
    assert actions(events) == [
        ("user.admin_delete", str(user.pk)),
        ("staff_membership.admin_delete", str(membership.pk)),
    ]
    assert "password" not in events[0].before
    assert events[1].school_id == membership.school_id
    assert_chain_verifies()


def test_a_user_who_acted_on_the_record_cannot_be_deleted(admin_client):
    user = UserFactory()
    audit_record(actor=user, action="school.update", obj=SchoolFactory())
    start = last_sequence()

    response = admin_client.post(admin_url(User, "delete", user.pk), {"post": "yes"})

    assert response.status_code == 200  # the page lists the protected audit events
    assert User.objects.filter(pk=user.pk).exists()
    assert events_after(start) == []


def test_changing_a_roles_permissions_is_recorded(admin_client):
    role = Group.objects.get(name=Role.SUPERVISOR)
    before = sorted(role.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(codename="change_round")
    url = admin_url(Group, "change", role.pk)
    data = form_data(admin_client.get(url))
    data["permissions"] = [str(pk) for pk in [*before, extra.pk]]
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    (event,) = events_after(start)
    assert (event.action, event.object_id) == ("group.admin_update", str(role.pk))
    assert event.before == {"permissions": before}
    assert event.after == {"permissions": sorted([*before, extra.pk])}
    assert_chain_verifies()


def test_an_audit_score_is_recorded_once_and_the_admin_cannot_add_or_change_it(
    admin_client, admin_user
):
    school = SchoolFactory()
    round = make_round(schools=[school])
    round.phase = RoundPhase.CONSOLIDATION
    round.save(update_fields=["phase"])
    leaf = round.framework.indicators.get(code="A1.1")
    start = last_sequence()
    add = admin_client.post(
        admin_url(AuditScore, "add"),
        {
            "round": round.pk,
            "school": school.pk,
            "indicator": leaf.pk,
            "points": "10",
            "reason": "复核",
        },
    )
    assert add.status_code == 403
    assert events_after(start) == []

    # The audit page of the school hands the score to audit_score_set.
    response = admin_client.post(
        reverse("sheets:audit_score", args=(round.pk, school.pk, leaf.pk)),
        {"points": "10", "text": "复核"},
    )

    assert response.status_code == 302
    score = AuditScore.objects.get()
    assert actions(events_after(start)) == [("audit_score.set", str(score.pk))]
    change = admin_client.post(admin_url(AuditScore, "change", score.pk), {"points": "1"})
    delete = admin_client.post(admin_url(AuditScore, "delete", score.pk), {"post": "yes"})
    assert (change.status_code, delete.status_code) == (403, 403)
    score.refresh_from_db()
    assert score.points == Decimal(10)
    assert actions(events_after(start)) == [("audit_score.set", str(score.pk))]
    assert_chain_verifies()
