"""The score pages: an evaluator's score sheet, the school's self-assessment,
the group leader's consensus scores and the bureau's audit scores.

Thin views: find the round and school, check access with the permission
predicates, call one service or the selectors, render. Rule violations come
back from the services as ``DomainError`` and are shown where they happened
(next to the observation point, or above the submit button), never as a 500.

Access answers: anonymous → the sign-in page; a role the page is not for →
403 with an explanation; an object outside the user's scope (a school they
are not assigned to, another school's self-assessment) → 404; a recused
assignment → 403 saying why.

Autosave answers only the point's status line (saved value or the service's
message) and the progress bar (out of band), never the inputs themselves, so
what the evaluator keeps typing while a save is in flight is not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core import permissions
from core.errors import DomainError
from rounds import evidence_selectors
from rounds import selectors as round_selectors
from rounds.enums import PHASE_ORDER, AssignmentStatus, ConsolidationMethod, RoundPhase
from rounds.evidence import ALLOWED_LABEL
from rounds.models import Indicator, Round
from rounds.permissions import leads_round_group
from schools.models import School
from schools.permissions import can_view_school_internals
from scoring import override_scores, presenter, progress, selectors, services
from scoring.enums import SheetStatus
from scoring.forms import OverrideScoreForm, ScoreForm, SelfScoreForm
from scoring.permissions import (
    can_give_audit_score,
    can_give_consensus_score,
    can_see_evaluator_names,
    can_view_peer_scores,
)

# ------------------------------------------------------------------ helpers


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _forbidden(request: HttpRequest, message: str, *, title: str | None = None) -> HttpResponse:
    return render(
        request,
        "sheets/forbidden.html",
        {"title": title or _("Not allowed"), "message": message},
        status=403,
    )


class _Refused(Exception):
    """Carries the response (403 page) an access check decided on."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


def _round_and_school(round_id: int, school_id: int) -> tuple[Round, School]:
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    school = get_object_or_404(School.objects.filter(rounds=round), pk=school_id)
    return round, school


def _phase_index(round: Round) -> int:
    return PHASE_ORDER.index(round.phase)


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@dataclass
class PointRow:
    """One row of a score page: a heading (dimension, indicator) or an observation point."""

    indicator: Indicator
    depth: int
    is_leaf: bool
    title: str
    heading_level: int
    own: Any = None  # the user's own score row (Score / SelfScore / override), if any
    self_score: Any = None
    files: list = field(default_factory=list)
    peers: list = field(default_factory=list)  # (label, score)
    experts: list = field(default_factory=list)  # (label, score)
    consolidation: Any = None
    consolidation_label: str = ""
    consensus: Any = None
    audit: Any = None
    show_reason: bool = False
    error: str = ""
    error_code: str = ""
    values: dict = field(default_factory=dict)


def _rows(round: Round) -> list[PointRow]:
    return [
        PointRow(
            indicator=row.indicator,
            depth=row.depth,
            is_leaf=row.is_leaf,
            title=presenter.title(row.indicator),
            heading_level=min(row.depth + 2, 5),
        )
        for row in selectors.indicator_tree_rows(round=round)
    ]


def _evaluator_labels(user: Any, scores_by_point: dict[int, list[Any]]) -> dict[int, str]:
    """Evaluator id → how the page names them: by name for the bureau, “Evaluator n” otherwise."""
    evaluators: dict[int, Any] = {}
    for scores in scores_by_point.values():
        for score in scores:
            evaluators.setdefault(score.sheet.evaluator_id, score.sheet.evaluator)
    ordered = sorted(evaluators.values(), key=lambda person: person.username)
    if can_see_evaluator_names(user):
        return {person.pk: (person.get_full_name() or person.get_username()) for person in ordered}
    return {
        person.pk: _("Evaluator %(number)d") % {"number": number}
        for number, person in enumerate(ordered, start=1)
    }


def _is_deduction(point: Indicator, points: Any) -> bool:
    return points is not None and points < point.max_points


# ------------------------------------------------------- evaluator: access


