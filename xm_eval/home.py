"""What each person has to do now: the presenters behind the home page, one per role.

Each presenter returns plain dicts for its template section (``templates/home/_*.html``)
and reads in a fixed number of queries whatever the number of rounds, schools or
assignments: the rounds are listed first, then everything about them is read in one
query per kind of thing, keyed by round.

Dates are the real ones: during the public notice the notice's own start and end
(from its ``NoticePeriod``, which may differ from the planned phase window), after
publication the rectification deadline in force (extended or not).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import permissions
from publication.enums import OBJECTION_OPEN
from publication.models import NoticePeriod, Objection
from rectification.enums import RECTIFICATION_AWAITING_REPORT, RectificationStatus
from rectification.models import Rectification
from reports.enums import SCHOOL_KINDS, ReportKind
from reports.models import ReportArtifact
from rounds.enums import PHASE_ORDER, AssignmentStatus, RoundPhase
from rounds.models import Assignment, GroupMember
from rounds.permissions import can_lead_evaluation_groups
from rounds.phases import PhaseDeadline, phase_deadline, phase_is_before
from scoring import progress
from scoring import selectors as scoring_selectors
from scoring.enums import SheetStatus
from scoring.models import ResultRow, ResultSet, SelfAssessment

# ----------------------------------------------------------------- shared


@dataclass(frozen=True, slots=True)
class NoticeDates:
    """A public notice as it really ran (or runs): its own start and end."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    running: bool
    ended: bool
    days_left: int


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of the bureau's phase checklist."""

    label: str
    done: bool
    detail: str = ""
    blocks: bool = False  # the next step is refused while this is not done
    url: str | None = None


def _notice_dates(notice: NoticePeriod | None, now: dt.datetime) -> NoticeDates | None:
    if notice is None:
        return None
    ends_on = timezone.localtime(notice.ends_at).date()
    return NoticeDates(
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        running=notice.starts_at <= now < notice.ends_at,
        ended=notice.ends_at <= now,
        days_left=(ends_on - timezone.localtime(now).date()).days,
    )


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _latest_notices(round_ids: Iterable[int]) -> dict[int, NoticePeriod]:
    """The latest public notice of each round, in one query."""
    latest: dict[int, NoticePeriod] = {}
    for notice in (
        NoticePeriod.objects.filter(result_set__round_id__in=list(round_ids))
        .select_related("result_set")
        .defer("result_set__statistics", "result_set__missing_scores")
        .order_by("-starts_at", "-pk")
    ):
        latest.setdefault(notice.result_set.round_id, notice)
    return latest


def _published_sets(round_ids: Iterable[int]) -> dict[int, ResultSet]:
    """The latest published result set of each round, in one query."""
    latest: dict[int, ResultSet] = {}
    for result_set in (
        ResultSet.objects.filter(round_id__in=list(round_ids), is_published=True)
        .only("pk", "round_id", "version", "published_at", "is_published")
        .order_by("-version")
    ):
        latest.setdefault(result_set.round_id, result_set)
    return latest


def _window_of(round: Any, phase: str) -> Any:
    """A phase's planned window (phase windows prefetched), or None."""
    for window in round.phase_windows.all():
        if window.phase == phase:
            return window
    return None


def _counts(queryset: Any, *keys: str) -> dict[Any, int]:
    rows = queryset.order_by().values(*keys).annotate(n=Count("pk"))
    if len(keys) == 1:
        return {row[keys[0]]: row["n"] for row in rows}
    return {tuple(row[key] for key in keys): row["n"] for row in rows}


# ------------------------------------------------------------ bureau admin

