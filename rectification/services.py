"""Use cases of rectification (限期整改) and re-check.

On publication every unqualified school gets a Rectification with a deadline
(``RECTIFICATION_MONTHS`` after publication, six by default) and one item per
failed item (failed veto items first, then every observation point below the
rectification mark), and its rectification notice is rendered. The school
submits a report with evidence per item; the group re-checks and scores the
items; every item at or above its pass mark passes the rectification. One
extension may be granted by the bureau, with a reason. A second failed re-check,
or a deadline missed without a report, escalates to a recommendation to revoke
the licence.

    notified ──report──▶ submitted ──re-check──▶ passed
        ▲                    │
        │                    ├──first failure──▶ failed ──report──▶ submitted …
        │                    └──second failure─▶ escalated
    notified / failed ──deadline missed──▶ escalated

Every function validates, writes in one transaction and records an audit event;
a broken rule raises ``DomainError`` and leaves nothing written.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError
from rectification.enums import (
    RECTIFICATION_AWAITING_REPORT,
    RECTIFICATION_FINISHED,
    EscalationReason,
    RectificationItemKind,
    RectificationStatus,
)
from rectification.models import Rectification, RectificationItem
from rectification.permissions import (
    can_extend_rectification,
    can_recheck_rectification,
    can_submit_rectification_report,
)
from rectification.signals import notices_due
from rounds.enums import Grade, RoundPhase
from rounds.evidence import ALLOWED_LABEL, sniff_content_type
from rounds.models import Indicator
from scoring.models import ResultRow, ResultSet

# An observation point scoring below this share of its points is an item to
# rectify, and a re-check must bring it up to this share (the rectification
# notice of ``reports`` lists the same items).
RECTIFICATION_MARK_SHARE = Decimal("0.6")
TWO_PLACES = Decimal("0.01")
DEFAULT_RECTIFICATION_MONTHS = 6


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months (31 August + 6 → 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rectification_deadline_for(published_on: dt.date) -> dt.date:
    months = int(getattr(settings, "RECTIFICATION_MONTHS", DEFAULT_RECTIFICATION_MONTHS))
    return add_months(published_on, months)


def _snapshot(rectification: Rectification) -> dict[str, Any]:
    return {
        "status": rectification.status,
        "deadline": rectification.deadline,
        "extended_deadline": rectification.extended_deadline,
        "attempts": rectification.attempts,
        "failures": rectification.failures,
        "escalation_reason": rectification.escalation_reason,
        "result_set": rectification.result_set_id,
    }


def _audit(
    rectification: Rectification,
    actor: Any,
    action: str,
    before: dict[str, Any] | None,
    **extra: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=rectification,
        before=before,
        after={**_snapshot(rectification), **extra},
        round_id=rectification.round_id,
        school_id=rectification.school_id,
    )


def _locked(rectification: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update()
        .select_related("round", "school")
        .get(pk=rectification.pk)
    )


def _refuse_when_round_closed(rectification: Rectification) -> None:
    if rectification.round.phase == RoundPhase.CLOSED:
        raise DomainError(_("The round is closed."), code="round_closed")


# ------------------------------------------------------------------ items


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """A failed item of an unqualified school, as found in its result row."""

    indicator_id: int | None
    code: str
    kind: str
    score: Decimal | None
    max_points: Decimal
    pass_mark: Decimal


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def rectification_items_for(
    *, row: ResultRow, indicators: list[Indicator], total_points: Decimal, pass_total: Decimal
) -> list[ItemSpec]:
    """The items an unqualified school rectifies, in framework order.

    Failed veto items first (pass mark: the veto's pass mark, else its full
    points), then every other observation point scoring below
    ``RECTIFICATION_MARK_SHARE`` of its points (pass mark: that share). A school
    that is unqualified without any such item rectifies its overall result
    (pass mark: the lowest qualified total).
    """
    parents = {indicator.parent_id for indicator in indicators}
    leaves = [indicator for indicator in indicators if indicator.pk not in parents]
    leaves.sort(key=lambda indicator: (indicator.order, indicator.code))
    vetoes = set(row.veto_failed or [])
    items: list[ItemSpec] = []
    for leaf in leaves:
        if leaf.code in vetoes:
            mark = leaf.veto_pass_mark if leaf.veto_pass_mark is not None else leaf.max_points
            items.append(
                ItemSpec(
                    leaf.pk,
                    leaf.code,
                    RectificationItemKind.VETO_FAILED,
                    _decimal(row.node(leaf.code).score),
                    leaf.max_points,
                    mark,
                )
            )
    for leaf in leaves:
        if leaf.code in vetoes:
            continue
        score = _decimal(row.node(leaf.code).score)
        mark = (leaf.max_points * RECTIFICATION_MARK_SHARE).quantize(TWO_PLACES, ROUND_HALF_UP)
        if score is not None and score < leaf.max_points * RECTIFICATION_MARK_SHARE:
            items.append(
                ItemSpec(
                    leaf.pk,
                    leaf.code,
                    RectificationItemKind.BELOW_MARK,
                    score,
                    leaf.max_points,
                    mark,
                )
            )
    if not items:
        items.append(
            ItemSpec(
                None,
                "TOTAL",
                RectificationItemKind.OVERALL,
                row.total,
                total_points,
                min(pass_total, total_points),
            )
        )
    return items


def _qualified_minimum(grade_bands: list[dict[str, Any]]) -> Decimal:
    for band in grade_bands:
        if band.get("grade") == Grade.QUALIFIED:
            return Decimal(str(band["min"]))
    return Decimal("60")


def _create_items(rectification: Rectification, specs: list[ItemSpec]) -> None:
    existing = set(rectification.items.values_list("code", flat=True))
    RectificationItem.objects.bulk_create(
        RectificationItem(
            rectification=rectification,
            indicator_id=spec.indicator_id,
            code=spec.code,
            kind=spec.kind,
            order=order,
            score_before=spec.score,
            max_points=spec.max_points,
            pass_mark=spec.pass_mark,
        )
        for order, spec in enumerate(specs)
        if spec.code not in existing
    )


# ------------------------------------------------------------ publication


@transaction.atomic
def rectifications_create_for(*, result_set: ResultSet, actor: Any) -> list[Rectification]:
    """Give every unqualified school of a published result set its rectification.

    Writes a Rectification (deadline: ``RECTIFICATION_MONTHS`` after the
    publication date) and its items for each unqualified school; a school that
    has one from an earlier version keeps it (re-pointed to this version, with
    any newly failed items added), and one that is no longer unqualified after
    a correction has its open rectification withdrawn. Audited per school.
    After commit, enqueues the rendering of each school's rectification notice
    (``reports``) when ``RECTIFICATION_NOTICE_RENDER`` is on. Returns the
    rectifications of the unqualified schools.
    """
    result_set = ResultSet.objects.select_related("round__framework").get(pk=result_set.pk)
    if not result_set.is_published:
        raise DomainError(_("Rectifications follow published results only."), code="not_published")
    round = result_set.round
    published_on = timezone.localdate(result_set.published_at)
    deadline = rectification_deadline_for(published_on)
    indicators = list(Indicator.objects.filter(framework_id=round.framework_id))
    pass_total = _qualified_minimum(round.framework.grade_bands)
    rows = list(
        ResultRow.objects.filter(result_set=result_set)
        .defer("inputs")
        .select_related("school")
        .order_by("school__code")
    )
    existing = {
        rectification.school_id: rectification
        for rectification in Rectification.objects.select_for_update().filter(round=round)
    }
    unqualified: list[Rectification] = []
    for row in rows:
        rectification = existing.get(row.school_id)
        if row.grade != Grade.UNQUALIFIED:
            if rectification is not None and rectification.status not in RECTIFICATION_FINISHED:
                _withdraw(rectification, actor, result_set)
            continue
        specs = rectification_items_for(
            row=row,
            indicators=indicators,
            total_points=round.framework.total_points,
            pass_total=pass_total,
        )
        if rectification is None:
            rectification = Rectification.objects.create(
                round=round, school=row.school, deadline=deadline, result_set=result_set
            )
            _create_items(rectification, specs)
            _audit(
                rectification,
                actor,
                "rectification.create",
                None,
                items=[spec.code for spec in specs],
            )
        else:
            before = _snapshot(rectification)
            rectification.result_set = result_set
            if rectification.status == RectificationStatus.WITHDRAWN:
                rectification.status = RectificationStatus.NOTIFIED
                rectification.closing_note = ""
                if rectification.extensions_used == 0:
                    rectification.deadline = deadline
            rectification.save()
            _create_items(rectification, specs)
            _audit(
                rectification,
                actor,
                "rectification.update",
                before,
                items=[spec.code for spec in specs],
            )
        unqualified.append(rectification)
    if unqualified and getattr(settings, "RECTIFICATION_NOTICE_RENDER", True):
        result_set_id = result_set.pk
        school_ids = [rectification.school_id for rectification in unqualified]
        transaction.on_commit(
            lambda: notices_due.send(
                sender=Rectification, result_set_id=result_set_id, school_ids=school_ids
            ),
            robust=True,
        )
    return unqualified


def _withdraw(rectification: Rectification, actor: Any, result_set: ResultSet) -> None:
    before = _snapshot(rectification)
    rectification.status = RectificationStatus.WITHDRAWN
    rectification.result_set = result_set
    rectification.closing_note = _(
        "Withdrawn: the corrected results (version %(version)d) no longer grade the school "
        "unqualified."
    ) % {"version": result_set.version}
    rectification.save()
    _audit(rectification, actor, "rectification.withdraw", before)


# ------------------------------------------------------------ the school


@dataclass(frozen=True, slots=True)
class ItemReport:
    """The school's report on one item: its text and, optionally, a new evidence file."""

    text: str
    file: IO[bytes] | None = None