def _evaluator_assignment(request: HttpRequest, round: Round, school: School) -> Any:
    user = request.user
    if not permissions.is_evaluator(user):
        raise _Refused(_forbidden(request, _("Score sheets are for the evaluators of the round.")))
    assignment = round_selectors.assignment_of(
        round=round, school_id=school.pk, evaluator_id=user.pk
    )
    if assignment is None:
        raise Http404(_("You are not assigned to this school."))
    if assignment.status == AssignmentStatus.RECUSED:
        raise _Refused(
            render(
                request,
                "sheets/recused.html",
                {"round": round, "school": school, "assignment": assignment},
                status=403,
            )
        )
    return assignment


def _scoring_state(round: Round, sheet: Any) -> tuple[bool, str]:
    """(may the sheet be changed now, and if not, why)."""
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        return False, _("You submitted this score sheet on %(time)s; it is locked.") % {
            "time": _local(sheet.submitted_at)
        }
    if round.phase == RoundPhase.EXPERT_SCORING:
        return True, ""
    if _phase_index(round) < PHASE_ORDER.index(RoundPhase.EXPERT_SCORING):
        return False, _(
            "Scoring opens with the expert scoring phase; the round is in the phase “%(phase)s”. "
            "You can read the indicators and the school's evidence now."
        ) % {"phase": round.get_phase_display()}
    return False, _("Scoring is closed: the round is in the phase “%(phase)s”.") % {
        "phase": round.get_phase_display()
    }


def _sheet_context(request: HttpRequest, round: Round, school: School) -> dict[str, Any]:
    user = request.user
    sheet = selectors.score_sheet_of(round=round, school_id=school.pk, evaluator_id=user.pk)
    scores = selectors.sheet_scores_by_point(sheet=sheet)
    self_scores = selectors.submitted_self_scores_by_point(round=round, school_id=school.pk)
    files = evidence_selectors.evidence_by_point(round=round, school_id=school.pk)
    peers: dict[int, list[Any]] = {}
    if can_view_peer_scores(user, round):
        peers = selectors.submitted_expert_scores_by_point(
            round=round, school_id=school.pk, exclude_evaluator_id=user.pk
        )
    labels = _evaluator_labels(user, peers)
    editable, closed_reason = _scoring_state(round, sheet)
    rows = _rows(round)
    leaves = [row for row in rows if row.is_leaf]
    for row in leaves:
        point = row.indicator
        score = scores.get(point.pk)
        row.own = score
        row.self_score = self_scores.get(point.pk)
        row.files = files.get(point.pk, [])
        row.peers = [(labels[s.sheet.evaluator_id], s) for s in peers.get(point.pk, [])]
        row.values = {
            "points": "" if score is None or score.points is None else score.points,
            "not_applicable": bool(score and score.not_applicable),
            "deduction_reason": score.deduction_reason if score else "",
        }
        row.show_reason = bool(
            score and (_is_deduction(point, score.points) or score.deduction_reason)
        )
    answered = sum(
        1 for row in leaves if row.own and (row.own.points is not None or row.own.not_applicable)
    )
    return {
        "round": round,
        "school": school,
        "sheet": sheet,
        "rows": rows,
        "editable": editable,
        "closed_reason": closed_reason,
        "show_self_scores": bool(self_scores),
        "show_peers": bool(peers),
        "progress": {"answered": answered, "total": len(leaves)},
    }


# ------------------------------------------------------ evaluator: views


