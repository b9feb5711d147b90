"""Every URL of the site and the API × every method its view accepts × every identity.

The (URL name, method) pairs come from ``django.urls.get_resolver()``, walked through
every include and namespace, so a new URL without a row in ``EXPECTED`` fails
``test_every_url_has_expectations``. Left out: the Django admin under ``/admin/``
(Django's own permission checks, covered by ``tests/test_admin.py``) and the static
files served in development (unnamed patterns).

Methods: a DRF viewset route answers its actions; a class view the methods it
implements; a function view the methods of its ``require_http_methods`` decorator
(``require_POST``, ``require_safe``…; HEAD and OPTIONS left out), and GET and POST
where it has none. A read-only page (``require_safe``) is requested with POST too,
which is where its refusal shows as 405.

The world is built once for the module (``tests/url_matrix_world.py``); every request
runs in a savepoint that is rolled back, so every identity meets the same data.
Identities: anonymous, the five roles, a staff member of school B and an evaluator
recused from school A, requesting school A's objects. Anonymous people are sent to
the sign-in page (302) on pages and get 401 from the API.

A status that would encode an access-control bug is not written as expected: the cell
is in ``KNOWN_BUGS`` and xfails strictly until the view is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories.core import CONFIRMED
from tests.factories.publication import OBJECTOR, PDF, upload
from tests.url_matrix_world import IDENTITIES, AuditEvent, World, build_world

# fmt: off
# anonymous, bureau_admin, supervisor, group_leader, evaluator, school_staff (A),
# other_school_staff (B), recused_evaluator (A); the order of ``IDENTITIES``.
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    # (url name, method):                         anon bureau sup leader eval staffA staffB recused
    # site
    # read-only pages (require_safe) refuse POST: 405 once the sign-in and role checks pass
    ("site:health", "GET"):                         (200, 200, 200, 200, 200, 200, 200, 200),
    ("site:health", "POST"):                        (405, 405, 405, 405, 405, 405, 405, 405),
    ("site:home", "GET"):                           (302, 200, 200, 200, 200, 200, 200, 200),
    ("site:home", "POST"):                          (302, 405, 405, 405, 405, 405, 405, 405),
    ("site:login", "GET"):                          (200, 200, 200, 200, 200, 200, 200, 200),
    ("site:login", "POST"):                         (200, 200, 200, 200, 200, 200, 200, 200),
    ("site:login", "PUT"):                          (200, 200, 200, 200, 200, 200, 200, 200),
    ("site:logout", "POST"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    # i18n
    ("set_language", "GET"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("set_language", "POST"):                       (302, 302, 302, 302, 302, 302, 302, 302),
    # api
    ("api:assignment-detail", "GET"):               (401, 200, 200, 404, 200, 403, 403, 404),
    ("api:assignment-list", "GET"):                 (401, 200, 200, 200, 200, 403, 403, 200),
    ("api:audit-event-detail", "GET"):              (401, 200, 200, 403, 403, 403, 403, 403),
    ("api:audit-event-list", "GET"):                (401, 200, 200, 403, 403, 403, 403, 403),
    ("api:docs", "GET"):                            (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:evidence-detail", "GET"):                 (401, 200, 200, 200, 200, 200, 404, 404),
    ("api:evidence-list", "GET"):                   (401, 200, 200, 200, 200, 200, 200, 200),
    ("api:framework-detail", "GET"):                (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:framework-list", "GET"):                  (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:not-found", "GET"):                       (404, 404, 404, 404, 404, 404, 404, 404),
    ("api:result-set-detail", "GET"):               (401, 200, 200, 403, 403, 403, 403, 403),
    ("api:result-set-list", "GET"):                 (401, 200, 200, 403, 403, 403, 403, 403),
    ("api:result-set-list", "POST"):                (401, 201, 403, 403, 403, 403, 403, 403),
    ("api:result-set-publish", "POST"):             (401, 409, 403, 403, 403, 403, 403, 403),
    ("api:result-set-statistics", "GET"):           (401, 200, 200, 403, 403, 403, 403, 403),
    ("api:round-detail", "GET"):                    (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:round-list", "GET"):                      (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:round-rankings", "GET"):                  (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:round-result", "GET"):                    (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:schema", "GET"):                          (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:school-detail", "GET"):                   (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:school-list", "GET"):                     (200, 200, 200, 200, 200, 200, 200, 200),
    ("api:score-sheet-detail", "GET"):              (401, 200, 200, 404, 200, 403, 403, 404),
    ("api:score-sheet-list", "GET"):                (401, 200, 200, 200, 200, 403, 403, 200),
    # the leader is assigned to A; bureau and supervisor do not score
    ("api:score-sheet-list", "POST"):               (401, 403, 403, 201, 200, 403, 403, 403),
    ("api:score-sheet-score", "PATCH"):             (401, 403, 403, 404, 200, 403, 403, 404),
    ("api:score-sheet-score", "PUT"):               (401, 403, 403, 404, 200, 403, 403, 404),
    ("api:score-sheet-submit", "POST"):             (401, 403, 403, 404, 400, 403, 403, 404),
    ("api:self-assessment-detail", "GET"):          (401, 200, 200, 403, 403, 200, 404, 403),
    ("api:self-assessment-list", "GET"):            (401, 200, 200, 403, 403, 200, 200, 403),
    # rounds
    ("rounds:advance", "GET"):                      (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:advance", "POST"):                     (302, 302, 403, 403, 403, 403, 403, 403),
    ("rounds:assignments", "GET"):                  (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:assignments", "POST"):                 (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:clone", "GET"):                        (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:clone", "POST"):                       (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:compute", "POST"):                     (302, 302, 403, 403, 403, 403, 403, 403),
    ("rounds:conflicts", "GET"):                    (302, 403, 403, 200, 200, 403, 403, 200),
    ("rounds:conflicts", "POST"):                   (302, 403, 403, 302, 302, 403, 403, 302),
    ("rounds:create", "GET"):                       (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:create", "POST"):                      (302, 302, 403, 403, 403, 403, 403, 403),
    ("rounds:detail", "GET"):                       (302, 200, 200, 403, 403, 403, 403, 403),
    ("rounds:detail", "POST"):                      (302, 200, 200, 403, 403, 403, 403, 403),
    ("rounds:group", "GET"):                        (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:group", "POST"):                       (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:group_member_remove", "POST"):         (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:list", "GET"):                         (302, 200, 200, 403, 403, 403, 403, 403),
    ("rounds:list", "POST"):                        (302, 200, 200, 403, 403, 403, 403, 403),
    ("rounds:remind", "GET"):                       (302, 200, 403, 403, 403, 403, 403, 403),
    ("rounds:remind", "POST"):                      (302, 302, 403, 403, 403, 403, 403, 403),
    ("rounds:monitoring", "GET"):                   (302, 200, 200, 403, 403, 403, 403, 403),
    ("rounds:monitoring", "POST"):                  (302, 200, 200, 403, 403, 403, 403, 403),
    # sheets
    ("sheets:audit", "GET"):                        (302, 200, 200, 403, 403, 403, 403, 403),
    ("sheets:audit", "POST"):                       (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:audit_score", "POST"):                 (302, 302, 403, 403, 403, 403, 403, 403),
    ("sheets:consensus", "GET"):                    (302, 200, 200, 200, 403, 403, 403, 403),
    ("sheets:consensus", "POST"):                   (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:consensus_score", "POST"):             (302, 403, 403, 302, 403, 403, 403, 403),
    ("sheets:consolidation", "GET"):                (302, 200, 200, 200, 403, 403, 403, 403),
    ("sheets:consolidation", "POST"):               (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:score", "POST"):                       (302, 403, 403, 302, 302, 403, 403, 403),
    ("sheets:self_assessment", "GET"):              (302, 403, 403, 403, 403, 200, 200, 403),
    ("sheets:self_assessment", "POST"):             (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:self_assessment_school", "GET"):       (302, 200, 200, 403, 403, 200, 404, 403),
    ("sheets:self_assessment_school", "POST"):      (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:self_assessment_submit", "GET"):       (302, 403, 403, 403, 403, 200, 404, 403),
    ("sheets:self_assessment_submit", "POST"):      (302, 403, 403, 403, 403, 200, 404, 403),
    ("sheets:self_score", "POST"):                  (302, 403, 403, 403, 403, 302, 404, 403),
    ("sheets:sheet", "GET"):                        (302, 403, 403, 200, 200, 403, 403, 403),
    ("sheets:sheet", "POST"):                       (302, 405, 405, 405, 405, 405, 405, 405),
    ("sheets:submit", "GET"):                       (302, 403, 403, 200, 200, 403, 403, 403),
    ("sheets:submit", "POST"):                      (302, 403, 403, 200, 200, 403, 403, 403),
    # evidence
    ("evidence:download", "GET"):                   (302, 200, 200, 200, 200, 200, 404, 404),
    ("evidence:download", "POST"):                  (302, 405, 405, 405, 405, 405, 405, 405),
    # the signed-in staff member's own school: B's staff see B's page, not A's
    ("evidence:point", "GET"):                      (302, 403, 403, 403, 403, 200, 200, 403),
    ("evidence:point", "POST"):                     (302, 403, 403, 403, 403, 302, 302, 403),
    ("evidence:school_point", "GET"):               (302, 200, 200, 200, 200, 200, 404, 403),
    ("evidence:school_point", "POST"):              (302, 403, 403, 403, 403, 302, 404, 403),
    # scoring
    # a published total is public; deeper nodes only for A's staff and the bureau roles
    ("scoring:explain", "GET"):                     (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:explain", "POST"):                    (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:index", "GET"):                       (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:index", "POST"):                      (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:round", "GET"):                       (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:round", "POST"):                      (302, 200, 200, 200, 200, 200, 200, 200),
    ("scoring:school", "GET"):                      (302, 200, 200, 404, 404, 200, 404, 404),
    ("scoring:school", "POST"):                     (302, 200, 200, 404, 404, 200, 404, 404),
    # notice
    ("notice:correct", "GET"):                      (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:correct", "POST"):                     (302, 400, 403, 403, 403, 403, 403, 403),
    ("notice:index", "GET"):                        (200, 200, 200, 200, 200, 200, 200, 200),
    ("notice:index", "POST"):                       (405, 405, 405, 405, 405, 405, 405, 405),
    ("notice:objection", "GET"):                    (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:objection", "POST"):                   (302, 405, 403, 403, 403, 403, 403, 403),
    ("notice:objection_dismiss", "GET"):            (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:objection_dismiss", "POST"):           (302, 302, 403, 403, 403, 403, 403, 403),
    ("notice:objection_new", "GET"):                (200, 200, 200, 200, 200, 200, 200, 200),
    # anyone may object by real name during the notice, signed in or not
    ("notice:objection_new", "POST"):               (201, 201, 201, 201, 201, 201, 201, 201),
    ("notice:objection_review", "POST"):            (302, 302, 403, 403, 403, 403, 403, 403),
    ("notice:objection_seal", "GET"):               (302, 404, 403, 403, 403, 403, 403, 403),
    ("notice:objection_seal", "POST"):              (302, 405, 403, 403, 403, 403, 403, 403),
    ("notice:objection_uphold", "GET"):             (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:objection_uphold", "POST"):            (302, 400, 403, 403, 403, 403, 403, 403),
    ("notice:objections", "GET"):                   (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:objections", "POST"):                  (302, 405, 403, 403, 403, 403, 403, 403),
    ("notice:open", "GET"):                         (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:open", "POST"):                        (302, 302, 403, 403, 403, 403, 403, 403),
    ("notice:publication", "GET"):                  (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:publication", "POST"):                 (302, 405, 403, 403, 403, 403, 403, 403),
    ("notice:publish", "GET"):                      (302, 200, 403, 403, 403, 403, 403, 403),
    ("notice:publish", "POST"):                     (302, 302, 403, 403, 403, 403, 403, 403),
    ("notice:round", "GET"):                        (200, 200, 200, 200, 200, 200, 200, 200),
    ("notice:round", "POST"):                       (405, 405, 405, 405, 405, 405, 405, 405),
    ("notice:track", "GET"):                        (200, 200, 200, 200, 200, 200, 200, 200),
    ("notice:track", "POST"):                       (200, 200, 200, 200, 200, 200, 200, 200),
    # rectification
    ("rectification:detail", "GET"):                (302, 200, 200, 200, 404, 200, 404, 404),
    ("rectification:detail", "POST"):               (302, 405, 405, 405, 405, 405, 405, 405),
    ("rectification:evidence", "GET"):              (302, 200, 200, 200, 404, 200, 404, 404),
    ("rectification:evidence", "POST"):             (302, 405, 405, 405, 405, 405, 405, 405),
    ("rectification:extend", "GET"):                (302, 200, 403, 403, 403, 403, 403, 403),
    ("rectification:extend", "POST"):               (302, 302, 403, 403, 403, 403, 403, 403),
    # the list is filtered per user (B's staff see none of A's)
    ("rectification:list", "GET"):                  (302, 200, 200, 200, 403, 200, 200, 403),
    ("rectification:list", "POST"):                 (302, 405, 405, 405, 403, 405, 405, 403),
    ("rectification:recheck", "GET"):               (302, 200, 403, 200, 404, 403, 404, 404),
    ("rectification:recheck", "POST"):              (302, 400, 403, 400, 404, 403, 404, 404),
    ("rectification:report", "GET"):                (302, 403, 403, 403, 404, 200, 404, 404),
    ("rectification:report", "POST"):               (302, 403, 403, 403, 404, 400, 404, 404),
    # reports
    ("reports:download", "GET"):                    (302, 200, 200, 404, 404, 200, 404, 404),
    ("reports:download", "POST"):                   (302, 405, 405, 405, 405, 405, 405, 405),
    ("reports:export_consistency", "GET"):          (302, 200, 200, 404, 404, 404, 404, 404),
    ("reports:export_consistency", "POST"):         (302, 405, 405, 405, 405, 405, 405, 405),
    ("reports:export_ranking", "GET"):              (302, 200, 200, 200, 200, 200, 200, 200),
    ("reports:export_ranking", "POST"):             (302, 405, 405, 405, 405, 405, 405, 405),
    ("reports:export_score_matrix", "GET"):         (302, 200, 200, 404, 404, 404, 404, 404),
    ("reports:export_score_matrix", "POST"):        (302, 405, 405, 405, 405, 405, 405, 405),
    ("reports:framework_import", "GET"):            (302, 200, 403, 403, 403, 403, 403, 403),
    ("reports:framework_import", "POST"):           (302, 200, 403, 403, 403, 403, 403, 403),
    ("reports:framework_template", "GET"):          (302, 200, 403, 403, 403, 403, 403, 403),
    ("reports:framework_template", "POST"):         (302, 405, 403, 403, 403, 403, 403, 403),
    ("reports:group_opinion", "GET"):               (302, 200, 404, 200, 404, 404, 404, 404),
    ("reports:group_opinion", "POST"):              (302, 302, 404, 302, 404, 404, 404, 404),
    ("reports:job", "GET"):                         (302, 200, 200, 403, 403, 403, 403, 403),
    ("reports:job", "POST"):                        (302, 405, 405, 403, 403, 403, 403, 403),
    ("reports:render", "POST"):                     (302, 302, 403, 403, 403, 403, 403, 403),
    ("reports:job_retry", "POST"):                  (302, 302, 403, 403, 403, 403, 403, 403),
    ("reports:round", "GET"):                       (302, 200, 200, 404, 404, 200, 200, 404),
    ("reports:round", "POST"):                      (302, 405, 405, 405, 405, 405, 405, 405),
    ("reports:score_workbook", "GET"):              (302, 404, 404, 200, 200, 404, 404, 404),
    ("reports:score_workbook", "POST"):             (302, 405, 405, 405, 405, 405, 405, 405),
    # a round-level form for evaluators; each row's school is checked on upload
    ("reports:score_workbook_upload", "GET"):       (302, 403, 403, 200, 200, 403, 403, 200),
    ("reports:score_workbook_upload", "POST"):      (302, 403, 403, 200, 200, 403, 403, 200),
    # incentives
    ("incentives:export", "GET"):                   (302, 200, 200, 403, 403, 403, 403, 403),
    ("incentives:export", "POST"):                  (302, 405, 405, 403, 403, 403, 403, 403),
    ("incentives:index", "GET"):                    (302, 200, 200, 403, 403, 403, 403, 403),
    ("incentives:index", "POST"):                   (302, 405, 405, 403, 403, 403, 403, 403),
    ("incentives:page", "GET"):                     (302, 200, 200, 403, 403, 403, 403, 403),
    ("incentives:page", "POST"):                    (302, 405, 405, 403, 403, 403, 403, 403),
    # supervision
    ("supervision:consistency", "GET"):             (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:consistency", "POST"):            (302, 405, 405, 403, 403, 403, 403, 403),
    ("supervision:events", "GET"):                  (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:events", "POST"):                 (302, 405, 405, 403, 403, 403, 403, 403),
    ("supervision:index", "GET"):                   (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:index", "POST"):                  (302, 405, 405, 403, 403, 403, 403, 403),
    ("supervision:late", "GET"):                    (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:late", "POST"):                   (302, 405, 405, 403, 403, 403, 403, 403),
    ("supervision:recusals", "GET"):                (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:recusals", "POST"):               (302, 405, 405, 403, 403, 403, 403, 403),
    ("supervision:scores", "GET"):                  (302, 200, 200, 403, 403, 403, 403, 403),
    ("supervision:scores", "POST"):                 (302, 405, 405, 403, 403, 403, 403, 403),
    # history
    ("history:index", "GET"):                       (200, 200, 200, 200, 200, 200, 200, 200),
    ("history:index", "POST"):                      (405, 405, 405, 405, 405, 405, 405, 405),
    ("history:round", "GET"):                       (200, 200, 200, 200, 200, 200, 200, 200),
    ("history:round", "POST"):                      (405, 405, 405, 405, 405, 405, 405, 405),
    ("history:school", "GET"):                      (200, 200, 200, 200, 200, 200, 200, 200),
    ("history:school", "POST"):                     (405, 405, 405, 405, 405, 405, 405, 405),
}
# fmt: on

# (url name, method, identity): why the status the view gives today is wrong.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}

# Actions behind the confirmation step (core.confirm): the matrix posts the confirmation.
CONFIRMED_ACTIONS = {
    "notice:correct",
    "notice:objection_dismiss",
    "notice:objection_uphold",
    "notice:open",
    "notice:publish",
    "rectification:extend",
    "rectification:recheck",
    "rounds:advance",
    "sheets:self_assessment_submit",
    "sheets:submit",
}

SKIPPED_NAMESPACES = {"admin"}


# ------------------------------------------------------------------ the resolver walk


def _declared_methods(callback: Callable[..., Any]) -> set[str] | None:
    """The methods of a ``require_http_methods`` decorator somewhere on the view, or None."""
    view: Any = callback
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = view.__closure__[code.co_freevars.index("request_method_list")]
            return {method for method in cell.cell_contents if method not in ("HEAD", "OPTIONS")}
        view = getattr(view, "__wrapped__", None)
    return None


def view_methods(callback: Callable[..., Any]) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route (DRF adds "head" once it has served a GET)
        return {method.upper() for method in actions if method != "head"}
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        implemented = {
            method.upper()
            for method in view_class.http_method_names
            if method not in ("options", "head") and hasattr(view_class, method)
        }
        return implemented or {"GET"}  # a catch-all that answers every method alike
    declared = _declared_methods(callback)
    if declared == {"GET"}:  # a read-only page (``require_safe``): its POST row shows the 405
        return {"GET", "POST"}
    return declared if declared is not None else {"GET", "POST"}


def url_patterns() -> dict[str, set[str]]:
    """Namespace-qualified name → methods, of every named pattern under the root URLconf."""
    found: dict[str, set[str]] = {}

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in SKIPPED_NAMESPACES:
                    continue
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.setdefault(name, set()).update(view_methods(pattern.callback))

    walk(get_resolver().url_patterns, None)
    return found


def resolver_pairs() -> set[tuple[str, str]]:
    return {(name, method) for name, methods in url_patterns().items() for method in methods}


def test_every_url_has_expectations():
    assert resolver_pairs() == set(EXPECTED)


def test_every_expectation_names_every_identity():
    assert {len(statuses) for statuses in EXPECTED.values()} == {len(IDENTITIES)}


# -------------------------------------------------------------------- the requests


def _kwargs(w: World) -> dict[str, dict[str, Any]]:
    """The URL arguments of every pattern that takes some: school A's objects."""
    a, leaf = w.school.pk, w.leaves[0].pk
    return {
        "api:school-detail": {"pk": a},
        "api:framework-detail": {"pk": w.framework.pk},
        "api:round-detail": {"pk": w.published_round.pk},
        "api:round-rankings": {"round_id": w.published_round.pk},
        "api:round-result": {"round_id": w.published_round.pk, "school_id": a},
        "api:assignment-detail": {"pk": w.evaluator_assignment.pk},
        "api:score-sheet-detail": {"pk": w.sheet.pk},
        "api:score-sheet-submit": {"pk": w.sheet.pk},
        "api:score-sheet-score": {"pk": w.sheet.pk, "code": w.leaves[1].code},
        "api:self-assessment-detail": {"pk": w.self_assessment.pk},
        "api:evidence-detail": {"pk": w.evidence.pk},
        "api:result-set-detail": {"pk": w.consolidation_set.pk},
        "api:result-set-publish": {"pk": w.consolidation_set.pk},
        "api:result-set-statistics": {"pk": w.published_set.pk},
        "api:audit-event-detail": {"pk": AuditEvent.objects.order_by("pk").first().pk},
        "sheets:sheet": {"round_id": w.scoring_round.pk, "school_id": a},
        "sheets:score": {"round_id": w.scoring_round.pk, "school_id": a, "indicator_id": leaf},
        "sheets:submit": {"round_id": w.scoring_round.pk, "school_id": a},
        "sheets:self_assessment": {"round_id": w.self_round.pk},
        "sheets:self_assessment_school": {"round_id": w.self_round.pk, "school_id": a},
        "sheets:self_score": {"round_id": w.self_round.pk, "school_id": a, "indicator_id": leaf},
        "sheets:self_assessment_submit": {"round_id": w.self_round.pk, "school_id": a},
        "sheets:consolidation": {"round_id": w.consolidation_round.pk},
        "sheets:consensus": {"round_id": w.consolidation_round.pk, "school_id": a},
        "sheets:consensus_score": {
            "round_id": w.consolidation_round.pk,
            "school_id": a,
            "indicator_id": leaf,
        },
        "sheets:audit": {"round_id": w.consolidation_round.pk, "school_id": a},
        "sheets:audit_score": {
            "round_id": w.consolidation_round.pk,
            "school_id": a,
            "indicator_id": leaf,
        },
        "evidence:point": {"round_id": w.self_round.pk, "indicator_id": leaf},
        "evidence:school_point": {
            "round_id": w.self_round.pk,
            "school_id": a,
            "indicator_id": leaf,
        },
        "evidence:download": {"evidence_id": w.evidence.pk},
        "reports:round": {"round_id": w.published_round.pk},
        "reports:render": {"round_id": w.published_round.pk},
        "reports:job": {"job_id": w.render_job.pk},
        "reports:job_retry": {"job_id": w.render_job.pk},
        "reports:download": {"artifact_id": w.artifact.pk},
        "reports:group_opinion": {"round_id": w.consolidation_round.pk, "school_id": a},
        "reports:score_workbook": {"round_id": w.scoring_round.pk, "school_id": a},
        "reports:score_workbook_upload": {"round_id": w.scoring_round.pk},
        "reports:export_ranking": {"round_id": w.published_round.pk},
        "reports:export_score_matrix": {"round_id": w.published_round.pk},
        "reports:export_consistency": {"round_id": w.published_round.pk},
        "notice:round": {"round_id": w.noticed_round.pk},
        "notice:objection_new": {"round_id": w.noticed_round.pk},
        "notice:objection": {"objection_id": w.objection.pk},
        "notice:objection_seal": {"objection_id": w.objection.pk},
        "notice:objection_review": {"objection_id": w.objection.pk},
        "notice:objection_dismiss": {"objection_id": w.objection.pk},
        "notice:objection_uphold": {"objection_id": w.objection.pk},
        "notice:publication": {"round_id": w.noticed_round.pk},
        "notice:open": {"round_id": w.consolidation_round.pk},
        "notice:publish": {"result_set_id": w.noticed_set.pk},
        "notice:correct": {"result_set_id": w.published_set.pk},
        "rectification:detail": {"rectification_id": w.rectification.pk},
        "rectification:report": {"rectification_id": w.rectification.pk},
        "rectification:recheck": {"rectification_id": w.rectification.pk},
        "rectification:extend": {"rectification_id": w.rectification.pk},
        "rectification:evidence": {"item_id": w.rectification_item.pk},
        "incentives:page": {"result_set_id": w.published_set.pk},
        "incentives:export": {"result_set_id": w.published_set.pk},
        "supervision:consistency": {"round_id": w.published_round.pk},
        "history:school": {"school_id": a},
        "history:round": {"round_id": w.published_round.pk},
        "rounds:detail": {"round_id": w.scoring_round.pk},
        "rounds:monitoring": {"round_id": w.scoring_round.pk},
        "rounds:remind": {"round_id": w.scoring_round.pk, "audience": "evaluators"},
        "rounds:advance": {"round_id": w.self_round.pk},
        "rounds:compute": {"round_id": w.consolidation_round.pk},
        "rounds:clone": {"round_id": w.published_round.pk},
        "rounds:group": {"round_id": w.scoring_round.pk},
        "rounds:group_member_remove": {
            "round_id": w.consolidation_round.pk,
            "member_id": w.group_member.pk,
        },
        "rounds:assignments": {"round_id": w.scoring_round.pk},
        "scoring:round": {"round_id": w.published_round.pk},
        "scoring:school": {"round_id": w.published_round.pk, "school_id": a},
        "scoring:explain": {"row_id": w.result_row.pk},
    }


