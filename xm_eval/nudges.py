"""Reminders on demand (催办): the bureau admin reminds, in one action from a round's
monitoring page, every evaluator whose score sheet is incomplete, or the staff of every
school whose self-assessment or rectification report is still due.

One e-mail per person (Chinese, through Django's mail), one audit event per e-mail
(``reminder.nudge``), and at most one such reminder a day per person: a
``NudgeSent`` row per (recipient, day) is claimed before the e-mail goes out, so a
second press the same day skips whoever was reminded already and says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError
from rectification.enums import RECTIFICATION_AWAITING_REPORT
from rectification.models import Rectification
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Round
from schools.models import StaffMembership
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from xm_eval.models import NudgeSent

logger = logging.getLogger(__name__)

EVALUATORS = "evaluators"
SCHOOLS = "schools"
AUDIENCES = (EVALUATORS, SCHOOLS)


@dataclass
class NudgeTarget:
    """One person to remind and what they still owe in the round."""

    user: Any
    what: list[str] = field(default_factory=list)
    already_today: bool = False

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def name(self) -> str:
        return f"{self.user.last_name}{self.user.first_name}" or self.user.get_username()


@dataclass(frozen=True, slots=True)
class NudgeReport:
    sent: list[NudgeTarget]
    skipped_today: list[NudgeTarget]
    without_email: list[NudgeTarget]
    failed: list[NudgeTarget]


def _evaluator_targets(round: Round) -> dict[int, NudgeTarget]:
    if round.phase != RoundPhase.EXPERT_SCORING:
        return {}
    submitted = ScoreSheet.objects.filter(
        round=round,
        school=OuterRef("school"),
        evaluator=OuterRef("evaluator"),
        status=SheetStatus.SUBMITTED,
    )
    targets: dict[int, NudgeTarget] = {}
    for assignment in (
        Assignment.objects.filter(
            round=round, status=AssignmentStatus.ACTIVE, evaluator__is_active=True
        )
        .exclude(Exists(submitted))
        .select_related("evaluator", "school")
        .order_by("evaluator_id", "school__code")
    ):
        target = targets.setdefault(assignment.evaluator_id, NudgeTarget(assignment.evaluator))
        target.what.append(
            _("the score sheet of %(school)s") % {"school": assignment.school.name_zh}
        )
    return targets


def _school_targets(round: Round) -> dict[int, NudgeTarget]:
    owed: dict[int, list[str]] = {}
    if round.phase == RoundPhase.SELF_ASSESSMENT:
        submitted = SelfAssessment.objects.filter(
            round=round, school=OuterRef("pk"), status=SheetStatus.SUBMITTED
        )
        for school in round.schools.exclude(Exists(submitted)).order_by("code"):
            owed.setdefault(school.pk, []).append(
                _("the self-assessment of %(school)s") % {"school": school.name_zh}
            )
    for rectification in (
        Rectification.objects.filter(round=round, status__in=RECTIFICATION_AWAITING_REPORT)
        .select_related("school")
        .order_by("school__code")
    ):
        owed.setdefault(rectification.school_id, []).append(
            _("the rectification report of %(school)s, due %(date)s")
            % {"school": rectification.school.name_zh, "date": rectification.effective_deadline}
        )
    targets: dict[int, NudgeTarget] = {}
    for membership in (
        StaffMembership.objects.filter(school_id__in=owed, user__is_active=True)
        .select_related("user")
        .order_by("school__code", "user_id")
    ):
        target = targets.setdefault(membership.user_id, NudgeTarget(membership.user))
        target.what.extend(owed[membership.school_id])
    return targets


def nudge_targets(
    *, round: Round, audience: str, today: dt.date | None = None
) -> list[NudgeTarget]:
    """Who a reminder on demand to ``audience`` would reach in ``round`` today, with what
    each still owes, and whether they were reminded today already."""
    if audience not in AUDIENCES:
        raise DomainError(_("Unknown audience for a reminder."), code="invalid")
    today = today or timezone.localdate()
    targets = _evaluator_targets(round) if audience == EVALUATORS else _school_targets(round)
    reminded = set(
        NudgeSent.objects.filter(recipient_id__in=targets, sent_on=today).values_list(
            "recipient_id", flat=True
        )
    )
    for user_id, target in targets.items():
        target.already_today = user_id in reminded
    return list(targets.values())


def _message(round: Round, audience: str, target: NudgeTarget) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        if audience == EVALUATORS:
            subject = _("Reminder: please finish your score sheets for %(round)s")
        else:
            subject = _("Reminder: your school has work due in %(round)s")
        lines = "\n".join(f"- {item}" for item in target.what)
        body = _(
            "Dear %(name)s,\n\nThe bureau reminds you that the following is not finished yet "
            "in %(round)s:\n%(lines)s\n\nPlease complete it before the deadline:\n%(url)s\n"
        ) % {
            "name": target.name,
            "round": round.name,
            "lines": lines,
            "url": getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
            + reverse("site:home"),
        }
        return subject % {"round": round.name}, body


def _claim(*, target: NudgeTarget, round: Round, audience: str, actor: Any, today: dt.date):
    try:
        with transaction.atomic():
            nudge = NudgeSent.objects.create(
                recipient=target.user,
                sent_on=today,
                kind=audience,
                round=round,
                sent_by=actor,
                sent_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="reminder.nudge",
                obj=nudge,
                after={
                    "recipient": target.user.pk,
                    "audience": audience,
                    "sent_on": today.isoformat(),
                    "what": target.what,
                },
                round_id=round.pk,
            )
            return nudge
    except IntegrityError:
        return None


def round_nudge_send(*, round: Round, audience: str, actor: Any) -> NudgeReport:
    """Send one reminder e-mail to each person ``nudge_targets`` finds, skipping whoever
    was reminded today or has no e-mail address.

    Writes a ``NudgeSent`` row and a ``reminder.nudge`` audit event per e-mail, each
    committed before its e-mail goes out; if sending fails the row is deleted so the
    person can be reminded again (the audit event stays: it records the attempt).
    """
    today = timezone.localdate()
    sent: list[NudgeTarget] = []
    skipped: list[NudgeTarget] = []
    without_email: list[NudgeTarget] = []
    failed: list[NudgeTarget] = []
    for target in nudge_targets(round=round, audience=audience, today=today):
        if not target.email:
            without_email.append(target)
            continue
        if target.already_today:
            skipped.append(target)
            continue
        nudge = _claim(target=target, round=round, audience=audience, actor=actor, today=today)
        if nudge is None:
            skipped.append(target)
            continue
        subject, body = _message(round, audience, target)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [target.email])
        except Exception:
            logger.exception("Reminder on demand to user %s failed", target.user.pk)
            # The audit event stays (the chain is append-only): it records the attempt.
            NudgeSent.objects.filter(pk=nudge.pk).delete()
            failed.append(target)
            continue
        sent.append(target)
    return NudgeReport(sent=sent, skipped_today=skipped, without_email=without_email, failed=failed)
