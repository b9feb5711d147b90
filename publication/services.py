"""Use cases of the public notice (公示), objections (异议), publication and corrections.

    computed version ──notice_open──▶ public notice (default 7 days): anyone objects
        objection: received ──review──▶ under review ──uphold──▶ upheld (audit score
                   change + recompute = a new version superseding the old one)
                                                     └─dismiss──▶ dismissed
    notice ended, no open objection ──result_set_publish_checked──▶ published
        (round → published phase, rectifications for unqualified schools)
    published ──result_set_correct (reason)──▶ a new published version; the old one
        stays readable, marked superseded

An objector's identity is stored only encrypted (``xm_eval.crypto``) and is read
back only through ``objection_identity`` / ``objection_seal`` by the bureau
admins handling objections; no audit event and no other page carries it.

Every function validates, writes in one transaction and records an audit event;
a broken rule raises ``DomainError`` and leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto
from core.audit import audit_record
from core.errors import DomainError
from publication.enums import OBJECTION_OPEN, ObjectionStatus, ObjectorKind
from publication.models import NoticePeriod, Objection
from publication.permissions import (
    can_correct_results,
    can_handle_objections,
    can_open_notice,
    can_view_objector_identity,
)
from publication.signals import results_published
from rounds import services as round_services
from rounds.enums import RoundPhase
from rounds.evidence import sniff_content_type
from rounds.models import Indicator, Round
from schools.models import School
from scoring import override_scores, result_sets
from scoring.models import AuditScore, ResultRow, ResultSet
from scoring.permissions import can_publish_results

DEFAULT_NOTICE_DAYS = 7
MAX_NOTICE_DAYS = 60
OBJECTION_MAX_CHARS = 5000
# The seal is a scan: a picture or a PDF.
SEAL_TYPES = ("application/pdf", "image/jpeg", "image/png")
CORRECTION_PHASES = (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION)
# Crockford's base 32 without I, L, O, U: easy to read out on the phone.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _refuse(message: Any, code: str, field: str | None = None) -> None:
    raise DomainError(message, code=code, field=field)


def _latest_version(round: Round) -> int | None:
    return ResultSet.objects.filter(round=round).aggregate(latest=Max("version"))["latest"]


# ------------------------------------------------------------- the notice


def notice_of_round(*, round: Round) -> NoticePeriod | None:
    """The round's latest public notice (a round may have a second after a correction)."""
    return (
        NoticePeriod.objects.filter(result_set__round=round)
        .select_related("result_set")
        .order_by("-starts_at", "-pk")
        .first()
    )


