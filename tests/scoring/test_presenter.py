"""The results presenter, and the agreement of every reader of a result set.

The page, the API, the PDF and the xlsx all show a group's averages from the group
stored in the result set, also after a school has changed group: results are
snapshots.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from core.enums import Role
from reports.enums import ReportKind
from reports.services import report_render
from rounds.enums import Grade
from rounds.models import Round
from schools.enums import RankingGroup
from schools.models import School
from scoring import presenter, services
from scoring.models import ResultRow, ResultSet
from tests.factories import UserFactory
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db

PUBLIC, PRIVATE = RankingGroup.PUBLIC.value, RankingGroup.PRIVATE.value


def _round_half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stored_averages(result_set: ResultSet) -> dict[str, dict[str, Decimal]]:
    """Group → (dimension code or "total") → average, straight from the stored rows
    (each figure as stored, to two places; the mean rounded half up)."""
    figures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for group, total, subtotals in ResultRow.objects.filter(result_set=result_set).values_list(
        "group", "total", "dimension_subtotals"
    ):
        figures[group].append({"total": total, **subtotals})
    averages: dict[str, dict[str, Decimal]] = {}
    for group, entries in figures.items():
        codes = entries[0].keys()
        averages[group] = {
            code: _round_half_up(
                sum((Decimal(str(entry[code])) for entry in entries), Decimal(0)) / len(entries)
            )
            for code in codes
        }
    return averages


def computed_round(
    bureau_admin: Any, *, schools: int, public: int
) -> tuple[Round, ResultSet, list[School]]:
    """A scored round of ``schools`` schools, the first ``public`` of them public, computed."""
    round = scored_round(schools=schools, evaluators=3)
    school_list = list(round.schools.order_by("code"))
    School.objects.filter(pk__in=[s.pk for s in school_list[:public]]).update(ranking_group=PUBLIC)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    result_set = ResultSet.objects.select_related("round__framework").get(pk=result_set.pk)
    return round, result_set, school_list


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------- display helpers


def test_number_rounds_half_up_for_display_and_keeps_missing_figures_missing():
    assert presenter.number("12.345") == Decimal("12.35")
    assert presenter.number(Decimal("12.344")) == Decimal("12.34")
    assert presenter.number("0.125", 2) == Decimal("0.13")
    assert presenter.number("97.5", 0) == Decimal("98")
    assert presenter.number("0.12345", places=None) == Decimal("0.12345")
    assert presenter.number(None) is None
    assert presenter.number("") is None


def test_average_leaves_out_what_is_not_applicable():
    assert presenter.average([Decimal("1"), None, Decimal("2")]) == Decimal("1.50")
    assert presenter.average([None, None]) is None
    assert presenter.average([]) is None


def test_titles_and_names_follow_the_page_language():
    dimension = presenter.Dimension(
        code="A", title_zh="学校管理", title_en="School management", max_points=Decimal(25)
    )
    untranslated = presenter.Dimension(
        code="B", title_zh="教育教学", title_en="", max_points=Decimal(25)
    )
    with translation.override("en"):
        assert presenter.title(dimension) == "School management"
        assert presenter.title(untranslated) == "教育教学"
        assert presenter.title(None, "C1") == "C1"
    with translation.override("zh-hans"):
        assert presenter.title(dimension) == "学校管理"


def test_one_table_of_grade_labels_covers_every_grade():
    assert set(presenter.GRADE_ZH) == set(Grade.values)
    assert presenter.grade_zh(Grade.UNQUALIFIED) == "不合格"
    assert presenter.group_zh(PUBLIC) == "公办组"


# ------------------------------------------------------------------ presenting


def test_a_result_set_is_presented_in_ranking_order_with_stored_figures(bureau_admin):
    _round, result_set, schools = computed_round(bureau_admin, schools=4, public=1)
    presented = presenter.result_set_present(result_set=result_set)
    rows = list(ResultRow.objects.filter(result_set=result_set).order_by("rank", "school__code"))

    assert [s.school_id for s in presented.schools] == [row.school_id for row in rows]
    assert [d.code for d in presented.dimensions] == list(rows[0].dimension_subtotals)
    for school, row in zip(presented.schools, rows, strict=True):
        assert school.row_id == row.pk
        assert school.total == row.total
        assert school.grade == row.grade
        assert school.grade_zh == presenter.GRADE_ZH[row.grade]
        assert (school.rank, school.group_rank) == (row.rank, row.group_rank)
        assert school.group == row.group
        assert school.scores == [Decimal(v) for v in row.dimension_subtotals.values()]
        assert [cell.max_points for cell in school.dimensions] == [
            d.max_points for d in presented.dimensions
        ]
    assert sum(entry.count for entry in presented.grades) == 4
    assert [entry.grade for entry in presented.grades] == list(Grade.values)
    assert presented.overall.school_count == 4
    assert {g.group: g.school_count for g in presented.groups} == {PUBLIC: 1, PRIVATE: 3}

    one = presenter.result_set_present(result_set=result_set, school_id=schools[2].pk)
    assert one.school == one.school_of(schools[2].pk)
    assert one.school.school_code == schools[2].code
    assert presenter.result_set_present(result_set=result_set, school_id=-1).school is None


def test_group_averages_use_the_group_stored_in_the_set(bureau_admin):
    _round, result_set, schools = computed_round(bureau_admin, schools=4, public=1)
    expected = stored_averages(result_set)
    # A private school becomes public after the computation.
    School.objects.filter(pk=schools[3].pk).update(ranking_group=PUBLIC)

    presented = presenter.result_set_present(result_set=result_set, school_id=schools[3].pk)
    codes = [d.code for d in presented.dimensions]
    for entry in presented.groups:
        assert entry.total == expected[entry.group]["total"]
        assert entry.by_code(presented.dimensions) == {c: expected[entry.group][c] for c in codes}
    assert presented.school.group == PRIVATE
    assert presented.school.group_size == 3
    assert presented.school.group_averages == [expected[PRIVATE][c] for c in codes]

    overall, groups = presenter.result_set_group_averages(result_set=result_set)
    assert groups == presented.groups
    assert overall == presented.overall


def test_a_dimension_not_applicable_to_a_school_is_left_out_of_its_group_average(bureau_admin):
    _round, result_set, _schools = computed_round(bureau_admin, schools=3, public=0)
    rows = list(ResultRow.objects.filter(result_set=result_set).order_by("school__code"))
    code = next(iter(rows[0].dimension_subtotals))
    ResultRow.objects.filter(pk=rows[0].pk).update(
        dimension_subtotals={**rows[0].dimension_subtotals, code: None}
    )
    presented = presenter.result_set_present(result_set=result_set, school_id=rows[0].school_id)
    others = [Decimal(row.dimension_subtotals[code]) for row in rows[1:]]
    assert presented.group_average(PRIVATE).dimensions[0] == _round_half_up(
        sum(others, Decimal(0)) / 2
    )
    assert presented.school.dimensions[0].score is None


def test_an_explanation_is_read_from_the_stored_row(bureau_admin):
    _round, result_set, _schools = computed_round(bureau_admin, schools=2, public=0)
    row = ResultRow.objects.select_related("result_set__round", "school").filter(
        result_set=result_set
    )[0]
    explanation = presenter.result_explanation(row=row)
    assert explanation.kind == "total"
    assert _round_half_up(explanation.score) == row.total
    with pytest.raises(KeyError):
        presenter.result_explanation(row=row, code="no-such-code")


@pytest.mark.parametrize("public", [0, 1])
def test_presenting_runs_the_same_queries_for_3_and_9_schools(bureau_admin, public):
    counts = []
    for size in (3, 9):
        _round, result_set, _schools = computed_round(bureau_admin, schools=size, public=public)
        result_set = ResultSet.objects.select_related("round").get(pk=result_set.pk)
        with CaptureQueriesContext(connection) as queries:
            presented = presenter.result_set_present(result_set=result_set)
            assert len(presented.schools) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 2, counts


# --------------------------------------------------- every reader agrees


def _page_group_averages(html: str) -> dict[str, list[Decimal]]:
    """The round page's table of group averages: group → [total, dimensions…]."""
    table = re.search(r'<table class="group-averages".*?</table>', html, re.S).group(0)
    averages = {}
    for group, cells in re.findall(r'<tr data-group="(\w+)">(.*?)</tr>', table, re.S):
        values = re.findall(r'<td class="num">([^<]*)</td>', cells)
        averages[group] = [Decimal(value) for value in values[1:]]  # after the school count
    return averages