def _post_data(w: World, name: str, method: str) -> dict[str, Any]:
    """Minimal valid bodies of the writes (a form view without one re-renders or refuses)."""
    a = w.school.pk
    data: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
        ("api:score-sheet-list", "POST"): lambda: {"round": w.scoring_round.pk, "school": a},
        ("api:score-sheet-score", "PUT"): lambda: {"points": "1.5", "deduction_reason": "材料不全"},
        ("api:score-sheet-score", "PATCH"): lambda: {"comment": "复核"},
        ("api:result-set-list", "POST"): lambda: {"round": w.consolidation_round.pk},
        ("set_language", "POST"): lambda: {"language": "en", "next": "/"},
        ("site:login", "POST"): lambda: {"username": "nobody", "password": "wrong"},
        ("sheets:score", "POST"): lambda: {"points": "1", "deduction_reason": "缺材料"},
        ("sheets:self_score", "POST"): lambda: {"points": "1", "note": "自评"},
        ("sheets:consensus_score", "POST"): lambda: {"points": "1", "text": "合议"},
        ("sheets:audit_score", "POST"): lambda: {"points": "1", "text": "审核"},
        ("evidence:point", "POST"): lambda: {"file": upload(PDF + b"p", "p.pdf")},
        ("evidence:school_point", "POST"): lambda: {"file": upload(PDF + b"s", "s.pdf")},
        ("reports:group_opinion", "POST"): lambda: {"text": "办学规范，建议加强校企合作。"},
        ("notice:objection_new", "POST"): lambda: {
            "school": a,
            "content": "该校实训设备数量与实际不符。",
            "objector_kind": "person",
            "truthful": "on",
            **OBJECTOR,
        },
        ("notice:track", "POST"): lambda: {"code": "ABCD-EFGH"},
        ("notice:objection_dismiss", "POST"): lambda: {"response": "经核查，异议不成立。"},
        ("notice:open", "POST"): lambda: {"days": 7},
        ("rectification:extend", "POST"): lambda: {
            "new_deadline": (
                w.rectification.deadline.replace(year=w.rectification.deadline.year + 1)
            ),
            "reason": "设备采购周期长",
        },
        ("rounds:create", "POST"): lambda: {
            "name": "新轮次",
            "framework": w.framework.pk,
            "cycle_start": 2025,
            "cycle_end": 2027,
            "consolidation_method": "trimmed_mean",
            "schools": [a],
        },
        ("rounds:clone", "POST"): lambda: {"name": "克隆轮次", "framework": w.framework.pk},
        ("rounds:conflicts", "POST"): lambda: {
            "school": w.other_school.pk,
            "reason": "曾任该校教师",
        },
        ("rounds:remind", "POST"): lambda: {"confirmed": "yes"},
    }
    maker = data.get((name, method))
    body = maker() if maker else {}
    if method == "POST" and name in CONFIRMED_ACTIONS:
        body = {**body, **CONFIRMED}  # the action itself, past its confirmation page
    return body