def notice_is_running(notice: NoticePeriod | None, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return notice is not None and notice.starts_at <= now < notice.ends_at


@transaction.atomic
def notice_open(
    *,
    result_set: ResultSet,
    actor: Any,
    days: int | None = None,
    starts_at: dt.datetime | None = None,
) -> NoticePeriod:
    """Put a computed result set under public notice from now for ``days`` days.

    Default ``NOTICE_DAYS`` (7). Enforces: the bureau admin; the latest,
    unpublished version; the round in consolidation or public notice; no other
    notice of the round still running. A round in consolidation moves to the
    public-notice phase (audited by ``rounds.services.round_phase_advance``).
    Records ``notice.open``.

    ``starts_at`` records a notice that ran before it was entered here (the
    demo's past cycle, or a notice held on paper before the system was used):
    the notice runs from then for ``days`` days. It may not lie in the future;
    ``opened_at`` and the audit event still carry the time of recording, and
    publication still waits for the notice's end.
    """
    if not can_open_notice(actor):
        _refuse(_("Only the bureau opens a public notice."), "not_allowed")
    result_set = ResultSet.objects.select_for_update().select_related("round").get(pk=result_set.pk)
    round = result_set.round
    days = int(days if days is not None else getattr(settings, "NOTICE_DAYS", DEFAULT_NOTICE_DAYS))
    if not 1 <= days <= MAX_NOTICE_DAYS:
        _refuse(
            _("A public notice lasts 1 to %(max)d days.") % {"max": MAX_NOTICE_DAYS},
            "invalid",
            "days",
        )
    if result_set.is_published:
        _refuse(_("This version is published already."), "already_published")
    if result_set.version != _latest_version(round):
        _refuse(_("Only the latest version can be put under public notice."), "not_latest")
    if round.phase not in (RoundPhase.CONSOLIDATION, RoundPhase.PUBLIC_NOTICE):
        _refuse(
            _("A public notice follows consolidation; the round is in the phase “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    if NoticePeriod.objects.filter(result_set=result_set).exists():
        _refuse(_("This version was under public notice already."), "duplicate")
    current = notice_of_round(round=round)
    now = timezone.now()
    if starts_at is not None and starts_at > now:
        _refuse(_("A public notice cannot start in the future."), "invalid", "starts_at")
    starts_at = starts_at or now
    if current is not None and current.ends_at > now:
        _refuse(
            _("The public notice of version %(version)d runs until %(end)s.")
            % {
                "version": current.result_set.version,
                "end": timezone.localtime(current.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
            "notice_running",
        )
    if round.phase == RoundPhase.CONSOLIDATION:
        round_services.round_phase_advance(round=round, actor=actor)
    notice = NoticePeriod.objects.create(
        result_set=result_set,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(days=days),
        opened_by=actor if getattr(actor, "is_authenticated", False) else None,
        opened_at=now,
    )
    audit_record(
        actor=actor,
        action="notice.open",
        obj=notice,
        after={
            "result_set": result_set.pk,
            "version": result_set.version,
            "starts_at": notice.starts_at,
            "ends_at": notice.ends_at,
            "days": days,
        },
        round_id=round.pk,
    )
    return notice


# -------------------------------------------------------------- objections


@dataclass(frozen=True, slots=True)
class ObjectorIdentity:
    """Who filed an objection: for the bureau admins handling it, nobody else."""

    kind: str
    name: str
    id_number: str
    phone: str
    organisation: str
    has_seal: bool


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
_CREDIT_CODE_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_PHONE_PATTERN = re.compile(r"^\+?\d[\d\- ]{5,18}\d$")


def resident_id_valid(value: str) -> bool:
    """An 18-character citizen identity number (GB 11643) with a correct check character."""
    value = value.strip().upper()
    if not _ID_PATTERN.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def objection_identity_problems(
    *, kind: str, name: str, id_number: str, phone: str, organisation: str, has_seal: bool
) -> list[DomainError]:
    """Every problem with an objector's identity at once (each names its field), so the
    form shows them together rather than one per attempt."""
    problems = []
    name, phone, organisation = name.strip(), phone.strip(), organisation.strip()
    id_number = id_number.strip().upper()
    if kind not in ObjectorKind.values:
        problems.append(
            DomainError(
                _("Say whether a person or an organisation objects."),
                code="invalid",
                field="objector_kind",
            )
        )
    if not name:
        problems.append(
            DomainError(
                _("An objection is filed under a real name."), code="required", field="name"
            )
        )
    if not _PHONE_PATTERN.match(phone):
        problems.append(
            DomainError(
                _("Enter a phone number we can call back (digits)."), code="invalid", field="phone"
            )
        )
    if kind == ObjectorKind.PERSON:
        if not resident_id_valid(id_number):
            problems.append(
                DomainError(
                    _("The identity number is not a valid 18-character citizen identity number."),
                    code="invalid",
                    field="id_number",
                )
            )
    elif kind == ObjectorKind.ORGANISATION:
        if not organisation:
            problems.append(
                DomainError(
                    _("Name the organisation that objects."), code="required", field="organisation"
                )
            )
        if id_number and not _CREDIT_CODE_PATTERN.match(id_number):
            problems.append(
                DomainError(
                    _("The unified social credit code has 18 characters (digits and capitals)."),
                    code="invalid",
                    field="id_number",
                )
            )
        if not has_seal:
            problems.append(
                DomainError(
                    _("An organisation's objection carries a scan of its seal (PDF, JPEG or PNG)."),
                    code="required",
                    field="seal",
                )
            )
    return problems


def _clean_identity(
    *, kind: str, name: str, id_number: str, phone: str, organisation: str, has_seal: bool
) -> dict[str, str]:
    problems = objection_identity_problems(
        kind=kind,
        name=name,
        id_number=id_number,
        phone=phone,
        organisation=organisation,
        has_seal=has_seal,
    )
    if problems:
        first = problems[0]
        raise DomainError(first.message, code=first.code, field=first.field, details=problems)
    name, phone, organisation = name.strip(), phone.strip(), organisation.strip()
    return {
        "kind": kind,
        "name": name[:100],
        "id_number": id_number.strip().upper(),
        "phone": phone,
        "organisation": organisation[:200] if kind == ObjectorKind.ORGANISATION else "",
    }


def _clean_seal(seal: IO[bytes] | None) -> tuple[bytes, str]:
    if seal is None:
        _refuse(
            _("An organisation's objection carries a scan of its seal (PDF, JPEG or PNG)."),
            "required",
            "seal",
        )
    size = getattr(seal, "size", None)
    if size is None:
        seal.seek(0, 2)
        size = seal.tell()
    limit = int(getattr(settings, "OBJECTION_SEAL_MAX_BYTES", 5 * 1024 * 1024))
    if size == 0:
        _refuse(_("The seal file is empty."), "empty", "seal")
    if size > limit:
        _refuse(
            _("The seal file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            "too_large",
            "seal",
        )
    content_type = sniff_content_type(seal)
    if content_type not in SEAL_TYPES:
        _refuse(
            _("The seal must be a PDF, JPEG or PNG scan (checked from its content)."),
            "file_type",
            "seal",
        )
    seal.seek(0)
    return seal.read(), content_type


def _new_tracking_code() -> str:
    """``YY-XXXX-XXXX-XXXX-XXXX``: 80 random bits, so codes cannot be guessed."""
    body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "YY-" + "-".join(body[index : index + 4] for index in range(0, 16, 4))


def normalise_tracking_code(code: str) -> str:
    """A code as typed (any case, spaces, O for 0, I/L for 1) in its stored spelling."""
    cleaned = re.sub(r"[\s\-]", "", code.strip().upper())
    if cleaned.startswith("YY"):
        cleaned = cleaned[2:]
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != 16:
        return ""
    return "YY-" + "-".join(cleaned[index : index + 4] for index in range(0, 16, 4))


@transaction.atomic
def objection_file(
    *,
    round: Round,
    school: School | int,
    content: str,
    objector_kind: str,
    name: str,
    id_number: str,
    phone: str,
    organisation: str = "",
    seal: IO[bytes] | None = None,
    indicator: Indicator | int | None = None,
) -> Objection:
    """File an objection during the round's public notice; anyone may, by real name.

    Enforces: a notice of the round is running; the school is in the noticed
    results; the indicator (optional) belongs to the round's framework; a real
    name, a callable phone, a valid citizen identity number (persons) or the
    organisation's name and a scan of its seal (organisations). Stores the
    identity and the seal encrypted, gives the objection an unguessable
    tracking code, and records ``objection.file`` without any of the identity.
    """
    notice = notice_of_round(round=round)
    if notice is not None:
        # Locked, so publication (which locks the round's notices too) either sees this
        # objection or runs first and this one finds the notice over.
        notice = (
            NoticePeriod.objects.select_for_update().select_related("result_set").get(pk=notice.pk)
        )
    if not notice_is_running(notice):
        _refuse(
            _("Objections are accepted only while the results are under public notice."),
            "notice_closed",
        )
    school_id = school.pk if isinstance(school, School) else int(school)
    if not ResultRow.objects.filter(result_set=notice.result_set, school_id=school_id).exists():
        _refuse(_("Choose a school from the results under notice."), "invalid", "school")
    indicator_id = None
    if indicator not in (None, ""):
        indicator_id = indicator.pk if isinstance(indicator, Indicator) else int(indicator)
        if not Indicator.objects.filter(pk=indicator_id, framework_id=round.framework_id).exists():
            _refuse(_("Choose an indicator of this round's framework."), "invalid", "indicator")
    content = content.strip()
    if not content:
        _refuse(_("Say what the objection is about."), "required", "content")
    if len(content) > OBJECTION_MAX_CHARS:
        _refuse(
            _("Keep the objection within %(max)d characters.") % {"max": OBJECTION_MAX_CHARS},
            "too_long",
            "content",
        )
    identity = _clean_identity(
        kind=objector_kind,
        name=name,
        id_number=id_number,
        phone=phone,
        organisation=organisation,
        has_seal=seal is not None,
    )
    seal_token, seal_type = None, ""
    if objector_kind == ObjectorKind.ORGANISATION:
        seal_bytes, seal_type = _clean_seal(seal)
        seal_token = crypto.encrypt_bytes(seal_bytes)
    identity_token = crypto.encrypt_text(json.dumps(identity, ensure_ascii=False))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                objection = Objection.objects.create(
                    notice=notice,
                    school_id=school_id,
                    indicator_id=indicator_id,
                    content=content,
                    tracking_code=_new_tracking_code(),
                    objector_kind=objector_kind,
                    identity_encrypted=identity_token,
                    seal_encrypted=seal_token,
                    seal_content_type=seal_type,
                    filed_at=timezone.now(),
                )
            break
        except IntegrityError:  # a tracking code drawn twice: 1 in 2**80
            continue
    else:  # pragma: no cover - unreachable in practice
        raise DomainError(_("Please try again."), code="retry")
    audit_record(
        actor=None,
        action="objection.file",
        obj=objection,
        after={
            "notice": notice.pk,
            "version": notice.result_set.version,
            "school": school_id,
            "indicator": indicator_id,
            "objector_kind": objector_kind,
            "status": objection.status,
        },
        round_id=round.pk,
        school_id=school_id,
    )
    return objection


def objection_identity(*, objection: Objection, actor: Any) -> ObjectorIdentity:
    """Decrypt who filed ``objection``; only for the bureau admins handling objections."""
    if not can_view_objector_identity(actor):
        _refuse(_("The objector's identity is confidential."), "not_allowed")
    token = Objection.objects.filter(pk=objection.pk).values_list(
        "identity_encrypted", "seal_encrypted"
    )
    identity_token, seal_token = token.get()
    data = json.loads(crypto.decrypt_text(identity_token))
    return ObjectorIdentity(
        kind=data["kind"],
        name=data["name"],
        id_number=data["id_number"],
        phone=data["phone"],
        organisation=data.get("organisation", ""),
        has_seal=seal_token is not None,
    )


def objection_seal(*, objection: Objection, actor: Any) -> tuple[bytes, str]:
    """The organisation's seal scan (bytes, content type); bureau admins only."""
    if not can_view_objector_identity(actor):
        _refuse(_("The objector's identity is confidential."), "not_allowed")
    token, content_type = (
        Objection.objects.filter(pk=objection.pk)
        .values_list("seal_encrypted", "seal_content_type")
        .get()
    )
    if token is None:
        _refuse(_("This objection carries no seal."), "not_found")
    return crypto.decrypt_bytes(token), content_type


def _locked_objection(objection: Objection) -> Objection:
    return (
        Objection.objects.select_for_update()
        .select_related("notice__result_set__round")
        .defer("identity_encrypted", "seal_encrypted")
        .get(pk=objection.pk)
    )


def _check_handler(actor: Any) -> None:
    if not can_handle_objections(actor):
        _refuse(_("Only the bureau handles objections."), "not_allowed")


def _check_open(objection: Objection) -> None:
    if objection.status not in OBJECTION_OPEN:
        _refuse(
            _("Objection %(code)s was answered already (%(status)s).")
            % {"code": objection.tracking_code, "status": objection.get_status_display()},
            "objection_closed",
        )


def _objection_audit(
    objection: Objection, actor: Any, action: str, before_status: str, **extra: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=objection,
        before={"status": before_status},
        after={"status": objection.status, **extra},
        round_id=objection.notice.result_set.round_id,
        school_id=objection.school_id,
    )


@transaction.atomic
def objection_review(*, objection: Objection, actor: Any) -> Objection:
    """Take a received objection under review (the bureau admin); records who handles it."""
    _check_handler(actor)
    objection = _locked_objection(objection)
    if objection.status != ObjectionStatus.RECEIVED:
        _refuse(
            _("Only a received objection can be taken under review; this one is %(status)s.")
            % {"status": objection.get_status_display()},
            "invalid_state",
        )
    objection.status = ObjectionStatus.UNDER_REVIEW
    objection.handled_by = actor
    objection.save(update_fields=["status", "handled_by"])
    _objection_audit(objection, actor, "objection.review", ObjectionStatus.RECEIVED)
    return objection


def _answer(objection: Objection, actor: Any, status: str, response: str) -> None:
    objection.status = status
    objection.response = response
    objection.responded_by = actor
    objection.responded_at = timezone.now()
    if objection.handled_by_id is None:
        objection.handled_by = actor


@transaction.atomic
def objection_dismiss(*, objection: Objection, actor: Any, response: str) -> Objection:
    """Dismiss an open objection with a written response (shown to the objector)."""
    _check_handler(actor)
    objection = _locked_objection(objection)
    _check_open(objection)
    if not response.strip():
        _refuse(_("A dismissal needs a written response."), "reason_required", "response")
    before = objection.status
    _answer(objection, actor, ObjectionStatus.DISMISSED, response.strip())
    objection.save()
    _objection_audit(objection, actor, "objection.dismiss", before, response=objection.response)
    return objection


@dataclass(frozen=True, slots=True)
class AuditScoreChange:
    """One bureau audit score (审核分) to set as part of an upheld objection or a correction."""

    school: School | int
    indicator: Indicator | int | str
    points: Any = None
    not_applicable: bool = False
    reason: str = ""


def _apply_audit_scores(
    *, round: Round, actor: Any, changes: Sequence[AuditScoreChange], cause: str, reason: str
) -> list[AuditScore]:
    """Set audit scores outside consolidation, for an objection or a correction.

    Each change goes through ``scoring.override_scores.audit_score_revise`` (``cause``
    ``"objection"`` or ``"correction"``), which checks the actor, the phase and
    the points and records each change.
    """
    rows = []
    for change in changes:
        school = (
            change.school
            if isinstance(change.school, School)
            else School.objects.filter(pk=change.school).first()
        )
        if school is None:
            _refuse(_("Unknown school."), "invalid", "school")
        rows.append(
            override_scores.audit_score_revise(
                round=round,
                school=school,
                actor=actor,
                indicator=change.indicator,
                reason=change.reason.strip() or reason,
                cause=cause,
                points=change.points,
                not_applicable=change.not_applicable,
            )
        )
    return rows


def _recompute_superseding(
    *, round: Round, actor: Any, previous: ResultSet, reason: str
) -> ResultSet:
    """Compute a new version that supersedes ``previous`` (the latest), with a reason."""
    new = result_sets.round_results_compute(round=round, actor=actor)
    new.supersedes = previous
    new.correction_reason = reason
    new.save(update_fields=["supersedes", "correction_reason"])
    return new


@transaction.atomic
def objection_uphold(
    *,
    objection: Objection,
    actor: Any,
    response: str,
    changes: Sequence[AuditScoreChange],
) -> Objection:
    """Uphold an open objection: change audit scores, recompute, answer the objector.

    Enforces: the bureau admin; the objection is open; the round's results are
    not published yet (afterwards a correction is the way); a written response
    and at least one audit score change. Sets the audit scores (each audited),
    computes a new result-set version that supersedes the latest one (which stays
    as it was), links it to the objection and records ``objection.uphold``.
    """
    _check_handler(actor)
    objection = _locked_objection(objection)
    _check_open(objection)
    round = Round.objects.get(pk=objection.notice.result_set.round_id)
    if not response.strip():
        _refuse(
            _("Upholding an objection needs a written response."), "reason_required", "response"
        )
    if not changes:
        _refuse(
            _("Upholding an objection changes at least one audit score."), "required", "changes"
        )
    if round.phase != RoundPhase.PUBLIC_NOTICE:
        _refuse(
            _("Objections are upheld during the public notice; the round is in “%(phase)s”.")
            % {"phase": round.get_phase_display()},
            "phase_closed",
        )
    previous = ResultSet.objects.filter(round=round).order_by("-version").first()
    if previous.is_published:
        _refuse(_("The results are published; publish a correction instead."), "already_published")
    reason = _("Objection %(code)s upheld: %(response)s") % {
        "code": objection.tracking_code,
        "response": response.strip(),
    }
    _apply_audit_scores(
        round=round,
        actor=actor,
        changes=changes,
        cause="objection",
        reason=reason,
    )
    new = _recompute_superseding(round=round, actor=actor, previous=previous, reason=reason)
    before = objection.status
    _answer(objection, actor, ObjectionStatus.UPHELD, response.strip())
    objection.result_set_after = new
    objection.save()
    _objection_audit(
        objection,
        actor,
        "objection.uphold",
        before,
        response=objection.response,
        superseded_version=previous.version,
        new_version=new.version,
    )
    return objection


# ------------------------------------------------------------- publication


def noticed_origin(*, result_set: ResultSet) -> NoticePeriod | None:
    """The public notice ``result_set`` went through: its own, or that of the version its
    corrections descend from (following ``supersedes``). Two queries, whatever the depth."""
    supersedes = dict(
        ResultSet.objects.filter(round_id=result_set.round_id).values_list("pk", "supersedes_id")
    )
    notices = {
        notice.result_set_id: notice
        for notice in NoticePeriod.objects.filter(result_set__round_id=result_set.round_id)
    }
    current: int | None = result_set.pk
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        if current in notices:
            return notices[current]
        current = supersedes.get(current)
    return None


def open_objection_count(*, round: Round) -> int:
    return Objection.objects.filter(
        notice__result_set__round=round, status__in=OBJECTION_OPEN
    ).count()


def publication_refusal(*, result_set: ResultSet) -> DomainError | None:
    """Why ``result_set`` cannot be published now (the notice rules), or None."""
    round = result_set.round
    now = timezone.now()
    origin = noticed_origin(result_set=result_set)
    if origin is None:
        return DomainError(
            _("Version %(version)d was not under public notice; open a public notice for it first.")
            % {"version": result_set.version},
            code="not_noticed",
        )
    current = notice_of_round(round=round)
    if current is not None and current.ends_at > now:
        return DomainError(
            _("The public notice runs until %(end)s; publish after it ends.")
            % {"end": timezone.localtime(current.ends_at).strftime("%Y-%m-%d %H:%M")},
            code="notice_running",
        )
    waiting = open_objection_count(round=round)
    if waiting:
        return DomainError(
            _("%(count)d objection(s) are still open; answer them before publishing.")
            % {"count": waiting},
            code="objections_open",
        )
    return None


@transaction.atomic
def result_set_publish_checked(
    *, result_set: ResultSet, actor: Any, incomplete_reason: str = ""
) -> ResultSet:
    """Publish a result set after its public notice.

    Refused while the notice runs, while any objection of the round is open,
    and for a version that never went through a notice (directly, or as the
    correction of a noticed version after an upheld objection). Publishes
    through ``scoring.result_sets.result_set_publish`` (latest version, notice
    phase, audited), moves the round from public notice to published, and
    creates the rectifications of the unqualified schools (which enqueue their
    notices after commit).
    """
    if not can_publish_results(actor):
        _refuse(_("Only the bureau publishes results."), "not_allowed")
    result_set = ResultSet.objects.select_for_update().select_related("round").get(pk=result_set.pk)
    # An objection being filed holds its notice's row: wait for it, then count it.
    list(
        NoticePeriod.objects.select_for_update(of=("self",))
        .filter(result_set__round_id=result_set.round_id)
        .values_list("pk", flat=True)
    )
    refusal = publication_refusal(result_set=result_set)
    if refusal is not None:
        raise refusal
    result_set = result_sets.result_set_publish(
        result_set=result_set, actor=actor, incomplete_reason=incomplete_reason
    )
    round = Round.objects.get(pk=result_set.round_id)
    if round.phase == RoundPhase.PUBLIC_NOTICE:
        round_services.round_phase_advance(round=round, actor=actor)
    results_published.send(sender=ResultSet, result_set=result_set, actor=actor)
    return result_set


@transaction.atomic
def result_set_correct(
    *,
    result_set: ResultSet,
    actor: Any,
    reason: str,
    changes: Sequence[AuditScoreChange] = (),
) -> ResultSet:
    """Correct published results: a new, published version with a reason.

    Enforces: the bureau admin; ``result_set`` is the latest version, published
    and not superseded; the round is published or in rectification; a reason.
    Sets the given audit scores (each audited), computes a new version that
    supersedes the old one, publishes it at once (the old one stays published
    and readable, marked superseded), records ``result_set.correct`` and brings
    the rectifications in line with the corrected grades.
    """
    if not can_correct_results(actor):
        _refuse(_("Only the bureau corrects published results."), "not_allowed")
    old = ResultSet.objects.select_for_update().select_related("round").get(pk=result_set.pk)
    round = old.round
    if not reason.strip():
        _refuse(_("A correction needs a reason."), "reason_required", "reason")
    if not old.is_published:
        _refuse(
            _("Version %(version)d is not published; there is nothing to correct.")
            % {"version": old.version},
            "not_published",
        )
    if old.version != _latest_version(round) or old.is_superseded:
        _refuse(_("Only the latest published version can be corrected."), "not_latest")
    if round.phase not in CORRECTION_PHASES:
        _refuse(
            _("Published results are corrected while the round is published or in rectification."),
            "phase_closed",
        )
    _apply_audit_scores(
        round=round,
        actor=actor,
        changes=changes,
        cause="correction",
        reason=reason.strip(),
    )
    new = _recompute_superseding(round=round, actor=actor, previous=old, reason=reason.strip())
    new.is_published = True
    new.published_at = timezone.now()
    new.published_by = actor if getattr(actor, "is_authenticated", False) else None
    new.save(update_fields=["is_published", "published_at", "published_by"])
    audit_record(
        actor=actor,
        action="result_set.correct",
        obj=new,
        before={"version": old.version, "result_set": old.pk},
        after={
            "version": new.version,
            "is_published": True,
            "supersedes": old.pk,
            "reason": new.correction_reason,
            "audit_score_changes": len(changes),
        },
        round_id=round.pk,
    )
    results_published.send(sender=ResultSet, result_set=new, actor=actor)
    return new