def _school_page_averages(html: str) -> list[Decimal]:
    """The school page's dimension table: the group-average column."""
    table = re.search(r"<table[^>]*>\s*<thead><tr><th>[^<]*</th>.*?</table>", html, re.S).group(0)
    rows = re.findall(r"<tr><td>[^<]*</td>(.*?)</tr>", table, re.S)
    return [Decimal(re.findall(r'<td class="num">([^<]*)</td>', row)[1]) for row in rows]


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pdf_averages_line(text: str, label: str) -> list[Decimal]:
    """The figures of the line of the round summary's averages table that starts with
    ``label`` (the group's name): [dimensions…, total]."""
    start = text.index("三、各维度平均得分")
    line = next(line for line in text[start:].splitlines() if line.startswith(label))
    return [Decimal(value) for value in re.findall(r"\d+\.\d\d", line)]


def test_page_api_pdf_and_xlsx_show_the_stored_groups_averages_after_a_school_moves(
    bureau_admin, tmp_path, settings
):
    settings.LANGUAGE_CODE = "en"
    _round, result_set, schools = computed_round(bureau_admin, schools=5, public=2)
    round = result_set.round
    expected = stored_averages(result_set)
    moved = schools[4]  # private when computed
    School.objects.filter(pk=moved.pk).update(ranking_group=PUBLIC)

    # Today's grouping would give other averages: the test would notice the old bug.
    today = defaultdict(list)
    for row in ResultRow.objects.filter(result_set=result_set).select_related("school"):
        today[row.school.ranking_group].append(row.total)
    assert _round_half_up(sum(today[PUBLIC]) / len(today[PUBLIC])) != expected[PUBLIC]["total"]

    presented = presenter.result_set_present(result_set=result_set)
    codes = [d.code for d in presented.dimensions]
    want = {
        group: [expected[group]["total"], *[expected[group][c] for c in codes]]
        for group in (PUBLIC, PRIVATE)
    }
    client = signed_in(bureau_admin)

    # the results page: the round's table of group averages and the moved school's page
    html = client.get(reverse("scoring:round", args=(round.pk,))).content.decode()
    assert _page_group_averages(html) == want
    html = client.get(reverse("scoring:school", args=(round.pk, moved.pk))).content.decode()
    assert _school_page_averages(html) == want[PRIVATE][1:]
    assert "(Private)" in html

    # the API: the ranking's group averages and the moved school's result
    token = UserFactory(username="api-bureau", roles=[Role.BUREAU_ADMIN])
    api = signed_in(token)
    body = api.get(
        reverse("api:round-rankings", args=[round.pk]), {"version": result_set.version}
    ).json()
    api_averages = {
        entry["group"]: [
            Decimal(entry["total"]),
            *[Decimal(entry["dimension_subtotals"][c]) for c in codes],
        ]
        for entry in body["group_averages"]
    }
    assert api_averages == want
    body = api.get(
        reverse("api:round-result", args=[round.pk, moved.pk]), {"version": result_set.version}
    ).json()
    assert body["school_group"] == PRIVATE
    assert body["group_average"]["group"] == PRIVATE
    assert [
        Decimal(body["group_average"]["total"]),
        *[Decimal(body["group_average"]["dimension_subtotals"][c]) for c in codes],
    ] == want[PRIVATE]

    # the PDFs: the round summary's averages table and the moved school's report
    text = _pdf_text(
        report_render(result_set=result_set, kind=ReportKind.ROUND_SUMMARY).data, tmp_path
    )
    for group in (PUBLIC, PRIVATE):
        figures = _pdf_averages_line(text, presenter.GROUP_ZH[group])
        assert [figures[-1], *figures[:-1]] == want[group]
    text = _pdf_text(
        report_render(
            result_set=result_set, kind=ReportKind.SCHOOL_REPORT, school_id=moved.pk
        ).data,
        tmp_path,
    )
    compact = "".join(text.split())
    assert "组内平均为同组（民办组）" in compact
    row = ResultRow.objects.get(result_set=result_set, school=moved)
    for dim in presented.dimensions:
        # 维度 得分 满分 组内平均: the dimension's line carries the stored group's average
        line = next(line for line in text.splitlines() if line.startswith(dim.title_zh + " "))
        figures = [Decimal(value) for value in re.findall(r"[+-]?\d+\.\d\d", line)]
        assert figures[:3] == [
            Decimal(row.dimension_subtotals[dim.code]),
            dim.max_points,
            expected[PRIVATE][dim.code],
        ]

    # the xlsx ranking: its sheet of averages
    response = client.get(reverse("reports:export_ranking", args=(round.pk,)))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook["平均分"]
    labels = {presenter.GROUP_ZH[g]: g for g in (PUBLIC, PRIVATE)}
    xlsx_averages = {
        labels[values[0]]: [_round_half_up(Decimal(str(v))) for v in values[2:]]
        for values in sheet.iter_rows(min_row=4, values_only=True)
        if values[0] in labels
    }
    assert xlsx_averages == want
    ranking = {
        values[3]: values[2] for values in workbook["排名"].iter_rows(min_row=4, values_only=True)
    }
    assert ranking[moved.code] == "民办组"
