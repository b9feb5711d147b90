"""Predicates about PDF reports, the group's opinion, workbooks and exports."""

from __future__ import annotations

from typing import Any

from core.permissions import (
    is_bureau_admin,
    is_supervisor,
    school_ids_of,
)
from rounds.enums import RoundPhase
from rounds.models import Round
from rounds.permissions import has_active_assignment, leads_round_group
from schools.models import School
from scoring.permissions import can_view_results


def can_render_reports(user: Any) -> bool:
    """Start rendering a round's PDF documents: the bureau admin."""
    return is_bureau_admin(user)


def can_view_render_jobs(user: Any) -> bool:
    return is_bureau_admin(user) or is_supervisor(user)


def can_download_every_report(user: Any) -> bool:
    """Every rendered document of every result set, published or not (the round summary
    names evaluators): the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_download_report(user: Any, artifact: Any) -> bool:
    """A rendered PDF: every one for the bureau roles; a school's own staff get their
    school's report and rectification notice once the result set is published;
    nobody else gets anything (the round summary names evaluators)."""
    if can_download_every_report(user):
        return True
    if artifact.school_id is None:
        return False
    return bool(artifact.result_set.is_published) and artifact.school_id in school_ids_of(user)


def can_write_group_opinion(user: Any, round: Round) -> bool:
    """The group's consolidated opinion: its leader, or the bureau admin, until publication."""

    if round.phase not in (RoundPhase.CONSOLIDATION, RoundPhase.PUBLIC_NOTICE):
        return False
    if is_bureau_admin(user):
        return True
    return leads_round_group(user, round.pk)


def can_use_offline_workbook(user: Any, round: Round, school: School) -> bool:
    """Download (and upload) an offline scoring workbook: the school's assigned evaluators."""
    return has_active_assignment(user, round, school)


def can_export_ranking(user: Any, result_set: Any) -> bool:
    """The ranking as a spreadsheet: published for anybody signed in, any version for the
    bureau roles."""
    return can_view_results(user, result_set) and bool(getattr(user, "is_authenticated", False))


def can_export_score_details(user: Any) -> bool:
    """Score matrix and evaluator consistency name evaluators: the bureau roles only."""
    return is_bureau_admin(user) or is_supervisor(user)
