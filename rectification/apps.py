from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _open_for_published(sender, *, result_set, actor, **kwargs) -> None:  # noqa: ANN001
    from rectification.services import rectifications_create_for

    rectifications_create_for(result_set=result_set, actor=actor)


class RectificationConfig(AppConfig):
    name = "rectification"
    verbose_name = _("Rectification")

    def ready(self) -> None:
        from publication.signals import results_published

        results_published.connect(_open_for_published, dispatch_uid="rectification_published")
