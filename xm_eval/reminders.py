"""Reminder e-mails before deadlines, sent by Celery beat once each.

Deadlines reminded (``REMINDER_DAYS_BEFORE``: 30, 7 and 1 days before):

* the end of a round's self-assessment phase, to the staff of every school in
  scope whose self-assessment is not submitted;
* the end of a round's expert-scoring phase, to every evaluator with an active
  assignment whose score sheet is not submitted;
* a rectification's deadline in force, to the school's staff, while the
  rectification waits for their report (an extension starts a fresh series).

A run sends, per deadline and person, the reminder of the nearest threshold
not yet passed: 5 days before a deadline that is the 7-day one, so a beat that
was down for a day still reminds, and never more than one reminder per
threshold. "Once" is held by the database: a reminder's row in
``ReminderSent`` (unique per kind, object, days before, recipient) is claimed
and committed before the e-mail goes out, so a second run, a second beat or a
restart finds it taken; if sending fails the claim is released for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rectification.enums import RECTIFICATION_AWAITING_REPORT
from rectification.models import Rectification
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, PhaseWindow
from schools.models import StaffMembership
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from xm_eval.models import ReminderSent

logger = logging.getLogger(__name__)

KIND_PHASE = "phase_deadline"
KIND_RECTIFICATION = "rectification_deadline"
# An extended deadline is reminded afresh: its own series of 30, 7 and 1 days.
KIND_RECTIFICATION_EXTENDED = "rectification_extended"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder to one person about one deadline."""

    kind: str
    object_id: int
    days_before: int
    deadline: dt.date
    recipient_id: int
    email: str
    subject: str
    body: str

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (self.kind, self.object_id, self.days_before, self.recipient_id)


@dataclass(frozen=True, slots=True)
class ReminderReport:
    sent: int
    already_sent: int
    failed: int


def reminder_threshold(deadline: dt.date, today: dt.date) -> int | None:
    """The reminder due for ``deadline`` today: the smallest threshold at or above the
    days left (30, 7, 1), or None before 30 days and after the deadline."""
    days_left = (deadline - today).days
    if days_left < 0:
        return None
    for threshold in sorted(settings.REMINDER_DAYS_BEFORE):
        if days_left <= threshold:
            return threshold
    return None


def _site_url(path: str) -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def _phase_reminders(today: dt.date) -> Iterator[Reminder]:

    windows = [
        window
        for window in PhaseWindow.objects.filter(
            phase__in=[RoundPhase.SELF_ASSESSMENT, RoundPhase.EXPERT_SCORING],
            round__phase=F("phase"),
            ends_on__gte=today,
        ).select_related("round")
        if reminder_threshold(window.ends_on, today) is not None
    ]
    for window in windows:
        days = reminder_threshold(window.ends_on, today)
        round = window.round
        if window.phase == RoundPhase.SELF_ASSESSMENT:
            submitted = SelfAssessment.objects.filter(
                round=round, school=OuterRef("school"), status=SheetStatus.SUBMITTED
            )
            people = (
                StaffMembership.objects.filter(school__rounds=round, user__is_active=True)
                .exclude(user__email="")
                .exclude(Exists(submitted))
                .values_list("user_id", "user__email")
                .distinct()
            )
            subject = _("Self-assessment of %(round)s closes on %(date)s (%(days)d day(s) left)")
            what = _(
                "Please fill in your school's self-assessment, upload the evidence and "
                "submit it before the end of %(date)s."
            )
            path = reverse("site:home")
        else:
            submitted = ScoreSheet.objects.filter(
                round=round,
                school=OuterRef("school"),
                evaluator=OuterRef("evaluator"),
                status=SheetStatus.SUBMITTED,
            )
            people = (
                Assignment.objects.filter(
                    round=round, status=AssignmentStatus.ACTIVE, evaluator__is_active=True
                )
                .exclude(evaluator__email="")
                .exclude(Exists(submitted))
                .values_list("evaluator_id", "evaluator__email")
                .distinct()
            )
            subject = _("Expert scoring of %(round)s closes on %(date)s (%(days)d day(s) left)")
            what = _("Please score your assigned schools and submit each score sheet by %(date)s.")
            path = reverse("site:home")
        values = {
            "round": round.name,
            "date": window.ends_on,
            "days": (window.ends_on - today).days,
        }
        for user_id, email in people:
            yield Reminder(
                kind=KIND_PHASE,
                object_id=window.pk,
                days_before=days,
                deadline=window.ends_on,
                recipient_id=user_id,
                email=email,
                subject=subject % values,
                body=f"{what % values}\n\n{_site_url(path)}\n",
            )


