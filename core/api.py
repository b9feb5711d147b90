"""Shared machinery of the REST API (``/api/v1/``).

* one error body for every failure, ``{"error": {"code", "message", "field", "details"}}``,
  with a stable ``code`` and a message in the request's language;
* the pagination every list uses (``page``, ``page_size`` up to ``MAX_PAGE_SIZE``);
* CSV and XLSX renderers for tables (the rankings), with Chinese column headers;
* throttles whose rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``
  on every request, so settings (and tests) can change them;
* DRF permission classes that only wrap the predicates of ``xm_eval.permissions``.

This module is imported while DRF builds ``APIView`` (it names the throttles), so it
must not import ``rest_framework.views``, ``generics`` or ``drf_spectacular.openapi``
at module level.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, renderers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.errors import DomainError

# ------------------------------------------------------------------ errors

# DomainError codes that are not plain bad input; every other code answers 400. A
# conflict with the state of things answers 409, a missing right (not the owner, not
# assigned) 403. Objects the user may not see at all never get that far: the
# selectors leave them out, so they answer 404 before any service runs.
DOMAIN_ERROR_STATUS: dict[str, int] = {
    "sheet_locked": status.HTTP_409_CONFLICT,
    "already_published": status.HTTP_409_CONFLICT,
    "phase_closed": status.HTTP_409_CONFLICT,
    "duplicate": status.HTTP_409_CONFLICT,
    "not_latest": status.HTTP_409_CONFLICT,
    # publication waits for its public notice and objections: a state conflict
    "not_noticed": status.HTTP_409_CONFLICT,
    "notice_running": status.HTTP_409_CONFLICT,
    "notice_closed": status.HTTP_409_CONFLICT,
    "objections_open": status.HTTP_409_CONFLICT,
    "objection_closed": status.HTTP_409_CONFLICT,
    "not_published": status.HTTP_409_CONFLICT,
    "invalid_state": status.HTTP_409_CONFLICT,
    "not_owner": status.HTTP_403_FORBIDDEN,
    "not_assigned": status.HTTP_403_FORBIDDEN,
    "not_staff": status.HTTP_403_FORBIDDEN,
    "not_allowed": status.HTTP_403_FORBIDDEN,
}

# Every status an error body can come with, for the schema.
ERROR_STATUSES = (400, 401, 403, 404, 405, 406, 409, 415, 429)


def domain_error_status(code: str) -> int:
    return DOMAIN_ERROR_STATUS.get(code, status.HTTP_400_BAD_REQUEST)


def error_body(
    *, code: str, message: Any, field: str | None = None, details: Any = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "field": field,
            "details": details,
        }
    }


def _first_error(detail: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
    """The first message of a (nested) validation error and the field path leading to it."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            return _first_error(value, (*path, str(key)))
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            # Lists of messages name the field; lists of objects (many=True) add the index.
            step = (str(index),) if isinstance(value, dict | list) else ()
            return _first_error(value, (*path, *step))
    return path, str(detail)


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(value) for value in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler for the whole API: one error body, a stable code.

    ``DomainError`` from a service keeps its code, field and details and gets the
    status of ``DOMAIN_ERROR_STATUS``; DRF's and Django's own exceptions get DRF's
    default codes (``not_authenticated``, ``permission_denied``, ``not_found``,
    ``invalid``, ``throttled`` …). Anything else is left to Django (a 500).
    """
    from rest_framework.views import set_rollback

    if isinstance(exc, DomainError):
        set_rollback()
        return Response(
            error_body(code=exc.code, message=exc.message, field=exc.field, details=exc.details),
            status=domain_error_status(exc.code),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(exc.wait))

    code = exc.default_code
    field_name = None
    details: Any = None
    if isinstance(exc, exceptions.ValidationError):
        path, message = _first_error(exc.detail)
        field_name = ".".join(path) or None
        if field_name == api_settings.NON_FIELD_ERRORS_KEY:
            field_name = None
        details = _plain(exc.detail)
    else:
        message = str(exc.detail)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details = {"wait": math.ceil(exc.wait)}
    set_rollback()
    return Response(
        error_body(code=code, message=message, field=field_name, details=details),
        status=exc.status_code,
        headers=headers,
    )


class ErrorsAsJSONMixin:
    """Render error bodies as JSON even when the request asked for CSV or XLSX."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if response.status_code >= 400 and not isinstance(
            getattr(response, "accepted_renderer", None), renderers.JSONRenderer
        ):
            response.accepted_renderer = renderers.JSONRenderer()
            response.accepted_media_type = "application/json"
            response.renderer_context = self.get_renderer_context()  # type: ignore[attr-defined]
            if "Content-Disposition" in response:
                del response["Content-Disposition"]
        return response


# --------------------------------------------------------------- pagination

MAX_PAGE_SIZE = 500


