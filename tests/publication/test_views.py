"""The /notice/ pages: every URL × every role, the objector's identity, query counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from publication import services as publication
from publication.enums import ObjectionStatus
from publication.models import Objection
from scoring.models import ResultSet
from tests.factories.core import CONFIRMED
from tests.factories.publication import (
    OBJECTOR,
    ORGANISATION,
    PNG,
    Noticed,
    after_notice,
    file_objection,
    noticed_round,
    role_users,
    upload,
)

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
OTHERS = ("supervisor", "leader", "evaluator", "school_staff", "other_staff")
SEAL_ID = "91350200MA2Y0ABC1K"


@dataclass
class World:
    noticed: Noticed
    person: Objection
    organisation: Objection
    users: dict[str, Any]

    def client(self, role: str) -> Client:
        client = Client()
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client


def build_world(bureau_admin: Any, *, schools: int = 2) -> World:
    noticed = noticed_round(admin=bureau_admin, schools=schools)
    person = file_objection(noticed)
    organisation = file_objection(
        noticed,
        objector_kind="organisation",
        organisation=ORGANISATION,
        id_number=SEAL_ID,
        seal=upload(PNG, "seal.png"),
    )
    users = role_users(noticed.round, noticed.unqualified)
    users["bureau_admin"] = bureau_admin
    return World(noticed, person, organisation, users)


@pytest.fixture
def world(bureau_admin) -> World:  # noqa: ANN001
    return build_world(bureau_admin)


def objection_post(world: World) -> dict[str, Any]:
    return {
        "school": world.noticed.schools[-1].pk,
        "indicator": "",
        "content": "总分计算有误。",
        "objector_kind": "person",
        "name": "李四",
        "id_number": OBJECTOR["id_number"],
        "phone": "0592-1234567",
        "organisation": "",
        "truthful": "on",
    }


# --------------------------------------------------------- URL × role matrix

ANYBODY = dict.fromkeys(ROLES, 200)


def bureau_only(allowed: int) -> dict[str, int]:
    return {"anonymous": 302, **dict.fromkeys(OTHERS, 403), "bureau_admin": allowed}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    route: str
    args: Callable[[World], tuple]
    expected: dict[str, int]
    data: Callable[[World], dict[str, Any]] | None = None

    def url(self, world: World) -> str:
        return reverse(self.route, args=self.args(world))


CASES = [
    Case("index", "get", "notice:index", lambda w: (), ANYBODY),
    Case("round", "get", "notice:round", lambda w: (w.noticed.round.pk,), ANYBODY),
    Case(
        "objection form",
        "get",
        "notice:objection_new",
        lambda w: (w.noticed.round.pk,),
        ANYBODY,
    ),
    Case(
        "file objection",
        "post",
        "notice:objection_new",
        lambda w: (w.noticed.round.pk,),
        dict.fromkeys(ROLES, 201),
        objection_post,
    ),
    Case("track form", "get", "notice:track", lambda w: (), ANYBODY),
    Case(
        "track",
        "post",
        "notice:track",
        lambda w: (),
        ANYBODY,
        lambda w: {"code": w.person.tracking_code},
    ),
    Case("objections", "get", "notice:objections", lambda w: (), bureau_only(200)),
    Case(
        "objection",
        "get",
        "notice:objection",
        lambda w: (w.person.pk,),
        bureau_only(200),
    ),
    Case(
        "seal",
        "get",
        "notice:objection_seal",
        lambda w: (w.organisation.pk,),
        bureau_only(200),
    ),
    Case(
        "review",
        "post",
        "notice:objection_review",
        lambda w: (w.person.pk,),
        bureau_only(302),
    ),
    Case(
        "dismiss",
        "post",
        "notice:objection_dismiss",
        lambda w: (w.person.pk,),
        bureau_only(302),
        lambda w: {"response": "经核查不属实。", **CONFIRMED},
    ),
    Case(
        "dismiss confirmation",
        "get",
        "notice:objection_dismiss",
        lambda w: (w.person.pk,),
        bureau_only(200),
    ),
    Case(
        "uphold",
        "post",
        "notice:objection_uphold",
        lambda w: (w.person.pk,),
        bureau_only(302),
        lambda w: {
            "response": "属实。",
            "school": w.noticed.schools[-1].pk,
            "indicator": "B1.1",
            "points": "1.5",
            **CONFIRMED,
        },
    ),
    Case(
        "uphold confirmation",
        "get",
        "notice:objection_uphold",
        lambda w: (w.person.pk,),
        bureau_only(200),
    ),
    Case(
        "publication",
        "get",
        "notice:publication",
        lambda w: (w.noticed.round.pk,),
        bureau_only(200),
    ),
    Case(
        "open notice",
        "post",
        "notice:open",
        lambda w: (w.noticed.round.pk,),
        bureau_only(302),
        lambda w: {"days": "7", **CONFIRMED},
    ),
    Case(
        "open notice confirmation",
        "get",
        "notice:open",
        lambda w: (w.noticed.round.pk,),
        bureau_only(200),
    ),
    Case(
        "publish",
        "post",
        "notice:publish",
        lambda w: (w.noticed.result_set.pk,),
        bureau_only(302),
        lambda w: dict(CONFIRMED),
    ),
    Case(
        "publish confirmation",
        "get",
        "notice:publish",
        lambda w: (w.noticed.result_set.pk,),
        bureau_only(200),
    ),
    Case(
        "correction form",
        "get",
        "notice:correct",
        lambda w: (w.noticed.result_set.pk,),
        bureau_only(200),
    ),
    Case(
        "correct",
        "post",
        "notice:correct",
        lambda w: (w.noticed.result_set.pk,),
        # the noticed version is not published: the service refuses, the form says why
        bureau_only(409),
        lambda w: {"reason": "更正", **CONFIRMED},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_url_answers_every_role_as_expected(world, case, role):
    client = world.client(role)
    url = case.url(world)
    data = case.data(world) if case.data else None
    response = client.post(url, data) if case.method == "post" else client.get(url)
    assert response.status_code == case.expected[role], (case.name, role)


def test_every_notice_url_is_in_the_matrix():
    from publication import urls as publication_urls

    names = {f"notice:{pattern.name}" for pattern in publication_urls.urlpatterns}
    assert names == {case.route for case in CASES}


def test_unknown_objects_are_404_for_the_bureau_admin(world):
    client = world.client("bureau_admin")
    assert client.get(reverse("notice:round", args=(999999,))).status_code == 404
    assert client.get(reverse("notice:objection", args=(999999,))).status_code == 404
    assert client.get(reverse("notice:objection_seal", args=(world.person.pk,))).status_code == 404
    assert client.get(reverse("notice:correct", args=(999999,))).status_code == 404


def test_a_round_without_a_notice_has_no_public_page(bureau_admin):
    from tests.factories.scoring import scored_round

    round = scored_round(schools=2)
    assert Client().get(reverse("notice:round", args=(round.pk,))).status_code == 404


# --------------------------------------------------- the objector's identity

SECRETS = (OBJECTOR["name"], OBJECTOR["id_number"], OBJECTOR["phone"], ORGANISATION, SEAL_ID)


def every_page(world: World, role: str) -> dict[str, bytes]:
    """What ``role`` gets from every page and API list that touches objections."""
    client = world.client(role)
    pages = {
        "index": client.get(reverse("notice:index")),
        "round": client.get(reverse("notice:round", args=(world.noticed.round.pk,))),
        "track": client.post(reverse("notice:track"), {"code": world.person.tracking_code}),
        "track-org": client.post(
            reverse("notice:track"), {"code": world.organisation.tracking_code}
        ),
        "objections": client.get(reverse("notice:objections")),
        "objection": client.get(reverse("notice:objection", args=(world.person.pk,))),
        "objection-org": client.get(reverse("notice:objection", args=(world.organisation.pk,))),
        "seal": client.get(reverse("notice:objection_seal", args=(world.organisation.pk,))),
        "publication": client.get(reverse("notice:publication", args=(world.noticed.round.pk,))),
        "results": client.get(reverse("scoring:round", args=(world.noticed.round.pk,))),
        "api-audit": client.get("/api/v1/audit-events/?page_size=500"),
        "api-result-sets": client.get("/api/v1/result-sets/"),
    }
    if world.users[role] is not None and world.users[role].is_staff:
        pages["admin-audit"] = client.get(reverse("admin:core_auditevent_changelist"))
    return {name: response.content for name, response in pages.items()}


@pytest.mark.parametrize("role", ROLES)
def test_the_objectors_identity_is_invisible_to_every_role_but_the_bureau_admin(world, role):
    pages = every_page(world, role)
    for name, content in pages.items():
        text = content.decode(errors="replace")
        for secret in SECRETS:
            if role == "bureau_admin" and name in ("objection", "objection-org"):
                continue
            assert secret not in text, (role, name, secret)
        if not (role == "bureau_admin" and name == "seal"):
            assert content != PNG, (role, name)
    if role == "bureau_admin":
        person = pages["objection"].decode()
        organisation = pages["objection-org"].decode()
        assert OBJECTOR["name"] in person and OBJECTOR["id_number"] in person
        assert ORGANISATION in organisation and SEAL_ID in organisation
        assert pages["seal"] == PNG


def test_the_objection_page_is_never_cached(world):
    response = world.client("bureau_admin").get(
        reverse("notice:objection", args=(world.person.pk,))
    )
    assert response["Cache-Control"] == "no-store"


# ------------------------------------------------------------ the flows


def test_anybody_files_an_objection_and_follows_it_by_its_code(world, bureau_admin):
    client = Client()
    url = reverse("notice:objection_new", args=(world.noticed.round.pk,))
    response = client.post(url, objection_post(world))
    assert response.status_code == 201
    objection = Objection.objects.order_by("-pk").first()
    assert objection.tracking_code in response.content.decode()
    assert "李四" not in response.content.decode()
    publication.objection_dismiss(
        objection=objection, actor=bureau_admin, response="经核查不属实。"
    )
    typed = objection.tracking_code.lower()
    page = client.post(reverse("notice:track"), {"code": typed}).content.decode()
    assert 'data-status="dismissed"' in page
    assert "经核查不属实。" in page
    missing = client.post(reverse("notice:track"), {"code": "YY-0000-0000-0000-0000"})
    assert "No objection has this tracking code" in missing.content.decode()


def test_a_bad_objection_is_explained_on_its_field_and_nothing_is_stored(world):
    before = Objection.objects.count()
    url = reverse("notice:objection_new", args=(world.noticed.round.pk,))
    # the identity rules are checked with the form: a 400 beside the field, like a blank one
    response = Client().post(url, {**objection_post(world), "id_number": "123"})
    assert response.status_code == 400
    assert "not a valid 18-character citizen identity number" in response.content.decode()
    response = Client().post(url, {**objection_post(world), "truthful": ""})
    assert response.status_code == 400
    assert Objection.objects.count() == before


def test_after_the_notice_the_form_says_objections_are_closed(world):
    with time_machine.travel(after_notice(world.noticed), tick=False):
        url = reverse("notice:objection_new", args=(world.noticed.round.pk,))
        page = Client().get(url).content.decode()
        assert "Objections are accepted only while" in page
        assert Client().post(url, objection_post(world)).status_code == 409


def test_the_admin_upholds_through_the_page_and_a_new_version_appears(world):
    client = world.client("bureau_admin")
    url = reverse("notice:objection_uphold", args=(world.person.pk,))
    data = {
        "response": "属实。",
        "school": world.noticed.schools[-1].pk,
        "indicator": "B1.1",
        "points": "0",
    }
    # Without the confirmation: the page says what becomes final, nothing changes.
    page = client.post(url, data)
    assert page.status_code == 200
    assert "data-becomes-final" in page.content.decode()
    world.person.refresh_from_db()
    assert world.person.status != ObjectionStatus.UPHELD
    response = client.post(url, {**data, **CONFIRMED})
    assert response.status_code == 302
    world.person.refresh_from_db()
    assert world.person.status == ObjectionStatus.UPHELD
    page = client.get(reverse("notice:publication", args=(world.noticed.round.pk,)))
    assert "data-superseded" in page.content.decode()
    public = Client().get(reverse("notice:round", args=(world.noticed.round.pk,))).content.decode()
    assert "This version corrects version 1" in public


def test_an_uphold_with_bad_points_shows_the_form_again(world):
    response = world.client("bureau_admin").post(
        reverse("notice:objection_uphold", args=(world.person.pk,)),
        {
            "response": "属实。",
            "school": world.noticed.schools[-1].pk,
            "indicator": "B1.1",
            "points": "99",
            **CONFIRMED,
        },
    )
    assert response.status_code == 409
    assert "points must lie between 0 and" in response.content.decode()
    assert ResultSet.objects.filter(round=world.noticed.round).count() == 1


def test_publish_and_correct_through_the_pages(world, bureau_admin):
    client = world.client("bureau_admin")
    for objection in (world.person, world.organisation):
        publication.objection_dismiss(objection=objection, actor=bureau_admin, response="不属实。")
    publish_url = reverse("notice:publish", args=(world.noticed.result_set.pk,))
    client.post(publish_url, CONFIRMED)  # refused: the notice runs
    world.noticed.result_set.refresh_from_db()
    assert not world.noticed.result_set.is_published
    with time_machine.travel(after_notice(world.noticed), tick=False):
        page = client.get(reverse("notice:publication", args=(world.noticed.round.pk,)))
        assert "data-refusal" not in page.content.decode()
        assert client.post(publish_url).status_code == 200  # the confirmation page
        world.noticed.result_set.refresh_from_db()
        assert not world.noticed.result_set.is_published
        assert client.post(publish_url, CONFIRMED).status_code == 302
    world.noticed.result_set.refresh_from_db()
    assert world.noticed.result_set.is_published
    correct_url = reverse("notice:correct", args=(world.noticed.result_set.pk,))
    response = client.post(
        correct_url,
        {
            "reason": "更正审核分",
            "change_score": "on",
            "school": world.noticed.schools[0].pk,
            "indicator": "A1.1",
            "points": "12.5",
            **CONFIRMED,
        },
    )
    assert response.status_code == 302
    new = ResultSet.objects.filter(round=world.noticed.round).order_by("-version").first()
    assert new.is_published and new.supersedes_id == world.noticed.result_set.pk


def test_the_publication_page_says_why_publishing_waits(world):
    page = world.client("bureau_admin").get(
        reverse("notice:publication", args=(world.noticed.round.pk,))
    )
    assert 'data-refusal="notice_running"' in page.content.decode()
    assert 'data-open-objections="2"' in page.content.decode()


# ------------------------------------------------------------- query counts


def count_queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_objection_list_keeps_its_query_count(bureau_admin):
    world = build_world(bureau_admin)
    client = world.client("bureau_admin")
    url = reverse("notice:objections")
    small = count_queries(client, url)
    for _ in range(6):
        file_objection(world.noticed, school=world.noticed.schools[0])
    for objection in Objection.objects.all()[:3]:
        publication.objection_review(objection=objection, actor=bureau_admin)
    assert count_queries(client, url) == small


def test_the_public_ranking_keeps_its_query_count(bureau_admin):
    small_world = build_world(bureau_admin, schools=2)
    large_world = build_world(bureau_admin, schools=7)
    client = Client()
    small = count_queries(client, reverse("notice:round", args=(small_world.noticed.round.pk,)))
    large = count_queries(client, reverse("notice:round", args=(large_world.noticed.round.pk,)))
    assert small == large


def test_the_notice_index_keeps_its_query_count(bureau_admin):
    build_world(bureau_admin)
    client = Client()
    small = count_queries(client, reverse("notice:index"))
    build_world(bureau_admin)
    build_world(bureau_admin)
    assert count_queries(client, reverse("notice:index")) == small


def test_the_publication_page_keeps_its_query_count(bureau_admin):
    world = build_world(bureau_admin)
    client = world.client("bureau_admin")
    url = reverse("notice:publication", args=(world.noticed.round.pk,))
    small = count_queries(client, url)
    for objection in (world.person, world.organisation):
        publication.objection_uphold(
            objection=objection,
            actor=bureau_admin,
            response="属实",
            changes=[
                publication.AuditScoreChange(
                    school=world.noticed.schools[0], indicator="B1.1", points="1"
                )
            ],
        )
    assert ResultSet.objects.filter(round=world.noticed.round).count() == 3
    assert count_queries(client, url) == small


def test_the_objection_list_never_loads_the_encrypted_identity():
    from publication import selectors as publication_selectors

    for queryset in (
        publication_selectors.objections_for_handling(),
        publication_selectors.objections_for_handling().filter(pk=1),
    ):
        sql = str(queryset.query)
        assert "identity_encrypted" not in sql
        assert "seal_encrypted" not in sql


def test_the_objection_list_filters_by_round_and_status(world, bureau_admin):
    publication.objection_review(objection=world.person, actor=bureau_admin)
    other = build_world(bureau_admin)
    client = world.client("bureau_admin")
    url = reverse("notice:objections")
    page = client.get(url).content.decode()
    assert f"{world.noticed.round.name} (2 open)" in page
    assert f"{other.noticed.round.name} (2 open)" in page
    assert page.count('data-status="') == 4
    page = client.get(f"{url}?round={world.noticed.round.pk}&status=under_review").content.decode()
    assert page.count('data-status="under_review"') == 1
    assert page.count('data-status="') == 1
    assert world.person.tracking_code in page
