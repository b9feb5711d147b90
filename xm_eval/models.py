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
