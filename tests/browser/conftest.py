"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test here is marked ``browser`` and is skipped where ``/usr/bin/chromium``
is missing (Debian package ``chromium``); Playwright never downloads a browser.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(os.environ.get("XM_EVAL_SCREENSHOT_DIR", "/tmp/xm_eval-screenshots"))
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's password


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Chromium page in a Chinese (zh-CN) browser, as the bureau's users have."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    # Playwright's sync API runs an event loop in the test's thread; the ORM calls
    # the test makes itself stay synchronous, which Django would otherwise refuse.
    # Set for this test only, so no subprocess of another test inherits it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot in the test's output directory and in SCREENSHOT_DIR."""

    def take(page: Any, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        (SCREENSHOT_DIR / f"{name}.png").write_bytes(path.read_bytes())
        return path

    return take


@pytest.fixture
def sign_in(live_server: Any) -> Callable[[Any, str, str], None]:
    """Sign in through the sign-in page, as a person would."""

    def go(page: Any, username: str, next_url: str = "/") -> None:
        page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stacked-form button[type=submit]")
        page.wait_for_load_state()

    return go
