from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from core.errors import DomainError

View = Callable[..., HttpResponse]


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render a full page; the navigation comes from the project's context processor."""
    return render(request, template, context or {}, status=status)


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    if htmx is None:
        htmx = HtmxDetails(request)
    return bool(htmx)


def render_fragment_or_page(
    request: HttpRequest, fragment: str, page: str, context: dict[str, Any]
) -> HttpResponse:
    """The bare fragment for an htmx request, else the full page that includes it."""
    if is_htmx(request):
        response = render(request, fragment, context)
    else:
        response = render_page(request, page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def domain_error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A broken rule is explained to the person (409), never a server error."""
    return render_page(request, "home/domain_error.html", {"error": error}, status=409)


def signed_in(view: View) -> View:
    """Anonymous people go to the sign-in page; a DomainError shows its message."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("site:login"))
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return domain_error_response(request, error)

    return wrapper


def allowed(predicate: Callable[[Any], bool]) -> Callable[[View], View]:
    """403 unless ``predicate(user)``; use under ``signed_in``."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
