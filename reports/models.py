"""Rendered report artifacts, the jobs that render them, and the group's opinion per school.

An artifact is one PDF rendered from one result-set version: a school report, a
rectification notice (both per school) or the round summary. The database keeps
exactly one per (result set, kind, school), so a task delivered twice, or run
again after a worker died, never leaves a second copy. Files live in the private
media storage and are served only through a permission-checked view.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.enums import SCHOOL_KINDS, RenderJobStatus, ReportKind


def artifact_upload_to(instance: "ReportArtifact", filename: str) -> str:
    return f"reports/{instance.result_set_id}/{filename}"


class ReportArtifact(models.Model):
    result_set = models.ForeignKey(
        "scoring.ResultSet",
        verbose_name=_("result set"),
        on_delete=models.PROTECT,
        related_name="report_artifacts",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_artifacts",
    )
    file = models.FileField(_("file"), upload_to=artifact_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    page_count = models.PositiveIntegerField(_("pages"))
    version = models.PositiveIntegerField(_("result-set version"))
    rendered_at = models.DateTimeField(_("rendered at"), auto_now_add=True)
    render_seconds = models.DecimalField(
        _("render time (s)"), max_digits=8, decimal_places=3, default=0
    )

    class Meta:
        verbose_name = _("report artifact")
        verbose_name_plural = _("report artifacts")
        ordering = ["result_set", "kind", "school__code"]
        constraints = [
            # NULL schools are distinct in a plain unique constraint, so the
            # round summary gets its own partial one.
            models.UniqueConstraint(
                fields=["result_set", "kind", "school"],
                condition=models.Q(school__isnull=False),
                name="report_artifact_unique_per_school",
            ),
            models.UniqueConstraint(
                fields=["result_set", "kind"],
                condition=models.Q(school__isnull=True),
                name="report_artifact_unique_per_round",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReportKind.values), name="report_artifact_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=SCHOOL_KINDS, school__isnull=False)
                | models.Q(kind=ReportKind.ROUND_SUMMARY, school__isnull=True),
                name="report_artifact_school_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="report_artifact_sha256_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(page_count__gte=1), name="report_artifact_has_pages"
            ),
        ]

    def __str__(self) -> str:
        school = f" {self.school}" if self.school_id else ""
        return f"{self.get_kind_display()}{school} (v{self.version})"


class RenderJob(models.Model):
    """A request to render every document of a result set; its progress survives reloads.

    ``documents`` lists what the job renders as ``[kind, school id or null]``
    pairs; what is done is counted from the artifacts, so a redelivered task
    never counts twice.
    """

    result_set = models.ForeignKey(
        "scoring.ResultSet",
        verbose_name=_("result set"),
        on_delete=models.PROTECT,
        related_name="render_jobs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    documents = models.JSONField(_("documents"), default=list)
    total = models.PositiveIntegerField(_("documents in total"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RenderJobStatus.choices,
        default=RenderJobStatus.RUNNING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Progress as a heartbeat: the last document stored or failed, the last re-send.
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    requeued_at = models.DateTimeField(_("last sent again at"), null=True, blank=True)
    requeue_count = models.PositiveIntegerField(_("times sent again"), default=0)

    class Meta:
        verbose_name = _("render job")
        verbose_name_plural = _("render jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RenderJobStatus.values),
                name="render_job_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.result_set} #{self.pk}"

    @property
    def last_activity(self) -> Any:
        """When the job last moved: started, stored or failed a document, or was sent again."""
        return max(t for t in (self.created_at, self.progress_at, self.requeued_at) if t)


class RenderFailure(models.Model):
    """A document of a job that could not be rendered after its retries."""

    job = models.ForeignKey(
        RenderJob, verbose_name=_("job"), on_delete=models.CASCADE, related_name="failures"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    error = models.TextField(_("error"))
    failed_at = models.DateTimeField(_("failed at"), auto_now=True)

    class Meta:
        verbose_name = _("render failure")
        verbose_name_plural = _("render failures")
        ordering = ["job", "kind", "school_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "kind", "school"],
                condition=models.Q(school__isnull=False),
                name="render_failure_unique_per_school",
            ),
            models.UniqueConstraint(
                fields=["job", "kind"],
                condition=models.Q(school__isnull=True),
                name="render_failure_unique_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job}: {self.kind} {self.school_id or ''}"


class GroupOpinion(models.Model):
    """The evaluation group's consolidated opinion on one school in a round (评估组意见).

    Written by the group leader (or the bureau) during consolidation and public
    notice; the school report quotes it. Kept here because nothing else in the
    data model holds it.
    """

    round = models.ForeignKey(
        "rounds.Round", verbose_name=_("round"), on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(
        "schools.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("consolidated opinion"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("group opinion")
        verbose_name_plural = _("group opinions")
        ordering = ["round", "school__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "school"], name="group_opinion_unique"),
            models.CheckConstraint(condition=~models.Q(text=""), name="group_opinion_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.school} ({self.round})"


class DocumentNumberCounter(models.Model):
    """The last number issued for one document kind in one year (发文字号的流水).

    One row per (kind, year), locked with ``select_for_update`` while a number is
    issued, so two documents never get the same number and none is skipped.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    year = models.PositiveIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("document number counter")
        verbose_name_plural = _("document number counters")
        ordering = ["kind", "year"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="document_counter_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReportKind.values), name="document_counter_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class DocumentNumber(models.Model):
    """The number and date of issue of one document of a result set, kept for good.

    Issued once per (result set, kind, school), before the document is first
    rendered; rendering it again shows the same number and date. Numbers run per
    kind and year of issue and are never reused (unique per kind, year, number).
    """

    result_set = models.ForeignKey(
        "scoring.ResultSet",
        verbose_name=_("result set"),
        on_delete=models.PROTECT,
        related_name="document_numbers",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveIntegerField(_("year of issue"))
    number = models.PositiveIntegerField(_("number"))
    prefix = models.CharField(_("prefix"), max_length=32)
    issued_on = models.DateField(_("date of issue"))

    class Meta:
        verbose_name = _("document number")
        verbose_name_plural = _("document numbers")
        ordering = ["kind", "year", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "number"], name="document_number_unique"
            ),
            models.UniqueConstraint(
                fields=["result_set", "kind", "school"],
                condition=models.Q(school__isnull=False),
                name="document_number_once_per_school",
            ),
            models.UniqueConstraint(
                fields=["result_set", "kind"],
                condition=models.Q(school__isnull=True),
                name="document_number_once_per_round",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="document_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReportKind.values), name="document_number_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The number as printed: 厦人社评整〔2026〕3号."""
        return f"{self.prefix}〔{self.year}〕{self.number}号"
