from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReminderSent(models.Model):
    """A reminder e-mail that went out: one row per (kind, object, days before, recipient).

    The unique constraint is what makes a reminder go out once: the reminder job
    claims the row before sending, so a second run, a second beat or a restart
    finds it taken and sends nothing.
    """

    kind = models.CharField(_("kind"), max_length=32)
    object_id = models.BigIntegerField(_("object id"))
    days_before = models.PositiveSmallIntegerField(_("days before the deadline"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    deadline = models.DateField(_("deadline"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "days_before", "recipient"],
                name="reminder_sent_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id} −{self.days_before}d → {self.recipient_id}"


class NudgeSent(models.Model):
    """A reminder the bureau sent on demand (催办) from a round's monitoring page.

    At most one a day per person: the unique constraint on (recipient, day) is what
    holds it, so a second press the same day, or two admins pressing at once, skips
    whoever was reminded already.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sent_on = models.DateField(_("sent on"))
    kind = models.CharField(_("kind"), max_length=16)
    round = models.ForeignKey(
        "rounds.Round", verbose_name=_("round"), on_delete=models.CASCADE, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("reminder on demand")
        verbose_name_plural = _("reminders on demand")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "sent_on"], name="nudge_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sent_on} → {self.recipient_id}"