def request(w: World, name: str, method: str, identity: str) -> int:
    url = reverse(name, kwargs=_kwargs(w).get(name, {}))
    body = _post_data(w, name, method)
    if name.startswith("api:"):
        client = w.client(identity, api=True)
        response = client.generic(
            method, url, data=json.dumps(body) if body else "", content_type="application/json"
        )
    else:
        client = w.client(identity)
        if method == "GET":
            response = client.get(url)
        elif method == "POST":
            response = client.post(url, body)
        else:
            response = client.generic(method, url)
    return response.status_code


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):  # noqa: ANN001, ANN201
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(
            MEDIA_ROOT=media,
            STORAGES={
                "default": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": media, "base_url": None},
                },
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
            RECTIFICATION_NOTICE_RENDER=False,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            LANGUAGE_CODE="en",
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        built = build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def _matrix_settings(settings, world):  # noqa: ANN001, ANN202
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


def _cases() -> list[Any]:
    cases = []
    for (name, method), statuses in sorted(EXPECTED.items()):
        for identity, status in zip(IDENTITIES, statuses, strict=True):
            bug = KNOWN_BUGS.get((name, method, identity))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            cases.append(
                pytest.param(
                    name, method, identity, status, marks=marks, id=f"{name}-{method}-{identity}"
                )
            )
    return cases


@pytest.mark.django_db
@pytest.mark.usefixtures("_matrix_settings")
@pytest.mark.parametrize(("name", "method", "identity", "expected"), _cases())
def test_url_role_matrix(world, name, method, identity, expected):  # noqa: ANN001
    with transaction.atomic():
        got = request(world, name, method, identity)
        transaction.set_rollback(True)
    assert got == expected
