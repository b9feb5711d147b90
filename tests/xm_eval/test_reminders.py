"""Deadline reminders by Celery beat: 30, 7 and 1 days before, each sent exactly once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation

from core.enums import Role
from rectification.enums import RectificationStatus
from rectification.models import Rectification
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, PhaseWindow, Round
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from tests.factories import (
    SchoolFactory,
    StaffMembershipFactory,
    UserFactory,
    make_round,
    round_to_phase,
)
from xm_eval import reminders
from xm_eval.models import ReminderSent
from xm_eval.tasks import reminders_send

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _english(settings):  # noqa: ANN001, ANN202
    # The assertions read the English source texts; e-mails default to Chinese.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def morning(day: dt.date) -> dt.datetime:
    # beat runs the job at 08:00 Shanghai time
    return dt.datetime(day.year, day.month, day.day, 8, tzinfo=SHANGHAI)


def run_beat_on(day: dt.date, times: int = 1) -> None:
    with time_machine.travel(morning(day), tick=False):
        for _ in range(times):
            reminders_send.apply().get()


def round_in(phase: str, schools: list) -> Round:  # noqa: ANN001
    round = make_round(schools=schools, phase_windows={phase: (dt.date(2026, 1, 1), DEADLINE)})
    return round_to_phase(round, phase)


def staff_of(school, name: str, email: str | None = None):  # noqa: ANN001, ANN201
    user = UserFactory(
        username=name,
        email=email if email is not None else f"{name}@example.cn",
        roles=[Role.SCHOOL_STAFF],
    )
    StaffMembershipFactory(user=user, school=school)
    return user


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_self_assessment_reminders_go_out_at_30_7_and_1_days_once_each():
    school, done_school = SchoolFactory(), SchoolFactory()
    round = round_in(RoundPhase.SELF_ASSESSMENT, [school, done_school])
    staff_of(school, "teacher-a")
    staff_of(school, "teacher-b")
    staff_of(school, "no-mail", email="")
    staff_of(done_school, "finished")
    SelfAssessment.objects.create(
        round=round,
        school=done_school,
        status=SheetStatus.SUBMITTED,
        submitted_at=morning(dt.date(2026, 5, 1)),
    )
    run_beat_on(DEADLINE - dt.timedelta(days=31))
    assert mail.outbox == []
    sent_per_day = {}
    for days_before in range(30, -3, -1):
        before = len(mail.outbox)
        run_beat_on(DEADLINE - dt.timedelta(days=days_before), times=2)
        sent_per_day[days_before] = len(mail.outbox) - before
    assert {day: count for day, count in sent_per_day.items() if count} == {30: 2, 7: 2, 1: 2}
    assert recipients() == ["teacher-a@example.cn"] * 3 + ["teacher-b@example.cn"] * 3
    assert "2026-06-30" in mail.outbox[0].subject
    assert round.name in mail.outbox[0].subject
    assert set(ReminderSent.objects.values_list("kind", "days_before").distinct()) == {
        ("phase_deadline", 30),
        ("phase_deadline", 7),
        ("phase_deadline", 1),
    }


def test_a_beat_that_was_down_sends_the_nearest_reminder_only_once():
    school = SchoolFactory()
    round_in(RoundPhase.SELF_ASSESSMENT, [school])
    staff_of(school, "teacher")
    run_beat_on(DEADLINE - dt.timedelta(days=5))  # the 30- and 7-day runs were missed
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("(5 day(s) left)")
    assert ReminderSent.objects.get().days_before == 7
    run_beat_on(DEADLINE - dt.timedelta(days=4))
    assert len(mail.outbox) == 1


def test_scoring_reminders_go_to_evaluators_whose_sheet_is_not_submitted():
    first, second = SchoolFactory(), SchoolFactory()
    round = round_in(RoundPhase.EXPERT_SCORING, [first, second])
    pending = UserFactory(username="pending", email="pending@example.cn", roles=[Role.EVALUATOR])
    done = UserFactory(username="done", email="done@example.cn", roles=[Role.EVALUATOR])
    recused = UserFactory(username="recused", email="recused@example.cn", roles=[Role.EVALUATOR])
    for evaluator in (pending, done):
        for school in (first, second):
            Assignment.objects.create(round=round, school=school, evaluator=evaluator)
    Assignment.objects.create(
        round=round,
        school=first,
        evaluator=recused,
        status=AssignmentStatus.RECUSED,
        recusal_reason="曾任该校顾问",
    )
    for school in (first, second):
        ScoreSheet.objects.create(
            round=round,
            school=school,
            evaluator=done,
            status=SheetStatus.SUBMITTED,
            submitted_at=morning(dt.date(2026, 5, 1)),
        )
    ScoreSheet.objects.create(round=round, school=first, evaluator=pending)  # a draft
    run_beat_on(DEADLINE - dt.timedelta(days=7), times=2)
    assert recipients() == ["pending@example.cn"]  # one e-mail, though two schools are due


def test_a_phase_that_is_not_the_current_one_is_not_reminded():
    school = SchoolFactory()
    round = make_round(
        schools=[school],
        phase_windows={RoundPhase.EXPERT_SCORING: (dt.date(2026, 1, 1), DEADLINE)},
    )
    round_to_phase(round, RoundPhase.SELF_ASSESSMENT)
    evaluator = UserFactory(email="e@example.cn", roles=[Role.EVALUATOR])
    Assignment.objects.create(round=round, school=school, evaluator=evaluator)
    run_beat_on(DEADLINE - dt.timedelta(days=7))
    assert mail.outbox == []


def test_rectification_reminders_and_a_fresh_series_after_the_extension():
    school = SchoolFactory()
    round = round_in(RoundPhase.PUBLISHED, [school])
    staff_of(school, "principal")
    rectification = Rectification.objects.create(round=round, school=school, deadline=DEADLINE)
    for days_before in (30, 7, 1):
        run_beat_on(DEADLINE - dt.timedelta(days=days_before), times=2)
    assert len(mail.outbox) == 3
    assert "/rectification/" in mail.outbox[0].body
    new_deadline = dt.date(2026, 9, 30)
    Rectification.objects.filter(pk=rectification.pk).update(
        extended_deadline=new_deadline, extension_reason="搬迁", extensions_used=1
    )
    for days_before in (30, 7, 1):
        run_beat_on(new_deadline - dt.timedelta(days=days_before), times=2)
    assert len(mail.outbox) == 6
    assert "2026-09-30" in mail.outbox[-1].subject


def test_a_rectification_that_is_not_waiting_for_a_report_is_not_reminded():
    school = SchoolFactory()
    round = round_in(RoundPhase.PUBLISHED, [school])
    staff_of(school, "principal")
    Rectification.objects.create(
        round=round, school=school, deadline=DEADLINE, status=RectificationStatus.SUBMITTED
    )
    run_beat_on(DEADLINE - dt.timedelta(days=7))
    assert mail.outbox == []


def test_a_reminder_claimed_by_another_run_is_not_sent_again():
    school = SchoolFactory()
    round = round_in(RoundPhase.SELF_ASSESSMENT, [school])
    user = staff_of(school, "teacher")
    window = PhaseWindow.objects.get(round=round)
    # another beat (or the run before a restart) took this reminder already
    ReminderSent.objects.create(
        kind=reminders.KIND_PHASE,
        object_id=window.pk,
        days_before=7,
        recipient=user,
        deadline=DEADLINE,
        sent_at=morning(DEADLINE - dt.timedelta(days=7)),
    )
    run_beat_on(DEADLINE - dt.timedelta(days=7))
    assert mail.outbox == []


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):  # noqa: ANN001, ANN201
        raise ConnectionRefusedError("SMTP down")


def test_a_failed_send_is_tried_again_by_the_next_run(settings):
    school = SchoolFactory()
    round_in(RoundPhase.SELF_ASSESSMENT, [school])
    staff_of(school, "teacher")
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with time_machine.travel(morning(DEADLINE - dt.timedelta(days=7)), tick=False):
        report = reminders.reminders_send()
    assert (report.sent, report.failed) == (0, 1)
    assert ReminderSent.objects.count() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_beat_on(DEADLINE - dt.timedelta(days=6), times=2)
    assert len(mail.outbox) == 1


def test_beat_schedules_the_reminders_and_the_escalation_daily():
    from xm_eval.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    tasks = {entry["task"] for entry in schedule.values()}
    assert tasks == {
        "xm_eval.tasks.reminders_send",
        "xm_eval.tasks.rectifications_escalate_overdue",
        "core.tasks.audit_checkpoint",  # hourly, see tests/xm_eval/test_audit_keyed.py
        "reports.tasks.render_jobs_recover",  # every minute: a dead worker's job
    }
    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)
    assert settings.REMINDER_DAYS_BEFORE == (30, 7, 1)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(31, None), (30, 30), (8, 30), (7, 7), (2, 7), (1, 1), (0, 1), (-1, None)],
)
def test_the_reminder_due_is_the_nearest_threshold(days_left, expected):
    today = dt.date(2026, 1, 1)
    assert reminders.reminder_threshold(today + dt.timedelta(days=days_left), today) == expected
