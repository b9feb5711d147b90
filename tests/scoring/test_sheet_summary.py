"""The sticky summary of the score pages: answered / total per dimension with a jump to
the first unanswered point, deductions without a reason, veto items failed, and the
filter "only unanswered / only deductions" (issue 13, item 11)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rounds.enums import RoundPhase
from scoring import services
from tests.scoring.test_sheet_views import build_world, sheet_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(bureau_admin):
    """Expert scoring; the evaluator answered A1.2 in full and B1.1 with a deduction and
    a reason."""
    world = build_world(bureau_admin)
    world.phase(RoundPhase.EXPERT_SCORING)
    evaluator = world.users["evaluator"]
    sheet = services.score_sheet_open(round=world.round, school=world.school, actor=evaluator)
    services.score_set(sheet=sheet, actor=evaluator, indicator="A1.2", points="12.5")
    services.score_set(
        sheet=sheet, actor=evaluator, indicator="B1.1", points="10", deduction_reason="缺材料"
    )
    return world


def summary_html(html: str) -> str:
    return re.search(r"<nav class=\"sheet-summary.*?</nav>", html, re.S).group(0)


def point_tags(html: str) -> dict[str, str]:
    """Observation point code → the opening tag of its element on the page."""
    tags = {}
    for tag in re.findall(r"<(?:form|section) id=\"point-\d+\"[^>]*>", html, re.S):
        pk = int(re.search(r"point-(\d+)", tag).group(1))
        tags[pk] = tag
    return tags


def test_the_summary_counts_each_dimension_and_jumps_to_its_first_unanswered_point(scored):
    html = scored.client("evaluator").get(sheet_url(scored)).content.decode()
    nav = summary_html(html)
    a12, a11, b11 = scored.leaf("A1.2"), scored.leaf("A1.1"), scored.leaf("B1.2")
    # Dimension A: A1.2 answered, A1.1 not: the link goes to A1.1.
    a_item = re.search(r'data-summary-dimension="A".*?</li>', nav, re.S).group(0)
    assert "1/2" in a_item and f'href="#point-{a11.pk}"' in a_item
    b_item = re.search(r'data-summary-dimension="B".*?</li>', nav, re.S).group(0)
    assert "1/2" in b_item and f'href="#point-{b11.pk}"' in b_item
    assert re.search(r'data-summary-dimension="C".*?0/2', nav, re.S)
    # Every point carries its dimension and state for the live script.
    tags = point_tags(html)
    assert 'data-dimension="A"' in tags[a12.pk] and "data-answered" in tags[a12.pk]
    assert "data-answered" not in tags[a11.pk]
    assert "data-deduction" in tags[scored.leaf("B1.1").pk]


def test_the_summary_lists_deductions_without_a_reason_and_failed_vetoes(scored):
    sheet = services.score_sheet_open(
        round=scored.round, school=scored.school, actor=scored.users["evaluator"]
    )
    services.score_set(
        sheet=sheet,
        actor=scored.users["evaluator"],
        indicator="A1.1",
        points="0",
        deduction_reason="未达标",
    )
    # The service refuses a deduction without a reason; a sheet saved before that rule
    # (or a reason cleared by hand) still has one, and the summary points at it.
    sheet.scores.filter(indicator__code="B1.1").update(deduction_reason="")
    html = scored.client("evaluator").get(sheet_url(scored)).content.decode()
    nav = summary_html(html)
    without = re.search(r'<a [^>]*data-jump="without-reason".*?</a>', nav, re.S).group(0)
    assert f'href="#point-{scored.leaf("B1.1").pk}"' in without
    assert re.search(r'data-count="without-reason">1<', without)
    veto = re.search(r'<a [^>]*data-jump="veto-failed".*?</a>', nav, re.S).group(0)
    assert re.search(r'data-count="veto-failed">1<', veto)
    assert f'href="#point-{scored.leaf("A1.1").pk}"' in veto


@pytest.mark.parametrize(
    "show, visible",
    [
        ("all", {"A1.1", "A1.2", "B1.1", "B1.2", "C1.1", "C1.2", "D1.1", "D1.2"}),
        ("unanswered", {"A1.1", "B1.2", "C1.1", "C1.2", "D1.1", "D1.2"}),
        ("deductions", {"B1.1"}),
    ],
)
def test_the_filter_shows_only_the_points_asked_for(scored, show, visible):
    html = scored.client("evaluator").get(sheet_url(scored) + f"?show={show}").content.decode()
    tags = point_tags(html)
    shown = {
        code
        for code in ("A1.1", "A1.2", "B1.1", "B1.2", "C1.1", "C1.2", "D1.1", "D1.2")
        if " hidden" not in tags[scored.leaf(code).pk]
    }
    assert shown == visible
    assert re.search(rf'value="{show}" checked', html)


def test_a_filter_that_matches_nothing_says_so(bureau_admin):
    world = build_world(bureau_admin)
    world.phase(RoundPhase.EXPERT_SCORING)
    html = world.client("evaluator").get(sheet_url(world) + "?show=deductions").content.decode()
    assert re.search(r"<p class=\"summary-empty muted\" data-summary-empty>", html)
    full = world.client("evaluator").get(sheet_url(world)).content.decode()
    assert re.search(r"data-summary-empty hidden>", full)


def test_an_unknown_filter_shows_everything(scored):
    html = scored.client("evaluator").get(sheet_url(scored) + "?show=<script>").content.decode()
    assert all(" hidden" not in tag for tag in point_tags(html).values())
    assert "&lt;script&gt;" not in html and "<script>" not in summary_html(html)


def test_the_self_assessment_has_the_summary_without_the_reason_flag(bureau_admin):
    world = build_world(bureau_admin)
    staff = world.users["staff_own"]
    services.self_score_set(
        round=world.round, school=world.school, actor=staff, indicator="A1.2", points="3"
    )
    url = reverse("sheets:self_assessment", args=[world.round.pk])
    html = world.client("staff_own").get(url).content.decode()
    nav = summary_html(html)
    assert re.search(r'data-summary-dimension="A".*?1/2', nav, re.S)
    assert 'data-jump="without-reason"' not in nav
    unanswered = world.client("staff_own").get(url + "?show=unanswered").content.decode()
    assert " hidden" in point_tags(unanswered)[world.leaf("A1.2").pk]


@pytest.mark.zh_hans
def test_the_summary_speaks_chinese(scored, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = scored.client("evaluator").get(sheet_url(scored)).content.decode()
    nav = summary_html(html)
    assert "扣分未填理由" in nav and "否决项未达标" in nav and "只看未填" in nav