class Pagination(PageNumberPagination):
    """Page-number pagination: ``?page=N&page_size=M`` (M up to MAX_PAGE_SIZE)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters


# ---------------------------------------------------------------- renderers


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an exported table; ``kind`` is text, int or decimal."""

    key: str
    header: str
    kind: str = "text"
    width: int = 12


@dataclass(frozen=True, slots=True)
class Table:
    """What the CSV and XLSX renderers draw: columns, then rows as dicts by column key."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]] = field(default_factory=list)


# Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _csv_value(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "text":
        return _safe_text(value)
    return str(value)


class CSVRenderer(renderers.BaseRenderer):
    """A ``Table`` as UTF-8 CSV with a byte-order mark, so Excel reads the Chinese."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if not isinstance(data, Table):
            raise TypeError("CSVRenderer renders xm_eval.api.Table only")
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([column.header for column in data.columns])
        for row in data.rows:
            writer.writerow([_csv_value(column, row.get(column.key)) for column in data.columns])
        return buffer.getvalue().encode("utf-8")


NUMBER_FORMATS = {"int": "0", "decimal": "0.00"}


class XLSXRenderer(renderers.BaseRenderer):
    """A ``Table`` as an Excel workbook: bold, frozen header row, numbers as numbers."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        if not isinstance(data, Table):
            raise TypeError("XLSXRenderer renders xm_eval.api.Table only")
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = data.title[:31] or "Sheet1"
        bold = Font(bold=True)
        for index, column in enumerate(data.columns, start=1):
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.font = bold
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        for row_index, row in enumerate(data.rows, start=2):
            for index, column in enumerate(data.columns, start=1):
                value = row.get(column.key)
                cell = sheet.cell(row=row_index, column=index)
                if value is None or value == "":
                    continue
                if column.kind == "decimal":
                    cell.value = Decimal(str(value))
                elif column.kind == "int":
                    cell.value = int(value)
                else:
                    cell.value = str(value)
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                if column.kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[column.kind]
        sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


# ---------------------------------------------------------------- throttles


class _SettingsRateMixin:
    """Read the rate on every request: DRF reads it once at import otherwise."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_SettingsRateMixin, AnonRateThrottle):
    """Anonymous clients, per IP address: ``DEFAULT_THROTTLE_RATES["anon"]``."""


class UserThrottle(_SettingsRateMixin, UserRateThrottle):
    """Signed-in clients, per user: ``DEFAULT_THROTTLE_RATES["user"]``."""


# -------------------------------------------------------------- permissions


class RolePermission(BasePermission):
    """Allow a request when a predicate of ``xm_eval.permissions`` allows the user.

    ``read`` decides GET/HEAD/OPTIONS, ``write`` the other methods (no writes when
    it is None). Which objects the user then sees is the selectors' business.
    """

    read: Callable[[Any], bool] | None = None
    write: Callable[[Any], bool] | None = None

    def has_permission(self, request: Any, view: Any) -> bool:
        predicate = self.read if request.method in SAFE_METHODS else self.write
        if predicate is None:
            return False
        return bool(predicate(request.user))


def role_permission(
    name: str, *, read: Callable[[Any], bool] | None, write: Callable[[Any], bool] | None = None
) -> type[RolePermission]:
    return type(
        name,
        (RolePermission,),
        {
            "read": staticmethod(read) if read else None,
            "write": staticmethod(write) if write else None,
        },
    )


# Public resources: anyone reads them (they have no writes, so any other method
# answers 405). DRF's own class, so the schema marks these operations as open.
Public = AllowAny
# ------------------------------------------------------------------- schema

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every failure of the API answers this body.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable machine code."},
                "message": {"type": "string", "description": "Translated message."},
                "field": {
                    "type": "string",
                    "nullable": True,
                    "description": "The field or indicator the problem is about.",
                },
                "details": {"nullable": True, "description": "More about the problem."},
            },
            "required": ["code", "message", "field", "details"],
        }
    },
    "required": ["error"],
}

ERROR_DESCRIPTIONS = {
    400: "Bad input (code `invalid`, `out_of_range`, `incomplete` …); nothing changed.",
    401: "Not signed in (`not_authenticated`) or a bad token (`authentication_failed`).",
    403: "The role may not do this (`permission_denied`, `not_owner`, `not_assigned` …).",
    404: "No such object, or not one the user may see (`not_found`).",
    405: "Method not allowed (`method_not_allowed`).",
    406: "No representation for the Accept header (`not_acceptable`).",
    409: "Conflicts with the state (`sheet_locked`, `phase_closed`, `already_published` …).",
    415: "Unsupported request body type (`unsupported_media_type`).",
    429: "Too many requests (`throttled`); see Retry-After.",
}


def schema_add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: declare the error body on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code in ERROR_STATUSES:
                if code in (409, 415) and method == "get":
                    continue
                responses.setdefault(
                    str(code),
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
