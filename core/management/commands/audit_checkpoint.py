"""Write a signed checkpoint of the audit chain's head outside the database."""

from django.core.management.base import BaseCommand

from core.audit_checkpoints import checkpoint_write


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain's head (file, log line, e-mail)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--force", action="store_true", help="even if the head did not move")

    def handle(self, *args, **options) -> None:
        path = checkpoint_write(force=options["force"])
        if path is None:
            self.stdout.write("audit chain head unchanged since the last checkpoint (or empty).")
        else:
            self.stdout.write(self.style.SUCCESS(f"audit checkpoint written: {path}"))
