"""Every API endpoint × every role × every method answers the expected status.

The endpoints are discovered from the URL patterns of the ``api`` namespace, so a new
endpoint without a row in ``EXPECTED`` fails ``test_every_endpoint_has_expectations``.
Each role's request runs in a savepoint that is rolled back, so every role meets the
same data (a write by one role does not change what the next one sees).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.conftest import ROLES, World

pytestmark = pytest.mark.django_db

# fmt: off
#  (url name, method):                 anonymous  bureau  superv  leader  evaluator  staff
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("schema", "GET"):                      (200,  200,    200,    200,    200,       200),
    ("docs", "GET"):                        (200,  200,    200,    200,    200,       200),
    ("school-list", "GET"):                 (200,  200,    200,    200,    200,       200),
    ("school-detail", "GET"):               (200,  200,    200,    200,    200,       200),
    ("framework-list", "GET"):              (200,  200,    200,    200,    200,       200),
    ("framework-detail", "GET"):            (200,  200,    200,    200,    200,       200),
    ("round-list", "GET"):                  (200,  200,    200,    200,    200,       200),
    ("round-detail", "GET"):                (200,  200,    200,    200,    200,       200),
    ("round-rankings", "GET"):              (200,  200,    200,    200,    200,       200),
    ("round-result", "GET"):                (200,  200,    200,    200,    200,       200),
    ("assignment-list", "GET"):             (401,  200,    200,    200,    200,       403),
    ("assignment-detail", "GET"):           (401,  200,    200,    404,    200,       403),
    ("score-sheet-list", "GET"):            (401,  200,    200,    200,    200,       403),
    # leader: not assigned to B, refused by the service (not_assigned)
    ("score-sheet-list", "POST"):           (401,  403,    403,    403,    201,       403),
    ("score-sheet-detail", "GET"):          (401,  200,    200,    404,    200,       403),
    ("score-sheet-submit", "POST"):         (401,  403,    403,    404,    200,       403),
    ("score-sheet-score", "PUT"):           (401,  403,    403,    404,    200,       403),
    ("score-sheet-score", "PATCH"):         (401,  403,    403,    404,    200,       403),
    ("self-assessment-list", "GET"):        (401,  200,    200,    403,    403,       200),
    ("self-assessment-detail", "GET"):      (401,  200,    200,    403,    403,       200),
    ("evidence-list", "GET"):               (401,  200,    200,    200,    200,       200),
    ("evidence-detail", "GET"):             (401,  200,    200,    200,    200,       200),
    ("result-set-list", "GET"):             (401,  200,    200,    403,    403,       403),
    ("result-set-list", "POST"):            (401,  201,    403,    403,    403,       403),
    ("result-set-detail", "GET"):           (401,  200,    200,    403,    403,       403),
    # v2 never went through a public notice: the bureau may publish, the rule refuses
    ("result-set-publish", "POST"):         (401,  409,    403,    403,    403,       403),
    ("result-set-statistics", "GET"):       (401,  200,    200,    403,    403,       403),
    ("audit-event-list", "GET"):            (401,  200,    200,    403,    403,       403),
    ("audit-event-detail", "GET"):          (401,  200,    200,    403,    403,       403),
}
# fmt: on


def api_endpoints() -> set[tuple[str, str]]:
    """(url name, method) of every route in the ``api`` namespace, from the resolver."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif (
                isinstance(pattern, URLPattern)
                and namespace == "api"
                and pattern.name != "not-found"  # the JSON 404 for every other URL
            ):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions:  # a viewset route (DRF adds "head" once it has served a GET)
                    methods = {method.upper() for method in actions if method != "head"}
                else:
                    view_class = callback.view_class
                    methods = {
                        method.upper()
                        for method in view_class.http_method_names
                        if method not in ("options", "head") and hasattr(view_class, method)
                    }
                found.update((pattern.name, method) for method in methods)

    walk(get_resolver().url_patterns, None)
    return found


def test_every_endpoint_has_expectations():
    assert api_endpoints() == set(EXPECTED)


def request_for(name: str, method: str, world: World) -> tuple[str, dict[str, Any] | None]:
    """The URL (own objects of the evaluator and staff roles) and body of one request."""
    sheet = world.sheet
    kwargs: dict[str, Any] = {
        "school-detail": {"pk": world.school.pk},
        "framework-detail": {"pk": world.framework.pk},
        "round-detail": {"pk": world.published.pk},
        "round-rankings": {"round_id": world.published.pk},
        "round-result": {"round_id": world.published.pk, "school_id": world.school.pk},
        "assignment-detail": {"pk": world.assignment.pk},
        "score-sheet-detail": {"pk": sheet.pk},
        "score-sheet-submit": {"pk": sheet.pk},
        "score-sheet-score": {"pk": sheet.pk, "code": world.leaves[0].code},
        "self-assessment-detail": {"pk": world.self_assessment.pk},
        "evidence-detail": {"pk": world.evidence.pk},
        "result-set-detail": {"pk": world.unpublished_v2.pk},
        "result-set-publish": {"pk": world.unpublished_v2.pk},
        "result-set-statistics": {"pk": world.published_v1.pk},
        "audit-event-detail": {"pk": _any_audit_event_id()},
    }.get(name, {})
    body = {
        ("score-sheet-list", "POST"): {"round": world.scoring.pk, "school": world.other_school.pk},
        ("score-sheet-score", "PUT"): {"points": "1.5", "deduction_reason": "材料不全"},
        ("score-sheet-score", "PATCH"): {"comment": "复核"},
        ("result-set-list", "POST"): {"round": world.scoring.pk},
    }.get((name, method))
    return reverse(f"api:{name}", kwargs=kwargs), body


def _any_audit_event_id() -> int:
    from core.models import AuditEvent

    return AuditEvent.objects.order_by("id").values_list("id", flat=True).first()


@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED))
def test_role_matrix(world, name, method):
    url, body = request_for(name, method, world)
    got = {}
    for role in ROLES:
        with transaction.atomic():
            client = world.client(role)
            response = client.generic(
                method,
                url,
                data="" if body is None else json.dumps(body),
                content_type="application/json",
            )
            got[role] = response.status_code
            if response.status_code >= 400:
                # Every failure answers the one error body.
                assert set(response.json()["error"]) == {"code", "message", "field", "details"}
            transaction.set_rollback(True)
    assert got == dict(zip(ROLES, EXPECTED[(name, method)], strict=True))
