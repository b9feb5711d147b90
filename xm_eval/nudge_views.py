"""The 催办 action of a round's monitoring page: a confirmation page that says who will
be e-mailed (GET), then the reminders themselves (POST with ``confirmed=yes``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.views import allowed, render_page, signed_in
from rounds import selectors as round_selectors
from rounds.permissions import can_manage_rounds
from xm_eval import nudges


def _names(targets: list[nudges.NudgeTarget]) -> str:
    return "、".join(target.name for target in targets)


@signed_in
@allowed(can_manage_rounds)
def round_remind(request: HttpRequest, round_id: int, audience: str) -> HttpResponse:
    round = round_selectors.round_for_page(round_id=round_id)
    if round is None or audience not in nudges.AUDIENCES:
        raise Http404
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        report = nudges.round_nudge_send(round=round, audience=audience, actor=request.user)
        if report.sent:
            messages.success(
                request,
                _("%(count)d reminder e-mail(s) sent: %(names)s.")
                % {"count": len(report.sent), "names": _names(report.sent)},
            )
        else:
            messages.info(request, _("No reminder e-mail was sent."))
        if report.skipped_today:
            messages.warning(
                request,
                _("Skipped, already reminded today: %(names)s.")
                % {"names": _names(report.skipped_today)},
            )
        if report.without_email:
            messages.warning(
                request,
                _("Skipped, no e-mail address: %(names)s.")
                % {"names": _names(report.without_email)},
            )
        if report.failed:
            messages.error(
                request,
                _("Could not be e-mailed, try again later: %(names)s.")
                % {"names": _names(report.failed)},
            )
        return redirect("rounds:monitoring", round_id=round.pk)
    targets = nudges.nudge_targets(round=round, audience=audience)
    context = {
        "round": round,
        "audience": audience,
        "targets": targets,
        "to_send": [t for t in targets if t.email and not t.already_today],
    }
    return render_page(request, "rounds/remind.html", context)
