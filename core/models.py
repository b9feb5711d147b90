import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class CanonicalJSONField(models.TextField):
    """JSON kept as text in its canonical spelling.

    The audit chain hashes the stored text itself, so the database can verify
    the chain on its own (PostgreSQL's jsonb would re-spell the document).
    """

    def from_db_value(self, value, expression, connection):  # noqa: ANN001, ANN201
        return None if value is None else json.loads(value)

    def to_python(self, value):  # noqa: ANN001, ANN201
        if value is None or not isinstance(value, str):
            return value
        return json.loads(value)

    def get_prep_value(self, value):  # noqa: ANN001, ANN201
        return None if value is None else canonical_json(value)

    def value_to_string(self, obj):  # noqa: ANN001, ANN201
        return self.get_prep_value(self.value_from_object(obj))


class AuditEvent(models.Model):
    """One state change made through a service: who, what, on which object, when.

    Rows are only ever inserted (by ``xm_eval.audit.audit_record``) and form a
    hash chain: each row stores the SHA-256 of its own content together with
    the previous row's hash, so changing or removing a row breaks every later
    link (``manage.py audit_verify``). On PostgreSQL a trigger refuses UPDATE
    and DELETE on the table.
    """

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("time (UTC)"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    round_id = models.BigIntegerField(_("round"), null=True, blank=True, db_index=True)
    school_id = models.BigIntegerField(_("school"), null=True, blank=True, db_index=True)
    before = CanonicalJSONField(_("before"), null=True, blank=True)
    after = CanonicalJSONField(_("after"), null=True, blank=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    # core.hashing: how this event's hash was taken (the chain may change algorithm).
    algorithm = models.CharField(_("hash algorithm"), max_length=16, default="sha256")

    class Meta:
        db_table = "xm_eval_auditevent"  # kept from the app it was created in
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    """The last link of the audit chain: one row, locked while an event is appended.

    Locking it serialises appends across transactions, so two events can never
    claim the same predecessor.
    """

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "xm_eval_auditchainhead"  # kept from the app it was created in
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.hash[:12]}"
