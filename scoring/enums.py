from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


# Why a reliability figure could not be computed: the pure consistency module
# (no Django) says it in English; these marks put the texts in the catalogue so
# templates can show them translated ({% translate reliability.reason %}).
RELIABILITY_REASONS = (
    gettext_noop("fewer than 2 raters"),
    gettext_noop("fewer than 2 targets"),
    gettext_noop("scores do not vary"),
    gettext_noop("no target rated by the same 2 or more raters"),
)
