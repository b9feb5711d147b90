from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.enums import RankingGroup, SchoolKind, SchoolStatus


class School(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=128, unique=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=SchoolKind.choices)
    ranking_group = models.CharField(
        _("ranking group"), max_length=16, choices=RankingGroup.choices
    )
    status = models.CharField(
        _("status"), max_length=32, choices=SchoolStatus.choices, default=SchoolStatus.OPERATING
    )
    licence_number = models.CharField(_("licence number"), max_length=64, blank=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_sample = models.BooleanField(
        _("sample data"),
        default=False,
        help_text=_("A made-up school of the demo data, not a real one."),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SchoolKind.values), name="school_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(ranking_group__in=RankingGroup.values),
                name="school_ranking_group_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SchoolStatus.values), name="school_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name_zh


class Specialty(models.Model):
    """A specialty (专业) a school offers."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="specialties"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=128)
    established_year = models.PositiveSmallIntegerField(_("established"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["school", "code"]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="specialty_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """A user who works for a school and acts for it (self-assessment, evidence)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="school_memberships",
    )
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="staff"
    )
    title = models.CharField(_("position"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "school"], name="staff_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.school}"
