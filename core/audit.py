"""The audit trail: recording events into a hash chain, and verifying the chain.

Every service that changes state calls ``audit_record``, or ``audit_record_many``
for many changes at once. Each event's hash is taken over its canonical content
(sequence, time, actor, action, object, before, after) and the previous event's
hash; ``audit_verify`` recomputes the chain and names the first event whose
content or link does not match.

The hash algorithm is recorded on every event (``core.hashing``): SHA-256 or SM3,
keyed with HMAC when ``AUDIT_HMAC_KEY`` is set, a key the database does not hold,
so that whoever can write to the database cannot recompute a consistent chain. A
chain may change algorithm at an event (that event is the mark); it may never fall
back from keyed to unkeyed. Signed checkpoints of the head written outside the
database (``core.audit_checkpoints``) anchor it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core import hashing
from core.audit_checkpoints import checkpoints_check
from core.models import AuditChainHead, AuditEvent, canonical_json

GENESIS_HASH = "0" * 64
# The columns an event's hash covers, in this order.
HASHED_FIELDS = (
    "sequence",
    "created_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "round_id",
    "school_id",
    "before",
    "after",
    "previous_hash",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, float):
        # Floats do not survive a JSON round trip byte for byte; keep them as text.
        return repr(value)
    return value


def model_snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance`` as JSON-ready data (FKs as ids)."""
    names = fields or [
        field.attname for field in instance._meta.concrete_fields if field.name != "id"
    ]
    return {name: _jsonable(getattr(instance, name)) for name in names}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def _part(value: str | None) -> str:
    # Length-prefixed, so no choice of field contents can shift a boundary.
    return "-;" if value is None else f"{len(value)}:{value};"


def event_content(values: tuple, algorithm: str = hashing.LEGACY) -> str:
    """The text an event's hash is taken over, from its ``HASHED_FIELDS`` values.

    Every field as text, length-prefixed; the time as integer microseconds
    since the epoch; before/after as their stored canonical JSON; then, for every
    algorithm but the first chain's plain SHA-256, the algorithm's name, so an
    event cannot be relabelled. PostgreSQL builds the very same text in
    ``_PG_CONTENT``.
    """
    (
        sequence,
        created_at,
        actor_id,
        action,
        object_type,
        object_id,
        object_repr,
        round_id,
        school_id,
        before,
        after,
        previous_hash,
    ) = values
    micros = (created_at - _EPOCH) // _MICROSECOND
    return "".join(
        (
            _part(str(sequence)),
            _part(str(micros)),
            _part(None if actor_id is None else str(actor_id)),
            _part(action),
            _part(object_type),
            _part(object_id),
            _part(object_repr),
            _part(None if round_id is None else str(round_id)),
            _part(None if school_id is None else str(school_id)),
            _part(before),
            _part(after),
            _part(previous_hash),
            "" if algorithm == hashing.LEGACY else _part(algorithm),
        )
    )


def event_hash(values: tuple, algorithm: str = hashing.LEGACY) -> str:
    """The hash (hex) of an event's content under ``algorithm``; ``before``/``after``
    as canonical JSON text."""
    return hashing.digest(algorithm, event_content(values, algorithm).encode())


@dataclass(frozen=True, slots=True)
class AuditChange:
    """One change for ``audit_record_many``: what ``audit_record`` takes but the actor."""

    action: str
    obj: models.Model
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    round_id: int | None = None
    school_id: int | None = None


# Events per INSERT: keeps each statement's size bounded on a large upload.
_INSERT_BATCH = 1000


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    round_id: int | None = None,
    school_id: int | None = None,
) -> AuditEvent:
    """Append one event for a change of ``obj`` made by ``actor`` to the chain."""
    # Not atomic itself: audit_record_many is, and a second level would add a savepoint.
    change = AuditChange(action, obj, before, after, round_id, school_id)
    return audit_record_many(actor=actor, changes=[change])[0]


