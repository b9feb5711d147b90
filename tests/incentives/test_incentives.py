"""The pure incentive functions: largest-remainder quota allocation and preference lists."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.allocation import (
    DEFAULT_GRADE_WEIGHTS,
    DEFAULT_RULES,
    GRADES,
    IncentiveCandidate,
    IncentiveError,
    PreferenceKind,
    PreferenceRule,
    allocate_quota,
    preference_list,
    preference_lists,
)

WEIGHTS = {
    "excellent": Decimal("1.5"),
    "good": Decimal("1.2"),
    "qualified": Decimal("1.0"),
    "unqualified": Decimal("0"),
}


def school(
    school_id: int,
    grade: str,
    total: str,
    rank: int,
    *,
    code: str | None = None,
    veto_failed: bool = False,
    complete: bool = True,
) -> IncentiveCandidate:
    return IncentiveCandidate(
        school_id=school_id,
        code=code or f"S{school_id:03d}",
        name=f"学校{school_id}",
        grade=grade,
        total=Decimal(total),
        rank=rank,
        veto_failed=veto_failed,
        complete=complete,
    )


def quotas(shares) -> dict[int, int]:  # noqa: ANN001
    return {share.candidate.school_id: share.quota for share in shares}


# ------------------------------------------------------------------ quota


def test_allocation_matches_the_hand_worked_example():
    # Quota 10; weights 优秀 1.5, 良好 1.2, 合格 1.0, 不合格 0.
    #
    #   school  grade        total  weighted = weight × total
    #   1       excellent    92     1.5 × 92 = 138
    #   2       good         85     1.2 × 85 = 102
    #   3       good         81     1.2 × 81 =  97.2
    #   4       qualified    70     1.0 × 70 =  70
    #   5       unqualified  55     0   × 55 =   0
    #                               Σ weighted = 407.2
    #
    #   exact share = 10 × weighted ÷ 407.2   whole  remainder
    #   1: 1380 ÷ 407.2 = 3.3890…             3      0.3890
    #   2: 1020 ÷ 407.2 = 2.5049…             2      0.5049
    #   3:  972 ÷ 407.2 = 2.3870…             2      0.3870
    #   4:  700 ÷ 407.2 = 1.7191…             1      0.7191
    #   5:    0                               0      0
    #
    # The whole parts give 3 + 2 + 2 + 1 + 0 = 8; the 2 places left go to the two
    # largest remainders, school 4 (0.7191) and school 2 (0.5049):
    #   1 → 3, 2 → 3, 3 → 2, 4 → 2, 5 → 0; 3 + 3 + 2 + 2 + 0 = 10.
    candidates = [
        school(1, "excellent", "92", 1),
        school(2, "good", "85", 2),
        school(3, "good", "81", 3),
        school(4, "qualified", "70", 4),
        school(5, "unqualified", "55", 5),
    ]
    shares = allocate_quota(candidates, total_quota=10, grade_weights=WEIGHTS)
    assert quotas(shares) == {1: 3, 2: 3, 3: 2, 4: 2, 5: 0}
    by_id = {share.candidate.school_id: share for share in shares}
    assert by_id[3].weighted_score == Decimal("97.2")
    assert by_id[1].exact == Fraction(1380, 1) / Fraction("407.2")
    assert [by_id[i].whole for i in range(1, 6)] == [3, 2, 2, 1, 0]
    assert [by_id[i].extra for i in range(1, 6)] == [0, 1, 0, 1, 0]
    assert sum(share.quota for share in shares) == 10


def test_equal_remainders_go_to_the_larger_weighted_score_then_rank_then_code():
    # Two places for three schools of equal weighted score (1.2 × 80 = 1.0 × 96 = 96):
    # exact shares 2/3 each, whole parts 0, remainders equal — the larger weighted
    # score cannot decide, so the better rank does: schools ranked 1 and 2 win.
    candidates = [
        school(1, "qualified", "96", 1),
        school(2, "good", "80", 2),
        school(3, "good", "80", 2, code="S000"),  # tied rank: the code decides
    ]
    shares = allocate_quota(candidates, total_quota=2, grade_weights=WEIGHTS)
    assert quotas(shares) == {1: 1, 2: 0, 3: 1}


def test_the_outcome_does_not_depend_on_the_order_of_the_schools():
    candidates = [school(i, GRADES[i % 3], str(60 + i), i) for i in range(1, 12)]
    expected = quotas(allocate_quota(candidates, total_quota=17, grade_weights=WEIGHTS))
    shuffled = candidates[:]
    random.Random(3).shuffle(shuffled)
    assert quotas(allocate_quota(shuffled, total_quota=17, grade_weights=WEIGHTS)) == expected


def test_zero_quota_allocates_nothing_even_without_weights():
    candidates = [school(1, "unqualified", "50", 1)]
    shares = allocate_quota(candidates, total_quota=0, grade_weights=WEIGHTS)
    assert quotas(shares) == {1: 0}


@pytest.mark.parametrize(
    ("total_quota", "weights", "code"),
    [
        (5, {"excellent": Decimal(0), "good": Decimal(0)}, "nothing_to_share_by"),
        (-1, WEIGHTS, "invalid_quota"),
        (5, {"excellent": Decimal("-1")}, "negative_weight"),
        (5, {"superb": Decimal("1")}, "unknown_grade"),
    ],
)
def test_impossible_parameters_are_refused(total_quota, weights, code):
    candidates = [school(1, "excellent", "95", 1), school(2, "good", "85", 2)]
    with pytest.raises(IncentiveError) as error:
        allocate_quota(candidates, total_quota=total_quota, grade_weights=weights)
    assert error.value.code == code


def test_a_grade_without_a_weight_weighs_nothing():
    candidates = [school(1, "excellent", "95", 1), school(2, "good", "85", 2)]
    shares = allocate_quota(candidates, total_quota=7, grade_weights={"excellent": Decimal(1)})
    assert quotas(shares) == {1: 7, 2: 0}


totals = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=0, max_value=3, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def allocations(draw):  # noqa: ANN001, ANN201
    count = draw(st.integers(min_value=1, max_value=40))
    grades = draw(st.lists(st.sampled_from(GRADES), min_size=count, max_size=count))
    scores = draw(st.lists(totals, min_size=count, max_size=count))
    candidates = [
        school(i + 1, grade, str(total), i + 1)
        for i, (grade, total) in enumerate(zip(grades, scores, strict=True))
    ]
    grade_weights = {grade: draw(weights) for grade in GRADES}
    quota = draw(st.integers(min_value=0, max_value=5000))
    return candidates, grade_weights, quota


@settings(max_examples=300, deadline=None)
@given(allocations())
def test_allocation_sums_exactly_to_the_total_for_random_inputs(case):
    candidates, grade_weights, quota = case
    pool = sum(grade_weights[c.grade] * c.total for c in candidates)
    if pool == 0 and quota > 0:
        with pytest.raises(IncentiveError):
            allocate_quota(candidates, total_quota=quota, grade_weights=grade_weights)
        return
    shares = allocate_quota(candidates, total_quota=quota, grade_weights=grade_weights)
    assert sum(share.quota for share in shares) == quota
    assert len(shares) == len(candidates)
    for share in shares:
        # Hamilton's quota rule: every school gets its exact share rounded down or up.
        assert share.quota in (math.floor(share.exact), math.ceil(share.exact))
        assert share.quota >= 0
        if share.weighted_score == 0:
            assert share.quota == 0
    # a larger weighted score never gets fewer places
    ordered = sorted(shares, key=lambda share: share.weighted_score)
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        assert lower.quota <= higher.quota or lower.weighted_score == higher.weighted_score


# ---------------------------------------------------------- preference lists

RANKING = [
    school(1, "excellent", "95", 1),
    school(2, "excellent", "91", 2),
    school(3, "good", "88", 3),
    school(4, "good", "88", 3),  # tied with school 3
    school(5, "good", "82", 5),
    school(6, "qualified", "70", 6),
    school(7, "unqualified", "40", 7, veto_failed=True),
    school(8, "unqualified", "55", 8),
]


def listed(result) -> list[tuple[int, int]]:  # noqa: ANN001
    return [(entry.position, entry.candidate.school_id) for entry in result.entries]


def test_excellent_first_then_by_rank():
    result = preference_list(RANKING, rule=PreferenceRule(eligible_grades=("excellent", "good")))
    assert listed(result) == [(1, 1), (2, 2), (3, 3), (3, 4), (5, 5)]
    assert [entry.tied for entry in result.entries] == [False, False, True, True, False]


def test_grade_priority_comes_before_rank():
    # A school that failed a veto is unqualified whatever its total; a rule may still
    # put the better grade first even if ranks were to disagree.
    candidates = [school(1, "good", "89", 1), school(2, "excellent", "90", 2)]
    rule = PreferenceRule(eligible_grades=("excellent", "good"))
    assert listed(preference_list(candidates, rule=rule)) == [(1, 2), (2, 1)]


def test_a_limit_never_splits_a_tie():
    rule = PreferenceRule(eligible_grades=("excellent", "good"), limit=3)
    result = preference_list(RANKING, rule=rule)
    assert listed(result) == [(1, 1), (2, 2), (3, 3), (3, 4)]
    assert [entry.beyond_limit for entry in result.entries] == [False, False, False, True]
    assert [(c.school_id, reason) for c, reason in result.excluded] == [(5, "limit")]


def test_a_limit_cuts_where_there_is_no_tie():
    rule = PreferenceRule(eligible_grades=("excellent", "good"), limit=2)
    result = preference_list(RANKING, rule=rule)
    assert listed(result) == [(1, 1), (2, 2)]
    assert [c.school_id for c, _reason in result.excluded] == [3, 4, 5]


def test_veto_failures_and_incomplete_results_are_left_out_by_rule():
    candidates = [*RANKING, school(9, "qualified", "65", 9, complete=False)]
    rule = PreferenceRule(eligible_grades=("qualified", "unqualified"), exclude_incomplete=True)
    result = preference_list(candidates, rule=rule)
    assert listed(result) == [(1, 6), (2, 8)]
    assert [(c.school_id, reason) for c, reason in result.excluded] == [
        (7, "veto_failed"),
        (9, "incomplete"),
    ]
    keep = PreferenceRule(eligible_grades=("unqualified",), exclude_veto_failed=False)
    assert listed(preference_list(candidates, rule=keep)) == [(1, 7), (2, 8)]


def test_the_default_rules_give_three_different_lists():
    lists = preference_lists(RANKING)
    assert set(lists) == {kind.value for kind in PreferenceKind}
    assert listed(lists["awards"]) == [(1, 1), (2, 2)]
    assert [sid for _p, sid in listed(lists["competition_training"])] == [1, 2, 3, 4, 5]
    assert [sid for _p, sid in listed(lists["specialty_support"])] == [1, 2, 3, 4, 5, 6]
    assert DEFAULT_RULES[PreferenceKind.AWARDS].eligible_grades == ("excellent",)
    assert DEFAULT_GRADE_WEIGHTS["unqualified"] == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"eligible_grades": ()}, "no_grade"),
        ({"eligible_grades": ("superb",)}, "unknown_grade"),
        ({"eligible_grades": ("good", "good")}, "duplicate_grade"),
        ({"eligible_grades": ("good",), "limit": 0}, "invalid_limit"),
    ],
)
def test_invalid_rules_are_refused(kwargs, code):
    with pytest.raises(IncentiveError) as error:
        PreferenceRule(**kwargs)
    assert error.value.code == code
