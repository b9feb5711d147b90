"""The rectification state machine (rounds.rectification), on a frozen clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rectification import services
from rectification.enums import EscalationReason, RectificationItemKind, RectificationStatus
from rectification.models import Rectification
from tests.factories import StaffMembershipFactory, UserFactory, add_roles, staff_of
from tests.factories.publication import PDF, after_notice, noticed_round, publish_noticed, upload
from tests.factories.rectification import rectification_of
from tests.factories.rounds import group_leader
from xm_eval.tasks import rectifications_escalate_overdue

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Results are published on 2026-03-02 10:00 (Shanghai); six months later is 2026-09-02.
PUBLISHED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def world(bureau_admin):  # noqa: ANN001, ANN201
    """A round published on PUBLISHED_AT with one unqualified school, its staff and leader."""
    with time_machine.travel(PUBLISHED_AT - dt.timedelta(days=8), tick=False):
        noticed = noticed_round(admin=bureau_admin)
    assert after_notice(noticed) < PUBLISHED_AT
    publish_noticed(noticed, admin=bureau_admin, at=PUBLISHED_AT)
    staff = staff_of(noticed.unqualified, "school-staff")
    leader = add_roles(group_leader(noticed.round), Role.GROUP_LEADER)
    rectification = rectification_of(noticed.round, noticed.unqualified)
    return {"noticed": noticed, "staff": staff, "leader": leader, "rectification": rectification}


def report_all(rectification: Rectification, staff, *, with_files: bool = True) -> Rectification:  # noqa: ANN001
    reports = {
        item.pk: services.ItemReport(
            text=f"已整改 {item.code}",
            file=upload(PDF, f"{item.code}.pdf") if with_files else None,
        )
        for item in rectification.items.all()
    }
    return services.rectification_submit_report(
        rectification=rectification, actor=staff, reports=reports
    )


def recheck(rectification: Rectification, actor, *, passing: bool) -> Rectification:  # noqa: ANN001
    scores = {
        item.pk: item.pass_mark if passing else Decimal("0") for item in rectification.items.all()
    }
    return services.rectification_recheck(
        rectification=rectification,
        actor=actor,
        scores=scores,
        comment="" if passing else "整改不到位。",
    )


def test_publication_notifies_with_a_six_month_deadline_and_the_failed_items(world):
    rectification = world["rectification"]
    assert rectification.status == RectificationStatus.NOTIFIED
    assert rectification.deadline == dt.date(2026, 9, 2)
    assert rectification.result_set == world["noticed"].result_set
    items = list(rectification.items.order_by("order"))
    assert items[0].code == "A1.1"
    assert items[0].kind == RectificationItemKind.VETO_FAILED
    assert items[0].pass_mark == items[0].max_points  # a veto passes at its full points
    assert items[0].score_before == Decimal("0.00")
    for item in items[1:]:
        assert item.kind == RectificationItemKind.BELOW_MARK
        assert item.score_before < item.max_points * Decimal("0.6")
    assert AuditEvent.objects.filter(
        action="rectification.create", object_id=str(rectification.pk)
    ).exists()


def test_the_deadline_months_are_configurable_and_end_of_month_safe(settings):
    settings.RECTIFICATION_MONTHS = 6
    assert services.rectification_deadline_for(dt.date(2026, 8, 31)) == dt.date(2027, 2, 28)
    settings.RECTIFICATION_MONTHS = 3
    assert services.rectification_deadline_for(dt.date(2026, 11, 30)) == dt.date(2027, 2, 28)
    assert services.rectification_deadline_for(dt.date(2027, 11, 30)) == dt.date(2028, 2, 29)


def test_report_then_passed_recheck(world):
    rectification, staff, leader = world["rectification"], world["staff"], world["leader"]
    with time_machine.travel(at(dt.date(2026, 6, 1)), tick=False):
        rectification = report_all(rectification, staff)
        assert rectification.status == RectificationStatus.SUBMITTED
        assert rectification.attempts == 1
        item = rectification.items.first()
        assert item.evidence_content_type == "application/pdf"
        assert len(item.evidence_sha256) == 64
        rectification = recheck(rectification, leader, passing=True)
    assert rectification.status == RectificationStatus.PASSED
    assert all(item.recheck_passed for item in rectification.items.all())
    with pytest.raises(DomainError) as error:
        report_all(rectification, staff)
    assert error.value.code == "invalid_state"


def test_a_failed_recheck_sends_the_school_back_and_a_second_failure_escalates(world):
    rectification, staff, leader = world["rectification"], world["staff"], world["leader"]
    with time_machine.travel(at(dt.date(2026, 5, 1)), tick=False):
        rectification = report_all(rectification, staff)
        with pytest.raises(DomainError) as error:  # a failure needs the group's opinion
            services.rectification_recheck(
                rectification=rectification,
                actor=leader,
                scores={item.pk: 0 for item in rectification.items.all()},
            )
        assert error.value.code == "reason_required"
        rectification = recheck(rectification, leader, passing=False)
        assert rectification.status == RectificationStatus.FAILED
        assert rectification.failures == 1
    with time_machine.travel(at(dt.date(2026, 7, 1)), tick=False):
        # the evidence of the first report is kept when no new file comes
        rectification = report_all(rectification, staff, with_files=False)
        assert rectification.status == RectificationStatus.SUBMITTED
        assert rectification.attempts == 2
        rectification = recheck(rectification, leader, passing=False)
    assert rectification.status == RectificationStatus.ESCALATED
    assert rectification.escalation_reason == EscalationReason.SECOND_FAILURE
    assert rectification.failures == 2
    assert rectification.escalated_at == at(dt.date(2026, 7, 1))
    with pytest.raises(DomainError) as error:
        report_all(rectification, staff)
    assert error.value.code == "invalid_state"


def test_one_extension_with_a_reason_and_no_second(world, bureau_admin):
    rectification = world["rectification"]
    with time_machine.travel(at(dt.date(2026, 8, 20)), tick=False):
        with pytest.raises(DomainError) as error:
            services.rectification_extend(
                rectification=rectification,
                actor=bureau_admin,
                new_deadline=dt.date(2026, 12, 31),
                reason=" ",
            )
        assert error.value.code == "reason_required"
        with pytest.raises(DomainError) as error:
            services.rectification_extend(
                rectification=rectification,
                actor=world["staff"],
                new_deadline=dt.date(2026, 12, 31),
                reason="疫情影响",
            )
        assert error.value.code == "not_allowed"
        with pytest.raises(DomainError) as error:
            services.rectification_extend(
                rectification=rectification,
                actor=bureau_admin,
                new_deadline=dt.date(2026, 9, 1),
                reason="太早",
            )
        assert error.value.field == "new_deadline"
        rectification = services.rectification_extend(
            rectification=rectification,
            actor=bureau_admin,
            new_deadline=dt.date(2026, 12, 31),
            reason="校区搬迁，设备采购周期长。",
        )
        assert rectification.effective_deadline == dt.date(2026, 12, 31)
        assert rectification.extensions_used == 1
        with pytest.raises(DomainError) as error:
            services.rectification_extend(
                rectification=rectification,
                actor=bureau_admin,
                new_deadline=dt.date(2027, 3, 31),
                reason="再次延期",
            )
        assert error.value.code == "extension_used"
    # the extended deadline holds: no escalation on the original deadline's next day
    assert services.rectifications_escalate_overdue(today=dt.date(2026, 9, 3)) == []
    with time_machine.travel(at(dt.date(2026, 12, 31)), tick=False):
        report_all(rectification, world["staff"])  # still in time on the extended deadline


def test_a_missed_deadline_escalates_by_the_periodic_task(world):
    rectification = world["rectification"]
    with time_machine.travel(at(dt.date(2026, 9, 2), hour=23), tick=False):
        assert rectifications_escalate_overdue.apply().get() == {"escalated": []}
    with time_machine.travel(at(dt.date(2026, 9, 3), hour=0), tick=False):
        with pytest.raises(DomainError) as error:
            report_all(rectification, world["staff"])
        assert error.value.code == "deadline_passed"
        assert rectifications_escalate_overdue.apply().get() == {"escalated": [rectification.pk]}
        # a second run (beat twice, or a redelivery) changes nothing more
        assert rectifications_escalate_overdue.apply().get() == {"escalated": []}
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.ESCALATED
    assert rectification.escalation_reason == EscalationReason.DEADLINE_MISSED
    assert (
        AuditEvent.objects.filter(
            action="rectification.escalate", object_id=str(rectification.pk)
        ).count()
        == 1
    )


def test_a_submitted_report_waiting_for_recheck_is_not_escalated(world):
    rectification = world["rectification"]
    with time_machine.travel(at(dt.date(2026, 9, 1)), tick=False):
        report_all(rectification, world["staff"])
    assert services.rectifications_escalate_overdue(today=dt.date(2027, 1, 1)) == []


def test_a_failed_school_that_misses_the_deadline_is_escalated(world):
    rectification, staff, leader = world["rectification"], world["staff"], world["leader"]
    with time_machine.travel(at(dt.date(2026, 8, 1)), tick=False):
        rectification = recheck(report_all(rectification, staff), leader, passing=False)
    assert services.rectifications_escalate_overdue(today=dt.date(2026, 9, 3)) == [rectification.pk]


def test_only_the_schools_staff_report_and_only_the_leader_or_bureau_recheck(world, bureau_admin):
    rectification = world["rectification"]
    other_staff = UserFactory(roles=[Role.SCHOOL_STAFF])
    StaffMembershipFactory(user=other_staff)
    with time_machine.travel(at(dt.date(2026, 6, 1)), tick=False):
        with pytest.raises(DomainError) as error:
            report_all(rectification, other_staff)
        assert error.value.code == "not_staff"
        rectification = report_all(rectification, world["staff"])
        evaluator = UserFactory(roles=[Role.EVALUATOR])
        for actor in (evaluator, world["staff"], UserFactory(roles=[Role.SUPERVISOR])):
            with pytest.raises(DomainError) as error:
                recheck(rectification, actor, passing=True)
            assert error.value.code == "not_allowed"
        assert recheck(rectification, bureau_admin, passing=True).status == "passed"


def test_a_report_without_text_or_evidence_or_with_a_bad_file_changes_nothing(world):
    rectification, staff = world["rectification"], world["staff"]
    items = list(rectification.items.all())
    with time_machine.travel(at(dt.date(2026, 6, 1)), tick=False):
        with pytest.raises(DomainError) as error:
            services.rectification_submit_report(
                rectification=rectification,
                actor=staff,
                reports={items[0].pk: services.ItemReport(text="已整改", file=None)},
            )
        assert error.value.code == "incomplete"
        assert any("evidence is required" in problem for problem in error.value.details)
        with pytest.raises(DomainError) as error:
            services.rectification_submit_report(
                rectification=rectification,
                actor=staff,
                reports={
                    item.pk: services.ItemReport(text="已整改", file=upload(b"MZ\x90\x00", "a.exe"))
                    for item in items
                },
            )
        assert error.value.code == "incomplete"
        assert f"{items[0].code}: a.exe is not a" in error.value.details[0]
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.NOTIFIED
    assert rectification.attempts == 0


def test_recheck_scores_are_checked_item_by_item(world):
    rectification, staff, leader = world["rectification"], world["staff"], world["leader"]
    with time_machine.travel(at(dt.date(2026, 6, 1)), tick=False):
        rectification = report_all(rectification, staff)
    first = rectification.items.order_by("order").first()
    scores = {item.pk: item.pass_mark for item in rectification.items.all()}
    for value, code in (("abc", "invalid"), (first.max_points + 1, "out_of_range")):
        with pytest.raises(DomainError) as error:
            services.rectification_recheck(
                rectification=rectification, actor=leader, scores={**scores, first.pk: value}
            )
        assert (error.value.code, error.value.field) == (code, first.code)
    with pytest.raises(DomainError) as error:
        services.rectification_recheck(
            rectification=rectification, actor=leader, scores={**scores, first.pk: ""}
        )
    assert error.value.code == "incomplete"
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.SUBMITTED
