from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from rounds.hooks import member_removal_check_register
        from scoring.services import member_submitted_sheets_refusal

        member_removal_check_register(member_submitted_sheets_refusal)