def _file_facts(file: Any, code: str) -> tuple[str, str, int, str]:
    """(original name, content type, size, sha256) of an evidence file, or DomainError."""
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1][:255] or "evidence"
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size == 0:
        raise DomainError(
            _("%(code)s: %(name)s is empty.") % {"code": code, "name": name},
            code="empty",
            field=code,
        )
    if size > settings.EVIDENCE_MAX_BYTES:
        raise DomainError(
            _("%(code)s: %(name)s is %(size)s; the limit is %(limit)s.")
            % {
                "code": code,
                "name": name,
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES),
            },
            code="too_large",
            field=code,
        )
    content_type = sniff_content_type(file)
    if content_type is None:
        raise DomainError(
            _("%(code)s: %(name)s is not a %(allowed)s file (checked from its content).")
            % {"code": code, "name": name, "allowed": ALLOWED_LABEL},
            code="file_type",
            field=code,
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    return name, content_type, size, digest.hexdigest()


@transaction.atomic
def rectification_submit_report(
    *, rectification: Rectification, actor: Any, reports: Mapping[int, ItemReport]
) -> Rectification:
    """Submit the school's rectification report: text and evidence for every item.

    ``reports`` maps item ids to the report on that item. Enforces: the actor is
    the school's staff; the rectification awaits a report (notified, or failed
    once); the deadline in force has not passed; every item has a report and
    evidence (a new file, or the one kept from the previous attempt); evidence
    is an allowed type recognised from its content and within the size limit.
    Clears the previous re-check scores, stores the files, counts the attempt
    and records a ``rectification.submit`` event with each item's text and the
    SHA-256 of its evidence.
    """
    rectification = _locked(rectification)
    if not can_submit_rectification_report(actor, rectification):
        raise DomainError(
            _("Only the school's own staff submit its rectification report."), code="not_staff"
        )
    _refuse_when_round_closed(rectification)
    if rectification.status not in RECTIFICATION_AWAITING_REPORT:
        raise DomainError(
            _("A report cannot be submitted now: the rectification is “%(status)s”.")
            % {"status": rectification.get_status_display()},
            code="invalid_state",
        )
    today = timezone.localdate()
    if today > rectification.effective_deadline:
        raise DomainError(
            _("The deadline was %(date)s; the report can no longer be submitted.")
            % {"date": rectification.effective_deadline},
            code="deadline_passed",
        )
    items = list(rectification.items.order_by("order", "code"))
    unknown = set(reports) - {item.pk for item in items}
    if unknown:
        raise DomainError(_("The report names items of another rectification."), code="invalid")
    facts: dict[int, tuple[str, str, int, str]] = {}
    problems: list[str] = []
    for item in items:
        report = reports.get(item.pk)
        if report is None or not report.text.strip():
            problems.append(
                _("%(code)s: the report on this item is missing.") % {"code": item.code}
            )
            continue
        if report.file is not None:
            try:
                facts[item.pk] = _file_facts(report.file, item.code)
            except DomainError as error:
                problems.append(str(error))
        elif not item.evidence:
            problems.append(_("%(code)s: evidence is required.") % {"code": item.code})
    if problems:
        raise DomainError(
            _("The report is incomplete; nothing was submitted. %(problems)s")
            % {"problems": " ".join(problems)},
            code="incomplete",
            details=problems,
        )
    now = timezone.now()
    logged = []
    for item in items:
        report = reports[item.pk]
        item.report = report.text.strip()
        item.reported_at = now
        item.recheck_points = None
        item.recheck_passed = None
        if item.pk in facts:
            name, content_type, size, sha256 = facts[item.pk]
            item.evidence_name, item.evidence_content_type = name, content_type
            item.evidence_size, item.evidence_sha256 = size, sha256
            item.evidence.save(sha256, report.file, save=False)
        item.save()
        logged.append(
            {
                "code": item.code,
                "report": item.report,
                "evidence": item.evidence_name,
                "sha256": item.evidence_sha256,
            }
        )
    before = _snapshot(rectification)
    rectification.status = RectificationStatus.SUBMITTED
    rectification.attempts += 1
    rectification.submitted_at = now
    rectification.submitted_by = actor
    rectification.save()
    _audit(rectification, actor, "rectification.submit", before, items=logged)
    return rectification


# ------------------------------------------------------------- the group


def _clean_recheck_points(value: Any, item: RectificationItem) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise DomainError(
            _("%(code)s: “%(value)s” is not a number.") % {"code": item.code, "value": value},
            code="invalid",
            field=item.code,
        ) from error
    if not points.is_finite() or points < 0 or points > item.max_points:
        raise DomainError(
            _("%(code)s: the score must lie between 0 and %(max)s.")
            % {"code": item.code, "max": item.max_points},
            code="out_of_range",
            field=item.code,
        )
    if points != points.quantize(TWO_PLACES):
        raise DomainError(
            _("%(code)s: at most two decimal places.") % {"code": item.code},
            code="invalid",
            field=item.code,
        )
    return points


@transaction.atomic
def rectification_recheck(
    *,
    rectification: Rectification,
    actor: Any,
    scores: Mapping[int, Any],
    comment: str = "",
) -> Rectification:
    """Record the group's re-check of a submitted report.

    ``scores`` maps every item id to its re-check score (0 … its points, two
    places at most). An item passes at or above its pass mark; the
    rectification passes when every item does. A failure needs a written
    opinion; the first failure sends the school back to report again, the
    second escalates to a recommendation to revoke the licence. Enforces the
    actor is the leader of the round's group or the bureau admin. Audited.
    """
    rectification = _locked(rectification)
    if not can_recheck_rectification(actor, rectification):
        raise DomainError(
            _("Only the evaluation group's leader or the bureau re-checks a rectification."),
            code="not_allowed",
        )
    _refuse_when_round_closed(rectification)
    if rectification.status != RectificationStatus.SUBMITTED:
        raise DomainError(
            _("Only a submitted report can be re-checked; the rectification is “%(status)s”.")
            % {"status": rectification.get_status_display()},
            code="invalid_state",
        )
    items = list(rectification.items.order_by("order", "code"))
    missing = [item.code for item in items if scores.get(item.pk) in (None, "")]
    if missing:
        raise DomainError(
            _("Every item needs a re-check score; missing: %(codes)s.")
            % {"codes": ", ".join(missing)},
            code="incomplete",
            details=missing,
        )
    points = {item.pk: _clean_recheck_points(scores[item.pk], item) for item in items}
    passed = all(points[item.pk] >= item.pass_mark for item in items)
    if not passed and not comment.strip():
        raise DomainError(
            _("A failed re-check needs the group's written opinion."),
            code="reason_required",
            field="comment",
        )
    for item in items:
        item.recheck_points = points[item.pk]
        item.recheck_passed = points[item.pk] >= item.pass_mark
    RectificationItem.objects.bulk_update(items, ["recheck_points", "recheck_passed"])
    before = _snapshot(rectification)
    now = timezone.now()
    rectification.rechecked_at, rectification.rechecked_by = now, actor
    rectification.recheck_comment = comment.strip()
    if passed:
        rectification.status = RectificationStatus.PASSED
    else:
        rectification.failures += 1
        if rectification.failures >= 2:
            rectification.status = RectificationStatus.ESCALATED
            rectification.escalated_at = now
            rectification.escalation_reason = EscalationReason.SECOND_FAILURE
        else:
            rectification.status = RectificationStatus.FAILED
    rectification.save()
    _audit(
        rectification,
        actor,
        "rectification.recheck",
        before,
        outcome="passed" if passed else "failed",
        scores={item.code: points[item.pk] for item in items},
        comment=rectification.recheck_comment,
    )
    return rectification


# ------------------------------------------------------------ the bureau


@transaction.atomic
def rectification_extend(
    *, rectification: Rectification, actor: Any, new_deadline: dt.date, reason: str
) -> Rectification:
    """Grant the one extension of a rectification's deadline, with a reason.

    Enforces: the bureau admin; no extension granted before; the rectification
    is not over (passed, escalated, withdrawn); the new deadline is later than
    the one in force and not in the past. Audited.
    """
    rectification = _locked(rectification)
    if not can_extend_rectification(actor):
        raise DomainError(_("Only the bureau grants an extension."), code="not_allowed")
    _refuse_when_round_closed(rectification)
    if rectification.extensions_used >= 1:
        raise DomainError(
            _("The one extension was granted already (to %(date)s).")
            % {"date": rectification.extended_deadline},
            code="extension_used",
        )
    if rectification.status in RECTIFICATION_FINISHED:
        raise DomainError(
            _("The rectification is over (“%(status)s”); it cannot be extended.")
            % {"status": rectification.get_status_display()},
            code="invalid_state",
        )
    if not reason.strip():
        raise DomainError(_("An extension needs a reason."), code="reason_required", field="reason")
    if new_deadline <= rectification.effective_deadline:
        raise DomainError(
            _("The new deadline must come after %(date)s.")
            % {"date": rectification.effective_deadline},
            code="invalid",
            field="new_deadline",
        )
    if new_deadline < timezone.localdate():
        raise DomainError(
            _("The new deadline lies in the past."), code="invalid", field="new_deadline"
        )
    before = _snapshot(rectification)
    rectification.extended_deadline = new_deadline
    rectification.extension_reason = reason.strip()
    rectification.extensions_used = 1
    rectification.extended_by, rectification.extended_at = actor, timezone.now()
    rectification.save()
    _audit(
        rectification, actor, "rectification.extend", before, reason=rectification.extension_reason
    )
    return rectification


def rectifications_overdue(*, today: dt.date) -> Any:
    """Rectifications still waiting for a report whose deadline in force has passed."""
    return (
        Rectification.objects.filter(status__in=RECTIFICATION_AWAITING_REPORT)
        .annotate(deadline_in_force=Coalesce("extended_deadline", "deadline"))
        .filter(deadline_in_force__lt=today)
        .order_by("pk")
    )


def rectifications_escalate_overdue(
    *, actor: Any = None, today: dt.date | None = None
) -> list[int]:
    """Escalate every rectification whose deadline passed without a report.

    Run daily by Celery beat; idempotent (an escalated rectification is left
    alone). Each escalation is its own transaction with its own audit event, so
    one failure does not hold back the others. Returns the escalated ids.
    """
    today = today or timezone.localdate()
    escalated = []
    for pk in rectifications_overdue(today=today).values_list("pk", flat=True):
        with transaction.atomic():
            rectification = Rectification.objects.select_for_update().get(pk=pk)
            if (
                rectification.status not in RECTIFICATION_AWAITING_REPORT
                or rectification.effective_deadline >= today
            ):
                continue
            before = _snapshot(rectification)
            rectification.status = RectificationStatus.ESCALATED
            rectification.escalated_at = timezone.now()
            rectification.escalation_reason = EscalationReason.DEADLINE_MISSED
            rectification.save()
            _audit(rectification, actor, "rectification.escalate", before)
            escalated.append(pk)
    return escalated
