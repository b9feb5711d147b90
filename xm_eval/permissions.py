"""Named permission predicates: ``can_<verb>_<thing>(user, obj) -> bool``.

Views, DRF permission classes, templates and services use these and nothing
else to decide who may do what to which object. Roles are Django groups
(``xm_eval.enums.Role``); object scope comes from staff memberships (school
staff) and assignments (evaluators).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import Role

if TYPE_CHECKING:
    from rounds.models import Round
    from schools.models import School


def _roles(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_xm_eval_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._xm_eval_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return role in _roles(user) or bool(getattr(user, "is_superuser", False) and user.is_active)


def is_bureau_admin(user: Any) -> bool:
    return has_role(user, Role.BUREAU_ADMIN)


def is_supervisor(user: Any) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_evaluator(user: Any) -> bool:
    return has_role(user, Role.EVALUATOR) or has_role(user, Role.GROUP_LEADER)


def is_group_leader(user: Any) -> bool:
    return has_role(user, Role.GROUP_LEADER)


def is_school_staff(user: Any) -> bool:
    return has_role(user, Role.SCHOOL_STAFF)


def school_ids_of(user: Any) -> frozenset[int]:
    """The schools ``user`` works for (school staff)."""
    if not is_school_staff(user):
        return frozenset()
    cached = getattr(user, "_xm_eval_school_ids", None)
    if cached is None:
        cached = frozenset(user.school_memberships.values_list("school_id", flat=True))
        user._xm_eval_school_ids = cached
    return cached


def can_manage_rounds(user: Any) -> bool:
    return is_bureau_admin(user)


def can_view_school_internals(user: Any, school: School) -> bool:
    """Self-assessment, evidence and unpublished details of a school."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return school.pk in school_ids_of(user)


def can_edit_self_assessment(user: Any, round: Round, school: School) -> bool:
    from rounds.enums import RoundPhase

    return school.pk in school_ids_of(user) and round.phase == RoundPhase.SELF_ASSESSMENT


def can_upload_evidence(user: Any, round: Round, school: School) -> bool:
    return can_edit_self_assessment(user, round, school)


def has_active_assignment(user: Any, round: Round, school: School) -> bool:
    from rounds.enums import AssignmentStatus
    from rounds.models import Assignment

    if not is_evaluator(user):
        return False
    return Assignment.objects.filter(
        round=round, school=school, evaluator=user, status=AssignmentStatus.ACTIVE
    ).exists()


def can_view_evidence(user: Any, round: Round, school: School) -> bool:
    return can_view_school_internals(user, school) or has_active_assignment(user, round, school)


def can_score_school(user: Any, round: Round, school: School) -> bool:
    """An evaluator scores a school only when assigned, not recused, in the scoring phase."""
    from rounds.enums import RoundPhase

    return round.phase == RoundPhase.EXPERT_SCORING and has_active_assignment(user, round, school)


def can_give_consensus_score(user: Any, round: Round) -> bool:
    from rounds.enums import GroupRole, RoundPhase
    from rounds.models import GroupMember

    if round.phase != RoundPhase.CONSOLIDATION or not is_group_leader(user):
        return False
    return GroupMember.objects.filter(group__round=round, user=user, role=GroupRole.LEADER).exists()


def can_give_audit_score(user: Any, round: Round) -> bool:
    from rounds.enums import RoundPhase

    return is_bureau_admin(user) and round.phase == RoundPhase.CONSOLIDATION


def can_view_peer_scores(user: Any, round: Round) -> bool:
    from rounds.enums import PHASE_ORDER, RoundPhase

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


def can_view_audit_trail(user: Any) -> bool:
    return is_supervisor(user) or is_bureau_admin(user)


def can_monitor_rounds(user: Any) -> bool:
    """Round pages read-only: list, detail, monitoring (the supervisor checks fairness)."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_school_results(user: Any, result_set: Any, school: School) -> bool:
    """A school's full result (every indicator, self gap, explanations of any number).

    The bureau roles see any version; the school's own staff see it once published.
    """
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    return bool(result_set.is_published) and school.pk in school_ids_of(user)


def can_see_evaluator_names(user: Any) -> bool:
    """Who gave which score is named only to the bureau roles; others read “Evaluator 1”."""
    return is_bureau_admin(user) or is_supervisor(user)


# ------------------------------------------------------------------ REST API
# Which API resources a role may use at all; which rows it then sees is
# decided by the selectors (own sheets, own school, active assignments).


def can_view_unpublished_results(user: Any) -> bool:
    """Unpublished result sets and any version of a ranking: the bureau roles only."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_view_score_sheets(user: Any) -> bool:
    """Evaluators read their own sheets; the bureau roles read every sheet."""
    return is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)


def can_write_score_sheets(user: Any) -> bool:
    """Only evaluators open, fill in and submit sheets (their own, per the services)."""
    return is_evaluator(user)


def can_view_assignments(user: Any) -> bool:
    return is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)


def can_view_self_assessments(user: Any) -> bool:
    """School staff read their own school's; the bureau roles read every school's."""
    return is_school_staff(user) or is_bureau_admin(user) or is_supervisor(user)


