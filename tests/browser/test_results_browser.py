"""In a real browser: the bureau admin opens a computed round's results, clicks a total
and drills down its explanation (loaded by htmx, in place), then switches to English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from core.enums import Role
from scoring import services
from scoring.models import ResultRow
from tests.factories import UserFactory
from tests.factories.scoring import scored_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def computed_round() -> tuple[Any, Any]:
    admin = UserFactory(username="bureau-browser", roles=[Role.BUREAU_ADMIN], is_staff=True)
    round = scored_round(schools=4, skip={(1, 2, "C1.2")})
    result_set = services.round_results_compute(round=round, actor=admin)
    return round, result_set


def test_admin_explains_a_total_with_htmx_and_switches_to_english(
    browser_page, live_server, sign_in, screenshot, computed_round
):
    page = browser_page
    round, result_set = computed_round
    first = (
        ResultRow.objects.filter(result_set=result_set)
        .select_related("school")
        .order_by("rank", "school__code")[0]
    )
    results_url = reverse("scoring:round", args=(round.pk,))
    sign_in(page, "bureau-browser", results_url)
    assert page.url == f"{live_server.url}{results_url}"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert first.school.name_zh in page.inner_text("table.ranking-table")
    assert page.locator("svg").count() == 1 + 4  # the bar chart and a radar per school

    # The total loads its explanation into the side panel, without leaving the page.
    page.click("a.explain-link.total >> nth=0")
    panel = page.locator("#explanation article.explanation[data-kind=total]")
    panel.wait_for()
    assert page.url == f"{live_server.url}{results_url}"
    text = panel.inner_text()
    assert first.school.name_zh in text
    assert "维度A" in text
    assert HAN.search(text)

    # Drill down: a dimension, then one of its indicators, then an observation point.
    page.click("#explanation a.explain-link:has-text('维度B')")
    page.locator("#explanation article[data-code=B]").wait_for()
    page.click("#explanation a.explain-link:has-text('指标B1')")
    page.locator("#explanation article[data-code=B1]").wait_for()
    page.click("#explanation a.explain-link:has-text('观测点B1.1')")
    leaf = page.locator("#explanation article[data-code='B1.1'][data-kind=leaf]")
    leaf.wait_for()
    assert "观测点B1.1" in leaf.inner_text()
    assert "去掉：最低分" in leaf.inner_text()  # five evaluators: trimmed mean

    screenshot(page, "results-page")

    # The language switch keeps the person on the same page.
    page.click("form.language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}{results_url}"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h2", has_text="Ranking").count() == 1
    # the page now names the schools in English
    assert first.school.name_en in page.inner_text("table.ranking-table")
