"""People of every role, and stored result sets with chosen figures, for the tests of the
supervision, incentive and history pages (issue 7, items 4–6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.utils import timezone

from core.enums import Role
from rounds.enums import AssignmentStatus, GroupRole
from rounds.models import DEFAULT_GRADE_BANDS, Assignment, EvaluationGroup, GroupMember, Round
from rounds.services import framework_create
from schools.models import School
from scoring.models import ResultRow, ResultSet
from tests.factories import StaffMembershipFactory, UserFactory, small_tree

# Every role a page is checked against, in the order of the expectation tables.
ROLES = ("anonymous", "admin", "supervisor", "leader", "evaluator", "own_staff", "other_staff")


@dataclass
class People:
    admin: Any
    supervisor: Any
    leader: Any
    evaluator: Any
    own_staff: Any
    other_staff: Any
    own_school: School
    other_school: School

    def user(self, role: str) -> Any:
        return None if role == "anonymous" else getattr(self, role)


def make_people(*, round: Round, own_school: School, other_school: School) -> People:
    """One user per role; the leader leads ``round``'s group, the evaluator is assigned to
    ``own_school``; the staff work for ``own_school`` and ``other_school``."""
    group, _created = EvaluationGroup.objects.get_or_create(
        round=round, defaults={"name": "评估工作组"}
    )
    leader = UserFactory(username="t-leader", roles=[Role.GROUP_LEADER])
    evaluator = UserFactory(username="t-evaluator", roles=[Role.EVALUATOR])
    GroupMember.objects.create(group=group, user=leader, role=GroupRole.LEADER)
    GroupMember.objects.create(group=group, user=evaluator, role=GroupRole.EVALUATOR)
    Assignment.objects.create(
        round=round, school=own_school, evaluator=evaluator, status=AssignmentStatus.ACTIVE
    )
    own_staff = UserFactory(username="t-own-staff", roles=[Role.SCHOOL_STAFF])
    other_staff = UserFactory(username="t-other-staff", roles=[Role.SCHOOL_STAFF])
    StaffMembershipFactory(user=own_staff, school=own_school)
    StaffMembershipFactory(user=other_staff, school=other_school)
    return People(
        admin=UserFactory(username="t-admin", roles=[Role.BUREAU_ADMIN]),
        supervisor=UserFactory(username="t-supervisor", roles=[Role.SUPERVISOR]),
        leader=leader,
        evaluator=evaluator,
        own_staff=own_staff,
        other_staff=other_staff,
        own_school=own_school,
        other_school=other_school,
    )


def lineage_framework(*, policy_title: str, name: str, total: Decimal = Decimal(100)) -> Any:
    """A framework of the four 25-point dimensions A–D (or scaled to ``total``), valid
    2010–2040, so rounds of several cycles can use it."""
    factor = total / 100
    tree = [replace(node, max_points=node.max_points * factor) for node in small_tree()]
    return framework_create(
        actor=None,
        name=name,
        policy_title=policy_title,
        valid_from=dt.date(2010, 1, 1),
        valid_to=dt.date(2040, 12, 31),
        indicators=tree,
        total_points=total,
        grade_bands=[
            {"grade": band["grade"], "min": str(Decimal(band["min"]) * factor)}
            for band in DEFAULT_GRADE_BANDS
        ],
    )


GRADE_OF = (("excellent", 90), ("good", 80), ("qualified", 60), ("unqualified", 0))


def grade_of(total: Decimal) -> str:
    return next(grade for grade, floor in GRADE_OF if total >= floor)


def stored_result_set(
    *,
    round: Round,
    totals: dict[School, str],
    version: int = 1,
    published: bool = True,
    supersedes: ResultSet | None = None,
    grades: dict[School, str] | None = None,
    veto_failed: set[School] = frozenset(),
    dimension_max: Decimal = Decimal(25),
) -> ResultSet:
    """A stored result set with the given totals (rank by total, ties share a rank, the
    grade from the default bands unless given), each total split evenly over the four
    dimensions A–D. Published now unless ``published`` is False."""
    now = timezone.now()
    result_set = ResultSet.objects.create(
        round=round,
        version=version,
        consolidation_method="trimmed_mean",
        is_published=published,
        published_at=now if published else None,
        supersedes=supersedes,
        correction_reason="更正" if supersedes else "",
    )
    ordered = sorted(totals.items(), key=lambda item: (-Decimal(item[1]), item[0].code))
    rows = []
    for index, (school, total) in enumerate(ordered):
        value = Decimal(total)
        rank = index + 1
        if index and Decimal(ordered[index - 1][1]) == value:
            rank = rows[-1].rank
        quarter = (value / 4).quantize(Decimal("0.01"))
        rows.append(
            ResultRow(
                result_set=result_set,
                school=school,
                total=value,
                grade=(grades or {}).get(school) or grade_of(value),
                rank=rank,
                group_rank=rank,
                veto_failed=["A1.1"] if school in veto_failed else [],
                dimension_subtotals={code: str(quarter) for code in "ABCD"},
                indicator_scores={},
                self_gap={},
                is_complete=True,
                group=school.ranking_group,
                inputs=b"",
            )
        )
    ResultRow.objects.bulk_create(rows)
    return result_set
