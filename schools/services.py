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

from core.audit import audit_record, model_snapshot
from core.errors import DomainError
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, Specialty, StaffMembership

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
