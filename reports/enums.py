from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    """The documents rendered from a result set."""

    SCHOOL_REPORT = "school_report", _("School report")
    ROUND_SUMMARY = "round_summary", _("Round summary")
    RECTIFICATION_NOTICE = "rectification_notice", _("Rectification notice")


# Documents about one school; the round summary is about the whole round.
SCHOOL_KINDS = (ReportKind.SCHOOL_REPORT, ReportKind.RECTIFICATION_NOTICE)


class RenderJobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
