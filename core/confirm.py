"""One confirmation step before anything irreversible or public.

Submitting a sheet, opening a public notice, answering an objection, publishing,
granting an extension, recording a re-check, moving a round to its next phase: each
view that does one of these first shows ``templates/confirm.html``, a page that says
what becomes final and for whom, with one button that posts ``confirmed=yes``. The
view acts only on a POST that carries it; any other request (a GET, or a POST
without it, e.g. from the form that led here) shows the page again and changes
nothing. The values the person posted are carried as hidden fields, so the
confirmation posts exactly what was confirmed. It works without JavaScript.

A confirmation that cannot be given now (the notice still runs, objections are
open) keeps its page, with the button disabled and the reason beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.views import render_page

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"
# Never carried back into the confirmation form: Django's token is rendered afresh.
_NOT_CARRIED = frozenset({CONFIRM_FIELD, "csrfmiddlewaretoken"})


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says and where its button posts.

    ``becomes_final``: the consequences that cannot be undone; ``audience``: who is
    concerned or will see it; ``details``: (label, value) facts about what is
    confirmed; ``carried``: posted values re-sent as hidden fields; ``form``: fields
    still to fill in on the page (e.g. a reason); ``refusal``: why the action cannot
    be done now (the button is then disabled and the reason shown beside it).
    """

    heading: str
    action_url: str
    button: str
    cancel_url: str
    becomes_final: Sequence[str]
    audience: Sequence[str]
    details: Sequence[tuple[str, Any]] = ()
    warnings: Sequence[str] = ()
    carried: Sequence[tuple[str, str]] = ()
    form: Any = None
    refusal: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def is_confirmed(request: HttpRequest) -> bool:
    """True only for a POST that carries the confirmation."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


def carried_values(request: HttpRequest, *, exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The posted values to re-send from the confirmation page (lists stay lists);
    ``exclude`` names fields the page shows itself (its ``form``)."""
    if request.method != "POST":
        return []
    values = []
    for name in request.POST:
        if name in _NOT_CARRIED or name in exclude:
            continue
        values.extend((name, value) for value in request.POST.getlist(name))
    return values


def confirm_page(
    request: HttpRequest,
    confirmation: Confirmation,
    *,
    template: str = "confirm.html",
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the confirmation page; the caller has changed nothing."""
    page = {"confirmation": confirmation, "confirm_field": CONFIRM_FIELD, **(context or {})}
    response = render_page(request, template, page, status=status)
    response["Cache-Control"] = "no-store"
    return response
