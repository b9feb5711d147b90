"""The supervisor's pages: every URL × every role, what they show, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.audit import audit_record
from rounds.enums import RoundPhase
from rounds.models import Assignment
from rounds.services import assignment_recuse
from scoring import services
from scoring.models import ResultSet
from supervision.views import EVENTS_PER_PAGE
from tests.factories import SchoolFactory, make_round
from tests.factories.scoring import scored_round
from tests.supervision.builders import ROLES, stored_result_set
from tests.supervision.conftest import WINDOWS

pytestmark = pytest.mark.django_db

# fmt: off
#                      anonymous admin supervisor leader evaluator own_staff other_staff
EXPECTED = {
    "index":        (302, 200, 200, 403, 403, 403, 403),
    "events":       (302, 200, 200, 403, 403, 403, 403),
    "scores":       (302, 200, 200, 403, 403, 403, 403),
    "recusals":     (302, 200, 200, 403, 403, 403, 403),
    "late":         (302, 200, 200, 403, 403, 403, 403),
    "consistency":  (302, 200, 200, 403, 403, 403, 403),
}
# fmt: on


def urls(round_id: int) -> dict[str, str]:
    return {
        "index": reverse("supervision:index"),
        "events": reverse("supervision:events") + f"?round={round_id}",
        "scores": reverse("supervision:scores") + f"?round={round_id}&indicator=A1.1",
        "recusals": reverse("supervision:recusals") + f"?round={round_id}",
        "late": reverse("supervision:late") + f"?round={round_id}",
        "consistency": reverse("supervision:consistency", args=(round_id,)),
    }


def test_every_supervision_url_has_expectations():
    from supervision import urls as supervision_urls

    assert {pattern.name for pattern in supervision_urls.urlpatterns} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_every_role_as_expected(client, scored, name, role):
    user = scored.people.user(role)
    if user is not None:
        client.force_login(user)
    response = client.get(urls(scored.round.pk)[name])
    assert response.status_code == EXPECTED[name][ROLES.index(role)]
    if role == "anonymous":
        assert response["Location"].startswith(reverse("site:login"))


def test_the_score_history_page_shows_before_after_who_and_when(client, scored):
    client.force_login(scored.people.supervisor)
    response = client.get(
        reverse("supervision:scores")
        + f"?round={scored.round.pk}&school={scored.people.own_school.pk}&layer=expert"
    )
    assert response.status_code == 200
    [item] = response.context["histories"]
    history = item["history"]
    assert [c.after.points for c in history.changes] == ["12.50", "10.00", "11.00", "9.00"]
    html = response.content.decode()
    assert "缺材料" in html and "复核" in html
    assert html.count('class="late"') == 1
    assert "2025-04-30" in html  # the deadline the late change missed


def test_the_late_page_lists_exactly_the_late_changes(client, scored):
    client.force_login(scored.people.admin)
    response = client.get(reverse("supervision:late") + f"?round={scored.round.pk}")
    assert sorted(e.sequence for e in response.context["page"].object_list) == sorted(
        scored.late_sequences
    )


def test_the_event_log_highlights_late_changes_and_shows_before_after(client, scored):
    client.force_login(scored.people.supervisor)
    response = client.get(
        reverse("supervision:events") + f"?round={scored.round.pk}&action=score.set"
    )
    events = response.context["page"].object_list
    assert len(events) == 4
    assert [event.is_late for event in events] == [True, False, False, False]
    assert '"deduction_reason": "复核"' in events[0].after_text
    assert response.content.decode().count('<tr class="late">') == 1


@pytest.mark.parametrize(
    "query",
    ["?round=999999", "?school=abc", "?action=no.such.action", "?actor=0"],
)
def test_an_unknown_filter_is_a_clear_400(client, scored, query):
    client.force_login(scored.people.admin)
    response = client.get(reverse("supervision:events") + query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert response.context["page"] is None


def test_the_event_log_pages_through_the_trail(client, scored):
    school = scored.people.own_school
    for _ in range(EVENTS_PER_PAGE + 5):
        audit_record(actor=scored.people.admin, action="school.update", obj=school)
    client.force_login(scored.people.admin)
    url = reverse("supervision:events") + "?action=school.update"
    first = client.get(url)
    assert len(first.context["page"].object_list) == EVENTS_PER_PAGE
    assert "action=school.update&amp;page=2" in first.content.decode()
    second = client.get(url + "&page=2")
    assert len(second.context["page"].object_list) == 5


def test_recusals_page_lists_recusals_and_conflicts(client, scored):
    people = scored.people
    assignment = Assignment.objects.get(round=scored.round, evaluator=people.evaluator)
    assignment_recuse(assignment=assignment, actor=people.admin, reason="前雇主")
    client.force_login(people.supervisor)
    response = client.get(reverse("supervision:recusals") + f"?round={scored.round.pk}")
    assert [a.recusal_reason for a in response.context["recusals"]] == ["前雇主"]
    assert "前雇主" in response.content.decode()


def test_consistency_shows_the_statistics_with_their_flags(client, scored):
    round = scored.round
    result_set = stored_result_set(
        round=round, totals={scored.people.own_school: "80", scored.people.other_school: "70"}
    )
    ResultSet.objects.filter(pk=result_set.pk).update(
        statistics={
            "spreads_checked": 10,
            "flagged_spreads": [
                {
                    "school_id": scored.people.own_school.pk,
                    "code": "A1.1",
                    "count": 3,
                    "min": "5.00",
                    "max": "12.50",
                    "spread": "7.50",
                    "std": "3.10",
                    "threshold": "3.75",
                }
            ],
            "evaluators": [
                {
                    "evaluator_id": scored.people.evaluator.pk,
                    "scores": 8,
                    "compared": 8,
                    "leniency": "1.20",
                    "leniency_share": "0.15",
                    "dropped": 1,
                    "dropped_share": "0.125",
                },
                {
                    "evaluator_id": scored.people.leader.pk,
                    "scores": 8,
                    "compared": 8,
                    "leniency": "-0.20",
                    "leniency_share": "-0.02",
                    "dropped": 0,
                    "dropped_share": "0",
                },
            ],
            "reliability": {
                "method": "ICC(2,k)",
                "value": 0.61,
                "single_rater": 0.3,
                "k": 2,
                "targets": 8,
                "excluded_targets": 0,
                "reason": "",
            },
        }
    )
    client.force_login(scored.people.supervisor)
    response = client.get(reverse("supervision:consistency", args=(round.pk,)))
    assert response.status_code == 200
    context = response.context
    assert [s["school"] for s in context["flagged_spreads"]] == ["甲校"]
    assert [(e["name"], e["flagged"]) for e in context["evaluators"]] == [
        ("t-evaluator", True),
        ("t-leader", False),
    ]
    assert context["reliability"]["flagged"] is True
    assert context["evaluators_flagged"] == 1


def test_consistency_of_a_real_computation(client, bureau_admin):
    round = scored_round(schools=3, evaluators=4, phase=RoundPhase.CONSOLIDATION)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    services.result_set_statistics_compute(result_set=result_set)
    client.force_login(bureau_admin)
    response = client.get(reverse("supervision:consistency", args=(round.pk,)))
    assert response.status_code == 200
    assert response.context["computed"] is True
    assert len(response.context["evaluators"]) == 4
    unknown = client.get(reverse("supervision:consistency", args=(round.pk,)) + "?version=9")
    assert unknown.status_code == 404


def test_consistency_before_any_computation(client, scored):
    client.force_login(scored.people.admin)
    response = client.get(reverse("supervision:consistency", args=(scored.round.pk,)))
    assert response.status_code == 200
    assert response.context["result_set"] is None
    assert client.get(reverse("supervision:consistency", args=(99999,))).status_code == 404


# ------------------------------------------------------------- query counts


def _count(client, url: str) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(context.captured_queries)


def _events(people, round, count: int) -> None:  # noqa: ANN001
    schools = [people.own_school, people.other_school]
    for index in range(count):
        audit_record(
            actor=people.evaluator if index % 2 else people.admin,
            action="score.set",
            obj=round,
            before={"indicator": "A1.2", "points": str(index)},
            after={"indicator": "A1.2", "points": str(index + 1), "not_applicable": False},
            round_id=round.pk,
            school_id=schools[index % 2].pk,
        )


def test_the_event_log_keeps_its_query_count_at_10_and_50_events(client, scored):
    people = scored.people
    small = make_round(schools=[people.own_school], name="小轮次")
    large = make_round(schools=[people.own_school], name="大轮次")
    _events(people, small, 10)
    _events(people, large, 50)
    client.force_login(people.supervisor)
    base = reverse("supervision:events")
    assert _count(client, f"{base}?round={small.pk}") == _count(client, f"{base}?round={large.pk}")


def test_the_score_history_keeps_its_query_count_as_changes_grow(client, scored):
    people = scored.people
    small = make_round(schools=[people.own_school], name="小轮次")
    large = make_round(schools=[people.own_school], name="大轮次")
    _events(people, small, 4)
    _events(people, large, 40)
    client.force_login(people.supervisor)
    base = reverse("supervision:scores")
    assert _count(client, f"{base}?round={small.pk}") == _count(client, f"{base}?round={large.pk}")


def test_the_late_list_keeps_its_query_count_as_late_changes_grow(client, scored):
    people = scored.people
    base = reverse("supervision:late")
    client.force_login(people.supervisor)
    few = _count(client, f"{base}?round={scored.round.pk}")
    many_round = make_round(
        schools=[people.own_school],
        name="迟交轮次",
        phase_windows={RoundPhase.EXPERT_SCORING: WINDOWS[RoundPhase.EXPERT_SCORING]},
    )
    _events(people, many_round, 12)  # recorded today: long after 30 April 2025
    assert _count(client, f"{base}?round={many_round.pk}") == few
    late = client.get(f"{base}?round={many_round.pk}").context["page"]
    assert late.paginator.count == 12


def test_the_recusal_list_keeps_its_query_count(client, scored):
    people = scored.people
    client.force_login(people.supervisor)
    base = reverse("supervision:recusals")
    empty_round = make_round(schools=[], name="空轮次")
    assignment = Assignment.objects.get(round=scored.round, evaluator=people.evaluator)
    assignment_recuse(assignment=assignment, actor=people.admin, reason="原因一")
    one = _count(client, f"{base}?round={scored.round.pk}")
    for index in range(4):
        school = SchoolFactory()
        scored.round.schools.add(school)
        extra = Assignment.objects.create(
            round=scored.round, school=school, evaluator=people.evaluator
        )
        assignment_recuse(assignment=extra, actor=people.admin, reason=f"原因{index}")
    assert _count(client, f"{base}?round={scored.round.pk}") == one
    assert _count(client, f"{base}?round={empty_round.pk}") == one


def test_the_index_keeps_its_query_count_as_rounds_grow(client, scored):
    client.force_login(scored.people.supervisor)
    one = _count(client, reverse("supervision:index"))
    for index in range(3):
        make_round(schools=[], name=f"更多轮次{index}")
    assert _count(client, reverse("supervision:index")) == one


def test_consistency_keeps_its_query_count_as_the_round_grows(client, bureau_admin):
    counts = []
    for schools in (2, 6):
        round = scored_round(schools=schools, evaluators=3, phase=RoundPhase.CONSOLIDATION)
        result_set = services.round_results_compute(round=round, actor=bureau_admin)
        services.result_set_statistics_compute(result_set=result_set)
        client.force_login(bureau_admin)
        counts.append(_count(client, reverse("supervision:consistency", args=(round.pk,))))
    assert counts[0] == counts[1]