ADMIN_TODO = {
    RoundPhase.DRAFT: gettext_lazy(
        "Set the phase dates, form the evaluation group, assign evaluators, then open the round."
    ),
    RoundPhase.SELF_ASSESSMENT: gettext_lazy(
        "Schools fill in their self-assessment and upload evidence; follow their progress."
    ),
    RoundPhase.EXPERT_SCORING: gettext_lazy(
        "Evaluators score their schools; follow the sheets on the monitoring page."
    ),
    RoundPhase.CONSOLIDATION: gettext_lazy(
        "Compute the results; the group leader gives consensus scores and the bureau audits."
    ),
    RoundPhase.PUBLIC_NOTICE: gettext_lazy(
        "Answer objections, then publish the results at the end of the public notice."
    ),
    RoundPhase.PUBLISHED: gettext_lazy("Issue rectification notices to unqualified schools."),
    RoundPhase.RECTIFICATION: gettext_lazy("Re-check the rectification reports of the schools."),
    RoundPhase.CLOSED: gettext_lazy("The round is closed."),
}

# Phases whose dates the bureau plans (draft and closed have none to keep).
PLANNED_PHASES = [phase for phase in PHASE_ORDER if phase not in (RoundPhase.DRAFT,)][:-1]


def _admin_checklist(round: Any, facts: dict[str, Any], now: dt.datetime) -> list[CheckItem]:
    phase = round.phase
    pk = round.pk
    items: list[CheckItem] = []
    if phase == RoundPhase.DRAFT:
        planned = {window.phase for window in round.phase_windows.all()}
        dated = sum(1 for p in PLANNED_PHASES if p in planned)
        items += [
            CheckItem(
                _("Schools in scope"),
                round.school_count > 0,
                str(round.school_count),
                blocks=True,
                url=reverse("rounds:detail", args=(pk,)),
            ),
            CheckItem(
                _("Phase dates set"),
                dated == len(PLANNED_PHASES),
                f"{dated} / {len(PLANNED_PHASES)}",
                url=reverse("admin:rounds_round_change", args=(pk,)),
            ),
            CheckItem(
                _("Evaluation group formed"),
                facts["members"].get(pk, 0) > 0,
                str(facts["members"].get(pk, 0)),
                url=reverse("rounds:group", args=(pk,)),
            ),
            CheckItem(
                _("Evaluators assigned to schools"),
                round.sheets_expected > 0,
                str(round.sheets_expected),
                url=reverse("rounds:assignments", args=(pk,)),
            ),
        ]
    elif phase == RoundPhase.SELF_ASSESSMENT:
        submitted = facts["self_submitted"].get(pk, 0)
        items.append(
            CheckItem(
                _("Self-assessments submitted"),
                submitted >= round.school_count,
                f"{submitted} / {round.school_count}",
                url=reverse("rounds:advance", args=(pk,)),
            )
        )
    elif phase == RoundPhase.EXPERT_SCORING:
        items.append(
            CheckItem(
                _("Score sheets submitted"),
                round.sheets_submitted >= round.sheets_expected,
                f"{round.sheets_submitted} / {round.sheets_expected}",
                url=reverse("rounds:monitoring", args=(pk,)),
            )
        )
    elif phase == RoundPhase.CONSOLIDATION:
        items += [
            CheckItem(
                _("Score sheets submitted"),
                round.sheets_submitted >= round.sheets_expected,
                f"{round.sheets_submitted} / {round.sheets_expected}",
                url=reverse("rounds:monitoring", args=(pk,)),
            ),
            CheckItem(
                _("Results computed"),
                round.latest_version is not None,
                f"v{round.latest_version}" if round.latest_version else "",
                blocks=True,
                url=reverse("rounds:detail", args=(pk,)),
            ),
            CheckItem(
                _("Public notice opened"),
                False,
                blocks=False,
                url=reverse("notice:publication", args=(pk,))
                if round.latest_version is not None
                else None,
            ),
        ]
    elif phase == RoundPhase.PUBLIC_NOTICE:
        notice = facts["notices"].get(pk)
        dates = _notice_dates(notice, now)
        open_objections = facts["objections"].get(pk, 0)
        items += [
            CheckItem(
                _("Public notice ended"),
                bool(dates and dates.ended),
                f"{_local(dates.starts_at)} – {_local(dates.ends_at)}" if dates else "",
                blocks=True,
                url=reverse("notice:publication", args=(pk,)),
            ),
            CheckItem(
                _("Objections answered"),
                open_objections == 0,
                _("%(count)d open") % {"count": open_objections},
                blocks=True,
                url=reverse("notice:objections"),
            ),
        ]
    elif phase in (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION):
        statuses = facts["rectifications"].get(pk, {})
        awaiting = sum(statuses.get(status, 0) for status in RECTIFICATION_AWAITING_REPORT)
        to_recheck = statuses.get(RectificationStatus.SUBMITTED, 0)
        items += [
            CheckItem(
                _("PDF reports rendered"),
                facts["artifacts"].get(pk, 0) > 0,
                str(facts["artifacts"].get(pk, 0)),
                url=reverse("reports:round", args=(pk,)),
            ),
            CheckItem(
                _("Rectification reports received"),
                awaiting == 0,
                _("%(count)d awaited") % {"count": awaiting},
                url=reverse("rectification:list"),
            ),
            CheckItem(
                _("Rectification reports re-checked"),
                to_recheck == 0,
                _("%(count)d to re-check") % {"count": to_recheck},
                url=reverse("rectification:list"),
            ),
        ]
    return items


