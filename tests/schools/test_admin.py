"""The school registry in the admin: every add, change and delete is in the audit trail."""

from __future__ import annotations

import pytest

from rounds.models import Evidence
from schools.enums import RankingGroup, SchoolKind, SchoolStatus
from schools.models import School, Specialty, StaffMembership
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
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory, make_round

pytestmark = pytest.mark.django_db


def test_adding_a_school_records_it_with_its_inline_rows(admin_client, admin_user):
    staff = UserFactory(username="staff-new")
    data = form_data(admin_client.get(admin_url(School, "add")))
    data.update(
        {
            "code": "X01",
            "name_zh": "新技工学校",
            "kind": SchoolKind.PRIVATE_TECHNICAL_SCHOOL,
            "ranking_group": RankingGroup.PRIVATE,
            "status": SchoolStatus.OPERATING,
        }
    )
    add_inline_row(data, "specialties", {"code": "0101", "name": "数控加工", "is_active": "on"})
    add_inline_row(data, "staff", {"user": staff.pk, "title": "教务处长"})
    start = last_sequence()

    response = admin_client.post(admin_url(School, "add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    school = School.objects.get(code="X01")
    specialty = Specialty.objects.get(school=school)
    membership = StaffMembership.objects.get(school=school)
    events = events_after(start)
    assert actions(events) == [
        ("school.admin_create", str(school.pk)),
        ("specialty.admin_create", str(specialty.pk)),
        ("staff_membership.admin_create", str(membership.pk)),
    ]
    school_event, specialty_event, membership_event = events
    assert school_event.actor == admin_user
    assert school_event.before is None
    assert school_event.after["name_zh"] == "新技工学校"
    assert school_event.after["code"] == "X01"
    assert {event.school_id for event in events} == {school.pk}
    assert specialty_event.after == {
        "school_id": school.pk,
        "code": "0101",
        "name": "数控加工",
        "established_year": None,
        "is_active": True,
    }
    assert membership_event.after == {
        "user_id": staff.pk,
        "school_id": school.pk,
        "title": "教务处长",
    }
    assert_chain_verifies()


def test_changing_a_school_records_only_the_changed_fields(admin_client, admin_user):
    school = SchoolFactory(name_zh="旧名", ranking_group=RankingGroup.PRIVATE)
    url = admin_url(School, "change", school.pk)
    data = form_data(admin_client.get(url))
    data.update({"name_zh": "新名", "ranking_group": RankingGroup.PUBLIC})
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    (event,) = events_after(start)
    assert (event.action, event.actor, event.school_id, event.round_id) == (
        "school.admin_update",
        admin_user,
        school.pk,
        None,
    )
    assert event.before == {"name_zh": "旧名", "ranking_group": RankingGroup.PRIVATE}
    assert event.after == {"name_zh": "新名", "ranking_group": RankingGroup.PUBLIC}
    assert_chain_verifies()


def test_saving_an_unchanged_school_records_nothing(admin_client):
    school = SchoolFactory()
    url = admin_url(School, "change", school.pk)
    data = form_data(admin_client.get(url))
    start = last_sequence()

    assert admin_client.post(url, data).status_code == 302

    assert events_after(start) == []


def test_inline_changes_and_deletions_are_recorded_with_the_school(admin_client):
    school = SchoolFactory()
    kept = Specialty.objects.create(school=school, code="01", name="电工")
    dropped = Specialty.objects.create(school=school, code="02", name="焊接")
    membership = StaffMembershipFactory(school=school, title="干事")
    url = admin_url(School, "change", school.pk)
    response = admin_client.get(url)
    data = form_data(response)
    specialties = inline_rows(response, "specialties")
    staff = inline_rows(response, "staff")
    data[f"specialties-{specialties[kept.pk]}-name"] = "电气自动化"
    data[f"specialties-{specialties[dropped.pk]}-DELETE"] = "on"
    data[f"staff-{staff[membership.pk]}-title"] = "教务处长"
    start = last_sequence()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    events = events_after(start)
    assert sorted(actions(events)) == sorted(
        [
            ("specialty.admin_delete", str(dropped.pk)),
            ("specialty.admin_update", str(kept.pk)),
            ("staff_membership.admin_update", str(membership.pk)),
        ]
    )
    by_action = {event.action: event for event in events}
    assert by_action["specialty.admin_update"].before == {"name": "电工"}
    assert by_action["specialty.admin_update"].after == {"name": "电气自动化"}
    assert by_action["specialty.admin_delete"].before["name"] == "焊接"
    assert by_action["specialty.admin_delete"].after is None
    assert by_action["staff_membership.admin_update"].before == {"title": "干事"}
    assert by_action["staff_membership.admin_update"].after == {"title": "教务处长"}
    assert {event.school_id for event in events} == {school.pk}
    assert not Specialty.objects.filter(pk=dropped.pk).exists()
    assert_chain_verifies()


def test_deleting_a_school_records_it_and_the_rows_deleted_with_it(admin_client):
    school = SchoolFactory()
    specialty = Specialty.objects.create(school=school, code="01", name="电工")
    membership = StaffMembershipFactory(school=school)
    start = last_sequence()

    response = admin_client.post(admin_url(School, "delete", school.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not School.objects.filter(pk=school.pk).exists()
    events = events_after(start)
    assert actions(events) == [
        ("school.admin_delete", str(school.pk)),
        ("specialty.admin_delete", str(specialty.pk)),
        ("staff_membership.admin_delete", str(membership.pk)),
    ]
    assert events[0].before["name_zh"] == school.name_zh
    assert {event.school_id for event in events} == {school.pk}
    assert_chain_verifies()


def test_a_school_in_a_rounds_scope_cannot_be_deleted(admin_client):
    school = SchoolFactory()
    make_round(schools=[school])
    start = last_sequence()

    assert admin_client.get(admin_url(School, "delete", school.pk)).status_code == 403
    response = admin_client.post(admin_url(School, "delete", school.pk), {"post": "yes"})

    assert response.status_code == 403
    assert School.objects.filter(pk=school.pk).exists()
    assert events_after(start) == []


def test_the_bulk_delete_of_schools_is_refused_when_one_is_in_a_rounds_scope(admin_client):
    free, scoped = SchoolFactory(), SchoolFactory()
    make_round(schools=[scoped])
    start = last_sequence()

    response = admin_client.post(
        admin_url(School, "changelist"),
        {"action": "delete_selected", "_selected_action": [free.pk, scoped.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert School.objects.filter(pk__in=[free.pk, scoped.pk]).count() == 2
    assert events_after(start) == []


def test_the_bulk_delete_of_schools_records_each_school(admin_client):
    schools = [SchoolFactory(), SchoolFactory()]
    start = last_sequence()

    response = admin_client.post(
        admin_url(School, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [school.pk for school in schools],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert School.objects.count() == 0
    assert sorted(actions(events_after(start))) == sorted(
        ("school.admin_delete", str(school.pk)) for school in schools
    )
    assert_chain_verifies()


def test_specialties_are_added_changed_and_deleted_on_the_record(admin_client, admin_user):
    school = SchoolFactory()
    data = form_data(admin_client.get(admin_url(Specialty, "add")))
    data.update({"school": school.pk, "code": "03", "name": "汽修", "is_active": "on"})
    start = last_sequence()

    assert admin_client.post(admin_url(Specialty, "add"), data).status_code == 302
    specialty = Specialty.objects.get(code="03")
    url = admin_url(Specialty, "change", specialty.pk)
    data = form_data(admin_client.get(url))
    data["established_year"] = "2012"
    data.pop("is_active")
    assert admin_client.post(url, data).status_code == 302
    response = admin_client.post(admin_url(Specialty, "delete", specialty.pk), {"post": "yes"})
    assert response.status_code == 302

    create, update, delete = events_after(start)
    assert (create.action, create.after["name"], create.school_id) == (
        "specialty.admin_create",
        "汽修",
        school.pk,
    )
    assert (update.action, update.before, update.after) == (
        "specialty.admin_update",
        {"established_year": None, "is_active": True},
        {"established_year": 2012, "is_active": False},
    )
    assert (delete.action, delete.before["established_year"], delete.school_id) == (
        "specialty.admin_delete",
        2012,
        school.pk,
    )
    assert {create.actor, update.actor, delete.actor} == {admin_user}
    assert_chain_verifies()


def test_staff_memberships_are_added_changed_and_deleted_on_the_record(admin_client):
    school, other = SchoolFactory(), SchoolFactory()
    user = UserFactory(username="staff-move")
    data = form_data(admin_client.get(admin_url(StaffMembership, "add")))
    data.update({"user": user.pk, "school": school.pk, "title": "干事"})
    start = last_sequence()

    assert admin_client.post(admin_url(StaffMembership, "add"), data).status_code == 302
    membership = StaffMembership.objects.get(user=user)
    url = admin_url(StaffMembership, "change", membership.pk)
    data = form_data(admin_client.get(url))
    data["school"] = other.pk
    assert admin_client.post(url, data).status_code == 302
    delete_url = admin_url(StaffMembership, "delete", membership.pk)
    response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302

    create, update, delete = events_after(start)
    assert (create.action, create.after, create.school_id) == (
        "staff_membership.admin_create",
        {"user_id": user.pk, "school_id": school.pk, "title": "干事"},
        school.pk,
    )
    # Moving a person to another school is one event, filed under the school it ends at.
    assert (update.action, update.before, update.after, update.school_id) == (
        "staff_membership.admin_update",
        {"school_id": school.pk},
        {"school_id": other.pk},
        other.pk,
    )
    assert (delete.action, delete.before["school_id"]) == (
        "staff_membership.admin_delete",
        other.pk,
    )
    assert_chain_verifies()


def test_evidence_cannot_be_changed_or_deleted_in_the_admin(admin_client, admin_user, tmp_path):
    school = SchoolFactory()
    round = make_round(schools=[school])
    evidence = Evidence.objects.create(
        school=school,
        round=round,
        indicator=round.framework.indicators.get(code="A1.1"),
        file="evidence/x",
        original_name="许可证.pdf",
        size=10,
        sha256="b" * 64,
        uploaded_by=admin_user,
    )
    start = last_sequence()

    change = admin_client.post(
        admin_url(Evidence, "change", evidence.pk), {"original_name": "改名.pdf"}
    )
    delete = admin_client.post(admin_url(Evidence, "delete", evidence.pk), {"post": "yes"})

    assert (change.status_code, delete.status_code) == (403, 403)
    evidence.refresh_from_db()
    assert evidence.original_name == "许可证.pdf"
    assert events_after(start) == []
