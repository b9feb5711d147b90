"""Benchmark: verifying the audit hash chain.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/xm_eval \
        .venv/bin/python bench/audit_verify.py [--events 100000]

Builds a chain of EVENTS events (realistic score changes with before/after
JSON) in a throw-away database, then times ``audit_verify`` over it and, as the
baseline of the same run, the bare fetch of the same columns. Prints events
per second (target ≥ 100,000/s). Then the same for a chain hashed with HMAC-SM3
(国密, keyed: ``AUDIT_HASH_ALGORITHM=sm3`` with ``AUDIT_HMAC_KEY``), which Python
hashes from the content PostgreSQL builds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _setup import median_time, scratch_database


def build_chain(count: int, algorithm: str = "sha256") -> None:
    from django.db import connection
    from django.utils import timezone

    from core import hashing
    from core.audit import GENESIS_HASH, _stored_values, event_content
    from core.models import AuditChainHead, AuditEvent

    with connection.cursor() as cursor:  # the owner may; the application's role may not
        cursor.execute("DELETE FROM xm_eval_auditchainhead")
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE xm_eval_auditevent")
        else:
            cursor.execute("DELETE FROM xm_eval_auditevent")
    digest = hashing.hasher(algorithm)
    start = timezone.now() - dt.timedelta(days=30)
    previous = GENESIS_HASH
    batch: list[AuditEvent] = []
    for sequence in range(1, count + 1):
        event = AuditEvent(
            sequence=sequence,
            created_at=start + dt.timedelta(seconds=sequence),
            actor=None,
            action="score.set",
            object_type="scoring.score",
            object_id=str(sequence),
            object_repr=f"A1.{sequence % 40}: 2.50",
            round_id=1,
            school_id=sequence % 300,
            before={
                "indicator": f"A1.{sequence % 40}",
                "points": "2.00",
                "not_applicable": False,
                "deduction_reason": "缺少执行记录",
            },
            after={
                "indicator": f"A1.{sequence % 40}",
                "points": "2.50",
                "not_applicable": False,
                "deduction_reason": "",
            },
            previous_hash=previous,
            algorithm=algorithm,
        )
        event.hash = digest(event_content(_stored_values(event), algorithm).encode())
        previous = event.hash
        batch.append(event)
        if len(batch) == 10_000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": count, "hash": previous})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from django.db import connection

    with scratch_database():
        from core.audit import HASHED_FIELDS, audit_verify
        from core.models import AuditEvent

        started = time.perf_counter()
        build_chain(args.events)
        print(
            f"backend: {connection.vendor}; built {args.events:,} chained events in "
            f"{time.perf_counter() - started:.1f} s"
        )

        def fetch() -> None:
            for _row in (
                AuditEvent.objects.order_by("sequence")
                .values_list("id", "hash", *HASHED_FIELDS)
                .iterator(chunk_size=5000)
            ):
                pass

        def in_python() -> None:
            audit_verify(in_database=False)

        report = audit_verify()
        assert report.ok and report.events == args.events, report
        assert audit_verify(in_database=False).ok
        floor = median_time(fetch, args.repeat)
        verify = median_time(audit_verify, args.repeat)
        python = median_time(in_python, args.repeat)
        print(f"fetch of the hashed columns (baseline)   median {floor:6.3f} s")
        print(
            f"audit_verify ({connection.vendor:10s})           median {verify:6.3f} s  "
            f"{args.events / verify:,.0f} events/s  (target ≥ 100,000)"
        )
        print(
            f"audit_verify walking the rows in Python   median {python:6.3f} s  "
            f"{args.events / python:,.0f} events/s"
        )

        from django.test.utils import override_settings

        with override_settings(AUDIT_HASH_ALGORITHM="sm3", AUDIT_HMAC_KEY="bench-key-" * 4):
            started = time.perf_counter()
            build_chain(args.events, "hmac-sm3")
            print(
                f"built {args.events:,} events hashed with HMAC-SM3 in "
                f"{time.perf_counter() - started:.1f} s"
            )
            report = audit_verify()
            assert report.ok and report.algorithms == ((1, "hmac-sm3"),), report
            sm3 = median_time(audit_verify, args.repeat)
        print(
            f"audit_verify, HMAC-SM3 ({connection.vendor:10s}) median {sm3:6.3f} s  "
            f"{args.events / sm3:,.0f} events/s  (target ≥ 100,000); "
            f"{sm3 / floor:.1f} × the fetch"
        )


if __name__ == "__main__":
    main()
