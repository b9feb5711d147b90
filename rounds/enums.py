from django.db import models
from django.utils.translation import gettext_lazy as _


class FrameworkStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FROZEN = "frozen", _("Frozen")


class IndicatorMethod(models.TextChoices):
    DOCUMENT_REVIEW = "document_review", _("Document review")
    DATA_COMPARISON = "data_comparison", _("Data comparison")
    ON_SITE = "on_site", _("On-site inspection")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")


class FocusTag(models.TextChoices):
    """The four focus points of the Measures (tags on indicators)."""

    COMPLIANT_OPERATION = "compliant_operation", _("Compliant operation")
    TALENT_CULTIVATION = "talent_cultivation", _("Talent cultivation")
    SCHOOL_ENTERPRISE = "school_enterprise", _("School–enterprise cooperation")
    SPECIALTY_BUILDING = "specialty_building", _("Specialty building")


# The tags as the policy writes them, for importing frameworks.
FOCUS_TAG_BY_CHINESE = {
    "规范办学": FocusTag.COMPLIANT_OPERATION,
    "人才培养": FocusTag.TALENT_CULTIVATION,
    "校企合作": FocusTag.SCHOOL_ENTERPRISE,
    "专业建设": FocusTag.SPECIALTY_BUILDING,
}


class RoundPhase(models.TextChoices):
    """The phases of a round, in order (DESIGN §3)."""

    DRAFT = "draft", _("Draft")
    SELF_ASSESSMENT = "self_assessment", _("Self-assessment and evidence upload")
    EXPERT_SCORING = "expert_scoring", _("Expert scoring")
    CONSOLIDATION = "consolidation", _("Consolidation")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    PUBLISHED = "published", _("Published")
    RECTIFICATION = "rectification", _("Rectification and re-check")
    CLOSED = "closed", _("Closed")


PHASE_ORDER: tuple[str, ...] = tuple(RoundPhase.values)


class ConsolidationMethod(models.TextChoices):
    MEAN = "mean", _("Mean")
    MEDIAN = "median", _("Median")
    TRIMMED_MEAN = "trimmed_mean", _("Trimmed mean (drop highest and lowest)")


class GroupRole(models.TextChoices):
    LEADER = "leader", _("Group leader")
    EVALUATOR = "evaluator", _("Evaluator")


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RECUSED = "recused", _("Recused")


class ConflictKind(models.TextChoices):
    DECLARED = "declared", _("Declared by the evaluator")
    DETECTED = "detected", _("Detected")


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
