"""Results across cycles: a school's history, a round's comparison with the previous round
of its framework lineage, who may read them, query counts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rounds.models import Round
from schools.models import School
from scoring.models import ResultSet
from tests.factories import SchoolFactory, make_round
from tests.supervision.builders import (
    ROLES,
    People,
    lineage_framework,
    make_people,
    stored_result_set,
)

pytestmark = pytest.mark.django_db

POLICY = "厦门市民办技工学校办学质量评估办法"


@dataclass
class Lineage:
    a: School
    b: School
    c: School
    r2019: Round
    r2022: Round
    r2025: Round
    other: Round  # a round of another lineage
    people: People


@pytest.fixture
def lineage() -> Lineage:
    a = SchoolFactory(code="H01", name_zh="甲技校")
    b = SchoolFactory(code="H02", name_zh="乙技校")
    c = SchoolFactory(code="H03", name_zh="丙技校")
    # The 2019 framework had 50 points (12.5 a dimension); the later ones 100.
    f2019 = lineage_framework(policy_title=POLICY, name="2019 指标", total=Decimal(50))
    f2022 = lineage_framework(policy_title=POLICY, name="2022 指标")
    f2025 = lineage_framework(policy_title=POLICY, name="2025 指标")
    r2019 = make_round(
        framework=f2019, schools=[a, b], name="2019 轮", cycle_start=2019, cycle_end=2021
    )
    r2022 = make_round(
        framework=f2022, schools=[a, b, c], name="2022 轮", cycle_start=2022, cycle_end=2024
    )
    r2025 = make_round(
        framework=f2025, schools=[a, b], name="2025 轮", cycle_start=2025, cycle_end=2027
    )
    other = make_round(
        framework=lineage_framework(policy_title="其他办法", name="其他指标"),
        schools=[a],
        name="专项轮",
        cycle_start=2022,
        cycle_end=2024,
    )
    # 2019: v1 published, then corrected by v2 (the history shows v2).
    v1 = stored_result_set(
        round=r2019, totals={a: "30", b: "42.5"}, grades={a: "unqualified", b: "good"}
    )
    stored_result_set(
        round=r2019,
        totals={a: "35", b: "42.5"},
        grades={a: "qualified", b: "good"},
        version=2,
        supersedes=v1,
    )
    stored_result_set(round=r2022, totals={a: "82", b: "80", c: "60"})
    stored_result_set(round=r2022, totals={a: "99", b: "80", c: "60"}, version=2, published=False)
    stored_result_set(round=r2025, totals={a: "91", b: "78"})
    stored_result_set(round=other, totals={a: "50"})
    people = make_people(round=r2025, own_school=a, other_school=b)
    return Lineage(a, b, c, r2019, r2022, r2025, other, people)


# fmt: off
#                    anonymous admin supervisor leader evaluator own_staff other_staff
EXPECTED = {
    "index":          (200, 200, 200, 200, 200, 200, 200),
    "own_school":     (200, 200, 200, 200, 200, 200, 200),
    "other_school":   (200, 200, 200, 200, 200, 200, 200),
    "round":          (200, 200, 200, 200, 200, 200, 200),
    "unpublished":    (404, 404, 404, 404, 404, 404, 404),
}
# fmt: on


def test_every_history_url_has_expectations():
    from publication import history_urls

    assert {pattern.name for pattern in history_urls.urlpatterns} == {"index", "school", "round"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_every_role_as_expected(client, lineage, name, role):
    draft = make_round(schools=[lineage.a], name="未公布轮次")
    stored_result_set(round=draft, totals={lineage.a: "70"}, published=False)
    url = {
        "index": reverse("history:index"),
        "own_school": reverse("history:school", args=(lineage.a.pk,)),
        "other_school": reverse("history:school", args=(lineage.b.pk,)),
        "round": reverse("history:round", args=(lineage.r2025.pk,)),
        "unpublished": reverse("history:round", args=(draft.pk,)),
    }[name]
    user = lineage.people.user(role)
    if user is not None:
        client.force_login(user)
    assert client.get(url).status_code == EXPECTED[name][ROLES.index(role)]


def test_a_school_page_shows_every_published_round_oldest_first(client, lineage):
    response = client.get(reverse("history:school", args=(lineage.a.pk,)))
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [(e["round"].name, e["result_set"].version) for e in entries] == [
        ("2019 轮", 2),
        ("2022 轮", 1),  # v2 is not published
        ("专项轮", 1),
        ("2025 轮", 1),
    ]
    assert [e["total"] for e in entries] == [
        Decimal("35.00"),
        Decimal("82.00"),
        Decimal("50.00"),
        Decimal("91.00"),
    ]
    assert [e["grade"]["zh"] for e in entries] == ["合格", "良好", "不合格", "优秀"]
    assert [e["row"].rank for e in entries] == [2, 1, 1, 1]
    assert [e["row"].schools_ranked for e in entries] == [2, 3, 1, 2]
    assert [d["value"] for d in entries[3]["dimensions"]] == [Decimal("22.75")] * 4


def test_each_round_is_compared_with_the_previous_round_of_its_lineage(client, lineage):
    entries = client.get(reverse("history:school", args=(lineage.a.pk,))).context["entries"]
    first, second, other, third = entries
    assert first["change"] is None and first["previous_round"] is None
    assert other["change"] is None and other["previous_round"] is None  # its own lineage
    # 2022 against 2019, whose 50 points are put on the 100-point scale: 82 − 35 × 2 = 12
    assert second["change"]["total_delta"] == Decimal("12.00")
    assert second["change"]["rescaled"] is True
    assert second["change"]["rank_change"] == 1  # from 2nd to 1st
    assert second["change"]["movement"] == "up"
    # each dimension: 20.50 − 8.75 × 25 / 12.5 = 3.00
    assert [d["delta"] for d in second["change"]["dimensions"]] == [Decimal("3.00")] * 4
    # 2025 against 2022 (not the other lineage's 2022–2024 round): 91 − 82 = 9
    assert third["change"]["round_name"] == "2022 轮"
    assert third["change"]["total_delta"] == Decimal("9.00")
    assert third["change"]["rescaled"] is False


def test_the_school_page_draws_the_trend_charts(client, lineage):
    response = client.get(reverse("history:school", args=(lineage.a.pk,)))
    html = response.content.decode()
    assert html.count("<svg") == 2
    assert "2019–2021 2019 轮" in html
    # frameworks of 50 and 100 points: the totals are drawn as shares
    assert response.context["totals_as_share"] is True


def test_a_school_without_published_results(client, lineage):
    lonely = SchoolFactory()
    response = client.get(reverse("history:school", args=(lonely.pk,)))
    assert response.status_code == 200
    assert response.context["entries"] == []
    assert client.get(reverse("history:school", args=(999999,))).status_code == 404


@pytest.mark.parametrize(
    ("role", "result_link", "ranking_link"),
    [
        ("anonymous", False, False),
        ("own_staff", True, True),
        ("other_staff", False, True),
        ("admin", True, True),
        ("supervisor", True, True),
    ],
)
def test_links_to_the_full_result_only_for_those_who_may_open_it(
    client, lineage, role, result_link, ranking_link
):
    user = lineage.people.user(role)
    if user is not None:
        client.force_login(user)
    entries = client.get(reverse("history:school", args=(lineage.a.pk,))).context["entries"]
    assert all(bool(e["result_url"]) is result_link for e in entries)
    assert all(bool(e["ranking_url"]) is ranking_link for e in entries)


def test_the_round_comparison_school_by_school(client, lineage):
    response = client.get(reverse("history:round", args=(lineage.r2025.pk,)))
    assert response.status_code == 200
    context = response.context
    assert context["previous"].name == "2022 轮"
    assert [entry.name for entry in context["lineage"]] == ["2019 轮", "2022 轮", "2025 轮"]
    changes = {c["row"].school.code: c["change"] for c in context["comparisons"]}
    assert changes["H01"]["total_delta"] == Decimal("9.00")
    assert changes["H01"]["movement"] == "up"
    assert changes["H02"]["total_delta"] == Decimal("-2.00")
    assert changes["H02"]["movement"] == "down"  # 良好 → 合格
    assert [item["row"].school.code for item in context["dropped_out"]] == ["H03"]
    matrix = {line["before"]["value"]: line["counts"] for line in context["transitions"]}
    # rows: the grade before; columns: excellent, good, qualified, unqualified now
    assert matrix["good"] == [1, 0, 1, 0]
    assert sum(sum(counts) for counts in matrix.values()) == 2


def test_the_first_round_of_a_lineage_has_nothing_to_compare_with(client, lineage):
    response = client.get(reverse("history:round", args=(lineage.r2019.pk,)))
    assert response.status_code == 200
    assert response.context["previous"] is None
    assert all(c["change"] is None for c in response.context["comparisons"])
    assert client.get(reverse("history:round", args=(999999,))).status_code == 404


def test_unpublished_results_never_show(client, lineage):
    ResultSet.objects.filter(round=lineage.r2025).update(is_published=False, published_at=None)
    entries = client.get(reverse("history:school", args=(lineage.a.pk,))).context["entries"]
    assert "2025 轮" not in [e["round"].name for e in entries]
    assert client.get(reverse("history:round", args=(lineage.r2025.pk,))).status_code == 404


# ------------------------------------------------------------- query counts


def _count(client, url: str) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("role", ["anonymous", "own_staff", "admin"])
def test_the_school_page_keeps_its_query_count_at_1_and_3_rounds(client, lineage, role):
    newcomer = SchoolFactory(code="H09")
    lineage.r2025.schools.add(newcomer)
    stored_result_set(
        round=lineage.r2025,
        totals={lineage.a: "91", lineage.b: "78", newcomer: "66"},
        version=2,
        supersedes=ResultSet.objects.get(round=lineage.r2025, version=1),
    )
    user = lineage.people.user(role)
    if user is not None:
        client.force_login(user)
    one = _count(client, reverse("history:school", args=(newcomer.pk,)))
    three = _count(client, reverse("history:school", args=(lineage.b.pk,)))
    assert one == three


def test_the_round_comparison_keeps_its_query_count_as_schools_grow(client, lineage):
    small = _count(client, reverse("history:round", args=(lineage.r2025.pk,)))
    many = [SchoolFactory() for _ in range(12)]
    before = make_round(
        framework=lineage_framework(policy_title="大办法", name="大 2022"),
        schools=many,
        name="大 2022 轮",
        cycle_start=2022,
        cycle_end=2024,
    )
    after = make_round(
        framework=lineage_framework(policy_title="大办法", name="大 2025"),
        schools=many,
        name="大 2025 轮",
        cycle_start=2025,
        cycle_end=2027,
    )
    stored_result_set(round=before, totals={s: str(60 + i) for i, s in enumerate(many)})
    stored_result_set(round=after, totals={s: str(70 + i) for i, s in enumerate(many)})
    assert _count(client, reverse("history:round", args=(after.pk,))) == small


def test_the_index_keeps_its_query_count(client, lineage):
    first = _count(client, reverse("history:index"))
    for index in range(3):
        school = SchoolFactory()
        round = make_round(schools=[school], name=f"更多 {index}")
        stored_result_set(round=round, totals={school: "75"})
    assert _count(client, reverse("history:index")) == first
