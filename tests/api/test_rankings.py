"""The rankings endpoint: filters, ordering, pagination, and the CSV and XLSX files."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.api import XLSXRenderer
from schools.enums import RankingGroup, SchoolKind
from scoring import services
from scoring.models import ResultRow
from scoring.presenter import GRADE_ZH
from scoring.serializers import GROUP_LABELS, KIND_LABELS
from tests.factories.publication import publish_after_notice
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db

HEADERS = ["排名", "组内排名", "学校代码", "学校名称", "学校类型", "排名分组", "总分", "等级"]
TRAILING = ["未通过的否决项", "排名说明", "评分完整"]


@pytest.fixture
def ranked(bureau_admin):  # noqa: ANN001, ANN201
    """A published round of 12 schools, a third of them public."""
    from schools.models import School

    round = scored_round(schools=12, evaluators=3)
    schools = list(round.schools.order_by("code"))
    for school in schools[::3]:
        School.objects.filter(pk=school.pk).update(
            kind=SchoolKind.PUBLIC_TECHNICIAN_COLLEGE, ranking_group=RankingGroup.PUBLIC
        )
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    publish_after_notice(result_set, actor=bureau_admin)
    return round


def get(client, round, **params):  # noqa: ANN001, ANN003, ANN201
    return client.get(reverse("api:round-rankings", args=[round.pk]), params)


def test_the_json_ranking(client, ranked):
    body = get(client, ranked, page_size=100).json()
    assert body["count"] == 12
    assert [d["code"] for d in body["dimensions"]] == ["A", "B", "C", "D"]
    rows = body["results"]
    assert [row["rank"] for row in rows] == sorted(row["rank"] for row in rows)
    stored = {
        row.school_id: row
        for row in ResultRow.objects.filter(result_set__round=ranked).select_related("school")
    }
    for item in rows:
        row = stored[item["school_id"]]
        assert item["total"] == str(row.total)
        assert (item["grade"], item["rank"], item["group_rank"]) == (
            row.grade,
            row.rank,
            row.group_rank,
        )
        assert item["school_code"] == row.school.code
        assert item["school_group"] == row.school.ranking_group
        assert item["dimension_subtotals"] == row.dimension_subtotals


def test_filters(client, ranked):
    public = get(client, ranked, group="public").json()["results"]
    assert len(public) == 4
    assert {row["school_group"] for row in public} == {"public"}
    assert (
        sorted(row["group_rank"] for row in public) == [1, 2, 3, 4]
        or len({row["group_rank"] for row in public}) < 4
    )  # ties share a rank
    kinds = get(client, ranked, kind="private_technical_school").json()["results"]
    assert {row["school_kind"] for row in kinds} == {"private_technical_school"}
    assert len(kinds) == 8
    every = get(client, ranked).json()["results"]
    grade = every[0]["grade"]
    graded = get(client, ranked, grade=grade).json()["results"]
    assert {row["grade"] for row in graded} == {grade}
    assert len(graded) == sum(1 for row in every if row["grade"] == grade)


@pytest.mark.parametrize(
    ("ordering", "key", "reverse_"),
    [
        ("-total", lambda r: Decimal(r["total"]), True),
        ("total", lambda r: Decimal(r["total"]), False),
        ("school_code", lambda r: r["school_code"], False),
        ("-group_rank", lambda r: r["group_rank"], True),
        ("dimension_2", lambda r: Decimal(r["dimension_subtotals"]["B"]), False),
        ("-dimension_4", lambda r: Decimal(r["dimension_subtotals"]["D"]), True),
        (
            "grade",
            lambda r: ["excellent", "good", "qualified", "unqualified"].index(r["grade"]),
            False,
        ),
    ],
)
def test_ordering(client, ranked, ordering, key, reverse_):
    rows = get(client, ranked, ordering=ordering).json()["results"]
    values = [key(row) for row in rows]
    assert values == sorted(values, reverse=reverse_)


def test_bad_filters_answer_400_naming_the_parameter(client, ranked):
    for params, field in (({"grade": "best"}, "grade"), ({"ordering": "secret"}, "ordering")):
        response = get(client, ranked, **params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        assert response.json()["error"]["field"] == field
    response = get(client, ranked, version="first")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "version")


def test_pagination(client, ranked):
    first = get(client, ranked, page_size=5).json()
    assert (first["count"], len(first["results"])) == (12, 5)
    assert "page=2" in first["next"]
    third = get(client, ranked, page_size=5, page=3).json()
    assert len(third["results"]) == 2
    beyond = get(client, ranked, page_size=5, page=9)
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (404, "not_found")


def json_rows(client, round):  # noqa: ANN001, ANN201
    body = get(client, round, page_size=500, ordering="-total").json()
    return body["dimensions"], body["results"]


def expected_table_row(item: dict, dimensions: list[dict]) -> list[str]:
    return [
        str(item["rank"]),
        str(item["group_rank"]),
        item["school_code"],
        item["school_name_zh"],
        KIND_LABELS[item["school_kind"]],
        GROUP_LABELS[item["school_group"]],
        item["total"],
        GRADE_ZH[item["grade"]],
        *(item["dimension_subtotals"][d["code"]] for d in dimensions),
        "、".join(item["veto_failed"]),
    ]


def test_csv_has_chinese_headers_and_the_json_rows(client, ranked):
    dimensions, items = json_rows(client, ranked)
    response = get(client, ranked, format="csv", ordering="-total")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [*HEADERS, *(d["title_zh"] for d in dimensions), *TRAILING]
    assert rows[0][8:12] == ["维度A", "维度B", "维度C", "维度D"]
    assert len(rows) == 1 + len(items)
    for row, item in zip(rows[1:], items, strict=True):
        assert row[: 8 + len(dimensions) + 1] == expected_table_row(item, dimensions)
    # the Accept header works as well as ?format=
    by_header = client.get(
        reverse("api:round-rankings", args=[ranked.pk]),
        {"ordering": "-total"},
        headers={"Accept": "text/csv"},
    )
    assert by_header.content == response.content


def test_xlsx_has_chinese_headers_a_frozen_header_row_and_numbers(client, ranked):
    dimensions, items = json_rows(client, ranked)
    response = get(client, ranked, format="xlsx", ordering="-total")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSXRenderer.media_type
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADERS, *(d["title_zh"] for d in dimensions), *TRAILING]
    assert sheet["G2"].number_format == "0.00"
    assert sheet["A2"].number_format == "0"
    assert sheet["A1"].font.bold
    assert len(rows) == 1 + len(items)
    for row, item in zip(rows[1:], items, strict=True):
        expected = expected_table_row(item, dimensions)
        for value, wanted in zip(row[: len(expected)], expected, strict=True):
            if isinstance(value, int | float):
                assert Decimal(str(value)) == Decimal(wanted)  # a number, not text
            else:
                assert ("" if value is None else value) == wanted


def test_files_are_filtered_like_the_json(client, ranked):
    text = get(client, ranked, format="csv", group="public").content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows) == 1 + 4
    assert {row[5] for row in rows[1:]} == {"公办"}


def test_errors_are_json_whatever_format_was_asked(client, ranked):
    response = client.get(reverse("api:round-rankings", args=[999_999]), {"format": "csv"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    assert response.json()["error"]["code"] == "not_found"
    response = get(client, ranked, format="xlsx", grade="best")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")


def test_text_cells_cannot_become_formulas(client, bureau_admin):
    from schools.models import School

    round = scored_round(schools=2, evaluators=1)
    School.objects.filter(pk=round.schools.order_by("code")[0].pk).update(name_zh="=HYPERLINK(1)")
    result_set = services.round_results_compute(round=round, actor=bureau_admin)

    publish_after_notice(result_set, actor=bureau_admin)
    text = get(client, round, format="csv").content.decode("utf-8")
    assert "'=HYPERLINK(1)" in text
    sheet = load_workbook(io.BytesIO(get(client, round, format="xlsx").content)).active
    names = [sheet.cell(row=r, column=4) for r in (2, 3)]
    assert {cell.data_type for cell in names} == {"s"}
    assert "=HYPERLINK(1)" in {cell.value for cell in names}
