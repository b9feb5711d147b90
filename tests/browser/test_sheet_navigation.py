"""In a real browser: the long score sheet's sticky summary keeps count as the expert
types, jumps to each unanswered point and to the deduction that lacks a reason, and the
filter hides what is done; on a 768-px tablet too (issue 13, item 11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from rounds.enums import RoundPhase
from tests.scoring.test_sheet_views import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_sheet(page: Any, sign_in: Any, bureau_admin: Any, width: int) -> Any:
    world = build_world(bureau_admin, leaves_per_indicator=5)
    world.phase(RoundPhase.EXPERT_SCORING)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(
        page,
        world.users["evaluator"].username,
        reverse("sheets:sheet", args=[world.round.pk, world.school.pk]),
    )
    return world


def count(page: Any, selector: str) -> str:
    return page.locator(f".sheet-summary {selector}").inner_text().strip()


@pytest.mark.parametrize("width", [1366, 768])
def test_the_summary_counts_jumps_and_filters(
    browser_page, sign_in, bureau_admin, screenshot, width
):
    page = browser_page
    world = open_sheet(page, sign_in, bureau_admin, width)
    a2, a3 = world.leaf("A1.2"), world.leaf("A1.3")
    assert count(page, "[data-summary-dimension=A] [data-count=answered]") == "0/5"

    # Typing a full score counts at once; a deduction without a reason is flagged.
    page.fill(f"#points-{a2.pk}", "5")
    page.fill(f"#points-{a3.pk}", "3")
    page.locator(f"#status-{a3.pk} .status-message").wait_for()
    assert count(page, "[data-summary-dimension=A] [data-count=answered]") == "2/5"
    assert count(page, "[data-count=without-reason]") == "1"

    # The flag jumps to that point and puts the cursor in it.
    page.click(".sheet-summary a[data-jump=without-reason]")
    assert page.evaluate("document.activeElement.id") == f"points-{a3.pk}"
    # The sticky summary stays on screen and does not cover the point it jumped to.
    box = page.locator(".sheet-summary").bounding_box()
    assert box["y"] == pytest.approx(0, abs=1)
    assert page.locator(f"#point-{a3.pk}").bounding_box()["y"] >= box["height"] - 1
    page.fill(f"#reason-input-{a3.pk}", "佐证不全")
    assert count(page, "[data-count=without-reason]") == "0"

    # Dimension A's link goes to its first unanswered point, then the next one.
    page.click(".sheet-summary [data-summary-dimension=A] a")
    assert page.evaluate("document.activeElement.id") == f"points-{world.leaf('A1.1').pk}"
    page.click(".sheet-summary [data-summary-dimension=A] a")
    assert page.evaluate("document.activeElement.id") == f"points-{world.leaf('A1.4').pk}"

    # Only unanswered: the answered points leave the page, Tab skips them.
    page.locator("body").click(position={"x": 1, "y": 1})
    page.check(".sheet-summary input[value=unanswered]")
    assert page.locator(f"#point-{a2.pk}").is_hidden()
    assert page.locator(f"#point-{world.leaf('A1.1').pk}").is_visible()
    assert "show=unanswered" in page.url
    page.focus(f"#points-{world.leaf('A1.1').pk}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"points-{world.leaf('A1.4').pk}"

    # Only deductions: just A1.3.
    page.check(".sheet-summary input[value=deductions]")
    visible = page.locator("[data-point]:visible").evaluate_all("els => els.map(e => e.id)")
    assert visible == [f"point-{a3.pk}"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"sheet-summary-{width}")
