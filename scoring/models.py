"""Score sheets and scores of every layer, and the stored result sets.

Every table of points carries ``max_points`` copied from the observation point
when the row is written (the framework is frozen by then), so the database
itself refuses points outside 0 … maximum.
"""

from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from rounds.enums import Grade
from scoring.enums import SheetStatus

POINTS = {"max_digits": 7, "decimal_places": 2}


def points_constraints(prefix: str) -> list[models.BaseConstraint]:
    """Points in 0 … max_points, and no points on a not-applicable row."""
    return [
        models.CheckConstraint(
            condition=models.Q(points__isnull=True)
            | models.Q(points__gte=0, points__lte=models.F("max_points")),
            name=f"{prefix}_points_in_range",
        ),
        models.CheckConstraint(
            condition=models.Q(not_applicable=False) | models.Q(points__isnull=True),
            name=f"{prefix}_not_applicable_has_no_points",
        ),
    ]


class PointsRow(models.Model):
    indicator = models.ForeignKey(
        "rounds.Indicator",
        verbose_name=_("observation point"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    points = models.DecimalField(_("points"), null=True, blank=True, **POINTS)
    max_points = models.DecimalField(_("maximum points"), **POINTS)
    not_applicable = models.BooleanField(_("not applicable"), default=False)

    class Meta:
        abstract = True


class ScoreSheet(models.Model):
    """One evaluator's scores for one school in one round."""

    round = models.ForeignKey(
        "rounds.Round",
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="score_sheets",
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="score_sheets",
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="score_sheets",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SheetStatus.choices, default=SheetStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        ordering = ["round", "school", "evaluator"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "school", "evaluator"], name="score_sheet_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status=SheetStatus.DRAFT, submitted_at__isnull=True)
                | models.Q(status=SheetStatus.SUBMITTED, submitted_at__isnull=False),
                name="score_sheet_submitted_has_time",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="score_sheet_version"),
        ]

    def __str__(self) -> str:
        return f"{self.school} / {self.evaluator}"


class Score(PointsRow):
    sheet = models.ForeignKey(
        ScoreSheet, verbose_name=_("score sheet"), on_delete=models.CASCADE, related_name="scores"
    )
    deduction_reason = models.TextField(_("reason for deduction"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "indicator"], name="score_unique"),
            *points_constraints("score"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.points}"


class SelfAssessment(models.Model):
    """A school's own assessment (自评) in a round."""

    round = models.ForeignKey(
        "rounds.Round",
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="self_assessments",
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="self_assessments",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SheetStatus.choices, default=SheetStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")
        constraints = [
            models.UniqueConstraint(fields=["round", "school"], name="self_assessment_unique"),
            models.CheckConstraint(
                condition=models.Q(status=SheetStatus.DRAFT, submitted_at__isnull=True)
                | models.Q(status=SheetStatus.SUBMITTED, submitted_at__isnull=False),
                name="self_assessment_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} ({self.round})"


class SelfScore(PointsRow):
    self_assessment = models.ForeignKey(
        SelfAssessment,
        verbose_name=_("self-assessment"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("self score")
        verbose_name_plural = _("self scores")
        constraints = [
            models.UniqueConstraint(
                fields=["self_assessment", "indicator"], name="self_score_unique"
            ),
            *points_constraints("self_score"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.points}"


class ConsensusScore(PointsRow):
    """The group leader's consensus score; overrides the experts' consolidation."""

    round = models.ForeignKey(
        "rounds.Round", verbose_name=_("round"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        "schools.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    justification = models.TextField(_("justification"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("consensus score")
        verbose_name_plural = _("consensus scores")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "school", "indicator"], name="consensus_score_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(justification=""), name="consensus_justification_required"
            ),
            *points_constraints("consensus_score"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.points}"


class AuditScore(PointsRow):
    """The bureau's audit score (审核分); overrides consensus and experts."""

    round = models.ForeignKey(
        "rounds.Round", verbose_name=_("round"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        "schools.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auditor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit score")
        verbose_name_plural = _("audit scores")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "school", "indicator"], name="audit_score_unique"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="audit_reason_required"),
            *points_constraints("audit_score"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.points}"


class ResultSet(models.Model):
    """One immutable computation of a round's results; a new version each time."""

    round = models.ForeignKey(
        "rounds.Round",
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="result_sets",
    )
    version = models.PositiveIntegerField(_("version"))
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("computed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    consolidation_method = models.CharField(_("consolidation method"), max_length=16)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    trim_min_count = models.PositiveSmallIntegerField(_("scores needed to trim"), default=5)
    veto_ranks_last = models.BooleanField(_("failed veto ranked last"), default=True)
    tie_break_by_dimension = models.BooleanField(_("ties broken by dimension"), default=False)
    spread_threshold = models.DecimalField(
        _("spread flag threshold"), max_digits=4, decimal_places=2, default=Decimal("0.30")
    )
    missing_scores = models.JSONField(_("missing scores"), default=list, blank=True)
    statistics = models.JSONField(_("consistency statistics"), default=dict, blank=True)
    # A correction (after an upheld objection, or after publication) is a new
    # version that names the version it replaces and why; the replaced version
    # stays readable and is marked superseded (``superseded_by`` is set).
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    # Published although some school's scoring was incomplete: the bureau's recorded
    # reason (empty when every score was in).
    incomplete_publication_reason = models.TextField(
        _("reason for publishing with incomplete scores"), blank=True
    )

    class Meta:
        verbose_name = _("result set")
        verbose_name_plural = _("result sets")
        ordering = ["round", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="result_set_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="result_set_version"),
            models.CheckConstraint(
                condition=models.Q(is_published=False) | models.Q(published_at__isnull=False),
                name="result_set_published_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(supersedes__isnull=True) | ~models.Q(correction_reason=""),
                name="result_set_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} v{self.version}"

    @property
    def is_superseded(self) -> bool:
        """Replaced by a later version (a correction); reads the reverse one-to-one."""
        try:
            return self.superseded_by is not None
        except ObjectDoesNotExist:
            return False


class RowJSONField(models.JSONField):
    """A JSONField that keeps bulk inserts on plain VALUES placeholders.

    On PostgreSQL Django bulk-inserts through UNNEST of arrays, which quotes
    every JSON document into an array literal in Python; for result rows that
    costs seconds per large round. Having ``get_placeholder`` opts out.
    """

    def get_placeholder(self, value, compiler, connection):  # noqa: ANN001, ANN201
        return "%s"


class ResultRow(models.Model):
    """One school's result in a result set."""

    result_set = models.ForeignKey(
        ResultSet, verbose_name=_("result set"), on_delete=models.CASCADE, related_name="rows"
    )
    school = models.ForeignKey(
        "schools.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    total = models.DecimalField(_("total"), **POINTS)
    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices)
    rank = models.PositiveIntegerField(_("rank"))
    group_rank = models.PositiveIntegerField(_("rank in group"))
    rank_note = models.CharField(_("ranking note"), max_length=255, blank=True)
    veto_failed = RowJSONField(_("failed veto items"), default=list, blank=True)
    dimension_subtotals = RowJSONField(_("dimension subtotals"), default=dict)
    # Every node of the tree: code → [score, status, layer], the score rounded
    # to two places as text (null when not applicable), the layer that won on
    # an observation point (null on parents). Read it through ``node()``, which
    # also reads the first format (code → {"score", "max", "status", "layer"}).
    indicator_scores = RowJSONField(_("indicator scores"), default=dict)
    self_gap = RowJSONField(_("self vs expert gap"), default=dict)
    is_complete = models.BooleanField(_("complete"), default=True)
    group = models.CharField(_("ranking group"), max_length=16, blank=True)
    # The rows that went into this school's figures (expert, consensus, audit
    # and self scores, expected evaluators) as zlib-compressed JSON, so any
    # number can be explained later exactly as it was computed, whatever
    # happens to the score tables afterwards. Compressed because a large round
    # stores 300,000 scores per computation.
    inputs = models.BinaryField(_("inputs"))

    class Meta:
        verbose_name = _("result row")
        verbose_name_plural = _("result rows")
        ordering = ["result_set", "rank", "school"]
        constraints = [
            models.UniqueConstraint(fields=["result_set", "school"], name="result_row_unique"),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="result_total_gte_0"),
            models.CheckConstraint(
                condition=models.Q(grade__in=Grade.values), name="result_grade_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(rank__gte=1, group_rank__gte=1), name="result_rank_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school}: {self.total}"

    def node(self, code: str) -> "StoredNode":
        """What this row stored for one indicator; empty when it has no such node."""
        found = (self.indicator_scores or {}).get(code)
        if found is None:
            return EMPTY_NODE
        if isinstance(found, dict):  # the first format, kept readable
            return StoredNode(found.get("score"), found.get("status") or "", found.get("layer"))
        score, status, layer = found
        return StoredNode(score, status, layer)


class StoredNode(NamedTuple):
    """One indicator's stored figures in a result row."""

    score: str | None  # rounded half up to two places, as text; None when not applicable
    status: str  # a scoring.engine.NodeStatus value; "" when the row has no such node
    layer: str | None  # the layer that won on an observation point; None on parents


EMPTY_NODE = StoredNode(None, "", None)


# ------------------------------------------------- public notice and objections
