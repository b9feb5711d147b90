from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectification.enums import EscalationReason, RectificationItemKind, RectificationStatus
from rounds.models import Indicator, Round


class Rectification(models.Model):
    """A school's rectification (限期整改) after an unqualified result."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="rectifications"
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RectificationStatus.choices,
        default=RectificationStatus.NOTIFIED,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The published result set that made the school unqualified.
    result_set = models.ForeignKey(
        "scoring.ResultSet",
        verbose_name=_("result set"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    # The school's report (the latest attempt; earlier ones are in the audit trail).
    attempts = models.PositiveSmallIntegerField(_("reports submitted"), default=0)
    submitted_at = models.DateTimeField(_("report submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("report submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The group's re-check of the latest report.
    failures = models.PositiveSmallIntegerField(_("failed re-checks"), default=0)
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    rechecked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("re-checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recheck_comment = models.TextField(_("re-check opinion"), blank=True)
    # One extension, granted by the bureau with a reason.
    extended_deadline = models.DateField(_("extended deadline"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extensions_used = models.PositiveSmallIntegerField(_("extensions granted"), default=0)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("extended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    # Escalation: the recommendation to revoke the licence.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_reason = models.CharField(
        _("reason for escalation"), max_length=32, choices=EscalationReason.choices, blank=True
    )
    closing_note = models.TextField(_("note"), blank=True)

    class Meta:
        db_table = "rounds_rectification"  # kept from the app it was created in
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["round", "school"]
        constraints = [
            models.UniqueConstraint(fields=["round", "school"], name="rectification_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=RectificationStatus.values),
                name="rectification_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(extensions_used__lte=1), name="rectification_one_extension"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    extensions_used=0, extended_deadline__isnull=True, extension_reason=""
                )
                | (
                    models.Q(extensions_used=1, extended_deadline__gt=models.F("deadline"))
                    & ~models.Q(extension_reason="")
                ),
                name="rectification_extension_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(failures__lte=2), name="rectification_failures_lte_2"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=RectificationStatus.ESCALATED)
                    & models.Q(escalated_at__isnull=False)
                    & models.Q(escalation_reason__in=EscalationReason.values)
                )
                | (
                    ~models.Q(status=RectificationStatus.ESCALATED)
                    & models.Q(escalated_at__isnull=True, escalation_reason="")
                ),
                name="rectification_escalation_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} ({self.round})"

    @property
    def effective_deadline(self) -> dt.date:
        """The deadline in force: the extended one once granted."""
        return self.extended_deadline or self.deadline


def rectification_evidence_upload_to(instance: RectificationItem, filename: str) -> str:
    # Addressed by content hash, never by the uploader's file name (kept in a column).
    return f"rectification/{instance.rectification_id}/{instance.code}/{instance.evidence_sha256}"


class RectificationItem(models.Model):
    """One failed item of a rectification: what failed, the school's report on it
    with its evidence, and the group's re-check score."""

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("observation point"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    code = models.CharField(_("code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=RectificationItemKind.choices)
    order = models.PositiveIntegerField(_("order"), default=0)
    score_before = models.DecimalField(
        _("score in the result"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    max_points = models.DecimalField(_("maximum points"), max_digits=7, decimal_places=2)
    pass_mark = models.DecimalField(_("re-check pass mark"), max_digits=7, decimal_places=2)
    report = models.TextField(_("rectification report"), blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to=rectification_evidence_upload_to, max_length=255, blank=True
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)
    evidence_content_type = models.CharField(_("evidence type"), max_length=128, blank=True)
    evidence_size = models.PositiveBigIntegerField(_("evidence size (bytes)"), null=True)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    recheck_points = models.DecimalField(
        _("re-check score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    recheck_passed = models.BooleanField(_("re-check passed"), null=True)

    class Meta:
        db_table = "rounds_rectificationitem"  # kept from the app it was created in
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        ordering = ["rectification", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification", "code"], name="rectification_item_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=RectificationItemKind.values),
                name="rectification_item_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(pass_mark__gte=0, pass_mark__lte=models.F("max_points")),
                name="rectification_item_pass_mark_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(recheck_points__isnull=True)
                | models.Q(recheck_points__gte=0, recheck_points__lte=models.F("max_points")),
                name="rectification_item_recheck_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(evidence_sha256="")
                | models.Q(evidence_sha256__regex=r"^[0-9a-f]{64}$"),
                name="rectification_item_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rectification} · {self.code}"
