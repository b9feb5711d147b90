"""Predicates about score sheets, consolidation and result sets."""

from __future__ import annotations

from typing import Any

from core.api import role_permission
from core.permissions import (
    is_bureau_admin,
    is_evaluator,
    is_school_staff,
    is_supervisor,
    school_ids_of,
)
from rounds.enums import PHASE_ORDER, RoundPhase
from rounds.models import Round
from rounds.permissions import has_active_assignment, leads_round_group
from schools.models import School


def can_score_school(user: Any, round: Round, school: School) -> bool:
    """An evaluator scores a school only when assigned, not recused, in the scoring phase."""

    return round.phase == RoundPhase.EXPERT_SCORING and has_active_assignment(user, round, school)


def can_keep_score_sheet(user: Any, round: Round, school: School) -> bool:
    """An evaluator's sheet, once begun, stays theirs to read in any phase while the
    assignment is active; a recusal takes it from them (scoring takes more, see above)."""
    return has_active_assignment(user, round, school)


def can_give_consensus_score(user: Any, round: Round) -> bool:

    return round.phase == RoundPhase.CONSOLIDATION and leads_round_group(user, round.pk)


def can_give_audit_score(user: Any, round: Round) -> bool:

    return is_bureau_admin(user) and round.phase == RoundPhase.CONSOLIDATION


def can_revise_audit_score(user: Any) -> bool:
    """Audit scores change after consolidation (upheld objection, correction): the bureau."""
    return is_bureau_admin(user)


def can_view_consolidation(user: Any, round: Round) -> bool:
    """The consolidation pages and consensus scores: the round's group leader (whatever
    the phase, read-only outside consolidation) and the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user) or leads_round_group(user, round.pk)


def can_view_audit_scores(user: Any) -> bool:
    """The audit-score pages: the bureau roles (the admin gives them, the supervisor reads)."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_peer_scores(user: Any, round: Round) -> bool:

    if is_bureau_admin(user) or is_supervisor(user):
        return True
    consolidation = PHASE_ORDER.index(RoundPhase.CONSOLIDATION)
    return (
        is_evaluator(user)
        and round.peer_scores_visible
        and PHASE_ORDER.index(round.phase) >= consolidation
    )


def can_view_results(user: Any, result_set: Any, school: School | None = None) -> bool:
    """Published results are public; unpublished ones only for the bureau roles."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return bool(result_set.is_published)


def can_view_school_results(user: Any, result_set: Any, school: School | int) -> bool:
    """A school's full result (every indicator, self gap, explanations of any number).

    The bureau roles see any version; the school's own staff see it once published.
    ``school`` is the school or its id (a ranking knows only the ids).
    """
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    school_id = school.pk if isinstance(school, School) else school
    return bool(result_set.is_published) and school_id in school_ids_of(user)


def can_see_evaluator_names(user: Any) -> bool:
    """Who gave which score is named only to the bureau roles; others read “Evaluator 1”."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_unpublished_results(user: Any) -> bool:
    """Unpublished result sets and any version of a ranking: the bureau roles only."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_score_sheets(user: Any) -> bool:
    """Evaluators read their own sheets; the bureau roles read every sheet."""
    return is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)


def can_write_score_sheets(user: Any) -> bool:
    """Only evaluators open, fill in and submit sheets (their own, per the services)."""
    return is_evaluator(user)


def can_view_every_score_sheet(user: Any) -> bool:
    """Every evaluator's sheets, not only one's own: the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_fill_in_self_assessments(user: Any) -> bool:
    """The role that fills in self-assessments (its own school's only): school staff."""
    return is_school_staff(user)


def can_fill_in_school_self_assessment(user: Any, school: School) -> bool:
    """The school's own staff fill in its self-assessment (the phase is the service's rule)."""
    return school.pk in school_ids_of(user)


def can_view_every_self_assessment(user: Any) -> bool:
    """Every school's self-assessment, not only one's own school's: the bureau roles."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_self_assessments(user: Any) -> bool:
    """School staff read their own school's; the bureau roles read every school's."""
    return is_school_staff(user) or is_bureau_admin(user) or is_supervisor(user)


def can_view_consistency_statistics(user: Any) -> bool:
    return is_supervisor(user) or is_bureau_admin(user)


def can_compute_results(user: Any) -> bool:
    return is_bureau_admin(user)


# DRF permission classes over the predicates above.
CanViewScoreSheets = role_permission(
    "CanViewScoreSheets",
    read=can_view_score_sheets,
    write=can_write_score_sheets,
)
CanViewSelfAssessments = role_permission("CanViewSelfAssessments", read=can_view_self_assessments)
CanViewResultSets = role_permission(
    "CanViewResultSets",
    read=can_view_unpublished_results,
    write=can_compute_results,
)
CanViewConsistencyStatistics = role_permission(
    "CanViewConsistencyStatistics", read=can_view_consistency_statistics
)


def can_publish_results(user: Any) -> bool:
    return is_bureau_admin(user)


CanPublishResults = role_permission("CanPublishResults", read=None, write=can_publish_results)
