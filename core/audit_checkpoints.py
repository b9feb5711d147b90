"""Signed checkpoints of the audit chain's head, kept outside the database.

Whoever can write to the database might rewrite the chain and its head together; a
checkpoint written elsewhere (a file in ``AUDIT_CHECKPOINT_DIR``, by default in the
media store, and a log line, and an e-mail to ``AUDIT_CHECKPOINT_EMAILS``) records
the head's sequence and hash at a moment, signed with HMAC-SHA256 under a key the
database does not hold (``AUDIT_HMAC_KEY``, or one derived from ``SECRET_KEY``).
``audit_verify`` then checks that every checkpoint's event is still in the chain
with the same hash.

Checkpoints belong to one database: wiping the database for a fresh start means
removing its checkpoint folder too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from core.models import AuditChainHead, AuditEvent

logger = logging.getLogger("xm_eval.audit")
_PURPOSE = b"xm_eval audit checkpoint v1"


def checkpoint_dir() -> Path:
    configured = getattr(settings, "AUDIT_CHECKPOINT_DIR", "")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "audit-checkpoints"


def _key() -> bytes:
    secret = (getattr(settings, "AUDIT_HMAC_KEY", "") or settings.SECRET_KEY).encode()
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _payload_text(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign(payload: dict[str, Any]) -> str:
    return hmac.new(_key(), _payload_text(payload), hashlib.sha256).hexdigest()


def checkpoint_write(*, force: bool = False) -> Path | None:
    """Write a signed checkpoint of the chain's head; None when nothing changed since
    the last one (or the chain is empty) and ``force`` is off."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.sequence == 0:
        return None
    latest = latest_checkpoint()
    if latest is not None and latest["sequence"] == head.sequence and not force:
        return None
    algorithm = (
        AuditEvent.objects.filter(sequence=head.sequence)
        .values_list("algorithm", flat=True)
        .first()
    )
    now = timezone.now()
    payload = {
        "sequence": head.sequence,
        "hash": head.hash,
        "algorithm": algorithm,
        "written_at": now.isoformat(),
    }
    record = {**payload, "signature": sign(payload)}
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y%m%dT%H%M%S%f}-{head.sequence:012d}.json"
    path.write_text(json.dumps(record, indent=1))
    line = json.dumps(record, sort_keys=True)
    logger.info("audit checkpoint %s", line)
    recipients = getattr(settings, "AUDIT_CHECKPOINT_EMAILS", ())
    if recipients:
        send_mail(
            f"xm_eval audit checkpoint #{head.sequence}",
            line,
            None,
            list(recipients),
            fail_silently=True,
        )
    return path


def _records() -> list[tuple[Path, dict[str, Any] | None]]:
    folder = checkpoint_dir()
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append((path, json.loads(path.read_text())))
        except (OSError, ValueError):
            records.append((path, None))
    return records


def latest_checkpoint() -> dict[str, Any] | None:
    good = [record for _path, record in _records() if record is not None]
    return max(good, key=lambda record: record.get("sequence", 0)) if good else None


@dataclass(frozen=True, slots=True)
class CheckpointFailure:
    sequence: int
    reason: str


def checkpoints_check() -> tuple[int, CheckpointFailure | None]:
    """(how many checkpoints were checked, the first that does not hold)."""
    records = _records()
    wanted = {}
    for path, record in records:
        if record is None or not isinstance(record, dict):
            return 0, CheckpointFailure(0, f"checkpoint {path.name} cannot be read")
        payload = {key: record.get(key) for key in ("sequence", "hash", "algorithm", "written_at")}
        if not hmac.compare_digest(str(record.get("signature", "")), sign(payload)):
            return 0, CheckpointFailure(
                int(record.get("sequence") or 0),
                f"checkpoint {path.name} has a wrong signature (altered, or another key)",
            )
        wanted[payload["sequence"]] = payload
    stored = dict(
        AuditEvent.objects.filter(sequence__in=list(wanted)).values_list("sequence", "hash")
    )
    checked = 0
    for sequence in sorted(wanted):
        payload = wanted[sequence]
        if sequence not in stored:
            return checked, CheckpointFailure(
                sequence, f"event #{sequence}, checkpointed at {payload['written_at']}, is gone"
            )
        if stored[sequence] != payload["hash"]:
            return checked, CheckpointFailure(
                sequence,
                f"event #{sequence} no longer has the hash checkpointed at "
                f"{payload['written_at']} (the chain was rewritten)",
            )
        checked += 1
    return checked, None
