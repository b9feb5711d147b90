"""The backup-restore drill: seed, compute, publish, back up, wipe, restore, verify.

Runs on the configured database: PostgreSQL in CI (pg_dump / pg_restore), SQLite's
online backup elsewhere. The chain verifies, every table has its rows again and every
media file its checksum.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core import backup
from core.audit import audit_verify
from reports import services as report_services
from reports.enums import ReportKind
from reports.models import ReportArtifact
from tests.reports.conftest import SmallRound

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stores(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT, "base_url": None},
        },
    }
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from xm_eval.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings
    app.conf.task_always_eager = eager


def _wipe() -> None:
    """Lose everything: every table's rows (or, on PostgreSQL, the whole schema) and the files."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in connection.introspection.table_names():
                cursor.execute(f'DELETE FROM "{table}"')
            cursor.execute("PRAGMA foreign_keys = ON")


def test_the_drill_restores_every_row_and_file_and_the_chain_verifies(stores, capsys):
    data = SmallRound(publish=True)
    report_services.report_artifact_render(
        result_set_id=data.result_set.pk,
        kind=ReportKind.SCHOOL_REPORT,
        school_id=data.schools[0].pk,
    )
    assert audit_verify().ok
    rows = backup.table_row_counts()
    media = backup.media_checksums(Path(stores.MEDIA_ROOT))
    assert rows["xm_eval_auditevent"] > 10 and media  # a real round: events, PDFs

    call_command("backup")
    made = backup.backups()
    assert len(made) == 1
    manifest = json.loads((made[0] / "manifest.json").read_text())
    assert manifest["rows"] == rows and manifest["media"] == media
    assert manifest["vendor"] == connection.vendor

    _wipe()
    for path in Path(stores.MEDIA_ROOT).iterdir():
        if path.is_dir():
            shutil.rmtree(path)
    assert backup.media_checksums(Path(stores.MEDIA_ROOT)) == {}

    call_command("restore", "--yes")
    assert backup.table_row_counts() == rows
    assert backup.media_checksums(Path(stores.MEDIA_ROOT)) == media
    report = audit_verify()
    assert report.ok and report.events == rows["xm_eval_auditevent"]
    artifacts = list(ReportArtifact.objects.all())
    assert artifacts
    for artifact in artifacts:
        assert backup.sha256_file(Path(artifact.file.path)) == artifact.sha256
    out = capsys.readouterr().out
    assert "Backup written" in out and "Restored" in out


def test_a_damaged_backup_is_refused_before_anything_changes(stores):
    SmallRound(publish=False)
    made = backup.backup_create()
    rows = backup.table_row_counts()
    with (made.path / backup.DATABASE_FILE).open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(made.path), "--yes")
    assert backup.table_row_counts() == rows


def test_only_the_newest_backups_are_kept(stores):
    for _ in range(4):
        made = backup.backup_create(keep=2)
    kept = backup.backups()
    assert len(kept) == 2 and kept[-1] == made.path
    assert len(made.removed) == 1


def test_restore_asks_first(stores, monkeypatch):
    backup.backup_create()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Not restored"):
        call_command("restore")
