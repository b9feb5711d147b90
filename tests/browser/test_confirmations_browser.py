"""In a real browser, in Chinese: the confirmation pages before publishing (with the
missing-score decision) and before upholding an objection; the publish button that
cannot act looks disabled; the objection receipt copies its code where the Clipboard
API is missing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.enums import Role
from publication import services as publication
from scoring import services
from scoring.models import ResultSet
from tests.factories import UserFactory
from tests.factories.publication import OBJECTOR, file_objection, noticed_round
from tests.factories.scoring import scored_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAN = re.compile(r"[\u4e00-\u9fff]")
REASON = "一名专家回避未评该项，经局务会研究按现有评分公布。"


@pytest.fixture
def admin() -> Any:
    return UserFactory(username="bureau-confirm", roles=[Role.BUREAU_ADMIN], is_staff=True)


def test_publishing_an_incomplete_set_asks_for_the_reason(
    browser_page, live_server, sign_in, screenshot, admin
):
    page = browser_page
    round = scored_round(schools=4, skip={(1, 2, "C1.2")})
    result_set = services.round_results_compute(round=round, actor=admin)
    with time_machine.travel(timezone.now() - dt.timedelta(days=8), tick=False):
        publication.notice_open(result_set=result_set, actor=admin, days=7)
    publication_url = reverse("notice:publication", args=(round.pk,))
    sign_in(page, "bureau-confirm", publication_url)
    page.click("form[action$='/publish/'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-confirm-page]").count() == 1
    final = page.inner_text("[data-becomes-final]")
    assert "不再改变" in final
    assert HAN.search(page.inner_text("[data-audience]"))
    assert "评分尚未齐全" in page.inner_text("[data-confirm-warning]")
    screenshot(page, "confirm-publish-incomplete")
    assert not ResultSet.objects.get(pk=result_set.pk).is_published

    page.click("form.confirm-form button[type=submit]")  # no reason yet
    page.wait_for_load_state()
    assert "请写明现在公布的理由" in page.inner_text("form.confirm-form")
    assert not ResultSet.objects.get(pk=result_set.pk).is_published
    page.fill("textarea[name=incomplete_reason]", REASON)
    page.click("form.confirm-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(publication_url)
    assert REASON in page.inner_text("main")
    assert ResultSet.objects.get(pk=result_set.pk).incomplete_publication_reason == REASON


def test_a_publish_button_that_cannot_act_looks_disabled(
    browser_page, live_server, sign_in, screenshot, admin
):
    page = browser_page
    noticed = noticed_round(admin=admin, schools=3)
    sign_in(page, "bureau-confirm", reverse("notice:publication", args=(noticed.round.pk,)))
    button = page.locator("form[action$='/publish/'] button[type=submit]")
    assert button.is_disabled()
    style = button.evaluate(
        "b => { const s = getComputedStyle(b); return [s.cursor, s.backgroundColor]; }"
    )
    assert style == ["not-allowed", "rgb(229, 231, 235)"]
    reason = page.locator("#publish-refusal")
    assert "公示" in reason.inner_text()
    box, beside = button.bounding_box(), reason.bounding_box()
    assert abs(box["y"] - beside["y"]) < box["height"]  # on the button's line
    screenshot(page, "publication-disabled-publish")


def test_upholding_an_objection_confirms_the_score_change_first(
    browser_page, live_server, sign_in, screenshot, admin
):
    page = browser_page
    noticed = noticed_round(admin=admin, schools=3)
    objection = file_objection(noticed)
    sign_in(page, "bureau-confirm", reverse("notice:objection", args=(objection.pk,)))
    form = page.locator("form[action$='/uphold/']")
    form.locator("textarea[name=response]").fill("经核查属实，已调整该项审核分。")
    form.locator("select[name=indicator]").select_option("B1.1")
    form.locator("input[name=points]").fill("1.5")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "B1.1" in page.inner_text("[data-confirm-details]")
    assert "第 1 版" in page.inner_text("[data-becomes-final]")
    screenshot(page, "confirm-uphold-objection")
    assert ResultSet.objects.filter(round=noticed.round).count() == 1
    page.click("form.confirm-form button[type=submit]")
    page.wait_for_load_state()
    assert ResultSet.objects.filter(round=noticed.round).count() == 2


def test_the_receipt_copies_its_code_without_the_clipboard_api(
    browser_page, live_server, screenshot, admin
):
    page = browser_page
    noticed = noticed_round(admin=admin, schools=3)
    # An old or locked-down browser: no Clipboard API and execCommand refuses.
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
        "document.execCommand = function () { return false; };"
    )
    page.goto(f"{live_server.url}{reverse('notice:objection_new', args=(noticed.round.pk,))}")
    page.select_option("select[name=school]", str(noticed.schools[-1].pk))
    page.fill("textarea[name=content]", "该校实训设备数量与实际不符。")
    page.check("input[name=objector_kind][value=person]")
    for field in ("name", "id_number", "phone"):
        page.fill(f"input[name={field}]", OBJECTOR[field])
    page.check("input[name=truthful]")
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_load_state()
    code = page.inner_text("#tracking-code").strip()
    assert code.startswith("YY-")
    assert page.locator("[data-no-script-hint]").is_hidden()
    page.click("button[data-copy]")
    status = page.locator("[data-copy-status]")
    assert "Ctrl+C" in status.inner_text()
    assert page.evaluate("window.getSelection().toString()").strip() == code
    assert page.locator("button[data-print]").is_visible()
    screenshot(page, "objection-receipt-copy-fallback")


def test_the_objection_form_lists_every_problem_at_once(browser_page, live_server, admin):
    page = browser_page
    noticed = noticed_round(admin=admin, schools=3)
    page.goto(f"{live_server.url}{reverse('notice:objection_new', args=(noticed.round.pk,))}")
    page.fill("input[name=id_number]", "123")
    page.fill("input[name=phone]", "abc")
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_load_state()
    summary = page.locator("[data-error-summary] li")
    assert summary.count() >= 5  # school, content, name, identity number, phone, truthful
    assert page.locator(".field--error").count() == summary.count()