def admin_section(today: dt.date) -> list[dict[str, Any]]:
    """Every open round with its phase checklist and what blocks the next step."""
    now = timezone.now()
    rounds = list(progress.rounds_progress())
    ids = [round.pk for round in rounds]
    facts: dict[str, Any] = {
        "members": _counts(GroupMember.objects.filter(group__round_id__in=ids), "group__round_id"),
        "self_submitted": _counts(
            SelfAssessment.objects.filter(round_id__in=ids, status=SheetStatus.SUBMITTED),
            "round_id",
        ),
        "notices": _latest_notices(ids),
        "objections": _counts(
            Objection.objects.filter(
                notice__result_set__round_id__in=ids, status__in=OBJECTION_OPEN
            ),
            "notice__result_set__round_id",
        ),
        "artifacts": _counts(
            ReportArtifact.objects.filter(
                result_set__round_id__in=ids, result_set__is_published=True
            ),
            "result_set__round_id",
        ),
        "rectifications": defaultdict(dict),
    }
    for (round_id, status), count in _counts(
        Rectification.objects.filter(round_id__in=ids), "round_id", "status"
    ).items():
        facts["rectifications"][round_id][status] = count
    entries = []
    for round in rounds:
        checklist = _admin_checklist(round, facts, now)
        notice = facts["notices"].get(round.pk) if round.phase == RoundPhase.PUBLIC_NOTICE else None
        entries.append(
            {
                "round": round,
                "deadline": phase_deadline(round, today),
                "notice": _notice_dates(notice, now),
                "todo": ADMIN_TODO.get(round.phase, ""),
                "checklist": checklist,
                "blockers": [item for item in checklist if item.blocks and not item.done],
                "publication_url": reverse("notice:publication", args=(round.pk,))
                if round.latest_version is not None
                else None,
            }
        )
    return entries


# --------------------------------------------------------------- evaluator


def _evaluator_todo(round: Any) -> Any:
    if round.phase == RoundPhase.EXPERT_SCORING:
        return _("Score each assigned school and submit its sheet before the deadline.")
    if phase_is_before(round, RoundPhase.EXPERT_SCORING):
        return _("Scoring opens in the expert scoring phase; you can read the evidence then.")
    if round.phase == RoundPhase.CONSOLIDATION:
        return _("Scoring is closed; the group leader consolidates the scores.")
    return _("Scoring is closed.")


def _scoring_window(round: Any, today: dt.date) -> PhaseDeadline | None:
    window = _window_of(round, RoundPhase.EXPERT_SCORING)
    if window is None:
        return None
    return PhaseDeadline(window.starts_on, window.ends_on, (window.ends_on - today).days)


