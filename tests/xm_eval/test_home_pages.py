"""The home page says what to do now, for every role in every main phase of a round.

One world per phase (a round of three schools, three evaluators), one test per role ×
phase. Dates are the real ones: the public notice shows its own start and end, not the
planned window (which these worlds set to end months later on purpose).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from publication.models import NoticePeriod
from rectification.models import Rectification
from rounds.enums import PHASE_ORDER, RoundPhase
from rounds.models import PhaseWindow, Round
from tests.factories import UserFactory
from tests.factories.core import add_roles
from tests.factories.publication import noticed_round, published_round
from tests.factories.rounds import group_evaluators, group_leader
from tests.factories.schools import staff_of
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db

PHASES = (
    RoundPhase.DRAFT,
    RoundPhase.SELF_ASSESSMENT,
    RoundPhase.EXPERT_SCORING,
    RoundPhase.CONSOLIDATION,
    RoundPhase.PUBLIC_NOTICE,
    RoundPhase.PUBLISHED,
)
# The planned public-notice window ends far from the real notice's end.
PLANNED_NOTICE_END = dt.date(2027, 3, 16)


def plan_windows(round: Round) -> None:
    """Planned dates for every phase: the current one ends in 10 days, the others are
    laid out around it, a week each; the public notice's plan ends on PLANNED_NOTICE_END."""
    today = timezone.localdate()
    current = PHASE_ORDER.index(round.phase)
    PhaseWindow.objects.filter(round=round).delete()
    for index, phase in enumerate(PHASE_ORDER[1:-1], start=1):
        ends_on = today + dt.timedelta(days=10 + 7 * (index - current))
        if phase == RoundPhase.PUBLIC_NOTICE:
            ends_on = PLANNED_NOTICE_END
        PhaseWindow.objects.create(
            round=round, phase=phase, starts_on=ends_on - dt.timedelta(days=6), ends_on=ends_on
        )


def build(phase: str, admin: Any) -> dict[str, Any]:
    if phase == RoundPhase.PUBLIC_NOTICE:
        noticed = noticed_round(admin=admin, schools=3)
        round, schools = noticed.round, noticed.schools
    elif phase == RoundPhase.PUBLISHED:
        noticed = published_round(admin=admin, schools=3)
        round, schools = noticed.round, noticed.schools
    else:
        round = scored_round(schools=3, evaluators=3, phase=phase, actor=admin)
        schools = list(round.schools.order_by("code"))
    plan_windows(round)
    leader = add_roles(group_leader(round), Role.EVALUATOR, Role.GROUP_LEADER)
    evaluator = add_roles(group_evaluators(round)[0], Role.EVALUATOR)
    return {
        "round": round,
        "school": schools[0],  # the unqualified one once computed
        "admin": admin,
        "leader": leader,
        "evaluator": evaluator,
        "school_staff": staff_of(schools[0], f"home-staff-{round.pk}"),
        "supervisor": UserFactory(username=f"home-sup-{round.pk}", roles=[Role.SUPERVISOR]),
    }


def home_of(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("site:home"))
    assert response.status_code == 200
    return response.content.decode()


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(params=PHASES)
def world(request, bureau_admin) -> dict[str, Any]:  # noqa: ANN001
    return {"phase": request.param, **build(request.param, bureau_admin)}


# ----------------------------------------------------------------- the roles


def test_bureau_admin_sees_the_phase_checklist_and_what_blocks_the_next_step(world):
    round = world["round"]
    html = home_of(world["admin"])
    assert round.name in html
    assert "Phase checklist" in html
    assert reverse("rounds:monitoring", args=(round.pk,)) in html
    phase = world["phase"]
    if phase == RoundPhase.DRAFT:
        assert "Schools in scope" in html
        assert "Evaluation group formed" in html
        assert "Nothing blocks the next step." in html
    elif phase == RoundPhase.SELF_ASSESSMENT:
        assert "Self-assessments submitted" in html
        assert "0 / 3" in html
    elif phase == RoundPhase.EXPERT_SCORING:
        assert "Score sheets submitted" in html
        assert "9 / 9" in html
    elif phase == RoundPhase.CONSOLIDATION:
        assert "Results computed" in html
        assert "Blocks the next step: Results computed" in html
    elif phase == RoundPhase.PUBLIC_NOTICE:
        notice = NoticePeriod.objects.get(result_set__round=round)
        assert f"Public notice {local(notice.starts_at)} – {local(notice.ends_at)}" in html
        assert "Blocks the next step: Public notice ended" in html
        assert "Objections answered" in html
        assert reverse("notice:publication", args=(round.pk,)) in html
        assert str(PLANNED_NOTICE_END) not in html
    else:
        assert "Rectification reports received" in html
        assert "1 awaited" in html
        assert reverse("notice:publication", args=(round.pk,)) in html


