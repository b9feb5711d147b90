from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:  # noqa: ANN001 - signal signature
    from core.roles import roles_sync  # the app registry is ready only now

    roles_sync()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Audit and roles")

    def ready(self) -> None:
        # Groups need the permissions Django creates after migrating each app, so
        # they are synchronised after every app's migrate (and after a test
        # flush) rather than in a migration; the sync is idempotent and cheap.
        post_migrate.connect(_sync_roles, dispatch_uid="xm_eval_roles_sync")
        from core import checks  # noqa: F401 - registers the system checks
