"""In a real browser, in Chinese: the home page of every role during the public notice
and after publication says what to do now (screenshots home-<phase>-<role>.png)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from core.enums import Role
from tests.factories import UserFactory
from tests.factories.core import add_roles
from tests.factories.publication import noticed_round, published_round
from tests.factories.rounds import group_evaluators, group_leader
from tests.factories.schools import staff_of

pytestmark = [pytest.mark.browser, pytest.mark.zh_hans, pytest.mark.django_db(transaction=True)]

# What each home page must say, in Chinese, per phase and role.
SAYS = {
    "notice": {
        "admin": ["阶段检查清单", "阻碍进入下一步：", "公示已结束"],
        "evaluator": ["评分已关闭"],
        "leader": ["评分已关闭"],
        "school": ["公示中的评估结果", "本校评估结果正在公示"],
        "supervisor": ["最新结果的预警"],
    },
    "published": {
        "admin": ["阶段检查清单", "已收到整改报告"],
        "evaluator": ["评分已关闭"],
        "leader": ["评分已关闭"],
        "school": ["评估结果已发布", "截止日期"],
        "supervisor": ["最新结果的预警"],
    },
}


def build(phase: str) -> dict[str, Any]:
    admin = UserFactory(username=f"admin-{phase}", roles=[Role.BUREAU_ADMIN], is_staff=True)
    noticed = (
        noticed_round(admin=admin, schools=4)
        if phase == "notice"
        else published_round(admin=admin, schools=4)
    )
    round = noticed.round
    leader = add_roles(group_leader(round), Role.EVALUATOR, Role.GROUP_LEADER)
    evaluator = add_roles(group_evaluators(round)[0], Role.EVALUATOR)
    for user, name in ((leader, f"leader-{phase}"), (evaluator, f"expert-{phase}")):
        user.username, user.last_name, user.first_name = name, "陈", "专家"
        user.set_password("pw-for-tests-1")
        user.save()
    staff_of(noticed.unqualified, f"school-{phase}", last_name="林", first_name="老师")
    UserFactory(username=f"supervisor-{phase}", roles=[Role.SUPERVISOR])
    return {"round": round, "now": timezone.now()}


@pytest.mark.parametrize("phase", ["notice", "published"])
def test_home_pages_say_what_to_do_now_in_chinese(
    phase, browser_page, live_server, sign_in, screenshot
):
    build(phase)
    page = browser_page
    for role in ("admin", "evaluator", "leader", "school", "supervisor"):
        page.context.clear_cookies()
        sign_in(page, f"{role if role != 'evaluator' else 'expert'}-{phase}")
        assert page.url == f"{live_server.url}/"
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        for words in SAYS[phase][role]:
            assert words in text, (role, words)
        screenshot(page, f"home-{phase}-{role}")