def evaluator_section(user: Any, today: dt.date) -> list[dict[str, Any]]:
    """The evaluator's rounds: sheets with progress, the deadline of the current phase,
    when scoring opens or closes; for a group leader the consolidation page."""
    by_round: dict[int, dict[str, Any]] = {}
    leader = can_lead_evaluation_groups(user)
    for assignment in progress.evaluator_assignments_progress(evaluator_id=user.pk):
        round = assignment.round
        entry = by_round.setdefault(
            round.pk,
            {
                "round": round,
                "deadline": phase_deadline(round, today),
                "scoring_window": _scoring_window(round, today),
                "scoring_open": round.phase == RoundPhase.EXPERT_SCORING,
                "todo": _evaluator_todo(round),
                "assignments": [],
                "submitted": 0,
                "expected": 0,
                "results_url": reverse("scoring:round", args=(round.pk,))
                if round.phase in (RoundPhase.PUBLISHED, RoundPhase.RECTIFICATION)
                else None,
                "consensus_url": reverse("sheets:consolidation", args=(round.pk,))
                if leader and round.phase == RoundPhase.CONSOLIDATION
                else None,
            },
        )
        recused = assignment.status == AssignmentStatus.RECUSED
        submitted = assignment.sheet_status == SheetStatus.SUBMITTED
        if not recused:
            entry["expected"] += 1
            entry["submitted"] += int(submitted)
        entry["assignments"].append(
            {
                "assignment": assignment,
                "school": assignment.school,
                "recused": recused,
                "entered": assignment.scores_entered,
                "leaf_count": assignment.leaf_count,
                "submitted": submitted,
                "submitted_at": assignment.sheet_submitted_at,
                "sheet_url": None
                if recused
                else reverse("sheets:sheet", args=(round.pk, assignment.school_id)),
            }
        )
    return list(by_round.values())


# ------------------------------------------------------------------ school


def _school_todo(round: Any, dates: NoticeDates | None, published: bool) -> Any:
    if round.phase == RoundPhase.SELF_ASSESSMENT:
        return _(
            "Fill in the self-assessment and upload the required evidence before the deadline."
        )
    if phase_is_before(round, RoundPhase.SELF_ASSESSMENT):
        return _("The self-assessment opens with the self-assessment phase.")
    if round.phase == RoundPhase.PUBLIC_NOTICE and not published:
        if dates is not None and dates.running:
            return _(
                "Your provisional result is under public notice. If you think it is wrong, "
                "file an objection before the notice ends."
            )
        return _("The public notice has ended; the bureau publishes the results next.")
    if published:
        return _("The results are published: read your school's result and report.")
    return _("The self-assessment is closed; the evaluators are at work.")


