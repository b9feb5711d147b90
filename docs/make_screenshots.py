"""Screenshots of the four main pages, in Chinese, for the documentation.

Usage (from the repository root; uses its own throw-away database)::

    XM_EVAL_VAR_DIR=/tmp/shotsvar DEBUG=1 .venv/bin/python docs/make_screenshots.py

Seeds the demo data, serves the site with ``runserver`` on 127.0.0.1:8765, and
drives Debian's Chromium with Playwright (zh-CN browser) through: the school
staff's evidence page (self-assessment phase), the evaluator's home and score
sheet (expert scoring), and the bureau admin's results with an explanation
open (after every sheet is scored and the results computed). Writes PNGs to
``docs/screenshots/``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "demo-pass-2025"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xm_eval.settings")
os.environ.setdefault("XM_EVAL_VAR_DIR", "/tmp/shotsvar")
os.environ.setdefault("DEBUG", "1")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM calls beside Playwright's loop
Path(os.environ["XM_EVAL_VAR_DIR"]).mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from rounds.models import Assignment, Round  # noqa: E402
from rounds.selectors import framework_leaves  # noqa: E402
from rounds.services import round_phase_advance  # noqa: E402
from scoring import services as scoring  # noqa: E402
from scoring.result_sets import round_results_compute  # noqa: E402
from xm_eval.demo import ROUND_NAME  # noqa: E402


def sign_in(page, username: str, next_url: str = "/") -> None:  # noqa: ANN001
    page.goto(f"{BASE}/accounts/login/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_load_state()


def shot(page, name: str) -> None:  # noqa: ANN001
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))  # the viewport only: keeps each file small
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


def score_everything(round: Round) -> None:
    """Every active assignment scored (near full points) and submitted."""
    rng = random.Random(7)
    leaves = list(framework_leaves(framework=round.framework))
    for assignment in Assignment.objects.filter(round=round, status="active").select_related(
        "school", "evaluator"
    ):
        sheet = scoring.score_sheet_open(
            round=round, school=assignment.school, actor=assignment.evaluator
        )
        if sheet.status != "draft":
            continue
        for leaf in leaves:
            halves = int(leaf.max_points * 2)
            points = Decimal(rng.randint(halves - max(1, halves // 5), halves)) / 2
            if leaf.is_veto:  # a failed veto item would make every school 不合格
                points = leaf.max_points
            scoring.score_set(
                sheet=sheet,
                actor=assignment.evaluator,
                indicator=leaf,
                points=points,
                deduction_reason="" if points == leaf.max_points else "材料不完整，酌情扣分",
            )
        scoring.score_sheet_submit(sheet=sheet, actor=assignment.evaluator)


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    round = Round.objects.get(name=ROUND_NAME)
    admin = get_user_model().objects.get(username="admin_demo")
    point = framework_leaves(framework=round.framework).order_by("code").first()

    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{BASE}/health/", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )

            def page_for(username: str, url: str):  # noqa: ANN202
                context = browser.new_context(
                    locale="zh-CN", viewport={"width": 1366, "height": 900}
                )
                page = context.new_page()
                sign_in(page, username, url)
                return page

            # School staff: evidence for one observation point (self-assessment phase).
            page = page_for("school01", f"/evidence/{round.pk}/points/{point.pk}/")
            shot(page, "evidence-upload")

            # Evaluator: home and a score sheet (expert scoring).
            round = round_phase_advance(round=round, actor=admin)
            assignment = (
                Assignment.objects.filter(round=round, evaluator__username="expert1")
                .select_related("school")
                .order_by("school__code")
                .first()
            )
            page = page_for("expert1", "/")
            shot(page, "home-evaluator")
            page.goto(f"{BASE}/sheets/{round.pk}/schools/{assignment.school_id}/")
            page.wait_for_load_state()
            shot(page, "score-sheet")

            # Bureau admin: results with the explanation of the first total open.
            score_everything(round)
            round = round_phase_advance(round=round, actor=admin)
            round_results_compute(round=round, actor=admin)
            page = page_for("admin_demo", f"/results/rounds/{round.pk}/")
            page.click("a.explain-link.total >> nth=0")
            page.locator("#explanation article.explanation[data-kind=total]").wait_for()
            shot(page, "results")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
