from django.db import models
from django.utils.translation import gettext_lazy as _


class SchoolKind(models.TextChoices):
    PUBLIC_TECHNICIAN_COLLEGE = "public_technician_college", _("Public technician college")
    PRIVATE_TECHNICAL_SCHOOL = "private_technical_school", _("Private technical school")


class RankingGroup(models.TextChoices):
    """The group a school is ranked within besides the overall ranking."""

    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class SchoolStatus(models.TextChoices):
    OPERATING = "operating", _("Operating")
    ENROLMENT_SUSPENDED = "enrolment_suspended", _("Enrolment suspended")
    LICENCE_REVOKED = "licence_revoked", _("Licence revoked")