def school_section(user: Any, today: dt.date) -> list[dict[str, Any]]:
    """Each of the person's schools in each open round: the self-assessment while it is
    open; the provisional result and how to object during the public notice; after
    publication the result, the PDF report and any rectification with its deadline."""
    now = timezone.now()
    school_ids = permissions.school_ids_of(user)
    items = progress.school_rounds_progress(school_ids=school_ids)
    round_ids = {item.round.pk for item in items}
    notices = _latest_notices(round_ids)
    published = _published_sets(round_ids)
    set_ids = {rs.pk for rs in published.values()} | {
        notice.result_set_id for notice in notices.values()
    }
    rows = {
        (row.result_set_id, row.school_id): row
        for row in ResultRow.objects.filter(
            result_set_id__in=set_ids, school_id__in=school_ids
        ).only("pk", "result_set_id", "school_id", "total", "grade", "rank", "group_rank")
    }
    rectifications = {
        (rectification.round_id, rectification.school_id): rectification
        for rectification in Rectification.objects.filter(
            round_id__in=round_ids, school_id__in=school_ids
        ).exclude(status=RectificationStatus.WITHDRAWN)
    }
    artifacts = {
        (artifact.result_set_id, artifact.kind, artifact.school_id): artifact
        for artifact in ReportArtifact.objects.filter(
            result_set_id__in={rs.pk for rs in published.values()},
            school_id__in=school_ids,
            kind__in=SCHOOL_KINDS,
        ).only("pk", "result_set_id", "kind", "school_id")
    }
    entries = []
    for item in items:
        round, school = item.round, item.school
        published_set = published.get(round.pk)
        notice = notices.get(round.pk)
        dates = _notice_dates(notice, now) if published_set is None else None
        in_notice = round.phase == RoundPhase.PUBLIC_NOTICE and published_set is None
        provisional = rows.get((notice.result_set_id, school.pk)) if in_notice and notice else None
        result = rows.get((published_set.pk, school.pk)) if published_set else None
        rectification = rectifications.get((round.pk, school.pk)) if published_set else None
        report = (
            artifacts.get((published_set.pk, ReportKind.SCHOOL_REPORT, school.pk))
            if published_set
            else None
        )
        rectification_notice = (
            artifacts.get((published_set.pk, ReportKind.RECTIFICATION_NOTICE, school.pk))
            if published_set
            else None
        )
        self_assessment_open = round.phase == RoundPhase.SELF_ASSESSMENT
        days_left = (rectification.effective_deadline - today).days if rectification else None
        entries.append(
            {
                "progress": item,
                "round": round,
                "school": school,
                # The planned window only while it is the phase in force for the school;
                # the notice's own dates and the rectification deadline replace it.
                "deadline": phase_deadline(round, today)
                if round.phase in (RoundPhase.SELF_ASSESSMENT, RoundPhase.EXPERT_SCORING)
                else None,
                "todo": _school_todo(round, dates, published_set is not None),
                "self_assessment_open": self_assessment_open,
                "show_self_assessment": not published_set and not in_notice,
                "self_assessment_url": reverse("sheets:self_assessment", args=(round.pk,)),
                "notice": dates if in_notice else None,
                "provisional": provisional,
                "notice_url": reverse("notice:round", args=(round.pk,)) if in_notice else None,
                "objection_url": reverse("notice:objection_new", args=(round.pk,))
                if in_notice and dates is not None and dates.running
                else None,
                "result": result,
                "result_url": reverse("scoring:school", args=(round.pk, school.pk))
                if result
                else None,
                "report_url": reverse("reports:download", args=(report.pk,)) if report else None,
                "reports_url": reverse("reports:round", args=(round.pk,))
                if published_set
                else None,
                "rectification": rectification,
                "rectification_days_left": days_left,
                "rectification_overdue": -days_left if days_left is not None else None,
                "rectification_url": reverse("rectification:detail", args=(rectification.pk,))
                if rectification
                else None,
                "rectification_notice_url": reverse(
                    "reports:download", args=(rectification_notice.pk,)
                )
                if rectification_notice
                else None,
            }
        )
    return entries


# -------------------------------------------------------------- supervisor


def supervisor_section() -> list[dict[str, Any]]:
    """The flags of each round's latest results: flagged score spreads (which points),
    missing scores, the reliability figure; recusals and open objections."""
    result_sets = list(scoring_selectors.result_sets_latest_per_round())
    ids = [result_set.round_id for result_set in result_sets]
    recusals = _counts(
        Assignment.objects.filter(round_id__in=ids, status=AssignmentStatus.RECUSED), "round_id"
    )
    objections = _counts(
        Objection.objects.filter(notice__result_set__round_id__in=ids, status__in=OBJECTION_OPEN),
        "notice__result_set__round_id",
    )
    entries = []
    for result_set in result_sets:
        statistics = result_set.statistics or {}
        flagged = statistics.get("flagged_spreads", [])
        entries.append(
            {
                "result_set": result_set,
                "round": result_set.round,
                "reliability": statistics.get("reliability", {}),
                "flagged": len(flagged),
                "flagged_codes": sorted({spread.get("code", "") for spread in flagged})[:6],
                "checked": statistics.get("spreads_checked", 0),
                "evaluators": len(statistics.get("evaluators", [])),
                "missing": len(result_set.missing_scores or []),
                "recusals": recusals.get(result_set.round_id, 0),
                "open_objections": objections.get(result_set.round_id, 0),
                "consistency_url": reverse("supervision:consistency", args=(result_set.round_id,)),
            }
        )
    return entries
