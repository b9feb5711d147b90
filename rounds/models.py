from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rounds.enums import (
    AssignmentStatus,
    ConflictKind,
    ConsolidationMethod,
    FrameworkStatus,
    GroupRole,
    IndicatorMethod,
    RoundPhase,
)
from schools.models import School

DEFAULT_GRADE_BANDS = [
    {"grade": "excellent", "min": "90"},
    {"grade": "good", "min": "80"},
    {"grade": "qualified", "min": "60"},
    {"grade": "unqualified", "min": "0"},
]


def default_grade_bands() -> list[dict[str, str]]:
    return [dict(band) for band in DEFAULT_GRADE_BANDS]


class Framework(models.Model):
    """An indicator framework: the policy it implements and its indicator tree.

    A framework used by an open round is frozen and can no longer change
    (enforced by ``rounds.services``; the admin shows it read-only).
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    policy_title = models.CharField(_("policy title"), max_length=255)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    total_points = models.DecimalField(
        _("total points"), max_digits=7, decimal_places=2, default=Decimal("100")
    )
    grade_bands = models.JSONField(_("grade bands"), default=default_grade_bands)
    status = models.CharField(
        _("status"), max_length=16, choices=FrameworkStatus.choices, default=FrameworkStatus.DRAFT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        ordering = ["-valid_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__gt=models.F("valid_from")),
                name="framework_validity_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(total_points__gt=0), name="framework_total_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=FrameworkStatus.values), name="framework_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_frozen(self) -> bool:
        return self.status == FrameworkStatus.FROZEN


class Indicator(models.Model):
    """A node of the tree: dimension (level 1) → indicator → observation point (leaf)."""

    framework = models.ForeignKey(
        Framework, verbose_name=_("framework"), on_delete=models.CASCADE, related_name="indicators"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.CharField(_("code"), max_length=32)
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    title_zh = models.CharField(_("Chinese title"), max_length=255)
    title_en = models.CharField(_("English title"), max_length=255, blank=True)
    max_points = models.DecimalField(_("maximum points"), max_digits=7, decimal_places=2)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Share of the parent's points (0–1); leave empty to sum points."),
    )
    guidance = models.TextField(_("scoring guidance"), blank=True)
    required_evidence = models.JSONField(_("required evidence"), default=list, blank=True)
    method = models.CharField(
        _("method"), max_length=32, choices=IndicatorMethod.choices, blank=True
    )
    is_veto = models.BooleanField(_("veto item"), default=False)
    veto_pass_mark = models.DecimalField(
        _("veto pass mark"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A score below this fails the veto; empty means the full points."),
    )
    tags = models.JSONField(_("focus tags"), default=list, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["framework", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="indicator_code_unique"),
            models.CheckConstraint(
                condition=models.Q(max_points__gte=0), name="indicator_max_points_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__isnull=True) | models.Q(weight__gte=0, weight__lte=1),
                name="indicator_weight_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=models.Q(veto_pass_mark__isnull=True)
                | models.Q(veto_pass_mark__gte=0, veto_pass_mark__lte=models.F("max_points")),
                name="indicator_veto_pass_mark_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(method="") | models.Q(method__in=IndicatorMethod.values),
                name="indicator_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1), name="indicator_level_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title_zh}"


class Round(models.Model):
    """One assessment round of a cycle (e.g. 2025–2027) over a set of schools."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    framework = models.ForeignKey(
        Framework, verbose_name=_("framework"), on_delete=models.PROTECT, related_name="rounds"
    )
    cycle_start = models.PositiveSmallIntegerField(_("cycle from (year)"))
    cycle_end = models.PositiveSmallIntegerField(_("cycle to (year)"))
    schools = models.ManyToManyField(
        "schools.School", verbose_name=_("schools in scope"), related_name="rounds", blank=True
    )
    consolidation_method = models.CharField(
        _("consolidation method"),
        max_length=16,
        choices=ConsolidationMethod.choices,
        default=ConsolidationMethod.TRIMMED_MEAN,
    )
    phase = models.CharField(
        _("phase"), max_length=32, choices=RoundPhase.choices, default=RoundPhase.DRAFT
    )
    peer_scores_visible = models.BooleanField(
        _("evaluators may see each other's scores"),
        default=False,
        help_text=_("Only from the consolidation phase on."),
    )
    spread_threshold = models.DecimalField(
        _("spread flag threshold"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.30"),
        help_text=_("Flag an observation point when max − min exceeds this share of its points."),
    )
    veto_ranks_last = models.BooleanField(
        _("rank failed veto items last"),
        default=True,
        help_text=_("A school that failed a veto item ranks after every school that did not."),
    )
    tie_break_by_dimension = models.BooleanField(
        _("break ties by dimension order"),
        default=False,
        help_text=_("Equal totals are ordered by the dimension subtotals, first dimension first."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-cycle_start", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cycle_end__gte=models.F("cycle_start")),
                name="round_cycle_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(phase__in=RoundPhase.values), name="round_phase_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(consolidation_method__in=ConsolidationMethod.values),
                name="round_consolidation_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(spread_threshold__gt=0, spread_threshold__lte=1),
                name="round_spread_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cycle(self) -> str:
        return f"{self.cycle_start}–{self.cycle_end}"


class PhaseWindow(models.Model):
    """The dates of one phase of a round."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="phase_windows"
    )
    phase = models.CharField(_("phase"), max_length=32, choices=RoundPhase.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("phase window")
        verbose_name_plural = _("phase windows")
        ordering = ["round", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["round", "phase"], name="phase_window_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="phase_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} {self.starts_on}–{self.ends_on}"


class EvaluationGroup(models.Model):
    """The evaluation working group of a round."""

    round = models.OneToOneField(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="evaluation_group"
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("evaluation group")
        verbose_name_plural = _("evaluation groups")

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(
        EvaluationGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="group_memberships",
    )
    role = models.CharField(
        _("role"), max_length=16, choices=GroupRole.choices, default=GroupRole.EVALUATOR
    )
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    affiliated_school = models.ForeignKey(
        "schools.School",
        verbose_name=_("affiliated school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Set when the evaluator works or worked for a school in the registry."),
    )

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["group", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="group_member_unique"),
            models.UniqueConstraint(
                fields=["group"],
                condition=models.Q(role=GroupRole.LEADER),
                name="group_single_leader",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=GroupRole.values), name="group_member_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ConflictOfInterest(models.Model):
    """A conflict between an evaluator and a school: declared or detected."""

    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="conflicts",
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="conflicts",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ConflictKind.choices)
    reason = models.TextField(_("reason"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.UniqueConstraint(fields=["evaluator", "school"], name="conflict_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ConflictKind.values), name="conflict_kind_valid"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="conflict_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} × {self.school}"


class Assignment(models.Model):
    """An evaluator scores a school in a round; a recused one may no longer score."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="assignments"
    )
    school = models.ForeignKey(
        "schools.School",
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.ACTIVE,
    )
    recusal_reason = models.TextField(_("recusal reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["round", "school", "evaluator"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "school", "evaluator"], name="assignment_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AssignmentStatus.values),
                name="assignment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status=AssignmentStatus.ACTIVE) | ~models.Q(recusal_reason=""),
                name="assignment_recusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} → {self.school}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # The stored name never reuses the uploader's file name: the original name
    # is kept in a column, the file is addressed by its hash.
    return f"evidence/{instance.round_id}/{instance.school_id}/{instance.sha256}"


class Evidence(models.Model):
    """A file a school uploaded for one indicator of one round (备查材料).

    Files live in the private media storage, outside the static path, and are
    served only through a permission-checked view.
    """

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="evidence"
    )
    round = models.ForeignKey(
        "rounds.Round", verbose_name=_("round"), on_delete=models.PROTECT, related_name="evidence"
    )
    indicator = models.ForeignKey(
        "rounds.Indicator",
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=128, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        db_table = "schools_evidence"  # kept from the app it was created in
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["school", "indicator", "original_name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "round", "indicator", "sha256"],
                name="evidence_no_duplicate_file",
            ),
            models.UniqueConstraint(
                fields=["school", "round", "indicator", "original_name", "version"],
                name="evidence_version_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="evidence_version_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.version})"
