from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from rectification.signals import notices_due
        from reports import checks  # noqa: F401 - registers the system checks
        from reports.tasks import rectification_notices_enqueue

        notices_due.connect(rectification_notices_enqueue, dispatch_uid="reports_rectification")
