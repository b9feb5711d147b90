"""Restore a backup over the database and the media store (``make restore BACKUP=…``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_check, backup_restore, backups


class Command(BaseCommand):
    help = (
        "Replace the database and the media files with a backup (checked first). "
        "Irreversible: asks for confirmation unless --yes."
    )

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument(
            "backup", nargs="?", type=Path, help="a backup folder (default: newest)"
        )
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        path = options["backup"] or (backups() or [None])[-1]
        if path is None:
            raise CommandError("No backup found in BACKUP_DIR; name one.")
        try:
            manifest = backup_check(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup {path} of {manifest['created_at']}: "
            f"{sum(manifest['rows'].values())} rows, {len(manifest['media'])} media files; "
            "checksums correct."
        )
        if not options["yes"]:
            answer = input(
                "This replaces EVERY row of the database and every media file. Type 'restore': "
            )
            if answer.strip() != "restore":
                raise CommandError("Not restored.")
        try:
            backup_restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("Restored. Run `python manage.py audit_verify` to check the chain.")
