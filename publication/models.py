from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from publication.enums import ObjectionStatus, ObjectorKind
from scoring.models import ResultSet


class NoticePeriod(models.Model):
    """The public notice (公示) of a result set: the provisional results are public
    between ``starts_at`` and ``ends_at`` and anyone may object; publication waits
    for its end."""

    result_set = models.OneToOneField(
        ResultSet,
        verbose_name=_("result set"),
        on_delete=models.PROTECT,
        related_name="notice",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"))

    class Meta:
        db_table = "scoring_noticeperiod"  # kept from the app it was created in
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="notice_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.result_set} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class Objection(models.Model):
    """An objection (异议) to the results under public notice, by real name.

    The objector's identity (name, identity number, phone, organisation) is kept
    only as one Fernet token in ``identity_encrypted`` and the organisation's
    scanned seal only encrypted in ``seal_encrypted``; they are decrypted by
    ``scoring.publication.objection_identity`` for the bureau admins handling
    the objection and for nobody else. Nothing else here names the objector.
    """

    notice = models.ForeignKey(
        NoticePeriod,
        verbose_name=_("public notice"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school concerned"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    indicator = models.ForeignKey(
        "rounds.Indicator",
        verbose_name=_("indicator concerned"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    content = models.TextField(_("objection"))
    tracking_code = models.CharField(_("tracking code"), max_length=32, unique=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ObjectionStatus.choices,
        default=ObjectionStatus.RECEIVED,
    )
    objector_kind = models.CharField(
        _("objector"), max_length=16, choices=ObjectorKind.choices, default=ObjectorKind.PERSON
    )
    identity_encrypted = models.TextField(_("identity (encrypted)"))
    seal_encrypted = models.BinaryField(_("seal (encrypted)"), null=True, blank=True)
    seal_content_type = models.CharField(_("seal file type"), max_length=128, blank=True)
    filed_at = models.DateTimeField(_("filed at"))
    response = models.TextField(_("response"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    result_set_after = models.ForeignKey(
        ResultSet,
        verbose_name=_("corrected version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The new version computed after the objection was upheld."),
    )

    class Meta:
        db_table = "scoring_objection"  # kept from the app it was created in
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ObjectionStatus.values),
                name="objection_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(objector_kind__in=ObjectorKind.values),
                name="objection_objector_kind_valid",
            ),
            models.CheckConstraint(condition=~models.Q(content=""), name="objection_has_content"),
            models.CheckConstraint(
                condition=~models.Q(identity_encrypted=""), name="objection_has_identity"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[ObjectionStatus.RECEIVED, ObjectionStatus.UNDER_REVIEW]
                )
                | (
                    ~models.Q(response="")
                    & models.Q(responded_at__isnull=False, responded_by__isnull=False)
                ),
                name="objection_answered_has_response",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ObjectionStatus.UPHELD)
                | models.Q(result_set_after__isnull=False),
                name="objection_upheld_has_new_version",
            ),
            models.CheckConstraint(
                condition=~models.Q(objector_kind=ObjectorKind.ORGANISATION)
                | models.Q(seal_encrypted__isnull=False),
                name="objection_organisation_has_seal",
            ),
        ]
        indexes = [models.Index(fields=["notice", "status"])]

    def __str__(self) -> str:
        # Never the objector: this text reaches the audit trail.
        return f"{self.tracking_code} ({self.get_status_display()})"