# Inside a caller's transaction (every service) no savepoint of its own: a failure here
# fails the whole change, which is what must happen, and the hot paths save two queries.
@transaction.atomic(savepoint=False)
def audit_record_many(*, actor: Any, changes: Sequence[AuditChange]) -> list[AuditEvent]:
    """Append one event per change made by ``actor``, in the given order, to the chain.

    The events are exactly those ``audit_record`` would append one by one
    (they share one time), but the chain head is locked and updated once and
    the events are inserted in batches, so the cost in queries does not grow
    with the number of changes. Every ``obj`` must have its primary key.
    """
    if not changes:
        return []
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"sequence": 0, "hash": GENESIS_HASH}
    )
    algorithm = hashing.current_algorithm()
    user = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    events = []
    sequence, previous_hash = head.sequence, head.hash
    for change in changes:
        sequence += 1
        event = AuditEvent(
            sequence=sequence,
            created_at=now,
            actor=user,
            action=change.action,
            object_type=change.obj._meta.label_lower,
            object_id=str(change.obj.pk),
            object_repr=str(change.obj)[:255],
            round_id=change.round_id,
            school_id=change.school_id,
            before=_jsonable(change.before) if change.before is not None else None,
            after=_jsonable(change.after) if change.after is not None else None,
            previous_hash=previous_hash,
            algorithm=algorithm,
        )
        event.hash = previous_hash = event_hash(_stored_values(event), algorithm)
        events.append(event)
    AuditEvent.objects.bulk_create(events, batch_size=_INSERT_BATCH)
    head.sequence, head.hash = sequence, previous_hash
    head.save(update_fields=["sequence", "hash"])
    return events


def _stored_values(event: AuditEvent) -> tuple:
    """The event's hashed values as they will be stored (JSON as canonical text)."""
    values = [getattr(event, name) for name in HASHED_FIELDS]
    for index in (HASHED_FIELDS.index("before"), HASHED_FIELDS.index("after")):
        if values[index] is not None:
            values[index] = canonical_json(values[index])
    return tuple(values)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the chain does not hold."""

    sequence: int
    event_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    broken: ChainBreak | None
    # (sequence, algorithm) of the first event and of every event that changed it.
    algorithms: tuple[tuple[int, str], ...] = ()
    checkpoints: int = 0  # signed checkpoints outside the database that were checked

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows(chunk_size: int) -> Iterator[tuple]:
    """(id, hash, algorithm, sequence, previous_hash, content) in sequence order."""
    fields = [f"{name}_text" if name in ("before", "after") else name for name in HASHED_FIELDS]
    for row in (
        AuditEvent.objects.order_by("sequence")
        .annotate(
            before_text=Cast("before", output_field=TextField()),
            after_text=Cast("after", output_field=TextField()),
        )
        .values_list("id", "hash", "algorithm", *fields)
        .iterator(chunk_size=chunk_size)
    ):
        yield row[0], row[1], row[2], row[3], row[14], event_content(row[3:], row[2])


def verify_chain(rows: Iterable[tuple], *, head: tuple[int, str] | None) -> ChainReport:
    """Walk ``(id, hash, algorithm, sequence, previous_hash, content)`` rows in sequence
    order; stop at the first break.

    Checks that sequences run 1, 2, 3 … without gaps (a deleted event), that each event
    names its predecessor's hash, that its stored hash matches its content under its
    algorithm, that the chain never falls back from a keyed algorithm to an unkeyed one
    (a rewrite by someone without the key), and that the chain ends where the head says
    (a deleted tail).
    """
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    count = 0
    marks: list[tuple[int, str]] = []
    hashers: dict[str, Any] = {}
    current = None
    for event_id, stored_hash, algorithm, sequence, previous_hash, content in rows:
        if sequence != expected_sequence:
            return ChainReport(
                count,
                ChainBreak(
                    expected_sequence,
                    event_id,
                    f"event #{expected_sequence} is missing (found #{sequence} next)",
                ),
                tuple(marks),
            )
        if previous_hash != expected_previous:
            return ChainReport(
                count,
                ChainBreak(sequence, event_id, "does not link to the previous event's hash"),
                tuple(marks),
            )
        if algorithm != current:
            if algorithm not in hashing.ALGORITHMS:
                reason = f"unknown hash algorithm {algorithm!r}"
                return ChainReport(count, ChainBreak(sequence, event_id, reason), tuple(marks))
            if (
                current is not None
                and hashing.is_keyed(current)
                and not hashing.is_keyed(algorithm)
            ):
                reason = f"falls back from the keyed {current} to the unkeyed {algorithm}"
                return ChainReport(count, ChainBreak(sequence, event_id, reason), tuple(marks))
            if algorithm not in hashers:
                hashers[algorithm] = hashing.hasher(algorithm)
            digest = hashers[algorithm]
            current = algorithm
            marks.append((sequence, algorithm))
        if digest(content.encode()) != stored_hash:
            return ChainReport(
                count,
                ChainBreak(sequence, event_id, "its content does not match its hash (altered)"),
                tuple(marks),
            )
        expected_previous = stored_hash
        expected_sequence += 1
        count += 1
    if head is not None and (head[0] != count or head[1] != expected_previous):
        return ChainReport(
            count,
            ChainBreak(
                count + 1,
                None,
                f"the chain ends at #{count} but its head records #{head[0]} (events removed)",
            ),
            tuple(marks),
        )
    return ChainReport(count, None, tuple(marks))


def _pg_part(expression: str) -> str:
    return (
        f"CASE WHEN {expression} IS NULL THEN '-;' "
        f"ELSE length({expression})::text || ':' || {expression} || ';' END"
    )


# event_content, spelled in SQL.
_PG_CONTENT = (
    " || ".join(
        _pg_part(expression)
        for expression in (
            "sequence::text",
            "((extract(epoch FROM created_at) * 1000000)::bigint)::text",
            "actor_id::text",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "round_id::text",
            "school_id::text",
            "before",
            "after",
            "previous_hash",
        )
    )
    + f" || CASE WHEN algorithm = '{hashing.LEGACY}' THEN '' ELSE {_pg_part('algorithm')} END"
)
# A chain of plain SHA-256 only: PostgreSQL recomputes every hash itself.
_PG_FIRST_BREAK = f"""
    WITH chain AS (
        SELECT id, sequence, hash, previous_hash,
               row_number() OVER (ORDER BY sequence) AS position,
               lag(hash, 1, %s) OVER (ORDER BY sequence) AS expected_previous,
               encode(sha256(convert_to({_PG_CONTENT}, 'UTF8')), 'hex') AS recomputed
        FROM xm_eval_auditevent
    )
    SELECT position, sequence, id, expected_previous = previous_hash, recomputed = hash
    FROM chain
    WHERE sequence <> position OR previous_hash <> expected_previous OR recomputed <> hash
    ORDER BY sequence
    LIMIT 1
