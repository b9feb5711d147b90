"""Score histories from the audit trail, late changes, recusals and conflicts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from core.audit import audit_record
from core.enums import Role
from core.models import AuditEvent
from rounds.models import Assignment
from rounds.services import assignment_recuse, conflict_record
from supervision import selectors
from tests.factories import SchoolFactory, UserFactory, make_round
from tests.supervision.conftest import at

pytestmark = pytest.mark.django_db


def values(change_value):  # noqa: ANN001, ANN201
    if change_value is None:
        return None
    return (change_value.points, change_value.not_applicable, change_value.text)


def test_a_score_history_shows_every_before_and_after_from_the_audit_events(scored):
    people = scored.people
    events = selectors.score_events(
        round_id=scored.round.pk,
        school_id=people.own_school.pk,
        indicator_code="A1.1",
        layer="expert",
    )
    [history] = selectors.score_histories(events)
    assert history.layer == "expert"
    assert history.indicator_code == "A1.1"
    assert history.owner == people.evaluator
    assert history.school_name == "甲校"
    assert [(values(c.before), values(c.after)) for c in history.changes] == [
        (None, ("12.50", False, "")),
        (("12.50", False, ""), ("10.00", False, "缺材料")),
        (("10.00", False, "缺材料"), ("11.00", False, "补充")),
        (("11.00", False, "补充"), ("9.00", False, "复核")),
    ]
    assert [c.event.actor for c in history.changes] == [people.evaluator] * 4
    assert [c.is_late for c in history.changes] == [False, False, False, True]
    assert history.late_count == 1


def test_every_layer_of_a_score_has_its_own_history(scored):
    events = selectors.score_events(round_id=scored.round.pk, indicator_code="A1.1")
    histories = selectors.score_histories(events)
    layers = sorted(history.layer for history in histories)
    assert layers == ["audit", "consensus", "expert", "self"]
    audit = next(h for h in histories if h.layer == "audit")
    assert [values(c.after) for c in audit.changes] == [("8.00", False, "审核")]
    assert audit.changes[0].event.actor == scored.people.admin
    consensus = next(h for h in histories if h.layer == "consensus")
    assert [values(c.after) for c in consensus.changes] == [("10.00", False, "合议")]


def test_the_evaluator_filter_is_who_set_the_score(scored):
    people = scored.people
    mine = selectors.score_histories(
        selectors.score_events(round_id=scored.round.pk, actor_id=people.evaluator.pk)
    )
    assert [h.layer for h in mine] == ["expert"]
    assert selectors.score_events(actor_id=people.supervisor.pk).count() == 0


def test_an_indicator_code_never_matches_a_longer_code(db):
    round = make_round(schools=[SchoolFactory()])
    for code in ("A1.1", "A1.10", "A1.11"):
        audit_record(
            actor=None,
            action="score.set",
            obj=round,
            after={"indicator": code, "points": "1", "not_applicable": False},
            round_id=round.pk,
        )
    found = selectors.score_events(round_id=round.pk, indicator_code="A1.1")
    assert [event.after["indicator"] for event in found] == ["A1.1"]


def test_changes_after_a_phase_deadline_are_flagged_by_the_xiamen_date(scored):
    late = list(selectors.late_changes(round_id=scored.round.pk))
    assert sorted(event.sequence for event in late) == sorted(scored.late_sequences)
    by_action = {event.action: event for event in late}
    assert set(by_action) == {"score.set", "audit_score.set"}
    assert by_action["score.set"].phase_ends_on == dt.date(2025, 4, 30)
    assert by_action["audit_score.set"].phase_ends_on == dt.date(2025, 5, 15)
    assert by_action["score.set"].created_at.date() == dt.date(2025, 4, 30)  # UTC
    # the change at 23:30 on the last day is in time
    log = {event.sequence: event for event in selectors.audit_events(round_id=scored.round.pk)}
    assert log[scored.on_time_last_day].is_late is False
    assert [seq for seq, event in log.items() if event.is_late] == sorted(
        scored.late_sequences, reverse=True
    )


def test_corrections_and_rounds_without_dates_are_never_late(scored):
    with time_machine.travel(at(dt.date(2025, 9, 1), 10), tick=False):
        audit_record(
            actor=scored.people.admin,
            action="audit_score.set_correction",
            obj=scored.round,
            after={"indicator": "A1.1", "points": "7"},
            round_id=scored.round.pk,
        )
        undated = make_round(schools=[SchoolFactory()], name="无日期轮次")
        audit_record(
            actor=scored.people.admin,
            action="score.set",
            obj=undated,
            after={"indicator": "A1.1", "points": "7"},
            round_id=undated.pk,
        )
    assert sorted(e.sequence for e in selectors.late_changes()) == sorted(scored.late_sequences)


def test_the_event_log_filters_by_round_school_actor_and_action(scored):
    people = scored.people
    every = selectors.audit_events()
    assert every.count() == AuditEvent.objects.count()
    own = selectors.audit_events(school_id=people.own_school.pk)
    assert own.count() > 0
    assert {event.school_id for event in own} == {people.own_school.pk}
    mine = selectors.audit_events(actor_id=people.evaluator.pk, action="score.set")
    assert mine.count() == 4
    assert {event.round_name for event in mine} == {"监督轮次"}
    assert selectors.audit_events(round_id=scored.round.pk, action="nothing").count() == 0


def test_recusals_and_conflicts_say_who_recorded_them_and_when(scored):
    people = scored.people
    admin = people.admin
    assignment = Assignment.objects.get(round=scored.round, evaluator=people.evaluator)
    with time_machine.travel(at(dt.date(2025, 4, 2), 9), tick=False):
        assignment_recuse(assignment=assignment, actor=admin, reason="前雇主")
    expert = UserFactory(username="t-expert-2", roles=[Role.EVALUATOR])
    conflict_record(actor=expert, evaluator=expert, school=people.other_school, reason="亲属任职")
    [recused] = selectors.recusals(round_id=scored.round.pk)
    assert recused.recusal_reason == "前雇主"
    assert recused.recused_by == admin.username
    assert recused.recused_at == at(dt.date(2025, 4, 2), 9)
    assert list(selectors.recusals(round_id=make_round(schools=[]).pk)) == []
    [conflict] = selectors.conflicts()
    assert (conflict.evaluator, conflict.school, conflict.recorded_by) == (
        expert,
        people.other_school,
        expert.username,
    )
    # the expert is not in this round's group: not one of the round's conflicts
    assert list(selectors.conflicts(round_id=scored.round.pk)) == []
