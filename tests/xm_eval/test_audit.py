"""The audit trail is a hash chain; PostgreSQL refuses to change it."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.audit import GENESIS_HASH, AuditChange, audit_record, audit_record_many, audit_verify
from core.models import AuditEvent
from schools.models import School
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def record_some(count: int = 5) -> list[AuditEvent]:
    school = SchoolFactory()
    return [
        audit_record(
            actor=None,
            action="school.test",
            obj=school,
            before={"n": i},
            after={"n": i + 1, "名称": "学校"},
            school_id=school.pk,
        )
        for i in range(count)
    ]


def test_events_form_a_chain():
    events = record_some(3)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].previous_hash == GENESIS_HASH
    assert events[1].previous_hash == events[0].hash
    assert events[2].previous_hash == events[1].hash
    assert len({e.hash for e in events}) == 3
    report = both_ways()
    assert report.ok and report.events == 3


def test_verify_command_passes_on_a_clean_chain(capsys):
    record_some(4)
    call_command("audit_verify")
    assert "4 event(s) verified" in capsys.readouterr().out


def _behind_the_application(sql: str, params: list) -> None:
    """Change the table directly, with the append-only trigger disabled on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER
            cursor.execute("ALTER TABLE xm_eval_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE xm_eval_auditevent ENABLE TRIGGER USER")


def both_ways():  # noqa: ANN201
    """The report of the database's own walk (PostgreSQL) and of Python's, which must agree."""
    python = audit_verify(in_database=False)
    if connection.vendor == "postgresql":
        assert audit_verify(in_database=True) == python
    return python


def test_an_altered_event_is_named():
    events = record_some(5)
    _behind_the_application(
        "UPDATE xm_eval_auditevent SET object_repr = %s WHERE id = %s", ["篡改", events[2].pk]
    )
    report = both_ways()
    assert not report.ok
    assert (report.broken.sequence, report.broken.event_id) == (3, events[2].pk)
    assert report.events == 2
    with pytest.raises(CommandError, match=rf"event #3 \(id {events[2].pk}\).*altered"):
        call_command("audit_verify")


def test_altered_json_content_is_detected():
    events = record_some(3)
    _behind_the_application(
        "UPDATE xm_eval_auditevent SET after = %s WHERE id = %s",
        ['{"n":99,"名称":"学校"}', events[1].pk],
    )
    assert both_ways().broken.sequence == 2


def test_a_deleted_event_is_detected_in_the_middle_and_at_the_end():
    events = record_some(4)
    _behind_the_application("DELETE FROM xm_eval_auditevent WHERE id = %s", [events[1].pk])
    assert both_ways().broken.sequence == 2
    _behind_the_application("DELETE FROM xm_eval_auditevent WHERE id > %s", [events[0].pk])
    report = both_ways()
    assert report.broken is not None and "removed" in report.broken.reason


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete():
    event = record_some(1)[0]
    for sql in (
        "UPDATE xm_eval_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM xm_eval_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    assert AuditEvent.objects.get(pk=event.pk).action == "school.test"
    assert School.objects.count() == 1


def test_json_is_stored_in_its_canonical_spelling():
    event = record_some(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT after FROM xm_eval_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone()[0] == '{"n":1,"名称":"学校"}'
    assert AuditEvent.objects.get(pk=event.pk).after == {"n": 1, "名称": "学校"}


def test_changing_a_single_character_anywhere_breaks_the_hash():
    from core.audit import HASHED_FIELDS, _stored_values, event_content

    event = record_some(1)[0]
    values = _stored_values(event)
    # shifting text between two neighbouring fields changes the content
    shifted = list(values)
    index = HASHED_FIELDS.index("object_type")
    shifted[index - 1] = values[index - 1] + values[index][:1]
    shifted[index] = values[index][1:]
    assert event_content(tuple(shifted)) != event_content(values)


def school_changes(count: int) -> list[AuditChange]:
    school = SchoolFactory()
    return [
        AuditChange("school.test", school, {"n": i}, {"n": i + 1, "名称": "学校"}, None, school.pk)
        for i in range(count)
    ]


def test_many_events_appended_at_once_continue_the_chain():
    first = record_some(2)
    many = audit_record_many(actor=None, changes=school_changes(3))
    last = record_some(1)[0]
    assert [e.sequence for e in many] == [3, 4, 5]
    assert [e.previous_hash for e in many] == [first[-1].hash, many[0].hash, many[1].hash]
    assert last.previous_hash == many[-1].hash
    stored = AuditEvent.objects.get(pk=many[1].pk)
    assert (stored.sequence, stored.action, stored.before, stored.after, stored.hash) == (
        4,
        "school.test",
        {"n": 1},
        {"n": 2, "名称": "学校"},
        many[1].hash,
    )
    report = both_ways()
    assert report.ok and report.events == 6


def test_appending_nothing_leaves_the_chain_as_it_was():
    record_some(2)
    assert audit_record_many(actor=None, changes=[]) == []
    report = both_ways()
    assert report.ok and report.events == 2


def test_an_altered_event_among_many_is_named():
    events = audit_record_many(actor=None, changes=school_changes(4))
    _behind_the_application(
        "UPDATE xm_eval_auditevent SET before = %s WHERE id = %s", ['{"n":7}', events[2].pk]
    )
    report = both_ways()
    assert (report.broken.sequence, report.broken.event_id) == (3, events[2].pk)


def test_many_events_cost_the_queries_of_one():
    def queries(count: int) -> int:
        changes = school_changes(count)
        with CaptureQueriesContext(connection) as captured:
            audit_record_many(actor=None, changes=changes)
        return len(captured.captured_queries)

    assert queries(1) == queries(50)
    assert both_ways().events == 51
