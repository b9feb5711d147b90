"""In a real browser: the bureau admin clones the previous cycle's round, forms its
evaluation group, assigns an evaluator, is refused a conflicting assignment with the
reason shown, and moves the round to the next phase after the confirmation page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from core.enums import Role
from rounds import services
from rounds.enums import RoundPhase
from rounds.models import Assignment, GroupMember, Round
from tests.factories import SchoolFactory, UserFactory, small_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def previous_round() -> Round:
    admin = UserFactory(username="bureau-browser", roles=[Role.BUREAU_ADMIN], is_staff=True)
    framework = services.framework_create(
        actor=None,
        name="十年指标体系",
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2034, 12, 31),
        indicators=small_tree(),
    )
    round = services.round_create(
        actor=admin,
        framework=framework,
        name="2025–2027 年度评估",
        cycle_start=2025,
        cycle_end=2027,
        schools=[SchoolFactory(code="B01"), SchoolFactory(code="B02")],
        phase_windows={RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 4, 30))},
    )
    services.evaluation_group_member_add(
        round=round,
        actor=admin,
        user=UserFactory(username="expert-lead", roles=[Role.GROUP_LEADER, Role.EVALUATOR]),
        role="leader",
    )
    UserFactory(username="expert-free", roles=[Role.EVALUATOR])
    UserFactory(username="expert-affiliated", roles=[Role.EVALUATOR])
    return round


def cell(page: Any, school: str, evaluator: str) -> Any:
    return page.locator(f"td[data-school='{school}'][data-evaluator='{evaluator}']")


def test_admin_clones_forms_the_group_assigns_and_advances(
    browser_page, live_server, sign_in, screenshot, previous_round
):
    page = browser_page
    sign_in(page, "bureau-browser", reverse("rounds:clone", args=(previous_round.pk,)))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.input_value("input[name=name]") == "2028–2030 年度评估"
    screenshot(page, "admin-1-clone")

    # Clone: the new round carries the schools and the group into the next cycle.
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_load_state()
    clone = Round.objects.get(name="2028–2030 年度评估")
    assert page.url == f"{live_server.url}{reverse('rounds:detail', args=(clone.pk,))}"
    assert clone.phase == RoundPhase.DRAFT
    assert "2028–2030 年度评估" in page.inner_text("ul.messages")

    # The evaluation group: two evaluators join, one of them from school B01.
    page.click(f"a[href='{reverse('rounds:group', args=(clone.pk,))}']")
    page.wait_for_load_state()
    assert page.locator("table.group-members tr[data-username=expert-lead]").count() == 1
    form = "form.group-member-form"
    page.select_option(f"{form} select[name=user]", label="expert-free")
    page.select_option(f"{form} select[name=role]", value="evaluator")
    page.fill(f"{form} input[name=affiliation]", "某职业技术学院")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    page.select_option(f"{form} select[name=user]", label="expert-affiliated")
    page.select_option(f"{form} select[name=role]", value="evaluator")
    page.fill(f"{form} input[name=affiliation]", "第一校教师")
    page.select_option(
        f"{form} select[name=affiliated_school]", value=str(clone.schools.get(code="B01").pk)
    )
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table.group-members tbody tr").count() == 3
    assert "第一校教师" in page.inner_text("table.group-members")
    assert GroupMember.objects.filter(group__round=clone).count() == 3
    screenshot(page, "admin-2-group")

    # Assignments: a free cell's button assigns; the affiliated school shows its conflict.
    page.click(f"a[href='{reverse('rounds:assignments', args=(clone.pk,))}']")
    page.wait_for_load_state()
    conflict = cell(page, "B01", "expert-affiliated")
    assert conflict.get_attribute("data-status") == "conflict"
    assert "第一校教师" in conflict.inner_text()
    cell(page, "B01", "expert-free").locator("button.assign").click()
    page.wait_for_load_state()
    assert cell(page, "B01", "expert-free").get_attribute("data-status") == "assigned"
    assert Assignment.objects.filter(round=clone, school__code="B01").count() == 1
    screenshot(page, "admin-3-assigned")

    # A conflicting assignment is refused with the reason, and nothing is written.
    form = "form.assignment-form"
    page.select_option(f"{form} select[name=school]", value=str(clone.schools.get(code="B01").pk))
    page.select_option(f"{form} select[name=evaluator]", label="expert-affiliated")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    error = page.locator(f"{form} .error").first.inner_text()
    assert "expert-affiliated" in error
    assert "第一校教师" in error
    assert HAN.search(error)
    assert (
        Assignment.objects.filter(round=clone, evaluator__username="expert-affiliated").count() == 0
    )
    screenshot(page, "admin-4-conflict-refused")

    # The next phase, after a confirmation page that lists what is still incomplete.
    page.goto(f"{live_server.url}{reverse('rounds:detail', args=(clone.pk,))}")
    page.click(f"a[href='{reverse('rounds:advance', args=(clone.pk,))}']")
    page.wait_for_load_state()
    assert page.locator("form.confirm-form button[type=submit]").count() == 1
    screenshot(page, "admin-5-advance-confirm")
    page.click("form.confirm-form button[type=submit]")
    page.wait_for_load_state()
    clone.refresh_from_db()
    assert clone.phase == RoundPhase.SELF_ASSESSMENT
    assert page.url == f"{live_server.url}{reverse('rounds:detail', args=(clone.pk,))}"
    with translation.override("zh-hans"):
        assert str(clone.get_phase_display()) in page.inner_text("ul.messages")
    screenshot(page, "admin-6-advanced")
