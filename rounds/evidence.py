"""Evidence files: recognised by their content, never by their name, and uploaded by school
staff per observation point."""

from __future__ import annotations

import zipfile
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import DomainError
from rounds.enums import RoundPhase
from rounds.models import Evidence
from rounds.permissions import can_upload_evidence
from rounds.selectors import observation_point
from schools.models import School

# content type → (label shown to users, the extension we store it as)
ALLOWED_TYPES = {
    "application/pdf": ("PDF", "pdf"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("XLSX", "xlsx"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("DOCX", "docx"),
}
ALLOWED_LABEL = gettext_lazy("PDF, JPEG, PNG, XLSX or DOCX")


def sniff_content_type(stream: IO[bytes]) -> str | None:
    """The content type of an allowed evidence file, from its bytes; None otherwise.

    Office files are zip archives: only the central directory is read (no
    entry is decompressed) to find the part that makes them a workbook or a
    document.
    """
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            stream.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None


def _upload_deadline(round: Any) -> Any:

    window = round.phase_windows.filter(phase=RoundPhase.SELF_ASSESSMENT).first()
    return window.ends_on if window else None


@transaction.atomic
def evidence_upload(
    *, round: Any, school: School, indicator: Any, file: Any, actor: AbstractBaseUser
) -> Any:
    """Store one evidence file of a school for an observation point.

    Enforces: the actor is the school's staff, the round is in its
    self-assessment phase and the upload deadline (the phase's end date) has
    not passed; the size limit; an allowed type recognised from the content
    (PDF, JPEG, PNG, XLSX, DOCX) whatever the file is called; no second copy
    of the same file (SHA-256) for the same point. A file with the name of an
    earlier one becomes its next version. Audited.
    """
    import hashlib

    from django.conf import settings
    from django.template.defaultfilters import filesizeformat
    from django.utils import timezone

    if round.phase != RoundPhase.SELF_ASSESSMENT:
        raise DomainError(
            _("Evidence upload is closed: the round is in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            code="phase_closed",
        )
    deadline = _upload_deadline(round)
    if deadline is not None and timezone.localdate() > deadline:
        raise DomainError(
            _("Evidence upload closed on %(date)s.") % {"date": deadline}, code="deadline_passed"
        )
    if not can_upload_evidence(actor, round, school):
        raise DomainError(
            _("Only the school's own staff can upload its evidence."), code="not_staff"
        )
    point = observation_point(round=round, indicator=indicator)
    original_name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1][:255] or "evidence"
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size > settings.EVIDENCE_MAX_BYTES:
        raise DomainError(
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {
                "name": original_name,
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES),
            },
            code="too_large",
            field="file",
        )
    if size == 0:
        raise DomainError(
            _("%(name)s is empty.") % {"name": original_name}, code="empty", field="file"
        )
    content_type = sniff_content_type(file)
    if content_type is None:
        raise DomainError(
            _("%(name)s is not a %(allowed)s file (checked from its content).")
            % {"name": original_name, "allowed": ALLOWED_LABEL},
            code="file_type",
            field="file",
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    sha256 = digest.hexdigest()
    existing = Evidence.objects.filter(
        school=school, round=round, indicator=point, sha256=sha256
    ).first()
    if existing is not None:
        raise DomainError(
            _("This file was uploaded already for %(code)s as “%(name)s” (version %(version)d).")
            % {"code": point.code, "name": existing.original_name, "version": existing.version},
            code="duplicate",
            field="file",
        )
    version = (
        Evidence.objects.filter(
            school=school, round=round, indicator=point, original_name=original_name
        ).count()
        + 1
    )
    evidence = Evidence(
        school=school,
        round=round,
        indicator=point,
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        version=version,
        uploaded_by=actor,
    )
    evidence.file.save(sha256, file, save=False)
    evidence.save()
    audit_record(
        actor=actor,
        action="evidence.upload",
        obj=evidence,
        after={
            "indicator": point.code,
            "name": original_name,
            "sha256": sha256,
            "size": size,
            "version": version,
        },
        round_id=round.pk,
        school_id=school.pk,
    )
    return evidence
