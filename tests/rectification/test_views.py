"""The /rectification/ pages: every URL × every role, the forms, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rectification import services
from rectification.enums import RectificationItemKind, RectificationStatus
from rectification.models import Rectification, RectificationItem
from tests.factories import SchoolFactory
from tests.factories.core import CONFIRMED
from tests.factories.publication import PDF, role_users, upload
from tests.factories.rectification import rectified_round

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "supervisor",
    "leader",
    "evaluator",
    "school_staff",
    "other_staff",
    "bureau_admin",
)


@dataclass
class World:
    rectification: Rectification
    users: dict[str, Any]

    def client(self, role: str) -> Client:
        client = Client()
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client

    def submit(self) -> None:
        reports = {
            item.pk: services.ItemReport(text="已整改", file=upload(PDF, f"{item.code}.pdf"))
            for item in self.rectification.items.all()
        }
        services.rectification_submit_report(
            rectification=self.rectification, actor=self.users["school_staff"], reports=reports
        )
        self.rectification.refresh_from_db()


def build_world(bureau_admin: Any, *, schools: int = 2) -> World:
    noticed, rectification = rectified_round(admin=bureau_admin, schools=schools)
    users = role_users(noticed.round, noticed.unqualified)
    users["bureau_admin"] = bureau_admin
    return World(rectification, users)


@pytest.fixture
def world(bureau_admin) -> World:  # noqa: ANN001
    return build_world(bureau_admin)


def report_post(world: World) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in world.rectification.items.all():
        data[f"report_{item.pk}"] = f"{item.code} 已整改"
        data[f"evidence_{item.pk}"] = upload(PDF, f"{item.code}.pdf")
    return data


def recheck_post(world: World) -> dict[str, Any]:
    data: dict[str, Any] = {"comment": "", **CONFIRMED}
    for item in world.rectification.items.all():
        data[f"points_{item.pk}"] = str(item.pass_mark)
    return data


def extend_post(world: World) -> dict[str, Any]:
    new_deadline = world.rectification.deadline + dt.timedelta(days=90)
    return {"new_deadline": new_deadline.isoformat(), "reason": "校舍改造", **CONFIRMED}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    route: str
    expected: dict[str, int]
    data: Callable[[World], dict[str, Any]] | None = None
    submitted: bool = False  # the school's report is in first
    by_item: bool = False

    def url(self, world: World) -> str:
        if self.by_item:
            return reverse(self.route, args=(world.rectification.items.first().pk,))
        return reverse(
            self.route, args=() if self.route.endswith(":list") else (world.rectification.pk,)
        )


# Those who may see the rectification: the bureau roles, the school's staff and the
# round's group leader; the others get 404 for it (not even that it exists).
SEES = {"supervisor": 200, "leader": 200, "school_staff": 200, "bureau_admin": 200}
HIDDEN = {"anonymous": 302, "evaluator": 404, "other_staff": 404}

CASES = [
    Case(
        "list",
        "get",
        "rectification:list",
        {**SEES, "anonymous": 302, "evaluator": 403, "other_staff": 200},
    ),
    Case("detail", "get", "rectification:detail", {**SEES, **HIDDEN}),
    Case(
        "report form",
        "get",
        "rectification:report",
        {**HIDDEN, "supervisor": 403, "leader": 403, "bureau_admin": 403, "school_staff": 200},
    ),
    Case(
        "report",
        "post",
        "rectification:report",
        {**HIDDEN, "supervisor": 403, "leader": 403, "bureau_admin": 403, "school_staff": 302},
        report_post,
    ),
    Case(
        "recheck form",
        "get",
        "rectification:recheck",
        {**HIDDEN, "supervisor": 403, "school_staff": 403, "leader": 200, "bureau_admin": 200},
        submitted=True,
    ),
    Case(
        "recheck",
        "post",
        "rectification:recheck",
        {**HIDDEN, "supervisor": 403, "school_staff": 403, "leader": 302, "bureau_admin": 302},
        recheck_post,
        submitted=True,
    ),
    Case(
        "extend form",
        "get",
        "rectification:extend",
        {
            "anonymous": 302,
            **dict.fromkeys(
                ("supervisor", "leader", "evaluator", "school_staff", "other_staff"), 403
            ),
            "bureau_admin": 200,
        },
    ),
    Case(
        "extend",
        "post",
        "rectification:extend",
        {
            "anonymous": 302,
            **dict.fromkeys(
                ("supervisor", "leader", "evaluator", "school_staff", "other_staff"), 403
            ),
            "bureau_admin": 302,
        },
        extend_post,
    ),
    Case(
        "evidence",
        "get",
        "rectification:evidence",
        {**SEES, **HIDDEN},
        submitted=True,
        by_item=True,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_url_answers_every_role_as_expected(world, case, role):
    if case.submitted:
        world.submit()
    client = world.client(role)
    url = case.url(world)
    data = case.data(world) if case.data else None
    response = client.post(url, data) if case.method == "post" else client.get(url)
    assert response.status_code == case.expected[role], (case.name, role)


def test_every_rectification_url_is_in_the_matrix():
    from rectification import urls as rectification_urls

    names = {f"rectification:{pattern.name}" for pattern in rectification_urls.urlpatterns}
    assert names == {case.route for case in CASES}


def test_the_school_reports_through_the_page_and_the_leader_rechecks(world):
    staff = world.client("school_staff")
    detail = reverse("rectification:detail", args=(world.rectification.pk,))
    assert (
        reverse("rectification:report", args=(world.rectification.pk,))
        in staff.get(detail).content.decode()
    )
    response = staff.post(
        reverse("rectification:report", args=(world.rectification.pk,)), report_post(world)
    )
    assert response.status_code == 302
    world.rectification.refresh_from_db()
    assert world.rectification.status == RectificationStatus.SUBMITTED
    leader = world.client("leader")
    data = recheck_post(world)
    first = world.rectification.items.order_by("order").first()
    data[f"points_{first.pk}"] = "0"
    response = leader.post(reverse("rectification:recheck", args=(world.rectification.pk,)), data)
    assert response.status_code == 409  # a failure needs the group's opinion
    assert "needs the group" in response.content.decode()
    data["comment"] = "否决项仍未整改。"
    response = leader.post(reverse("rectification:recheck", args=(world.rectification.pk,)), data)
    assert response.status_code == 302
    world.rectification.refresh_from_db()
    assert world.rectification.status == RectificationStatus.FAILED
    page = staff.get(detail).content.decode()
    assert "否决项仍未整改。" in page
    assert 'data-status="failed"' in page


def test_a_report_with_a_wrong_file_is_refused_naming_the_item(world):
    data = report_post(world)
    first = world.rectification.items.order_by("order").first()
    data[f"evidence_{first.pk}"] = upload(b"not a pdf at all", "report.pdf")
    response = world.client("school_staff").post(
        reverse("rectification:report", args=(world.rectification.pk,)), data
    )
    assert response.status_code == 409
    assert f"{first.code}: report.pdf is not a" in response.content.decode()
    world.rectification.refresh_from_db()
    assert world.rectification.status == RectificationStatus.NOTIFIED


def test_a_recheck_and_an_extension_wait_for_the_confirmation(world):
    world.submit()
    leader = world.client("leader")
    recheck = reverse("rectification:recheck", args=(world.rectification.pk,))
    data = {key: value for key, value in recheck_post(world).items() if key != "confirmed"}
    page = leader.post(recheck, data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-becomes-final" in html
    assert "Every item passes: the rectification is closed as passed." in html
    assert 'name="confirmed" value="yes"' in html
    world.rectification.refresh_from_db()
    assert world.rectification.status == RectificationStatus.SUBMITTED
    admin = world.client("bureau_admin")
    extend = reverse("rectification:extend", args=(world.rectification.pk,))
    deadline = world.rectification.deadline
    data = {key: value for key, value in extend_post(world).items() if key != "confirmed"}
    page = admin.post(extend, data)
    assert page.status_code == 200
    assert "This is the one extension" in page.content.decode()
    world.rectification.refresh_from_db()
    assert world.rectification.deadline == deadline
    assert leader.post(recheck, recheck_post(world)).status_code == 302
    world.rectification.refresh_from_db()
    assert world.rectification.status == RectificationStatus.PASSED


def test_the_extension_is_offered_once(world):
    admin = world.client("bureau_admin")
    detail = reverse("rectification:detail", args=(world.rectification.pk,))
    extend = reverse("rectification:extend", args=(world.rectification.pk,))
    assert extend in admin.get(detail).content.decode()
    assert admin.post(extend, extend_post(world)).status_code == 302
    assert extend not in admin.get(detail).content.decode()
    again = admin.post(
        extend,
        {
            "new_deadline": (timezone.localdate() + dt.timedelta(days=400)).isoformat(),
            "reason": "x",
            **CONFIRMED,
        },
    )
    assert again.status_code == 409
    assert "The one extension was granted already" in again.content.decode()


def test_the_evidence_download_is_the_stored_file(world):
    world.submit()
    item = world.rectification.items.first()
    response = world.client("leader").get(reverse("rectification:evidence", args=(item.pk,)))
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]


# ------------------------------------------------------------- query counts


def count_queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def add_rectifications(world: World, count: int) -> None:
    round = world.rectification.round
    for _ in range(count):
        school = SchoolFactory()
        round.schools.add(school)
        rectification = Rectification.objects.create(
            round=round, school=school, deadline=world.rectification.deadline
        )
        RectificationItem.objects.create(
            rectification=rectification,
            code="A1.1",
            kind=RectificationItemKind.VETO_FAILED,
            max_points=Decimal("12.5"),
            pass_mark=Decimal("12.5"),
        )


@pytest.mark.parametrize("role", ["bureau_admin", "leader", "school_staff"])
def test_the_list_keeps_its_query_count(world, role):
    client = world.client(role)
    url = reverse("rectification:list")
    small = count_queries(client, url)
    add_rectifications(world, 4)
    assert count_queries(client, url) == small


def test_the_detail_keeps_its_query_count(world):
    client = world.client("bureau_admin")
    url = reverse("rectification:detail", args=(world.rectification.pk,))
    small = count_queries(client, url)
    for index in range(5):
        RectificationItem.objects.create(
            rectification=world.rectification,
            code=f"X{index}",
            kind=RectificationItemKind.BELOW_MARK,
            max_points=Decimal("10"),
            pass_mark=Decimal("6"),
        )
    assert count_queries(client, url) == small