"""
_PG_TAIL = """
    SELECT count(*), (SELECT hash FROM xm_eval_auditevent ORDER BY sequence DESC LIMIT 1)
    FROM xm_eval_auditevent
"""
# Any other chain: PostgreSQL builds each event's content, Python hashes it (SM3 and
# the keyed algorithms are not PostgreSQL's).
_PG_CONTENT_ROWS = f"""
    SELECT id, hash, algorithm, sequence, previous_hash, {_PG_CONTENT}
    FROM xm_eval_auditevent ORDER BY sequence
"""


def _pg_content_rows(chunk_size: int) -> Iterator[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_PG_CONTENT_ROWS)
        while chunk := cursor.fetchmany(chunk_size):
            yield from chunk


def _verify_in_postgresql(head: tuple[int, str] | None) -> ChainReport:
    with connection.cursor() as cursor:
        cursor.execute(_PG_FIRST_BREAK, [GENESIS_HASH])
        found = cursor.fetchone()
        cursor.execute(_PG_TAIL)
        count, last_hash = cursor.fetchone()
    marks = ((1, hashing.LEGACY),) if count else ()
    if found is not None:
        position, sequence, event_id, linked, matches = found
        if sequence != position:
            reason = f"event #{position} is missing (found #{sequence} next)"
            return ChainReport(position - 1, ChainBreak(position, event_id, reason), marks)
        if not linked:
            reason = "does not link to the previous event's hash"
        else:
            reason = "its content does not match its hash (altered)"
        return ChainReport(position - 1, ChainBreak(sequence, event_id, reason), marks)
    if head is not None and (head[0] != count or head[1] != (last_hash or GENESIS_HASH)):
        return ChainReport(
            count,
            ChainBreak(
                count + 1,
                None,
                f"the chain ends at #{count} but its head records #{head[0]} (events removed)",
            ),
            marks,
        )
    return ChainReport(count, None, marks)


def audit_verify(
    *, chunk_size: int = 5000, in_database: bool | None = None, checkpoints: bool = True
) -> ChainReport:
    """Verify the whole stored chain (read-only), then the signed checkpoints of it kept
    outside the database (``core.audit_checkpoints``).

    On PostgreSQL the database builds each event's content (and, for a chain of plain
    SHA-256 only, recomputes every hash itself, in one query); elsewhere, or with
    ``in_database=False``, Python builds and hashes it. All name the same first break.
    """
    head = AuditChainHead.objects.filter(pk=1).values_list("sequence", "hash").first()
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    if not in_database:
        report = verify_chain(_rows(chunk_size), head=head)
    elif not AuditEvent.objects.exclude(algorithm=hashing.LEGACY).exists():
        report = _verify_in_postgresql(head)
    else:
        report = verify_chain(_pg_content_rows(chunk_size), head=head)
    if not checkpoints or not report.ok:
        return report
    checked, failure = checkpoints_check()
    broken = None if failure is None else ChainBreak(failure.sequence, None, failure.reason)
    return ChainReport(report.events, broken, report.algorithms, checked)
