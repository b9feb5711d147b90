"""Back up the database and the media store (``make backup``; cron in production)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the media files with checksums; keep the newest BACKUP_KEEP."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--dir", type=Path, help="where to write (default BACKUP_DIR)")
        parser.add_argument("--keep", type=int, help="backups to keep (default BACKUP_KEEP)")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        try:
            made = backup_create(directory=options["dir"], keep=options["keep"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = made.manifest
        self.stdout.write(
            f"Backup written: {made.path}\n"
            f"  database ({manifest['vendor']}): {sum(manifest['rows'].values())} rows "
            f"in {len(manifest['rows'])} tables\n"
            f"  media: {len(manifest['media'])} files\n"
            f"  audit head: {manifest['audit_head'].get('sequence', '-')}"
        )
        for path in made.removed:
            self.stdout.write(f"  removed old backup {path.name}")