def can_view_evidence_metadata(user: Any) -> bool:
    """Evidence metadata: own school (staff), assigned schools (evaluators), all (bureau)."""
    return (
        is_school_staff(user) or is_evaluator(user) or is_bureau_admin(user) or is_supervisor(user)
    )


def can_view_consistency_statistics(user: Any) -> bool:
    return is_supervisor(user) or is_bureau_admin(user)


def can_compute_results(user: Any) -> bool:
    return is_bureau_admin(user)


def can_publish_results(user: Any) -> bool:
    return is_bureau_admin(user)


def can_view_drafts(user: Any) -> bool:
    """Draft rounds and frameworks not yet in use: the bureau roles only."""
    return is_bureau_admin(user) or is_supervisor(user)


# ------------------------------------------------------------------ reports


def can_render_reports(user: Any) -> bool:
    """Start rendering a round's PDF documents: the bureau admin."""
    return is_bureau_admin(user)


def can_view_render_jobs(user: Any) -> bool:
    return is_bureau_admin(user) or is_supervisor(user)


def can_download_report(user: Any, artifact: Any) -> bool:
    """A rendered PDF: every one for the bureau roles; a school's own staff get their
    school's report and rectification notice once the result set is published;
    nobody else gets anything (the round summary names evaluators)."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    if artifact.school_id is None:
        return False
    return bool(artifact.result_set.is_published) and artifact.school_id in school_ids_of(user)


def can_write_group_opinion(user: Any, round: Round) -> bool:
    """The group's consolidated opinion: its leader, or the bureau admin, until publication."""
    from rounds.enums import GroupRole, RoundPhase
    from rounds.models import GroupMember

    if round.phase not in (RoundPhase.CONSOLIDATION, RoundPhase.PUBLIC_NOTICE):
        return False
    if is_bureau_admin(user):
        return True
    return (
        is_group_leader(user)
        and GroupMember.objects.filter(
            group__round=round, user=user, role=GroupRole.LEADER
        ).exists()
    )


def can_import_frameworks(user: Any) -> bool:
    return is_bureau_admin(user)


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


# ------------------------------------------- public notice, objections, publication


def can_open_notice(user: Any) -> bool:
    """Open the public notice (公示) of a result set: the bureau admin."""
    return is_bureau_admin(user)


def can_handle_objections(user: Any) -> bool:
    """List, read and answer objections: the bureau admin only (not the supervisor,
    since an objection's page shows who filed it)."""
    return is_bureau_admin(user)


def can_view_objector_identity(user: Any) -> bool:
    """The objector's name, identity number, phone, organisation and seal: the bureau
    admins handling objections, nobody else (not even the supervisor)."""
    return can_handle_objections(user)


def can_correct_results(user: Any) -> bool:
    """Publish a corrected version of published results (with a reason)."""
    return is_bureau_admin(user)


# ----------------------------------------------------------- rectification


def is_round_group_leader(user: Any, round_id: int) -> bool:
    """The leader of the round's evaluation group."""
    from rounds.enums import GroupRole
    from rounds.models import GroupMember

    if not is_group_leader(user):
        return False
    return GroupMember.objects.filter(
        group__round_id=round_id, user=user, role=GroupRole.LEADER
    ).exists()


def can_list_rectifications(user: Any) -> bool:
    """The rectification list: the bureau roles, group leaders and school staff (each
    then sees the rows the selector gives them)."""
    return (
        is_bureau_admin(user)
        or is_supervisor(user)
        or is_group_leader(user)
        or is_school_staff(user)
    )


def can_view_rectification(user: Any, rectification: Any) -> bool:
    """A rectification with its reports and evidence: the bureau roles, the school's own
    staff, and the leader of the round's group (who re-checks it)."""
    if is_bureau_admin(user) or is_supervisor(user):
        return True
    if rectification.school_id in school_ids_of(user):
        return True
    return is_round_group_leader(user, rectification.round_id)


def can_submit_rectification_report(user: Any, rectification: Any) -> bool:
    """The school's own staff write its rectification report."""
    return rectification.school_id in school_ids_of(user)


def can_recheck_rectification(user: Any, rectification: Any) -> bool:
    """The group re-checks: its leader, or the bureau admin."""
    return is_bureau_admin(user) or is_round_group_leader(user, rectification.round_id)


def can_extend_rectification(user: Any) -> bool:
    """Grant the one extension of a rectification deadline: the bureau admin."""
    return is_bureau_admin(user)


# --------------------------------------- supervision, incentives, school history


def can_view_supervision(user: Any) -> bool:
    """The supervisor's pages (event log, score histories, recusals and conflicts,
    consistency statistics, late changes): supervisors and bureau admins."""
    return is_supervisor(user) or is_bureau_admin(user)


def can_view_incentives(user: Any) -> bool:
    """Quota allocation and preference lists of a published result set: the bureau admin,
    and the supervisor read-only."""
    return is_bureau_admin(user) or is_supervisor(user)


def can_set_incentive_parameters(user: Any) -> bool:
    """Choose the total quota, the grade weights and the list rules: the bureau admin."""
    return is_bureau_admin(user)


def can_view_school_history(user: Any, school: School) -> bool:
    """A school's results across rounds. The history shows published result sets only,
    and published results are public (as the public notice and ranking are), so anyone
    may read it, signed in or not."""
    return True
