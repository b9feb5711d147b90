"""The audit chain keyed and anchored (issue 12, finding 3 and 国密): SHA-256 or SM3,
HMAC under a key the database does not hold, algorithm changes at a marked event, no
fall back from keyed to unkeyed, signed checkpoints outside the database, and no
TRUNCATE for a role that does not own the tables."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core import hashing
from core.audit import _stored_values, audit_record, audit_verify, event_content, event_hash
from core.audit_checkpoints import checkpoint_dir, checkpoint_write
from core.models import AuditChainHead, AuditEvent
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db
KEY = "a-key-the-database-never-sees-0123456789"


def record(count: int, start: int = 0) -> list[AuditEvent]:
    school = SchoolFactory()
    return [
        audit_record(
            actor=None,
            action="score.set",
            obj=school,
            before={"points": str(i)},
            after={"points": str(i + 1)},
            school_id=school.pk,
        )
        for i in range(start, start + count)
    ]


def both_ways():  # noqa: ANN201
    in_python = audit_verify(in_database=False)
    in_database = audit_verify(in_database=True) if connection.vendor == "postgresql" else None
    if in_database is not None:
        assert in_database == in_python
    return in_python


def rewrite_from(sequence: int, *, algorithm: str, key: bytes | None = None, after=None) -> None:
    """What an insider with write access to the database can do: change the event at
    ``sequence`` and recompute every hash from there on with ``algorithm`` (and ``key``,
    which they may not have), then the head."""
    events = list(AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"))
    previous = AuditEvent.objects.get(sequence=sequence - 1).hash if sequence > 1 else "0" * 64
    digest = hashing.hasher(algorithm, key) if hashing.is_keyed(algorithm) else None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE xm_eval_auditevent DISABLE TRIGGER USER")
        for event in events:
            if event.sequence == sequence and after is not None:
                event.after = after
            event.previous_hash = previous
            event.algorithm = algorithm
            content = event_content(_stored_values(event), algorithm).encode()
            event.hash = previous = (
                digest(content) if digest else event_hash(_stored_values(event), algorithm)
            )
            cursor.execute(
                "UPDATE xm_eval_auditevent SET after = %s, previous_hash = %s, algorithm = %s, "
                "hash = %s WHERE id = %s",
                [
                    json.dumps(event.after, separators=(",", ":"), ensure_ascii=False),
                    event.previous_hash,
                    algorithm,
                    event.hash,
                    event.pk,
                ],
            )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE xm_eval_auditevent ENABLE TRIGGER USER")
    AuditChainHead.objects.filter(pk=1).update(hash=previous)


def test_an_sm3_chain_records_its_algorithm_and_verifies(settings):
    settings.AUDIT_HASH_ALGORITHM = "sm3"
    events = record(3)
    assert {event.algorithm for event in events} == {"sm3"}
    report = both_ways()
    assert report.ok and report.events == 3 and report.algorithms == ((1, "sm3"),)
    rewrite_from(2, algorithm="sm3", after={"points": "10"})  # unkeyed: anyone can
    assert both_ways().ok  # which is why the chain should be keyed


def test_the_chain_changes_algorithm_at_a_marked_event_and_verifies_across(settings):
    record(2)  # sha256, the first chain's
    settings.AUDIT_HASH_ALGORITHM = "sm3"
    record(2, start=2)
    settings.AUDIT_HMAC_KEY = KEY
    record(2, start=4)
    settings.AUDIT_HASH_ALGORITHM = "sha256"
    record(1, start=6)
    report = both_ways()
    assert report.ok and report.events == 7
    assert report.algorithms == ((1, "sha256"), (3, "sm3"), (5, "hmac-sm3"), (7, "hmac-sha256"))


def test_a_keyed_chain_rewritten_without_the_key_is_caught(settings):
    settings.AUDIT_HASH_ALGORITHM = "sm3"
    settings.AUDIT_HMAC_KEY = KEY
    record(4)
    assert both_ways().ok
    # Recomputed with a guessed key: every hash from the edit on is wrong.
    rewrite_from(2, algorithm="hmac-sm3", key=b"guessed", after={"points": "10"})
    report = both_ways()
    assert report.broken.sequence == 2 and "does not match its hash" in report.broken.reason


def test_a_keyed_chain_may_not_fall_back_to_an_unkeyed_algorithm(settings):
    settings.AUDIT_HMAC_KEY = KEY
    record(4)
    rewrite_from(3, algorithm="sha256", after={"points": "10"})
    report = both_ways()
    assert report.broken.sequence == 3
    assert "falls back from the keyed hmac-sha256 to the unkeyed sha256" in report.broken.reason


def test_a_keyed_chain_cannot_be_verified_without_its_key(settings):
    settings.AUDIT_HMAC_KEY = KEY
    record(2)
    settings.AUDIT_HMAC_KEY = ""
    with pytest.raises(CommandError, match="AUDIT_HMAC_KEY"):
        call_command("audit_verify")


def test_a_whole_chain_rewritten_after_a_checkpoint_is_caught_by_the_checkpoint(settings, capsys):
    record(3)
    path = checkpoint_write()
    assert path is not None and path.parent == checkpoint_dir()
    assert checkpoint_write() is None  # the head did not move: nothing new to anchor
    record(1, start=3)
    call_command("audit_checkpoint")
    call_command("audit_verify")
    assert "2 signed checkpoint(s) hold" in capsys.readouterr().out
    # The insider relabels and recomputes the whole chain, head included: the chain
    # itself is consistent again, but not with what was written outside the database.
    rewrite_from(1, algorithm="sha256", after={"points": "99"})
    report = both_ways()
    assert report.broken.sequence == 3 and "rewritten" in report.broken.reason
    with pytest.raises(CommandError, match="rewritten"):
        call_command("audit_verify")


def test_an_altered_checkpoint_file_is_refused(settings):
    record(2)
    path = checkpoint_write()
    record_text = json.loads(path.read_text())
    record_text["sequence"] = 1
    path.write_text(json.dumps(record_text))
    report = audit_verify()
    assert report.broken is not None and "wrong signature" in report.broken.reason


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the delete")
def test_a_checkpoint_of_events_that_are_gone_is_caught(settings):
    record(3)
    checkpoint_write()
    AuditEvent.objects.filter(sequence=3).delete()
    AuditChainHead.objects.filter(pk=1).update(
        sequence=2, hash=AuditEvent.objects.get(sequence=2).hash
    )
    report = audit_verify()
    assert report.broken is not None and "is gone" in report.broken.reason


def test_check_deploy_warns_without_an_audit_key(settings):
    from core.checks import audit_key_check

    settings.AUDIT_HMAC_KEY = ""
    assert [message.id for message in audit_key_check()] == ["core.W001"]
    settings.AUDIT_HMAC_KEY = KEY
    assert audit_key_check() == []
    settings.AUDIT_HASH_ALGORITHM = "md5"
    assert [message.id for message in audit_key_check()] == ["core.E001"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and triggers are PostgreSQL's")
def test_a_role_that_owns_nothing_cannot_truncate_the_trail():
    record(2)
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS xm_eval_test_app")
        cursor.execute("CREATE ROLE xm_eval_test_app")
        # Even granted TRUNCATE by mistake, the trigger refuses it.
        cursor.execute(
            "GRANT SELECT, INSERT, TRUNCATE ON xm_eval_auditevent, xm_eval_auditchainhead "
            "TO xm_eval_test_app"
        )
    try:
        for table in ("xm_eval_auditevent", "xm_eval_auditchainhead"):
            with (
                pytest.raises(DatabaseError, match="TRUNCATE"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute("SET LOCAL ROLE xm_eval_test_app")
                cursor.execute(f"TRUNCATE {table}")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE xm_eval_test_app")
            cursor.execute("ALTER TABLE xm_eval_auditevent DISABLE TRIGGER USER")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(
                "REVOKE ALL ON xm_eval_auditevent, xm_eval_auditchainhead FROM xm_eval_test_app"
            )
            cursor.execute("DROP ROLE xm_eval_test_app")
    assert AuditEvent.objects.count() == 2
