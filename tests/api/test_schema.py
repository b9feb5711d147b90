"""The OpenAPI schema validates, and schemathesis cannot break the API described by it.

Schemathesis runs in-process: its WSGI transport calls Django through the test
client's handler (which keeps the test's database connection and transaction), once
anonymously and once as an evaluator with a token, on the small world of the API tests.
Bounded: a fixed number of derandomized examples per operation, no deadline.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.test.client import ClientHandler
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 20, schemathesis.GenerationMode.NEGATIVE: 10}


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/rounds/{round_id}/rankings/" in out.getvalue()


def test_the_docs_load_swagger_ui_from_the_project_not_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


def django_wsgi_app() -> Any:
    """Django as a WSGI app on the test client's handler: same connection, no CSRF."""
    handler = ClientHandler(enforce_csrf_checks=False)

    def app(environ: dict, start_response: Any) -> list[bytes]:
        response = handler(environ)
        headers = [*response.items()]
        headers += [("Set-Cookie", c.output(header="").strip()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]

    return app


def operations(app: Any) -> list:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 25
    return found


def known_path_parameters(world: Any) -> dict[str, dict[str, Any]]:
    """Ids of objects that exist, so bodies and queries are also fuzzed against real rows."""
    from core.models import AuditEvent

    sheet = {"id": world.sheet.pk}
    result_set = {"id": world.published_v1.pk}
    return {
        "/api/v1/schools/{id}/": {"id": world.school.pk},
        "/api/v1/frameworks/{id}/": {"id": world.framework.pk},
        "/api/v1/rounds/{id}/": {"id": world.published.pk},
        "/api/v1/rounds/{round_id}/rankings/": {"round_id": world.published.pk},
        "/api/v1/rounds/{round_id}/results/{school_id}/": {
            "round_id": world.published.pk,
            "school_id": world.school.pk,
        },
        "/api/v1/assignments/{id}/": {"id": world.assignment.pk},
        "/api/v1/score-sheets/{id}/": sheet,
        "/api/v1/score-sheets/{id}/scores/{code}/": {**sheet, "code": world.leaves[1].code},
        "/api/v1/score-sheets/{id}/submit/": sheet,
        "/api/v1/self-assessments/{id}/": {"id": world.self_assessment.pk},
        "/api/v1/evidence/{id}/": {"id": world.evidence.pk},
        "/api/v1/result-sets/{id}/": result_set,
        "/api/v1/result-sets/{id}/publish/": result_set,
        "/api/v1/result-sets/{id}/statistics/": result_set,
        "/api/v1/audit-events/{id}/": {"id": AuditEvent.objects.values_list("pk", flat=True)[0]},
    }


def fuzz(
    operation: Any, mode: Any, headers: dict[str, str], path_parameters: dict | None = None
) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize("identity", ["anonymous", "evaluator"])
def test_schemathesis_finds_no_server_error_and_no_response_against_the_schema(world, identity):
    headers = (
        {} if identity == "anonymous" else {"Authorization": f"Token {world.tokens[identity]}"}
    )
    known = known_path_parameters(world)
    failures = []
    for operation in operations(django_wsgi_app()):
        assert "{" not in operation.path or operation.path in known, operation.path
        for mode in EXAMPLES:
            for path_parameters in (None, known.get(operation.path)):
                if mode == mode.NEGATIVE and "{" in operation.path:
                    if path_parameters is None:
                        continue  # random ids are simply not found; real ones teach more
                    if not (len(operation.query) or len(operation.body)):
                        continue  # nothing left to make invalid
                try:
                    fuzz(operation, mode, headers, path_parameters)
                except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - collect all
                    failures.append(
                        f"{operation.label} [{mode.value}, ids {path_parameters}]: {failure}"
                    )
    assert not failures, "\n\n".join(failures)
