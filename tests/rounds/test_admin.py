"""Frameworks, rounds and groups in the admin: audited while they may change, fixed after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.utils import translation

from core.enums import Role
from core.errors import DomainError
from rectification.models import Rectification
from rounds import services
from rounds.admin import FROZEN_MESSAGE, ROUND_CLOSED_MESSAGE, ROUND_OPEN_MESSAGE
from rounds.enums import AssignmentStatus, ConsolidationMethod, RoundPhase
from rounds.models import (
    Assignment,
    ConflictOfInterest,
    EvaluationGroup,
    Framework,
    GroupMember,
    Indicator,
    Round,
)
from tests.admin_helpers import (
    actions,
    add_inline_row,
    admin_url,
    assert_chain_verifies,
    events_after,
    form_data,
    inline_rows,
    last_sequence,
)
from tests.factories import SchoolFactory, UserFactory, make_framework, make_round, round_to_phase

pytestmark = pytest.mark.django_db


def warnings(response) -> list[str]:
    return [
        str(message)
        for message in get_messages(response.wsgi_request)
        if message.level == messages.WARNING
    ]


def translated(response, text) -> str:
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return str(text)


def bureau():
    """A bureau admin to act through the services that only the bureau may call."""
    return UserFactory(roles=[Role.BUREAU_ADMIN])


def open_round(**kwargs) -> Round:
    """A round moved out of its draft phase by the service (its framework frozen)."""
    round = make_round(schools=kwargs.pop("schools", None) or [SchoolFactory()], **kwargs)
    return services.round_phase_advance(round=round, actor=bureau())


# --------------------------------------------------------------- frameworks


def test_a_framework_added_in_the_admin_is_recorded_with_its_indicators(admin_client, admin_user):
    data = form_data(admin_client.get(admin_url(Framework, "add")))
    data.update(
        {
            "name": "新体系",
            "policy_title": "办法",
            "valid_from": "2025-01-01",
            "valid_to": "2029-12-31",
            "total_points": "100",
        }
    )
    add_inline_row(
        data, "indicators", {"order": "0", "code": "A", "title_zh": "维度A", "max_points": "25"}
    )
    start = last_sequence()

    response = admin_client.post(admin_url(Framework, "add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    framework = Framework.objects.get(name="新体系")
    dimension = framework.indicators.get()
    framework_event, indicator_event = events_after(start)
    assert actions([framework_event, indicator_event]) == [
        ("framework.admin_create", str(framework.pk)),
        ("indicator.admin_create", str(dimension.pk)),
    ]
    assert framework_event.actor == admin_user
    assert framework_event.after["name"] == "新体系"
    assert framework_event.after["status"] == "draft"
    assert indicator_event.after["framework_id"] == framework.pk
    assert (indicator_event.after["max_points"], indicator_event.after["level"]) == ("25.00", 1)
    assert_chain_verifies()


def test_a_draft_framework_edit_records_each_changed_indicator(admin_client):
    framework = make_framework()
    url = admin_url(Framework, "change", framework.pk)
    response = admin_client.get(url)
    data = form_data(response)
    rows = inline_rows(response, "indicators")
    indicators = {indicator.code: indicator for indicator in framework.indicators.all()}
    moved = indicators["A1.1"]
    data["name"] = "改名的体系"
    data[f"indicators-{rows[moved.pk]}-parent"] = indicators["A"].pk
    data[f"indicators-{rows[moved.pk]}-max_points"] = "10"
    data[f"indicators-{rows[indicators['D'].pk]}-DELETE"] = "on"
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    events = events_after(start)
    deleted = ["D", "D1", "D1.1", "D1.2"]
    assert sorted(actions(events)) == sorted(
        [
            ("framework.update", str(framework.pk)),
            ("indicator.update", str(moved.pk)),
            *(("indicator.admin_delete", str(indicators[code].pk)) for code in deleted),
        ]
    )
    by_object = {(event.action, event.object_id): event for event in events}
    # The changes went through framework_update and indicator_update, by the admin user.
    update = by_object[("framework.update", str(framework.pk))]
    assert (update.before["name"], update.after["name"]) == (framework.name, "改名的体系")
    assert update.actor.is_superuser
    change = by_object[("indicator.update", str(moved.pk))]
    # The level follows the new parent; the trail has it as stored.
    changed = ("parent_id", "max_points", "level")
    assert {name: change.before[name] for name in changed} == {
        "parent_id": indicators["A1"].pk,
        "max_points": "12.50",
        "level": 3,
    }
    assert {name: change.after[name] for name in changed} == {
        "parent_id": indicators["A"].pk,
        "max_points": "10.00",
        "level": 2,
    }
    for code in deleted:
        event = by_object[("indicator.admin_delete", str(indicators[code].pk))]
        assert (event.before["code"], event.after) == (code, None)
    assert not Indicator.objects.filter(framework=framework, code__startswith="D").exists()
    assert_chain_verifies()


def test_a_frozen_framework_refuses_change_and_delete(admin_client):
    round = open_round()
    framework = round.framework
    leaf = framework.indicators.get(code="A1.1")
    start = last_sequence()

    response = admin_client.get(admin_url(Framework, "change", framework.pk))
    assert warnings(response) == [translated(response, FROZEN_MESSAGE % {"name": framework.name})]
    data = form_data(response)
    data["name"] = "改名"
    assert admin_client.post(admin_url(Framework, "change", framework.pk), data).status_code == 403
    delete = admin_client.post(admin_url(Framework, "delete", framework.pk), {"post": "yes"})
    assert delete.status_code == 403
    change = admin_client.post(
        admin_url(Indicator, "change", leaf.pk),
        {"framework": framework.pk, "code": "A1.1", "title_zh": "改", "max_points": "1"},
    )
    assert change.status_code == 403

    framework.refresh_from_db()
    leaf.refresh_from_db()
    assert (framework.name, leaf.max_points) == (round.framework.name, Decimal("12.50"))
    assert events_after(start) == []


def test_a_framework_under_an_open_round_is_locked_even_if_not_marked_frozen(admin_client):
    # A round moved past draft without the service (older data) still locks its framework.
    round = make_round(schools=[SchoolFactory()])
    # Deliberately not through round_phase_advance, which would freeze the framework: the
    # state of older data that this test is about.
    Round.objects.filter(pk=round.pk).update(phase=RoundPhase.EXPERT_SCORING)
    framework = round.framework
    assert not framework.is_frozen
    leaf = framework.indicators.get(code="A1.1")

    response = admin_client.get(admin_url(Framework, "change", framework.pk))
    assert warnings(response) == [translated(response, FROZEN_MESSAGE % {"name": framework.name})]
    assert response.context["has_change_permission"] is False
    data = form_data(admin_client.get(admin_url(Indicator, "change", leaf.pk)))
    data["max_points"] = "1"
    assert admin_client.post(admin_url(Indicator, "change", leaf.pk), data).status_code == 403
    delete = admin_client.post(admin_url(Indicator, "delete", leaf.pk), {"post": "yes"})
    assert delete.status_code == 403
    leaf.refresh_from_db()
    assert leaf.max_points == Decimal("12.50")

    # Nor can an indicator be added to it.
    data = form_data(admin_client.get(admin_url(Indicator, "add")))
    data.update({"framework": framework.pk, "code": "E", "title_zh": "新维度", "max_points": "1"})
    response = admin_client.post(admin_url(Indicator, "add"), data)
    assert response.status_code == 200
    assert "framework" in response.context["adminform"].form.errors
    assert not framework.indicators.filter(code="E").exists()


def test_moving_an_indicator_records_it_and_its_descendants_levels(admin_client, admin_user):
    framework = make_framework()
    indicators = {indicator.code: indicator for indicator in framework.indicators.all()}
    moved = indicators["A1"]
    url = admin_url(Indicator, "change", moved.pk)
    data = form_data(admin_client.get(url))
    data["parent"] = indicators["B1"].pk
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    events = events_after(start)
    assert sorted(actions(events)) == sorted(
        ("indicator.update", str(indicators[code].pk)) for code in ("A1", "A1.1", "A1.2")
    )
    by_object = {event.object_id: event for event in events}
    moved_event = by_object[str(moved.pk)]
    assert (moved_event.before["parent_id"], moved_event.before["level"]) == (
        indicators["A"].pk,
        2,
    )
    assert (moved_event.after["parent_id"], moved_event.after["level"]) == (
        indicators["B1"].pk,
        3,
    )
    for code in ("A1.1", "A1.2"):
        event = by_object[str(indicators[code].pk)]
        assert (event.before, event.after, event.actor) == ({"level": 3}, {"level": 4}, admin_user)
    assert_chain_verifies()


def test_an_indicator_deleted_in_the_admin_is_recorded_with_its_children(admin_client):
    framework = make_framework()
    indicators = {indicator.code: indicator for indicator in framework.indicators.all()}
    start = last_sequence()

    response = admin_client.post(
        admin_url(Indicator, "delete", indicators["C1"].pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert actions(events_after(start)) == [
        ("indicator.admin_delete", str(indicators[code].pk)) for code in ("C1", "C1.1", "C1.2")
    ]
    assert_chain_verifies()


# -------------------------------------------------------------------- rounds


def test_a_round_added_in_the_admin_is_recorded_with_its_phase_dates(admin_client, admin_user):
    framework = make_framework()
    school = SchoolFactory()
    data = form_data(admin_client.get(admin_url(Round, "add")))
    data.update(
        {
            "name": "后台新建轮次",
            "framework": framework.pk,
            "cycle_start": "2025",
            "cycle_end": "2027",
            "consolidation_method": ConsolidationMethod.MEAN,
            "spread_threshold": "0.30",
            "schools": [school.pk],
        }
    )
    add_inline_row(
        data,
        "phase_windows",
        {"phase": RoundPhase.SELF_ASSESSMENT, "starts_on": "2025-03-01", "ends_on": "2025-03-31"},
    )
    start = last_sequence()

    response = admin_client.post(admin_url(Round, "add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    round = Round.objects.get(name="后台新建轮次")
    window = round.phase_windows.get()
    round_event, window_event = events_after(start)
    assert actions([round_event, window_event]) == [
        ("round.admin_create", str(round.pk)),
        ("round.phase_window_set", str(window.pk)),
    ]
    assert round_event.actor == admin_user
    assert round_event.round_id == round.pk
    assert round_event.after["schools"] == [school.pk]
    assert round_event.after["consolidation_method"] == ConsolidationMethod.MEAN
    assert round_event.after["phase"] == RoundPhase.DRAFT
    assert (window_event.round_id, window_event.actor, window_event.before) == (
        round.pk,
        admin_user,
        None,
    )
    assert window_event.after == {
        "round_id": round.pk,
        "phase": RoundPhase.SELF_ASSESSMENT,
        "starts_on": "2025-03-01",
        "ends_on": "2025-03-31",
    }
    assert_chain_verifies()


def test_a_draft_round_edit_records_the_changed_settings_and_scope(admin_client):
    first, second = SchoolFactory(), SchoolFactory()
    round = make_round(schools=[first], consolidation_method=ConsolidationMethod.TRIMMED_MEAN)
    url = admin_url(Round, "change", round.pk)
    data = form_data(admin_client.get(url))
    data["consolidation_method"] = ConsolidationMethod.MEDIAN
    data["schools"] = [str(first.pk), str(second.pk)]
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    (event,) = events_after(start)
    assert (event.action, event.round_id) == ("round.admin_update", round.pk)
    assert event.before == {
        "consolidation_method": ConsolidationMethod.TRIMMED_MEAN,
        "schools": [first.pk],
    }
    assert event.after == {
        "consolidation_method": ConsolidationMethod.MEDIAN,
        "schools": sorted([first.pk, second.pk]),
    }
    assert_chain_verifies()


def test_an_open_round_keeps_its_method_and_scope_but_settings_change_on_the_record(
    admin_client,
):
    school, other = SchoolFactory(), SchoolFactory()
    round = open_round(schools=[school], consolidation_method=ConsolidationMethod.TRIMMED_MEAN)
    url = admin_url(Round, "change", round.pk)

    response = admin_client.get(url)
    assert warnings(response) == [translated(response, ROUND_OPEN_MESSAGE % {"name": round.name})]
    form = response.context["adminform"].form
    for name in ("framework", "consolidation_method", "schools", "cycle_start", "phase"):
        assert name not in form.fields, name

    data = form_data(response)
    data.update(
        {
            "consolidation_method": ConsolidationMethod.MEAN,
            "schools": [str(other.pk)],
            "framework": make_framework().pk,
            "cycle_start": "2026",
            "phase": RoundPhase.CLOSED,
            "peer_scores_visible": "on",
        }
    )
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    fixed = Round.objects.get(pk=round.pk)
    assert (
        fixed.consolidation_method,
        list(fixed.schools.all()),
        fixed.framework_id,
        fixed.cycle_start,
        fixed.phase,
    ) == (
        ConsolidationMethod.TRIMMED_MEAN,
        [school],
        round.framework_id,
        2025,
        RoundPhase.SELF_ASSESSMENT,
    )
    (event,) = events_after(start)
    assert (event.action, event.before, event.after) == (
        "round.admin_update",
        {"peer_scores_visible": False},
        {"peer_scores_visible": True},
    )
    assert_chain_verifies()


def test_phase_dates_of_an_open_round_change_on_the_record(admin_client):
    round = make_round(
        schools=[SchoolFactory()],
        phase_windows={RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 3, 31))},
    )
    round = services.round_phase_advance(round=round, actor=bureau())
    window = round.phase_windows.get()
    url = admin_url(Round, "change", round.pk)
    response = admin_client.get(url)
    data = form_data(response)
    data[f"phase_windows-{inline_rows(response, 'phase_windows')[window.pk]}-ends_on"] = (
        "2025-04-15"
    )
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    (event,) = events_after(start)
    assert (event.action, event.object_id, event.round_id) == (
        "round.phase_window_set",
        str(window.pk),
        round.pk,
    )
    assert (event.before["ends_on"], event.after["ends_on"]) == ("2025-03-31", "2025-04-15")
    assert_chain_verifies()


def test_a_closed_round_is_read_only(admin_client):
    round = round_to_phase(make_round(schools=[SchoolFactory()]), RoundPhase.CLOSED)
    url = admin_url(Round, "change", round.pk)
    start = last_sequence()

    response = admin_client.get(url)
    assert response.context["has_change_permission"] is False
    assert warnings(response) == [translated(response, ROUND_CLOSED_MESSAGE % {"name": round.name})]
    response = admin_client.post(url, {"name": "改名", "peer_scores_visible": "on"})
    assert response.status_code == 403
    response = admin_client.post(admin_url(Round, "delete", round.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Round.objects.filter(pk=round.pk).values_list("name", "peer_scores_visible").get() == (
        round.name,
        False,
    )
    assert events_after(start) == []


def test_deleting_a_draft_round_records_it_and_what_goes_with_it(admin_client, admin_user):
    school = SchoolFactory()
    round = make_round(
        schools=[school],
        phase_windows={RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 3, 31))},
    )
    evaluator = UserFactory()
    member = services.evaluation_group_member_add(round=round, actor=bureau(), user=evaluator)
    assignment = services.assignment_create(
        round=round, actor=None, school=school, evaluator=evaluator
    )
    window = round.phase_windows.get()
    start = last_sequence()

    response = admin_client.post(admin_url(Round, "delete", round.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Round.objects.filter(pk=round.pk).exists()
    events = events_after(start)
    assert events[0].action == "round.admin_delete"
    assert events[0].before["name"] == round.name
    assert events[0].before["schools"] == [school.pk]
    assert sorted(actions(events[1:])) == sorted(
        [
            ("phase_window.admin_delete", str(window.pk)),
            ("evaluation_group.admin_delete", str(member.group_id)),
            ("group_member.admin_delete", str(member.pk)),
            ("assignment.admin_delete", str(assignment.pk)),
        ]
    )
    by_action = {event.action: event for event in events}
    assert by_action["assignment.admin_delete"].round_id == round.pk
    assert by_action["assignment.admin_delete"].school_id == school.pk
    assert {event.actor for event in events} == {admin_user}
    assert_chain_verifies()


def test_an_open_round_cannot_be_deleted_alone_or_in_bulk(admin_client):
    draft = make_round(schools=[SchoolFactory()])
    opened = open_round()
    start = last_sequence()

    single = admin_client.post(admin_url(Round, "delete", opened.pk), {"post": "yes"})
    bulk = admin_client.post(
        admin_url(Round, "changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk, opened.pk], "post": "yes"},
    )

    assert (single.status_code, bulk.status_code) == (403, 403)
    assert Round.objects.filter(pk__in=[draft.pk, opened.pk]).count() == 2
    assert events_after(start) == []


# ---------------------------------------------------- groups and assignments


def test_evaluation_groups_are_view_only(admin_client):
    round = make_round(schools=[SchoolFactory()])
    member = services.evaluation_group_member_add(round=round, actor=bureau(), user=UserFactory())
    group = member.group
    start = last_sequence()

    assert admin_client.get(admin_url(EvaluationGroup, "add")).status_code == 403
    response = admin_client.get(admin_url(EvaluationGroup, "change", group.pk))
    assert response.status_code == 200
    (members,) = response.context["inline_admin_formsets"]
    assert (members.has_add_permission, members.has_change_permission) == (False, False)
    assert members.has_delete_permission is False
    change = admin_client.post(
        admin_url(EvaluationGroup, "change", group.pk),
        {
            "name": "改名",
            "round": round.pk,
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "1",
            "members-0-id": member.pk,
            "members-0-group": group.pk,
            "members-0-DELETE": "on",
        },
    )
    delete = admin_client.post(admin_url(EvaluationGroup, "delete", group.pk), {"post": "yes"})

    assert (change.status_code, delete.status_code) == (403, 403)
    group.refresh_from_db()
    assert group.name != "改名"
    assert GroupMember.objects.filter(pk=member.pk).exists()
    assert events_after(start) == []


@pytest.fixture
def assignment(db) -> Assignment:
    school = SchoolFactory()
    round = make_round(schools=[school])
    evaluator = UserFactory()
    services.evaluation_group_member_add(round=round, actor=bureau(), user=evaluator)
    return services.assignment_create(round=round, actor=None, school=school, evaluator=evaluator)


def test_an_assignment_added_in_the_admin_is_recorded_once_by_its_service(admin_client):
    school = SchoolFactory()
    round = make_round(schools=[school])
    evaluator = UserFactory()
    services.evaluation_group_member_add(round=round, actor=bureau(), user=evaluator)
    start = last_sequence()

    response = admin_client.post(
        admin_url(Assignment, "add"),
        {"round": round.pk, "school": school.pk, "evaluator": evaluator.pk},
    )

    assert response.status_code == 302
    assert actions(events_after(start)) == [("assignment.create", str(Assignment.objects.get().pk))]


def test_deleting_a_draft_rounds_assignment_is_recorded(admin_client, admin_user, assignment):
    start = last_sequence()

    response = admin_client.post(admin_url(Assignment, "delete", assignment.pk), {"post": "yes"})

    assert response.status_code == 302
    (event,) = events_after(start)
    assert (event.action, event.actor, event.round_id, event.school_id) == (
        "assignment.admin_delete",
        admin_user,
        assignment.round_id,
        assignment.school_id,
    )
    assert event.before["evaluator_id"] == assignment.evaluator_id
    assert event.before["status"] == AssignmentStatus.ACTIVE
    assert_chain_verifies()


def test_an_open_rounds_assignment_cannot_be_deleted(admin_client, assignment):
    services.round_phase_advance(round=assignment.round, actor=bureau())
    start = last_sequence()

    response = admin_client.post(admin_url(Assignment, "delete", assignment.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert events_after(start) == []


def test_conflicts_and_rectifications_cannot_be_changed_or_deleted(admin_client):
    school = SchoolFactory()
    round = make_round(schools=[school])
    conflict = services.conflict_record(
        actor=None, evaluator=UserFactory(), school=school, reason="曾任教"
    )
    rectification = Rectification.objects.create(
        round=round, school=school, deadline=dt.date(2026, 6, 30)
    )
    start = last_sequence()

    for model, obj, data in (
        (ConflictOfInterest, conflict, {"reason": "改"}),
        (Rectification, rectification, {"deadline": "2030-01-01"}),
    ):
        assert admin_client.post(admin_url(model, "change", obj.pk), data).status_code == 403
        response = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
        assert response.status_code == 403

    conflict.refresh_from_db()
    rectification.refresh_from_db()
    assert (conflict.reason, rectification.deadline) == ("曾任教", dt.date(2026, 6, 30))
    assert events_after(start) == []


def test_phase_dates_outside_the_framework_are_refused_by_the_services_rule(admin_client):
    round = make_round(schools=[SchoolFactory()])
    url = admin_url(Round, "change", round.pk)
    data = form_data(admin_client.get(url))
    add_inline_row(
        data,
        "phase_windows",
        {"phase": RoundPhase.SELF_ASSESSMENT, "starts_on": "2024-12-01", "ends_on": "2025-01-31"},
    )
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 200
    with pytest.raises(DomainError) as refusal:
        services.phase_window_check(
            framework=round.framework,
            phase=RoundPhase.SELF_ASSESSMENT,
            starts_on=dt.date(2024, 12, 1),
            ends_on=dt.date(2025, 1, 31),
        )
    (formset,) = response.context["inline_admin_formsets"]
    assert formset.formset.errors[-1]["starts_on"] == [str(refusal.value)]
    assert not round.phase_windows.exists()
    assert events_after(start) == []


def test_a_closed_rounds_phase_dates_are_refused_by_the_service(bureau_admin):
    round = round_to_phase(make_round(schools=[SchoolFactory()]), RoundPhase.CLOSED)
    start = last_sequence()
    with pytest.raises(DomainError) as error:
        services.round_phase_window_set(
            round=round,
            actor=bureau_admin,
            phase=RoundPhase.SELF_ASSESSMENT,
            starts_on=dt.date(2025, 3, 1),
            ends_on=dt.date(2025, 3, 31),
        )
    assert error.value.code == "round_closed"
    assert events_after(start) == []
