"""In a real browser: an evaluator scores a school with autosave, is refused bad
input inline, moves with Tab, submits and finds the sheet locked.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright against the live
server, with the fixtures of ``tests/browser/conftest.py``; skipped where that
browser is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from rounds.enums import RoundPhase
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet
from tests.scoring.test_sheet_views import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_in_tmp(settings, tmp_path) -> Path:
    """Evidence files of the test under its own directory, never under var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": None},
        },
    }
    return tmp_path


def status_of(page: Any, point_pk: int) -> Any:
    return page.locator(f"#status-{point_pk}")


def test_an_evaluator_scores_with_autosave_and_submits(
    browser_page, sign_in, screenshot, bureau_admin, media_in_tmp
):
    page = browser_page
    world: World = build_world(bureau_admin)
    world.phase(RoundPhase.EXPERT_SCORING)
    leaves = world.leaves()
    first, second = leaves[0], leaves[1]
    url = reverse("sheets:sheet", args=[world.round.pk, world.school.pk])
    sign_in(page, world.users["evaluator"].username, url)
    assert page.locator("h1").inner_text().endswith(world.school.name_zh)

    # Type a full score; Tab goes straight to the next point (no reason needed).
    page.locator(f"#points-{first.pk}").click()
    page.keyboard.type("12.5")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"points-{second.pk}"
    status_of(page, first.pk).get_by_text("12.50").wait_for()

    # Out of range: refused inline with the service's message, nothing stored.
    page.keyboard.type("13")
    status_of(page, second.pk).get_by_text("分数必须在 0 到 12.50 之间").wait_for()
    assert not Score.objects.filter(indicator=second).exists()

    # A deduction: the reason box appears, the save is refused until there is a reason.
    page.locator(f"#points-{second.pk}").fill("")
    page.keyboard.type("10")
    reason = page.locator(f"#reason-input-{second.pk}")
    reason.wait_for(state="visible")
    status_of(page, second.pk).locator("[data-code=reason_required]").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"reason-input-{second.pk}"
    page.keyboard.type("招生台账不全")
    status_of(page, second.pk).get_by_text("10.00").wait_for()
    progress = page.locator("#sheet-progress-bar")
    assert progress.get_attribute("value") == "2"
    screenshot(page, "scoring-autosave")

    # Reload: the saved values are back.
    page.reload()
    assert page.locator(f"#points-{first.pk}").input_value() == "12.50"
    assert page.locator(f"#points-{second.pk}").input_value() == "10.00"
    assert page.locator(f"#reason-input-{second.pk}").input_value() == "招生台账不全"

    # Submitting too early: the confirmation step refuses, saying how many are missing.
    sheet_url = page.url.split("#")[0]
    page.get_by_role("button", name="提交评分表").click()
    page.locator(".disabled-reason").first.wait_for()
    assert str(len(leaves) - 2) in page.locator(".disabled-reason").first.inner_text()
    page.goto(sheet_url)

    # Score the rest from the keyboard, then submit.
    page.locator(f"#points-{leaves[2].pk}").click()
    for point in leaves[2:]:
        assert page.evaluate("document.activeElement.id") == f"points-{point.pk}"
        page.keyboard.type(str(point.max_points))
        page.keyboard.press("Tab")
        status_of(page, point.pk).get_by_text(str(point.max_points)).wait_for()
    assert progress.get_attribute("value") == str(len(leaves))
    page.get_by_role("button", name="提交评分表").click()
    page.locator("form.confirm-form button[type=submit], .confirm-form button").first.click()
    page.locator(".locked").wait_for()
    assert page.locator("input[name=points]").count() == 0
    sheet = ScoreSheet.objects.get(round=world.round, evaluator=world.users["evaluator"])
    assert sheet.status == SheetStatus.SUBMITTED
    screenshot(page, "scoring-submitted")