def _rectification_reminders(today: dt.date) -> Iterator[Reminder]:

    rectifications = [
        rectification
        for rectification in Rectification.objects.filter(
            status__in=RECTIFICATION_AWAITING_REPORT
        ).select_related("round", "school")
        if reminder_threshold(rectification.effective_deadline, today) is not None
    ]
    staff: dict[int, list[tuple[int, str]]] = {}
    for school_id, user_id, email in (
        StaffMembership.objects.filter(
            school_id__in={r.school_id for r in rectifications}, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("school_id", "user_id", "user__email")
    ):
        staff.setdefault(school_id, []).append((user_id, email))
    for rectification in rectifications:
        deadline = rectification.effective_deadline
        days = reminder_threshold(deadline, today)
        values = {
            "school": rectification.school.name_zh,
            "round": rectification.round.name,
            "date": deadline,
            "days": (deadline - today).days,
        }
        subject = _("Rectification of %(school)s is due on %(date)s (%(days)d day(s) left)")
        body = _(
            "%(school)s must submit its rectification report with evidence for every failed "
            "item of %(round)s by %(date)s. Without a report by then the bureau is recommended "
            "to revoke the school's licence."
        )
        path = reverse("rectification:detail", args=(rectification.pk,))
        kind = KIND_RECTIFICATION_EXTENDED if rectification.extensions_used else KIND_RECTIFICATION
        for user_id, email in staff.get(rectification.school_id, []):
            yield Reminder(
                kind=kind,
                object_id=rectification.pk,
                days_before=days,
                deadline=deadline,
                recipient_id=user_id,
                email=email,
                subject=subject % values,
                body=f"{body % values}\n\n{_site_url(path)}\n",
            )


def reminders_due(*, today: dt.date) -> list[Reminder]:
    """Every reminder due today, sent or not."""
    return [*_phase_reminders(today), *_rectification_reminders(today)]


def _already_sent(reminders: Iterable[Reminder]) -> set[tuple[str, int, int, int]]:
    reminders = list(reminders)
    if not reminders:
        return set()
    return set(
        ReminderSent.objects.filter(
            kind__in={r.kind for r in reminders},
            object_id__in={r.object_id for r in reminders},
        ).values_list("kind", "object_id", "days_before", "recipient_id")
    )


def _claim(reminder: Reminder, now: dt.datetime) -> ReminderSent | None:
    """Take the reminder's row, committed; None when someone has it already."""
    try:
        with transaction.atomic():
            return ReminderSent.objects.create(
                kind=reminder.kind,
                object_id=reminder.object_id,
                days_before=reminder.days_before,
                recipient_id=reminder.recipient_id,
                deadline=reminder.deadline,
                sent_at=now,
            )
    except IntegrityError:
        return None


def reminders_send(*, today: dt.date | None = None) -> ReminderReport:
    """Send every reminder due today that has not gone out before (see the module)."""
    today = today or timezone.localdate()
    due = reminders_due(today=today)
    sent_before = _already_sent(due)
    sent = already = failed = 0
    for reminder in due:
        if reminder.key in sent_before:
            already += 1
            continue
        claim = _claim(reminder, timezone.now())
        if claim is None:
            already += 1
            continue
        try:
            send_mail(
                reminder.subject,
                reminder.body,
                settings.DEFAULT_FROM_EMAIL,
                [reminder.email],
                fail_silently=False,
            )
        except Exception:
            logger.exception(
                "Reminder %s to user %s failed; it will be tried again",
                reminder.key,
                reminder.recipient_id,
            )
            ReminderSent.objects.filter(pk=claim.pk).delete()
            failed += 1
            continue
        sent += 1
    if sent:
        logger.info("Sent %d reminder(s) (%d sent before)", sent, already)
    return ReminderReport(sent=sent, already_sent=already, failed=failed)
