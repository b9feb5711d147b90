from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RectificationStatus(models.TextChoices):
    NOTIFIED = "notified", _("Notified")
    SUBMITTED = "submitted", _("Report submitted")
    PASSED = "passed", _("Re-check passed")
    FAILED = "failed", _("Re-check failed")
    ESCALATED = "escalated", _("Licence revocation recommended")
    WITHDRAWN = "withdrawn", _("Withdrawn (the school is no longer unqualified)")


# Rectifications waiting for the school's report: their deadline can be missed.
RECTIFICATION_AWAITING_REPORT = (RectificationStatus.NOTIFIED, RectificationStatus.FAILED)


# Rectifications that are over, whatever their outcome.
RECTIFICATION_FINISHED = (
    RectificationStatus.PASSED,
    RectificationStatus.ESCALATED,
    RectificationStatus.WITHDRAWN,
)


class RectificationItemKind(models.TextChoices):
    """Why an item is to be rectified."""

    VETO_FAILED = "veto_failed", _("Failed veto item")
    BELOW_MARK = "below_mark", _("Observation point below the rectification mark")
    OVERALL = "overall", _("Overall result")


class EscalationReason(models.TextChoices):
    SECOND_FAILURE = "second_failure", _("The re-check failed a second time")
    DEADLINE_MISSED = "deadline_missed", _("No rectification report by the deadline")
