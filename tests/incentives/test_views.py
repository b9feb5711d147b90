"""The incentive pages: who may see them, what they show, the xlsx export, query counts."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from rounds.enums import RoundPhase
from scoring import services
from scoring.models import ResultSet
from tests.factories import SchoolFactory, make_round
from tests.factories.scoring import scored_round
from tests.supervision.builders import ROLES, make_people, stored_result_set

pytestmark = pytest.mark.django_db

PARAMETERS = {
    "total_quota": 10,
    "weight_excellent": "1.5",
    "weight_good": "1.2",
    "weight_qualified": "1.0",
    "weight_unqualified": "0",
    "awards_grades": ["excellent"],
    "awards_limit": "",
    "competition_training_grades": ["excellent", "good"],
    "competition_training_limit": "2",
    "specialty_support_grades": ["excellent", "good", "qualified"],
    "specialty_support_limit": "",
}


def with_query(url: str, parameters: dict | None = None) -> str:
    return f"{url}?{urlencode(parameters or PARAMETERS, doseq=True)}"


@pytest.fixture
def world():
    schools = [
        SchoolFactory(code="A01", name_zh="甲校"),
        SchoolFactory(code="A02", name_zh="乙校"),
        SchoolFactory(code="A03", name_zh="丙校"),
        SchoolFactory(code="A04", name_zh="丁校"),
        SchoolFactory(code="A05", name_zh="戊校"),
    ]
    round = make_round(schools=schools, name="2025 轮")
    people = make_people(round=round, own_school=schools[0], other_school=schools[1])
    # The hand-worked example of test_incentives: 92 / 85 / 81 / 70 / 55.
    result_set = stored_result_set(
        round=round,
        totals=dict(zip(schools, ["92", "85", "81", "70", "55"], strict=True)),
    )
    return people, round, schools, result_set


def get(client, user, url):  # noqa: ANN001, ANN201
    if user is not None:
        client.force_login(user)
    return client.get(url)


# fmt: off
#                 anonymous admin supervisor leader evaluator own_staff other_staff
EXPECTED = {
    "index":  (302, 200, 200, 403, 403, 403, 403),
    "page":   (302, 200, 200, 403, 403, 403, 403),
    "export": (302, 200, 200, 403, 403, 403, 403),
}
# fmt: on


def test_every_incentive_url_has_expectations():
    from incentives import urls as incentive_urls

    assert {pattern.name for pattern in incentive_urls.urlpatterns} == set(EXPECTED)


def urls(result_set: ResultSet) -> dict[str, str]:
    return {
        "index": reverse("incentives:index"),
        "page": with_query(reverse("incentives:page", args=(result_set.pk,))),
        "export": with_query(reverse("incentives:export", args=(result_set.pk,))),
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_every_role_as_expected(client, world, name, role):
    people, _round, _schools, result_set = world
    response = get(client, people.user(role), urls(result_set)[name])
    assert response.status_code == EXPECTED[name][ROLES.index(role)]
    if role == "anonymous":
        assert response["Location"].startswith(reverse("site:login"))


def test_the_page_shows_the_allocation_and_the_lists(client, world):
    people, _round, schools, result_set = world
    response = get(client, people.admin, urls(result_set)["page"])
    assert response.status_code == 200
    quotas = {share["candidate"].code: share["quota"] for share in response.context["shares"]}
    assert quotas == {"A01": 3, "A02": 3, "A03": 2, "A04": 2, "A05": 0}
    assert response.context["allocated"] == 10
    lists = {item["kind"]: item for item in response.context["lists"]}
    assert [e["candidate"].code for e in lists["awards"]["entries"]] == ["A01"]
    assert [e["candidate"].code for e in lists["competition_training"]["entries"]] == [
        "A01",
        "A02",
    ]
    assert [e["candidate"].code for e in lists["specialty_support"]["entries"]] == [
        "A01",
        "A02",
        "A03",
        "A04",
    ]
    assert response.context["can_edit"] is True
    assert 'name="total_quota"' in response.content.decode()


def test_a_first_visit_uses_the_default_parameters(client, world):
    people, _round, _schools, result_set = world
    response = get(client, people.admin, reverse("incentives:page", args=(result_set.pk,)))
    assert response.status_code == 200
    assert response.context["total_quota"] == 100
    assert response.context["allocated"] == 100


def test_the_supervisor_reads_the_same_figures_without_the_form(client, world):
    people, _round, _schools, result_set = world
    response = get(client, people.supervisor, urls(result_set)["page"])
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert 'name="total_quota"' not in response.content.decode()
    assert response.context["allocated"] == 10


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_quota": "-1"}, "total_quota"),
        ({"total_quota": "many"}, "total_quota"),
        ({"weight_good": "-0.5"}, "weight_good"),
        ({"awards_grades": []}, "awards_grades"),
        ({"awards_grades": ["superb"]}, "awards_grades"),
        ({"competition_training_limit": "0"}, "competition_training_limit"),
    ],
)
def test_bad_parameters_say_which_field_and_allocate_nothing(client, world, change, field):
    people, _round, _schools, result_set = world
    url = with_query(reverse("incentives:page", args=(result_set.pk,)), {**PARAMETERS, **change})
    response = get(client, people.admin, url)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert response.context["shares"] is None
    export = client.get(url.replace("/?", "/export.xlsx?"))
    assert export.status_code == 400


def test_weights_that_give_nothing_to_share_by_are_explained(client, world):
    people, _round, _schools, result_set = world
    zero = {f"weight_{grade}": "0" for grade in ("excellent", "good", "qualified")}
    url = with_query(reverse("incentives:page", args=(result_set.pk,)), {**PARAMETERS, **zero})
    response = get(client, people.admin, url)
    assert response.status_code == 400
    assert response.context["error"]
    assert response.context["shares"] is None


def test_unpublished_and_unknown_result_sets_answer_404(client, world):
    people, round, schools, _result_set = world
    draft = stored_result_set(round=round, totals={schools[0]: "90"}, version=2, published=False)
    client.force_login(people.admin)
    assert client.get(reverse("incentives:page", args=(draft.pk,))).status_code == 404
    assert client.get(reverse("incentives:export", args=(draft.pk,))).status_code == 404
    assert client.get(reverse("incentives:page", args=(99999,))).status_code == 404


def test_a_superseded_version_says_so(client, world):
    people, round, schools, result_set = world
    stored_result_set(
        round=round, totals={school: "75" for school in schools}, version=2, supersedes=result_set
    )
    response = get(client, people.admin, urls(result_set)["page"])
    assert response.status_code == 200
    assert response.context["result_set"].superseded is True
    assert response.context["result_set"].superseded_by_version == 2
    index = client.get(reverse("incentives:index"))
    assert [rs.version for rs in index.context["result_sets"]] == [2, 1]


def test_the_export_is_a_workbook_with_chinese_headings(client, world, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the users' language, not the tests' default
    people, _round, schools, result_set = world
    schools[4].name_zh = '=HYPERLINK("http://example.com")'
    schools[4].save()
    response = get(client, people.admin, urls(result_set)["export"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["名额分配", "评优评先", "竞赛集训", "专业帮扶"]
    quota = workbook["名额分配"]
    rows = list(quota.iter_rows(values_only=True))
    header = rows[3]
    assert header[:3] == ("名次", "学校编码", "学校名称")
    assert header[-1] == "分配名额"
    body = [row for row in rows[4:] if row[1]]
    assert {row[1]: row[-1] for row in body} == {
        "A01": 3,
        "A02": 3,
        "A03": 2,
        "A04": 2,
        "A05": 0,
    }
    assert rows[-1][0] == "合计" and rows[-1][-1] == 10
    # a school name that looks like a formula stays text
    cell = next(c for c in quota["C"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
    awards = list(workbook["评优评先"].iter_rows(values_only=True))
    assert awards[3][:3] == ("序号", "学校编码", "学校名称")
    assert awards[4][1] == "A01"
    training = list(workbook["竞赛集训"].iter_rows(values_only=True))
    assert [row[1] for row in training[4:6]] == ["A01", "A02"]


def test_a_real_computation_feeds_the_page(client, bureau_admin):
    round = scored_round(schools=4, evaluators=3, phase=RoundPhase.CONSOLIDATION)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    # Publication itself (notice, objections) is another page's business.
    ResultSet.objects.filter(pk=result_set.pk).update(
        is_published=True, published_at=result_set.computed_at
    )
    client.force_login(bureau_admin)
    # random scores rarely pass the veto item (full points), so weigh every grade
    every_grade = {**PARAMETERS, "weight_unqualified": "1"}
    url = with_query(reverse("incentives:page", args=(result_set.pk,)), every_grade)
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["allocated"] == 10
    assert len(response.context["shares"]) == 4


def _count_queries(client, url: str) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", ["page", "export"])
def test_the_pages_keep_their_query_count_as_schools_grow(client, world, name):
    people, _round, _schools, small = world
    many = [SchoolFactory() for _ in range(15)]
    big_round = make_round(schools=many, name="大轮次")
    big = stored_result_set(
        round=big_round, totals={s: str(50 + i * 3) for i, s in enumerate(many)}
    )
    client.force_login(people.admin)
    assert _count_queries(client, urls(small)[name]) == _count_queries(client, urls(big)[name])


def test_the_index_keeps_its_query_count_as_result_sets_grow(client, world):
    people, round, schools, result_set = world
    client.force_login(people.admin)
    one = _count_queries(client, reverse("incentives:index"))
    previous = result_set
    for version in (2, 3):
        previous = stored_result_set(
            round=round,
            totals={s: str(Decimal(60) + version) for s in schools},
            version=version,
            supersedes=previous,
        )
    assert _count_queries(client, reverse("incentives:index")) == one
