"""催办: the bureau reminds, from the monitoring page, every evaluator with an incomplete
sheet or every school with an incomplete self-assessment or rectification; one e-mail
each, audited, at most once a day per person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from core.models import AuditEvent
from rounds.enums import RoundPhase
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet, SelfAssessment
from tests.factories import SchoolFactory, UserFactory, make_round, round_to_phase
from tests.factories.rectification import rectified_round
from tests.factories.rounds import assign
from tests.factories.schools import staff_of
from xm_eval.models import NudgeSent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)


def client_of(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def remind_url(round, audience: str) -> str:  # noqa: ANN001
    return reverse("rounds:remind", args=(round.pk, audience))


def scoring_world(bureau_admin):  # noqa: ANN001, ANN201
    schools = [SchoolFactory(), SchoolFactory()]
    round = make_round(schools=schools)
    late = UserFactory(username="late-expert", email="late@example.cn", roles=[Role.EVALUATOR])
    done = UserFactory(username="done-expert", email="done@example.cn", roles=[Role.EVALUATOR])
    for school in schools:
        assign(round, school, late)
    assign(round, schools[0], done)
    round = round_to_phase(round, RoundPhase.EXPERT_SCORING, actor=bureau_admin)
    ScoreSheet.objects.create(
        round=round,
        school=schools[0],
        evaluator=done,
        status=SheetStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    return round, late, done


def test_monitoring_page_links_to_both_reminders(bureau_admin):
    round, _late, _done = scoring_world(bureau_admin)
    page = client_of(bureau_admin).get(reverse("rounds:monitoring", args=(round.pk,)))
    html = page.content.decode()
    assert remind_url(round, "evaluators") in html
    assert remind_url(round, "schools") in html


def test_confirmation_page_names_who_will_be_emailed_and_sends_nothing(bureau_admin):
    round, late, done = scoring_world(bureau_admin)
    page = client_of(bureau_admin).get(remind_url(round, "evaluators"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "late@example.cn" in html
    assert "done@example.cn" not in html
    assert 'name="confirmed" value="yes"' in html
    assert mail.outbox == []
    assert NudgeSent.objects.count() == 0


@pytest.mark.zh_hans
def test_evaluators_are_reminded_once_a_day_by_chinese_email_and_audited(bureau_admin):
    round, late, _done = scoring_world(bureau_admin)
    client = client_of(bureau_admin)
    with time_machine.travel(MORNING, tick=False):
        first = client.post(remind_url(round, "evaluators"), {"confirmed": "yes"}, follow=True)
    assert [message.to for message in mail.outbox] == [["late@example.cn"]]
    message = mail.outbox[0]
    assert message.subject == f"催办：请完成“{round.name}”的评分表"
    # both unsubmitted sheets in the one e-mail
    assert message.body.count("的评分表") == 2
    assert "已发送 1 封催办邮件" in first.content.decode()
    events = AuditEvent.objects.filter(action="reminder.nudge")
    assert events.count() == 1
    assert events.get().round_id == round.pk
    assert events.get().actor_id == bureau_admin.pk

    with time_machine.travel(MORNING + dt.timedelta(hours=5), tick=False):
        second = client.post(remind_url(round, "evaluators"), {"confirmed": "yes"}, follow=True)
    html = second.content.decode()
    assert len(mail.outbox) == 1
    assert "未发送催办邮件" in html
    assert "已跳过（今天已催办）" in html
    assert AuditEvent.objects.filter(action="reminder.nudge").count() == 1

    with time_machine.travel(MORNING + dt.timedelta(days=1), tick=False):
        client.post(remind_url(round, "evaluators"), {"confirmed": "yes"})
    assert len(mail.outbox) == 2
    assert NudgeSent.objects.filter(recipient=late).count() == 2


def test_a_get_or_an_unconfirmed_post_sends_nothing(bureau_admin):
    round, _late, _done = scoring_world(bureau_admin)
    client = client_of(bureau_admin)
    client.post(remind_url(round, "evaluators"), {})
    assert mail.outbox == []


def test_schools_without_a_submitted_self_assessment_are_reminded(bureau_admin):
    late_school, done_school = SchoolFactory(), SchoolFactory()
    round = round_to_phase(
        make_round(schools=[late_school, done_school]),
        RoundPhase.SELF_ASSESSMENT,
        actor=bureau_admin,
    )
    staff_of(late_school, "late-teacher", email="teacher@example.cn")
    staff_of(late_school, "no-mail-teacher", email="")
    staff_of(done_school, "done-teacher", email="done-teacher@example.cn")
    SelfAssessment.objects.create(
        round=round, school=done_school, status=SheetStatus.SUBMITTED, submitted_at=timezone.now()
    )
    response = client_of(bureau_admin).post(
        remind_url(round, "schools"), {"confirmed": "yes"}, follow=True
    )
    assert [message.to for message in mail.outbox] == [["teacher@example.cn"]]
    assert "Skipped, no e-mail address" in response.content.decode()


def test_schools_with_a_rectification_due_are_reminded(bureau_admin):
    noticed, rectification = rectified_round(admin=bureau_admin)
    staff_of(noticed.unqualified, "rectifier", email="rectify@example.cn")
    staff_of(noticed.schools[1], "qualified-staff", email="fine@example.cn")
    client_of(bureau_admin).post(remind_url(noticed.round, "schools"), {"confirmed": "yes"})
    assert [message.to for message in mail.outbox] == [["rectify@example.cn"]]
    assert str(rectification.effective_deadline) in mail.outbox[0].body


def test_only_the_bureau_admin_may_remind(bureau_admin):
    round, late, _done = scoring_world(bureau_admin)
    supervisor = UserFactory(username="watcher", roles=[Role.SUPERVISOR])
    assert client_of(supervisor).get(remind_url(round, "evaluators")).status_code == 403
    assert (
        client_of(late).post(remind_url(round, "evaluators"), {"confirmed": "yes"}).status_code
        == 403
    )
    assert client_of(bureau_admin).get(remind_url(round, "nobody")).status_code == 404
    assert mail.outbox == []


def count_queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_confirmation_page_runs_the_same_queries_for_2_and_6_evaluators(bureau_admin):
    client = client_of(bureau_admin)
    counts = []
    for size in (2, 6):
        schools = [SchoolFactory(), SchoolFactory()]
        round = make_round(schools=schools)
        for index in range(size):
            expert = UserFactory(username=f"qc-{size}-{index}", email=f"qc{size}{index}@example.cn")
            for school in schools:
                assign(round, school, expert)
        round = round_to_phase(round, RoundPhase.EXPERT_SCORING, actor=bureau_admin)
        counts.append(count_queries(client, remind_url(round, "evaluators")))
    assert counts[0] == counts[1]
