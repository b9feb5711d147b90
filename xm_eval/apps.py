from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class XmEvalConfig(AppConfig):
    name = "xm_eval"
    verbose_name = _("Reminders")
