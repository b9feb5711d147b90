"""The result pages: ranking, charts, explanations in words, publishing, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.enums import Role
from rounds.enums import RoundPhase
from rounds.models import Round
from scoring import services
from scoring.models import AuditScore, ResultRow, ResultSet
from tests.factories import StaffMembershipFactory, UserFactory, make_framework
from tests.factories.core import CONFIRMED
from tests.factories.publication import publish_after_notice
from tests.factories.scoring import leaf, scored_round

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def compute(round: Round, actor: Any, capture: Any = None) -> ResultSet:
    if capture is None:
        return services.round_results_compute(round=round, actor=actor)
    with capture(execute=True):  # the consistency statistics are filled in on commit
        return services.round_results_compute(round=round, actor=actor)


def first_row(result_set: ResultSet) -> ResultRow:
    return ResultRow.objects.filter(result_set=result_set).order_by("rank", "school__code")[0]


def explain_url(row: ResultRow, code: str | None = None) -> str:
    url = reverse("scoring:explain", args=(row.pk,))
    return f"{url}?code={code}" if code else url


@pytest.fixture
def computed(bureau_admin, django_capture_on_commit_callbacks):
    round = scored_round(schools=3, skip={(0, 1, "B1.1")})
    return round, compute(round, bureau_admin, django_capture_on_commit_callbacks)


def test_the_ranking_shows_every_school_with_grade_subtotals_flags_and_charts(
    computed, bureau_admin
):
    round, result_set = computed
    response = signed_in(bureau_admin).get(
        reverse("scoring:round", args=(round.pk,)), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    rows = list(ResultRow.objects.filter(result_set=result_set).select_related("school"))
    for row in rows:
        assert row.school.name_en in html  # the English page names schools in English
        assert explain_url(row) in html
        assert explain_url(row, "A") in html
        assert f">{row.total}</a>" in html
    assert any(grade in html for grade in ("优秀", "良好", "合格", "不合格"))
    assert "维度A" in html  # dimension titles head the subtotal columns
    assert html.count("<svg") == 1 + len(rows)  # a bar chart and one radar per school
    assert 'hx-get="' in html
    # the bureau sees the missing score and the consistency statistics
    assert "1 missing score" in html
    assert "Inter-rater reliability" in html
    assert "Incomplete" in html
    assert f'action="{reverse("notice:publish", args=(result_set.pk,))}"' in html


def test_any_version_can_be_shown_and_an_unknown_one_is_404(computed, bureau_admin):
    round, _first = computed
    second = services.round_results_compute(round=round, actor=bureau_admin)
    client = signed_in(bureau_admin)
    url = reverse("scoring:round", args=(round.pk,))
    assert "Version 2," in client.get(url).content.decode()
    assert "Version 1," in client.get(f"{url}?version=1").content.decode()
    assert client.get(f"{url}?version=7").status_code == 404
    assert second.version == 2


def test_a_round_without_results_offers_the_computation(bureau_admin):
    round = scored_round(schools=2)
    html = signed_in(bureau_admin).get(reverse("scoring:round", args=(round.pk,))).content
    assert "No results have been computed" in html.decode()
    assert reverse("rounds:compute", args=(round.pk,)) in html.decode()


def test_the_explanation_is_an_htmx_fragment_or_a_whole_page(computed, bureau_admin):
    _round, result_set = computed
    row = first_row(result_set)
    client = signed_in(bureau_admin)
    fragment = client.get(explain_url(row), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'data-kind="total"' in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    page = client.get(explain_url(row))
    assert "<html" in page.content.decode()
    assert 'data-kind="total"' in page.content.decode()


@pytest.mark.zh_hans
def test_a_total_is_explained_by_its_dimensions(computed, bureau_admin):
    _round, result_set = computed
    row = first_row(result_set)
    html = signed_in(bureau_admin).get(explain_url(row)).content.decode()
    assert "得分为以下各部分之和" in html  # "The score is the sum of the parts below:"
    for code in "ABCD":
        assert f"{code} 维度{code}" in html
        assert explain_url(row, code) in html
    assert row.school.name_zh in html


def test_a_trimmed_observation_point_names_the_dropped_scores(computed, bureau_admin):
    round, result_set = computed
    row = ResultRow.objects.get(result_set=result_set, school__code=min_code(round))
    html = signed_in(bureau_admin).get(explain_url(row, "A1.2")).content.decode()
    assert "dropped: the lowest score" in html
    assert "dropped: the highest score" in html
    assert "Trimmed mean" in html
    assert "decided by the evaluators&#x27; scores" in html
    # the bureau sees who gave which score
    assert f"r{round.pk}-expert0" in html


def test_too_few_scores_for_trimming_says_the_mean_was_used(computed, bureau_admin):
    round, result_set = computed
    row = ResultRow.objects.get(result_set=result_set, school__code=min_code(round))
    html = signed_in(bureau_admin).get(explain_url(row, "B1.1")).content.decode()
    assert "needs at least 5 scores; only 4 were given" in html
    assert "No score yet from:" in html


def test_an_audit_score_and_a_failed_veto_are_explained(bureau_admin):
    round = scored_round(schools=2)
    school = round.schools.order_by("code").first()
    veto = leaf(round, "A1.1")
    AuditScore.objects.create(
        round=round,
        school=school,
        indicator=veto,
        auditor=bureau_admin,
        points=Decimal("1.00"),
        max_points=veto.max_points,
        reason="办学许可证已过期",
    )
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    row = ResultRow.objects.get(result_set=result_set, school=school)
    client = signed_in(bureau_admin)
    html = client.get(explain_url(row, "A1.1")).content.decode()
    assert "办学许可证已过期" in html
    assert "the bureau&#x27;s audit score" in html
    assert "Failed: the school is graded 不合格" in html
    assert "This figure is overridden" in html
    total = client.get(explain_url(row)).content.decode()
    assert "Veto failed:" in total
    assert "不合格" in total


def test_others_see_published_totals_with_anonymous_evaluators(bureau_admin):
    round = scored_round(schools=2)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    publish_after_notice(result_set, actor=bureau_admin)
    row = first_row(result_set)
    staff = StaffMembershipFactory(school=row.school, user__roles=[Role.SCHOOL_STAFF]).user
    html = signed_in(staff).get(explain_url(row, "A1.2")).content.decode()
    assert "Evaluator 1" in html
    assert f"r{round.pk}-expert" not in html
    evaluator = UserFactory(roles=[Role.EVALUATOR])
    client = signed_in(evaluator)
    assert client.get(explain_url(row, "A")).status_code == 200
    assert client.get(explain_url(row, "A1.2")).status_code == 404
    # the ranking links the staff member's own school only
    ranking = signed_in(staff).get(reverse("scoring:round", args=(round.pk,))).content.decode()
    assert reverse("scoring:school", args=(round.pk, row.school_id)) in ranking
    assert "Inter-rater reliability" not in ranking
    assert "missing score" not in ranking


def test_the_school_page_shows_every_indicator_with_its_explanation(computed, bureau_admin):
    round, result_set = computed
    row = first_row(result_set)
    url = reverse("scoring:school", args=(round.pk, row.school_id))
    html = signed_in(bureau_admin).get(url).content.decode()
    for code in ("A", "A1", "A1.1", "D1.2"):
        assert explain_url(row, code) in html
    assert "veto item" in html
    assert "Group average" in html
    assert html.count("<svg") == 1


def test_publishing_shows_the_rule_that_refuses_it(computed, bureau_admin):
    round, result_set = computed
    client = signed_in(bureau_admin)
    publish = reverse("notice:publish", args=(result_set.pk,))
    page = client.post(publish, {"back": "results"})  # the results page's button
    assert page.status_code == 200
    assert (
        'disabled aria-disabled="true" aria-describedby="confirm-refusal"' in page.content.decode()
    )
    assert "open a public notice for it first" in page.content.decode()
    # One expert's score is missing: the confirmation asks for the bureau's reason.
    assert "The scoring of 1 school(s) is incomplete" in page.content.decode()
    assert client.post(publish, {"back": "results", **CONFIRMED}).status_code == 400
    reason = "专家因回避未评该项，经局务会研究按现有评分公布。"
    confirmed = {"back": "results", "incomplete_reason": reason, **CONFIRMED}
    response = client.post(publish, confirmed)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Version 1 was not under public notice; open a public notice for it first."
    ]
    assert not ResultSet.objects.get(pk=result_set.pk).is_published
    # after a public notice that has ended, with no objection, it publishes
    from publication.services import notice_open

    notice = notice_open(result_set=result_set, actor=bureau_admin, days=1)
    type(notice).objects.filter(pk=notice.pk).update(
        starts_at=notice.starts_at - dt.timedelta(days=8),
        ends_at=notice.ends_at - dt.timedelta(days=8),
    )
    response = client.post(publish, confirmed, follow=True)
    assert ResultSet.objects.get(pk=result_set.pk).is_published
    assert "Version 1 is published;" in response.content.decode()
    assert reason in response.content.decode()  # the results page shows the decision
    assert Round.objects.get(pk=round.pk).phase == RoundPhase.PUBLISHED


def test_compute_makes_a_new_version_and_shows_it(computed, bureau_admin):
    round, _result_set = computed
    response = signed_in(bureau_admin).post(reverse("rounds:compute", args=(round.pk,)))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('scoring:round', args=(round.pk,))}?version=2"
    assert ResultSet.objects.filter(round=round).count() == 2


def test_compute_in_a_closed_phase_shows_why(bureau_admin):
    round = scored_round(schools=2, phase=RoundPhase.SELF_ASSESSMENT)
    response = signed_in(bureau_admin).post(
        reverse("rounds:compute", args=(round.pk,)), follow=True
    )
    assert "cannot be computed in the phase" in response.content.decode()
    assert not ResultSet.objects.filter(round=round).exists()


def min_code(round: Round) -> str:
    return round.schools.order_by("code").values_list("code", flat=True)[0]


# ---------------------------------------------------------------- query counts


def queries(client: Client, url: str, **headers: Any) -> int:
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured)


def test_the_ranking_page_runs_the_same_queries_for_3_and_12_schools(bureau_admin):
    counts = []
    for size in (3, 12):
        round = scored_round(schools=size, evaluators=3, seed=size)
        services.round_results_compute(round=round, actor=bureau_admin)
        counts.append(queries(signed_in(bureau_admin), reverse("scoring:round", args=(round.pk,))))
    assert counts[0] == counts[1]


def test_the_school_page_and_explanations_keep_their_queries_as_the_framework_grows(
    bureau_admin,
):
    counts: dict[str, list[int]] = {"school": [], "total": [], "leaf": [], "fragment": []}
    for leaves, evaluators in ((2, 3), (5, 7)):
        round = scored_round(
            schools=3, evaluators=evaluators, framework=make_framework(leaves_per_indicator=leaves)
        )
        result_set = services.round_results_compute(round=round, actor=bureau_admin)
        row = first_row(result_set)
        client = signed_in(bureau_admin)
        counts["school"].append(
            queries(client, reverse("scoring:school", args=(round.pk, row.school_id)))
        )
        counts["total"].append(queries(client, explain_url(row)))
        counts["leaf"].append(queries(client, explain_url(row, "A1.2")))
        counts["fragment"].append(queries(client, explain_url(row, "B1"), HTTP_HX_REQUEST="true"))
    for name, (small, large) in counts.items():
        assert small == large, name


def test_the_results_index_runs_the_same_queries_for_1_and_3_result_sets(bureau_admin):
    counts = []
    for wanted in (1, 3):
        while ResultSet.objects.count() < wanted:
            round = scored_round(schools=2, evaluators=3)
            services.round_results_compute(round=round, actor=bureau_admin)
        counts.append(queries(signed_in(bureau_admin), reverse("scoring:index")))
    assert counts[0] == counts[1]
