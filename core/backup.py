"""Backups that restore: the database and the media store, with checksums and retention.

A backup is a folder ``<BACKUP_DIR>/xm_eval-<UTC time>/`` holding

* ``database.dump`` — PostgreSQL: ``pg_dump --format=custom``; SQLite: a copy made with
  SQLite's online backup API (consistent while the site runs);
* ``media.tar`` — every file of the media store (evidence, reports, checkpoints);
* ``manifest.json`` — when, which database, the row count of every table, the SHA-256 of
  the two files above and of every media file, and the audit chain's head.

``backup_restore`` checks every checksum before it touches anything, replaces the
database and the media store, and checks the media files' checksums again after. Only
the newest ``BACKUP_KEEP`` backups are kept. ``make backup`` / ``make restore`` and the
production stack's cron call the ``backup`` and ``restore`` commands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

MANIFEST = "manifest.json"
DATABASE_FILE = "database.dump"
MEDIA_FILE = "media.tar"
PREFIX = "xm_eval-"


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class BackupMade:
    path: Path
    manifest: dict[str, Any]
    removed: list[Path]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_checksums(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by path relative to it."""
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): sha256_file(path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def table_row_counts() -> dict[str, int]:
    """Rows of every table of the project's models (what a restore must give back)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _audit_head() -> dict[str, Any]:
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT sequence, hash FROM xm_eval_auditchainhead WHERE id = 1")
        except Exception:  # noqa: BLE001 - a database before the audit migration
            return {}
        row = cursor.fetchone()
    return {"sequence": row[0], "hash": row[1]} if row else {}


def _pg_env(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments and environment for pg_dump / pg_restore."""
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    args = [
        "--host",
        settings_dict.get("HOST") or "127.0.0.1",
        "--port",
        str(settings_dict.get("PORT") or 5432),
        "--username",
        settings_dict.get("USER") or "postgres",
        "--dbname",
        settings_dict["NAME"],
    ]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def _dump_database(target: Path) -> None:
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        args, env = _pg_env(settings_dict)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    else:
        raise BackupError(f"backups of {connection.vendor} are not supported")


def _dump_media(root: Path, target: Path, skip: Path) -> None:
    with tarfile.open(target, "w") as archive:
        if root.exists():
            for path in sorted(root.rglob("*")):
                if path.is_file() and skip not in path.parents:
                    archive.add(path, arcname=path.relative_to(root).as_posix())


def backup_dir() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", Path(settings.VAR_DIR) / "backups"))


def backup_create(*, directory: Path | None = None, keep: int | None = None) -> BackupMade:
    """Back up the database and the media store into a new folder; keep the newest ``keep``."""
    directory = Path(directory or backup_dir())
    keep = keep if keep is not None else settings.BACKUP_KEEP
    now = dt.datetime.now(dt.UTC)
    target = directory / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}"
    target.mkdir(parents=True)
    media_root = Path(settings.MEDIA_ROOT)
    try:
        _dump_database(target / DATABASE_FILE)
        _dump_media(media_root, target / MEDIA_FILE, skip=directory)
        manifest = {
            "created_at": now.isoformat(),
            "vendor": connection.vendor,
            "database": str(connection.settings_dict["NAME"]),
            "files": {name: sha256_file(target / name) for name in (DATABASE_FILE, MEDIA_FILE)},
            "media": {
                name: digest
                for name, digest in media_checksums(media_root).items()
                if not (media_root / name).is_relative_to(directory)
            },
            "rows": table_row_counts(),
            "audit_head": _audit_head(),
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return BackupMade(path=target, manifest=manifest, removed=_retain(directory, keep))


def backups(directory: Path | None = None) -> list[Path]:
    """Complete backups (with a manifest), oldest first."""
    directory = Path(directory or backup_dir())
    if not directory.exists():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).exists()
    )


def _retain(directory: Path, keep: int) -> list[Path]:
    found = backups(directory)
    removed = found[: max(len(found) - max(keep, 1), 0)]
    for path in removed:
        shutil.rmtree(path)
    return removed


def backup_check(path: Path) -> dict[str, Any]:
    """The backup's manifest, once both files match their checksums; else BackupError."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} is not a backup: {error}") from error
    for name, digest in manifest["files"].items():
        if not (path / name).exists():
            raise BackupError(f"{name} is missing from {path}")
        if sha256_file(path / name) != digest:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            f"the backup is of a {manifest['vendor']} database; this site uses {connection.vendor}"
        )
    return manifest


def _restore_database(path: Path) -> None:
    dump = path / DATABASE_FILE
    if connection.vendor == "postgresql":
        args, env = _pg_env(connection.settings_dict)
        connections.close_all()
        with connection.cursor() as cursor:  # an empty schema, then the dump's objects
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        connections.close_all()
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(dump)], env)
    else:
        connection.ensure_connection()
        source = sqlite3.connect(dump)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        connections.close_all()


def _restore_media(path: Path, manifest: dict[str, Any]) -> None:
    root = Path(settings.MEDIA_ROOT)
    keep = backup_dir().resolve()
    if root.exists():
        for child in root.iterdir():
            if child.resolve() == keep or keep.is_relative_to(child.resolve()):
                continue  # backups kept inside the media store stay
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path / MEDIA_FILE) as archive:
        archive.extractall(root, filter="data")
    restored = media_checksums(root)
    wrong = [name for name, digest in manifest["media"].items() if restored.get(name) != digest]
    if wrong:
        raise BackupError(f"{len(wrong)} media file(s) differ after the restore: {wrong[:5]}")


def backup_restore(path: Path) -> dict[str, Any]:
    """Replace the database and the media store with the backup's. Irreversible: the
    commands ask first. Returns the manifest; refuses a damaged backup before any change."""
    manifest = backup_check(path)
    _restore_database(Path(path))
    _restore_media(Path(path), manifest)
    return manifest
