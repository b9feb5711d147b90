"""One error body everywhere, stable codes, translated messages, throttled anonymous clients."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.api import DOMAIN_ERROR_STATUS, domain_error_status, exception_handler
from core.errors import DomainError

pytestmark = pytest.mark.django_db


def error(response) -> dict:  # noqa: ANN001
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "details"}
    return body["error"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("sheet_locked", 409),
        ("already_published", 409),
        ("phase_closed", 409),
        ("duplicate", 409),
        ("not_owner", 403),
        ("not_assigned", 403),
        ("not_staff", 403),
        ("not_allowed", 403),
        ("out_of_range", 400),
        ("reason_required", 400),
        ("anything_else", 400),
    ],
)
def test_domain_error_codes_map_to_statuses(code, status):
    assert domain_error_status(code) == status
    response = exception_handler(
        DomainError("消息", code=code, field="points", details=["A1.1"]), {}
    )
    assert response.status_code == status
    assert response.data == {
        "error": {"code": code, "message": "消息", "field": "points", "details": ["A1.1"]}
    }
    assert set(DOMAIN_ERROR_STATUS) >= {"sheet_locked", "not_owner"}


def test_drf_errors_get_stable_codes(world, client):
    response = client.get(reverse("api:assignment-list"))
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"

    response = client.get(reverse("api:assignment-list"), headers={"Authorization": "Token nope"})
    assert (response.status_code, error(response)["code"]) == (401, "authentication_failed")

    response = world.client("school_staff").get(reverse("api:audit-event-list"))
    assert (response.status_code, error(response)["code"]) == (403, "permission_denied")

    response = client.get(reverse("api:school-detail", args=[999_999]))
    assert (response.status_code, error(response)["code"]) == (404, "not_found")

    response = client.delete(reverse("api:school-detail", args=[world.school.pk]))
    assert (response.status_code, error(response)["code"]) == (405, "method_not_allowed")

    response = world.client("evaluator").put(
        reverse("api:score-sheet-score", args=[world.sheet.pk, world.leaves[0].code]),
        "points=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, error(response)["code"]) == (415, "unsupported_media_type")

    response = world.client("evaluator").put(
        reverse("api:score-sheet-score", args=[world.sheet.pk, world.leaves[0].code]),
        "{not json",
        content_type="application/json",
    )
    assert (response.status_code, error(response)["code"]) == (400, "parse_error")

    response = client.get(reverse("api:school-list"), {"kind": "castle"})
    body = error(response)
    assert (response.status_code, body["code"], body["field"]) == (400, "invalid", "kind")
    assert list(body["details"]) == ["kind"]


@pytest.mark.zh_hans
def test_messages_follow_the_request_language(world, client):
    url = reverse("api:assignment-list")
    chinese = error(client.get(url))["message"]
    english = error(client.get(url, headers={"Accept-Language": "en"}))["message"]
    assert english == "Authentication credentials were not provided."
    assert chinese != english
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese)


def test_anonymous_clients_are_throttled(world, client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": None},
    }
    address = "198.51.100.77"
    cache.delete(f"throttle_anon_{address}")
    try:
        url = reverse("api:school-list")
        statuses = [client.get(url, REMOTE_ADDR=address).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = client.get(url, REMOTE_ADDR=address)
        assert error(response)["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
        assert error(response)["details"]["wait"] > 0
        # a signed-in client is not counted as anonymous
        signed_in = world.client("evaluator").get(url, REMOTE_ADDR=address)
        assert signed_in.status_code == 200
    finally:
        cache.delete(f"throttle_anon_{address}")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing/", "/api/v2/schools/", "/api/v1/schools/1.5/", "/api/v1/schools/a/b/"],
)
def test_unknown_api_urls_answer_the_json_404(client, path):
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 404
        assert error(response)["code"] == "not_found"