def test_evaluator_sees_sheets_progress_and_the_deadline_of_the_phase(world):
    round, phase = world["round"], world["phase"]
    html = home_of(world["evaluator"])
    assert round.name in html
    assert world["school"].name_zh in html
    assert "3 of 3 score sheets submitted" in html
    assert reverse("rounds:conflicts") in html
    window = PhaseWindow.objects.get(round=round, phase=RoundPhase.EXPERT_SCORING)
    if phase in (RoundPhase.DRAFT, RoundPhase.SELF_ASSESSMENT):
        assert "Scoring opens in the expert scoring phase" in html
        assert f"Expert scoring: {window.starts_on} – {window.ends_on}" in html
    elif phase == RoundPhase.EXPERT_SCORING:
        assert "Score each assigned school and submit its sheet before the deadline." in html
        assert f"ends {window.ends_on}" in html
        assert "10 days left" in html
    elif phase == RoundPhase.CONSOLIDATION:
        assert "Scoring is closed; the group leader consolidates the scores." in html
    else:
        assert "Scoring is closed." in html
    results = reverse("scoring:round", args=(round.pk,))
    assert (results in html) == (phase == RoundPhase.PUBLISHED)


def test_group_leader_is_sent_to_consolidation_in_that_phase(world):
    round, phase = world["round"], world["phase"]
    html = home_of(world["leader"])
    consolidation = reverse("sheets:consolidation", args=(round.pk,))
    assert (consolidation in html) == (phase == RoundPhase.CONSOLIDATION)
    assert "Schools I score" in html


def test_school_sees_what_to_do_now_with_the_real_dates(world):
    round, phase, school = world["round"], world["phase"], world["school"]
    html = home_of(world["school_staff"])
    assert f"{school.name_zh} — {round.name}" in html
    self_assessment = reverse("sheets:self_assessment", args=(round.pk,))
    if phase == RoundPhase.DRAFT:
        assert "The self-assessment opens with the self-assessment phase." in html
    elif phase == RoundPhase.SELF_ASSESSMENT:
        assert "Fill in the self-assessment" in html
        assert "Open the self-assessment" in html
        assert self_assessment in html
    elif phase in (RoundPhase.EXPERT_SCORING, RoundPhase.CONSOLIDATION):
        assert "The self-assessment is closed; the evaluators are at work." in html
        assert "lack evidence" not in html
        assert "lacks evidence" not in html
    elif phase == RoundPhase.PUBLIC_NOTICE:
        notice = NoticePeriod.objects.get(result_set__round=round)
        assert "Provisional result" in html
        assert "file an objection before the notice ends" in html
        assert reverse("notice:objection_new", args=(round.pk,)) in html
        assert f"Public notice {local(notice.starts_at)} – {local(notice.ends_at)}" in html
        assert str(PLANNED_NOTICE_END) not in html
        assert "lack evidence" not in html
        assert self_assessment not in html
    else:
        rectification = Rectification.objects.get(round=round, school=school)
        assert "The results are published" in html
        assert reverse("scoring:school", args=(round.pk, school.pk)) in html
        assert "Unqualified" in html
        assert f"deadline {rectification.effective_deadline}" in html
        assert reverse("rectification:detail", args=(rectification.pk,)) in html
        assert "(PDF)" in html
        assert "lack evidence" not in html
        assert self_assessment not in html


def test_supervisor_sees_the_flags(world):
    round, phase = world["round"], world["phase"]
    html = home_of(world["supervisor"])
    assert "Supervision" in html
    assert reverse("supervision:recusals") in html
    if phase in (RoundPhase.PUBLIC_NOTICE, RoundPhase.PUBLISHED):
        assert "Flags of the latest results" in html
        assert round.name in html
        assert reverse("supervision:consistency", args=(round.pk,)) in html
    else:
        assert "No results have been computed yet." in html


def test_school_sees_the_notice_that_really_ran_when_it_ended_early(bureau_admin):
    # The notice ran 3 days and ended; the planned window ends on 2027-03-16.
    noticed = noticed_round(admin=bureau_admin, schools=3, days=3)
    NoticePeriod.objects.filter(pk=noticed.notice.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=4),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    plan_windows(noticed.round)
    notice = NoticePeriod.objects.get(pk=noticed.notice.pk)
    html = home_of(staff_of(noticed.unqualified, "early-staff"))
    assert f"Public notice {local(notice.starts_at)} – {local(notice.ends_at)} · ended" in " ".join(
        html.split()
    )
    assert "The public notice has ended; the bureau publishes the results next." in html
    assert str(PLANNED_NOTICE_END) not in html
    assert reverse("notice:objection_new", args=(noticed.round.pk,)) not in html


# ---------------------------------------------------------------- query counts


def count_home_queries(user: Any) -> int:
    client = Client()
    client.force_login(user)
    client.get(reverse("site:home"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("site:home")).status_code == 200
    return len(captured)


def test_home_of_every_role_runs_the_same_queries_at_two_sizes(bureau_admin):
    counts: dict[str, list[int]] = {}
    for schools in (2, 5):
        noticed = published_round(admin=bureau_admin, schools=schools, seed=schools)
        round = noticed.round
        users = {
            "admin": bureau_admin,
            "leader": add_roles(group_leader(round), Role.EVALUATOR, Role.GROUP_LEADER),
            "evaluator": add_roles(group_evaluators(round)[0], Role.EVALUATOR),
            "school_staff": staff_of(noticed.unqualified, f"qc-staff-{schools}"),
            "supervisor": UserFactory(username=f"qc-sup-{schools}", roles=[Role.SUPERVISOR]),
        }
        for name, user in users.items():
            counts.setdefault(name, []).append(count_home_queries(user))
    assert {name: len(set(values)) for name, values in counts.items()} == {
        name: 1 for name in counts
    }, counts
