from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of xm_eval; each is a Django group of the same name."""

    BUREAU_ADMIN = "bureau_admin", _("Bureau admin")
    GROUP_LEADER = "group_leader", _("Group leader")
    EVALUATOR = "evaluator", _("Evaluator")
    SCHOOL_STAFF = "school_staff", _("School staff")
    SUPERVISOR = "supervisor", _("Supervisor")
