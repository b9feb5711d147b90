"""Use cases for the school registry: schools, specialties and staff memberships.

Every function validates, writes inside one transaction and records an audit
event; a broken rule raises ``DomainError`` and leaves nothing written. An
upsert that would change nothing writes nothing and records no event, so
re-running an import (or the demo seed) leaves the audit trail alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from xm_eval.audit import audit_record, model_snapshot
from xm_eval.errors import DomainError

from .enums import RankingGroup, SchoolKind
from .models import School, Specialty, StaffMembership

SCHOOL_FIELDS = frozenset(
    {
        "name_zh",
        "name_en",
        "kind",
        "ranking_group",
        "status",
        "licence_number",
        "district",
        "address",
        "is_sample",
    }
)
SPECIALTY_FIELDS = frozenset({"name", "established_year", "is_active"})

# The group a school is ranked in when the caller does not say.
RANKING_GROUP_BY_KIND = {
    SchoolKind.PUBLIC_TECHNICIAN_COLLEGE: RankingGroup.PUBLIC,
    SchoolKind.PRIVATE_TECHNICAL_SCHOOL: RankingGroup.PRIVATE,
}


def _refuse_unknown_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(
            _("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="invalid",
            field=sorted(unknown)[0],
        )


def _full_clean(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Model validation (choices, lengths, uniqueness) as a ``DomainError`` naming every field."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        details = {
            name: [str(message) for message in messages]
            for name, messages in error.message_dict.items()
        }
        raise DomainError(
            _("Please correct: %(problems)s")
            % {
                "problems": "; ".join(
                    f"{name}: {' '.join(messages)}" for name, messages in details.items()
                )
            },
            code="invalid",
            field=next(iter(details), None),
            details=details,
        ) from error


def _apply(instance: models.Model, fields: dict[str, Any]) -> bool:
    """Set ``fields`` on ``instance``; True when any value changed."""
    changed = False
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


@transaction.atomic
def school_upsert(
    *, actor: AbstractBaseUser | None, code: str, **fields: Any
) -> tuple[School, bool]:
    """Create the school with ``code``, or update its fields; returns (school, created).

    A new school needs ``name_zh`` and ``kind``; its ranking group defaults
    from the kind (public technician college → public, private technical
    school → private). Values are validated as the model declares them
    (choices, lengths, unique name). Records ``school.create`` or
    ``school.update`` (with before and after); an update that changes nothing
    writes nothing and records nothing.
    """
    code = (code or "").strip()
    if not code:
        raise DomainError(_("A school needs a code."), code="invalid", field="code")
    _refuse_unknown_fields(fields, SCHOOL_FIELDS)
    school = School.objects.select_for_update().filter(code=code).first()
    if school is None:
        if not fields.get("name_zh") or not fields.get("kind"):
            raise DomainError(
                _("A new school needs a Chinese name and a kind."),
                code="invalid",
                field="name_zh" if not fields.get("name_zh") else "kind",
            )
        fields.setdefault("ranking_group", RANKING_GROUP_BY_KIND.get(fields["kind"], ""))
        school = School(code=code, **fields)
        _full_clean(school)
        school.save()
        audit_record(
            actor=actor,
            action="school.create",
            obj=school,
            after=model_snapshot(school),
            school_id=school.pk,
        )
        return school, True

    before = model_snapshot(school)
    if not _apply(school, fields):
        return school, False
    _full_clean(school)
    school.save()
    audit_record(
        actor=actor,
        action="school.update",
        obj=school,
        before=before,
        after=model_snapshot(school),
        school_id=school.pk,
    )
    return school, False


@transaction.atomic
def specialty_upsert(
    *, actor: AbstractBaseUser | None, school: School, code: str, **fields: Any
) -> tuple[Specialty, bool]:
    """Create the school's specialty with ``code``, or update it; returns (specialty, created).

    A new specialty needs a ``name``. Records ``specialty.create`` or
    ``specialty.update``; an update that changes nothing records nothing.
    """
    code = (code or "").strip()
    if not code:
        raise DomainError(_("A specialty needs a code."), code="invalid", field="code")
    _refuse_unknown_fields(fields, SPECIALTY_FIELDS)
    specialty = Specialty.objects.select_for_update().filter(school=school, code=code).first()
    if specialty is None:
        if not fields.get("name"):
            raise DomainError(_("A specialty needs a name."), code="invalid", field="name")
        specialty = Specialty(school=school, code=code, **fields)
        _full_clean(specialty)
        specialty.save()
        audit_record(
            actor=actor,
            action="specialty.create",
            obj=specialty,
            after=model_snapshot(specialty),
            school_id=school.pk,
        )
        return specialty, True

    before = model_snapshot(specialty)
    if not _apply(specialty, fields):
        return specialty, False
    _full_clean(specialty)
    specialty.save()
    audit_record(
        actor=actor,
        action="specialty.update",
        obj=specialty,
        before=before,
        after=model_snapshot(specialty),
        school_id=school.pk,
    )
    return specialty, False


@transaction.atomic
def staff_membership_add(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, school: School, title: str = ""
) -> StaffMembership:
    """Make ``user`` a staff member of ``school`` (who then acts for it).

    Refuses a membership that exists already. The role itself (the
    ``school_staff`` group) is granted separately. Records
    ``staff_membership.add``.
    """
    if StaffMembership.objects.filter(user=user, school=school).exists():
        raise DomainError(
            _("%(user)s is already a staff member of %(school)s.")
            % {"user": user, "school": school},
            code="duplicate",
            field="user",
        )
    membership = StaffMembership(user=user, school=school, title=title.strip())
    _full_clean(membership, exclude=["user", "school"])
    membership.save()
    audit_record(
        actor=actor,
        action="staff_membership.add",
        obj=membership,
        after=model_snapshot(membership),
        school_id=school.pk,
    )
    return membership


# ------------------------------------------------------------------ evidence


def _upload_deadline(round: Any) -> Any:
    from rounds.enums import RoundPhase

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

    from rounds.enums import RoundPhase
    from scoring.sheets import observation_point
    from xm_eval import permissions

    from .evidence import ALLOWED_LABEL, sniff_content_type
    from .models import Evidence

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
    if not permissions.can_upload_evidence(actor, round, school):
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