@login_required
@require_safe
def sheet(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """An evaluator's score sheet for one school: the tree, evidence, self scores, inputs."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _evaluator_assignment(request, round, school)
    except _Refused as refused:
        return refused.response
    return render(request, "sheets/sheet.html", _sheet_context(request, round, school))


@login_required
@require_POST
def score(request: HttpRequest, round_id: int, school_id: int, indicator_id: int) -> HttpResponse:
    """Autosave one score (htmx): answers the point's status and the progress bar."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _evaluator_assignment(request, round, school)
    except _Refused as refused:
        return refused.response
    point = get_object_or_404(
        Indicator, pk=indicator_id, framework_id=round.framework_id, children__isnull=True
    )
    form = ScoreForm(request.POST)
    error: DomainError | None = None
    saved = None
    try:
        if not form.is_valid():
            raise DomainError(
                _("%(code)s: the input is too long.") % {"code": point.code}, code="invalid"
            )
        data = form.cleaned_data
        sheet = services.score_sheet_open(round=round, school=school, actor=request.user)
        saved = services.score_set(
            sheet=sheet,
            actor=request.user,
            indicator=point,
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
            deduction_reason=data.get("deduction_reason") or "",
        )
    except DomainError as exc:
        error = exc
    if not _is_htmx(request):
        if error is not None:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(code)s saved.") % {"code": point.code})
        url = reverse("sheets:sheet", args=[round.pk, school.pk])
        return redirect(f"{url}#point-{point.pk}")
    sheet_now = selectors.score_sheet_of(
        round=round, school_id=school.pk, evaluator_id=request.user.pk
    )
    total = progress.framework_leaf_count(round=round)
    return render(
        request,
        "sheets/_score_status.html",
        {
            "point": point,
            "saved": saved,
            "error": error,
            "progress": {
                "answered": selectors.sheet_answered_count(sheet=sheet_now),
                "total": total,
            },
            "oob": True,
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """Check the sheet is complete, lock it and record the time (plain POST)."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _evaluator_assignment(request, round, school)
    except _Refused as refused:
        return refused.response
    try:
        sheet = services.score_sheet_open(round=round, school=school, actor=request.user)
        sheet = services.score_sheet_submit(sheet=sheet, actor=request.user)
    except DomainError as error:
        context = _sheet_context(request, round, school)
        context["submit_error"] = error
        context["missing"] = _missing_points(context["rows"], error)
        return render(request, "sheets/sheet.html", context)
    messages.success(
        request,
        _("The score sheet is submitted (%(time)s) and locked.")
        % {"time": _local(sheet.submitted_at)},
    )
    return redirect("sheets:sheet", round.pk, school.pk)


def _missing_points(rows: list[PointRow], error: DomainError) -> list[PointRow]:
    if error.code != "incomplete" or not error.details:
        return []
    codes = set(error.details)
    return [row for row in rows if row.is_leaf and row.indicator.code in codes]


# ------------------------------------------------------ self-assessment


def _self_assessment_access(request: HttpRequest, school: School) -> None:
    user = request.user
    if can_view_school_internals(user, school):
        return
    if permissions.is_school_staff(user):
        raise Http404(_("This is another school's self-assessment."))
    raise _Refused(
        _forbidden(request, _("The self-assessment is filled in by the school's own staff."))
    )


def _self_assessment_state(request: HttpRequest, round: Round, school: School, assessment: Any):
    """(may the self scores change now, why not, may evidence be uploaded now, why not)."""
    user = request.user
    own_staff = school.pk in permissions.school_ids_of(user)
    window = evidence_selectors.evidence_upload_window(round=round)
    phase = round.get_phase_display()
    if not own_staff:
        reason = _("Read only: only the school's own staff fill in the self-assessment.")
        return False, reason, False, reason, window
    if round.phase != RoundPhase.SELF_ASSESSMENT:
        if _phase_index(round) < PHASE_ORDER.index(RoundPhase.SELF_ASSESSMENT):
            reason = _(
                "The self-assessment opens with its phase; the round is in the phase “%(phase)s”."
            ) % {"phase": phase}
        else:
            reason = _("Self-assessment is closed: the round is in the phase “%(phase)s”.") % {
                "phase": phase
            }
        upload_reason = _("Evidence upload is closed: the round is in the phase “%(phase)s”.") % {
            "phase": phase
        }
        return False, reason, False, upload_reason, window
    editable, reason = True, ""
    if assessment is not None and assessment.status == SheetStatus.SUBMITTED:
        editable = False
        reason = _("The self-assessment was submitted on %(time)s and is locked.") % {
            "time": _local(assessment.submitted_at)
        }
    if window.deadline_passed:
        return (
            editable,
            reason,
            False,
            _("Evidence upload closed on %(date)s.") % {"date": window.deadline},
            window,
        )
    return editable, reason, True, "", window


def _self_assessment_context(request: HttpRequest, round: Round, school: School) -> dict:
    assessment = selectors.self_assessment_of(round=round, school_id=school.pk)
    scores = selectors.self_scores_by_point(assessment=assessment)
    files = evidence_selectors.evidence_by_point(round=round, school_id=school.pk)
    editable, closed_reason, can_upload, upload_closed_reason, window = _self_assessment_state(
        request, round, school, assessment
    )
    rows = _rows(round)
    leaves = [row for row in rows if row.is_leaf]
    for row in leaves:
        own = scores.get(row.indicator.pk)
        row.own = own
        row.files = files.get(row.indicator.pk, [])
        row.values = {
            "points": "" if own is None or own.points is None else own.points,
            "not_applicable": bool(own and own.not_applicable),
            "note": own.note if own else "",
        }
    checklist = evidence_selectors.evidence_checklist(
        round=round, school_id=school.pk, leaves=[row.indicator for row in leaves]
    )
    answered = sum(
        1 for row in leaves if row.own and (row.own.points is not None or row.own.not_applicable)
    )
    other_schools = []
    if permissions.is_school_staff(request.user):
        other_schools = [
            other
            for other in evidence_selectors.schools_of_staff_in_round(
                round=round, user_id=request.user.pk
            )
            if other.pk != school.pk
        ]
    return {
        "round": round,
        "school": school,
        "assessment": assessment,
        "rows": rows,
        "editable": editable,
        "closed_reason": closed_reason,
        "can_upload": can_upload,
        "upload_closed_reason": upload_closed_reason,
        "window": window,
        "checklist": checklist,
        "progress": {"answered": answered, "total": len(leaves)},
        "other_schools": other_schools,
        "max_upload_bytes": settings.EVIDENCE_MAX_BYTES,
        "allowed_types": ALLOWED_LABEL,
    }


@login_required
@require_safe
def self_assessment(request: HttpRequest, round_id: int) -> HttpResponse:
    """The signed-in school staff member's own school's self-assessment in a round."""
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    if not permissions.is_school_staff(request.user):
        return _forbidden(request, _("The self-assessment is filled in by the school's own staff."))
    school = evidence_selectors.schools_of_staff_in_round(
        round=round, user_id=request.user.pk
    ).first()
    if school is None:
        raise Http404(_("Your school is not in this round."))
    return render(
        request, "sheets/self_assessment.html", _self_assessment_context(request, round, school)
    )


@login_required
@require_safe
def self_assessment_school(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """A school's self-assessment: its staff fill it in; the bureau and supervisor read it."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _self_assessment_access(request, school)
    except _Refused as refused:
        return refused.response
    return render(
        request, "sheets/self_assessment.html", _self_assessment_context(request, round, school)
    )


def _own_staff_only(request: HttpRequest, school: School) -> None:
    if school.pk in permissions.school_ids_of(request.user):
        return
    if permissions.is_school_staff(request.user):
        raise Http404(_("This is another school's self-assessment."))
    raise _Refused(
        _forbidden(request, _("Only the school's own staff fill in its self-assessment."))
    )


@login_required
@require_POST
def self_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    """Autosave one self score (htmx): answers the point's status and the progress bar."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _own_staff_only(request, school)
    except _Refused as refused:
        return refused.response
    point = get_object_or_404(
        Indicator, pk=indicator_id, framework_id=round.framework_id, children__isnull=True
    )
    form = SelfScoreForm(request.POST)
    error: DomainError | None = None
    saved = None
    try:
        if not form.is_valid():
            raise DomainError(
                _("%(code)s: the input is too long.") % {"code": point.code}, code="invalid"
            )
        data = form.cleaned_data
        saved = services.self_score_set(
            round=round,
            school=school,
            actor=request.user,
            indicator=point,
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
            note=data.get("note") or "",
        )
    except DomainError as exc:
        error = exc
    url = reverse("sheets:self_assessment_school", args=[round.pk, school.pk])
    if not _is_htmx(request):
        if error is not None:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(code)s saved.") % {"code": point.code})
        return redirect(f"{url}#point-{point.pk}")
    assessment = selectors.self_assessment_of(round=round, school_id=school.pk)
    return render(
        request,
        "sheets/_score_status.html",
        {
            "point": point,
            "saved": saved,
            "error": error,
            "progress": {
                "answered": progress.self_assessment_answered_count(assessment=assessment),
                "total": progress.framework_leaf_count(round=round),
            },
            "oob": True,
        },
    )


@login_required
@require_POST
def self_assessment_submit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """Lock the school's self-assessment once every point is answered (plain POST)."""
    round, school = _round_and_school(round_id, school_id)
    try:
        _own_staff_only(request, school)
    except _Refused as refused:
        return refused.response
    try:
        assessment = services.self_assessment_submit(round=round, school=school, actor=request.user)
    except DomainError as error:
        context = _self_assessment_context(request, round, school)
        context["submit_error"] = error
        context["missing"] = _missing_points(context["rows"], error)
        return render(request, "sheets/self_assessment.html", context)
    messages.success(
        request,
        _("The self-assessment is submitted (%(time)s) and locked.")
        % {"time": _local(assessment.submitted_at)},
    )
    return redirect("sheets:self_assessment_school", round.pk, school.pk)


# ------------------------------------------------ consensus and audit scores


def _consolidation_access(request: HttpRequest, round: Round, *, layer: str) -> None:
    """Consensus pages: the round's leader and the bureau; audit pages: the bureau."""
    user = request.user
    if permissions.is_bureau_admin(user) or permissions.is_supervisor(user):
        return
    if layer == "consensus" and leads_round_group(user, round.pk):
        return
    if layer == "consensus":
        message = _("Consensus scores are given by the group leader of this round.")
    else:
        message = _("Audit scores are given by the bureau.")
    raise _Refused(_forbidden(request, message))


def _layer_state(request: HttpRequest, round: Round, layer: str) -> tuple[bool, str]:
    """(may the user give this layer's scores now, and if not, why)."""
    user = request.user
    if layer == "consensus":
        if can_give_consensus_score(user, round):
            return True, ""
        who_reason = _("Read only: consensus scores are given by the group leader.")
    else:
        if can_give_audit_score(user, round):
            return True, ""
        who_reason = _("Read only: audit scores are given by the bureau admin.")
    phase = {"phase": round.get_phase_display()}
    if _phase_index(round) < PHASE_ORDER.index(RoundPhase.CONSOLIDATION):
        return False, _(
            "These scores are given during consolidation; the round is in the phase “%(phase)s”."
        ) % phase
    if round.phase != RoundPhase.CONSOLIDATION:
        return False, _("Consolidation is over: the round is in the phase “%(phase)s”.") % phase
    return False, who_reason


def _consolidation_context(
    request: HttpRequest, round: Round, school: School, layer: str
) -> dict[str, Any]:
    user = request.user
    show_experts = can_view_peer_scores(user, round) or (
        _phase_index(round) >= PHASE_ORDER.index(RoundPhase.CONSOLIDATION)
    )
    experts = (
        selectors.submitted_expert_scores_by_point(round=round, school_id=school.pk)
        if show_experts
        else {}
    )
    labels = _evaluator_labels(user, experts)
    consensus = selectors.consensus_scores_by_point(round=round, school_id=school.pk)
    audit = selectors.audit_scores_by_point(round=round, school_id=school.pk)
    editable, closed_reason = _layer_state(request, round, layer)
    rows = _rows(round)
    for row in rows:
        if not row.is_leaf:
            continue
        _fill_override_row(row, round, layer, experts, labels, consensus, audit)
    if layer == "consensus":
        texts = {
            "page_title": _("Consensus scores"),
            "page_hint": _(
                "Give a consensus score where the group agreed on a value other than the "
                "consolidated one; every consensus score needs a written justification."
            ),
            "text_label": _("Justification"),
            "own_label": _("Consensus score"),
        }
    else:
        texts = {
            "page_title": _("Audit scores"),
            "page_hint": _(
                "An audit score (审核分) overrides the experts and the consensus for that point; "
                "every audit score needs a written reason."
            ),
            "text_label": _("Reason"),
            "own_label": _("Audit score"),
        }
    return {
        **texts,
        "score_url": f"sheets:{layer}_score",
        "round": round,
        "school": school,
        "rows": rows,
        "layer": layer,
        "editable": editable,
        "closed_reason": closed_reason,
        "show_experts": show_experts,
        "schools": round.schools.order_by("code"),
    }


def _fill_override_row(
    row: PointRow,
    round: Round,
    layer: str,
    experts: dict[int, list[Any]],
    labels: dict[int, str],
    consensus: dict[int, Any],
    audit: dict[int, Any],
) -> None:
    point = row.indicator
    given = experts.get(point.pk, [])
    row.experts = [(labels[s.sheet.evaluator_id], s) for s in given]
    row.consolidation = selectors.expert_consolidation(round=round, scores=given) if given else None
    if row.consolidation is not None:
        used = row.consolidation.method_used or row.consolidation.method
        row.consolidation_label = ConsolidationMethod(str(used)).label
    row.consensus = consensus.get(point.pk)
    row.audit = audit.get(point.pk)
    own = row.consensus if layer == "consensus" else row.audit
    row.own = own
    row.values = {
        "points": "" if own is None or own.points is None else own.points,
        "not_applicable": bool(own and own.not_applicable),
        "text": (own.justification if layer == "consensus" else own.reason) if own else "",
    }


@login_required
@require_safe
def consolidation(request: HttpRequest, round_id: int) -> HttpResponse:
    """The schools of a round, with links to their consensus and audit pages."""
    round = get_object_or_404(Round.objects.select_related("framework"), pk=round_id)
    try:
        _consolidation_access(request, round, layer="consensus")
    except _Refused as refused:
        return refused.response
    user = request.user
    return render(
        request,
        "sheets/consolidation.html",
        {
            "round": round,
            "schools": progress.consolidation_progress(round=round),
            "show_audit": permissions.is_bureau_admin(user) or permissions.is_supervisor(user),
        },
    )


def _override_page(request: HttpRequest, round_id: int, school_id: int, layer: str):
    round, school = _round_and_school(round_id, school_id)
    try:
        _consolidation_access(request, round, layer=layer)
    except _Refused as refused:
        return refused.response
    return render(
        request, "sheets/override.html", _consolidation_context(request, round, school, layer)
    )


@login_required
@require_safe
def consensus(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """The group leader's consensus scores for one school, beside the experts' values."""
    return _override_page(request, round_id, school_id, "consensus")


@login_required
@require_safe
def audit(request: HttpRequest, round_id: int, school_id: int) -> HttpResponse:
    """The bureau's audit scores for one school, beside experts' values and the consensus."""
    return _override_page(request, round_id, school_id, "audit")


def _override_save(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int, layer: str
) -> HttpResponse:
    round, school = _round_and_school(round_id, school_id)
    try:
        _consolidation_access(request, round, layer=layer)
    except _Refused as refused:
        return refused.response
    allowed = (
        can_give_consensus_score(request.user, round)
        if layer == "consensus"
        else can_give_audit_score(request.user, round)
    )
    if not allowed:
        _editable, reason = _layer_state(request, round, layer)
        return _forbidden(request, reason)
    point = get_object_or_404(
        Indicator, pk=indicator_id, framework_id=round.framework_id, children__isnull=True
    )
    form = OverrideScoreForm(request.POST)
    error: DomainError | None = None
    try:
        if not form.is_valid():
            raise DomainError(
                _("%(code)s: the input is too long.") % {"code": point.code}, code="invalid"
            )
        data = form.cleaned_data
        override_scores.override_score_set(
            layer=layer,
            round=round,
            school=school,
            actor=request.user,
            indicator=point,
            text=data.get("text") or "",
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
        )
    except DomainError as exc:
        error = exc
    page = reverse(f"sheets:{layer}", args=[round.pk, school.pk])
    if not _is_htmx(request):
        if error is not None:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(code)s saved.") % {"code": point.code})
        return redirect(f"{page}#point-{point.pk}")
    context = _consolidation_context(request, round, school, layer)
    row = next(row for row in context["rows"] if row.indicator.pk == point.pk)
    if error is not None:
        row.error, row.error_code = error.message, error.code
        row.values = {
            "points": form.data.get("points", ""),
            "not_applicable": bool(form.data.get("not_applicable")),
            "text": form.data.get("text", ""),
        }
    context.update({"row": row, "saved": error is None})
    return render(request, "sheets/_override_point.html", context)


@login_required
@require_POST
def consensus_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    return _override_save(request, round_id, school_id, indicator_id, "consensus")


@login_required
@require_POST
def audit_score(
    request: HttpRequest, round_id: int, school_id: int, indicator_id: int
) -> HttpResponse:
    return _override_save(request, round_id, school_id, indicator_id, "audit")
