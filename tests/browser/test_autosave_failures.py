"""In a real browser: a save that fails (the server answers 500, or the network
drops) is never silent. It is retried with backoff, then shown as "未保存，请重试"
with a retry button, and the retried value reaches the database.

The server's failure is made by Playwright, which answers the score URL with a
500 for as long as the test says; the retry delays are shortened for the test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from rounds.enums import RoundPhase
from scoring.models import Score
from tests.scoring.test_sheet_views import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def failing_server(page: Any, url_part: str, failures: int | None) -> dict[str, int]:
    """Answer 500 to the first ``failures`` saves (all of them when None) until
    ``state["down"]`` is set to 0; count what was refused."""
    state = {"refused": 0, "down": 1}

    def handle(route: Any) -> None:
        if (
            route.request.method == "POST"
            and state["down"]
            and (failures is None or state["refused"] < failures)
        ):
            state["refused"] += 1
            route.fulfill(status=500, body="Internal Server Error")
        else:
            route.continue_()

    page.route(f"**{url_part}**", handle)
    return state


def open_sheet(page: Any, sign_in: Any, bureau_admin: Any) -> tuple[World, Any]:
    world = build_world(bureau_admin)
    world.phase(RoundPhase.EXPERT_SCORING)
    page.add_init_script("window.xmSaveRetryDelays = [100, 100, 100, 100];")
    sign_in(
        page,
        world.users["evaluator"].username,
        reverse("sheets:sheet", args=[world.round.pk, world.school.pk]),
    )
    return world, world.leaves()[0]


def test_a_save_the_server_refuses_once_is_retried_and_stored(browser_page, sign_in, bureau_admin):
    page = browser_page
    world, point = open_sheet(page, sign_in, bureau_admin)
    state = failing_server(page, f"/points/{point.pk}/", failures=1)

    page.locator(f"#points-{point.pk}").fill(str(point.max_points))
    page.locator(f"#status-{point.pk}").get_by_text(str(point.max_points)).wait_for()

    assert state["refused"] == 1
    score = Score.objects.get(sheet__evaluator=world.users["evaluator"], indicator=point)
    assert score.points == Decimal(str(point.max_points))


def test_a_save_that_keeps_failing_says_so_and_the_retry_button_stores_it(
    browser_page, sign_in, bureau_admin, screenshot
):
    page = browser_page
    world, point = open_sheet(page, sign_in, bureau_admin)
    state = failing_server(page, f"/points/{point.pk}/", failures=None)

    page.locator(f"#points-{point.pk}").fill(str(point.max_points))
    status = page.locator(f"#status-{point.pk}")
    status.get_by_text("未保存，请重试").wait_for()
    screenshot(page, "autosave-failed")
    assert state["refused"] == 5  # the save and its four retries
    assert not Score.objects.filter(indicator=point).exists()
    # Leaving now would lose the score: the page asks first.
    assert page.evaluate("!!document.querySelector('form[hx-post][data-unsaved]')")

    state["down"] = 0  # the server recovers
    status.get_by_role("button", name="重试").click()
    status.get_by_text(str(point.max_points)).wait_for()
    score = Score.objects.get(sheet__evaluator=world.users["evaluator"], indicator=point)
    assert score.points == Decimal(str(point.max_points))
    assert not page.evaluate("!!document.querySelector('form[hx-post][data-unsaved]')")
