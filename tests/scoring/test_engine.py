"""The pure scoring engine: worked examples computed by hand, then properties.

No database, no Django: every figure below is checked against arithmetic written out
in the comments.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.engine import (
    DEFAULT_GRADE_BANDS,
    FALLBACK_TOO_FEW_FOR_TRIM,
    NOT_APPLICABLE,
    UNQUALIFIED,
    EvaluatorScore,
    Framework,
    Layer,
    Method,
    MissingScore,
    Node,
    NodeStatus,
    OverrideScore,
    RankNote,
    RollupMode,
    RoundConfig,
    SchoolInput,
    compute_round,
    explain,
    round_half_up,
)

D = Decimal
TRIMMED = RoundConfig(method=Method.TRIMMED_MEAN)
MEAN = RoundConfig(method=Method.MEAN)
MEDIAN = RoundConfig(method=Method.MEDIAN)


# --- builders -----------------------------------------------------------------------------


def node(code: str, max_points: str | int, parent: str | None = None, **extra) -> Node:
    return Node(code=code, parent_code=parent, max_points=D(max_points), **extra)


def one_leaf_framework(max_points: str | int = 10) -> Framework:
    """Dimension A with a single observation point A1 worth the whole total."""
    return Framework(
        nodes=(node("A", max_points), node("A1", max_points, "A")),
        total_points=D(max_points),
    )


def panel(*points: str | None, first_id: int = 1) -> tuple[EvaluatorScore, ...]:
    """Evaluator ids first_id, first_id+1, …; "na" marks not applicable, None not yet."""
    return tuple(
        EvaluatorScore(i, None, True)
        if p == "na"
        else EvaluatorScore(i, None if p is None else D(p))
        for i, p in enumerate(points, start=first_id)
    )


def school(school_id: int = 1, group: str = "private", **scores) -> SchoolInput:
    return SchoolInput(school_id=school_id, group=group, **scores)


def two_dimension_framework() -> Framework:
    """A (50) = A1 veto (2) + A2 (48); B (50) = B1 (50). Total 100."""
    return Framework(
        nodes=(
            node("A", 50, order=1),
            node("A1", 2, "A", order=1, is_veto=True),
            node("A2", 48, "A", order=2),
            node("B", 50, order=2),
            node("B1", 50, "B"),
        )
    )


def flat(a1: str, a2: str, b1: str, school_id: int = 1, group: str = "private") -> SchoolInput:
    """One evaluator per leaf of the two-dimension framework."""
    return school(
        school_id,
        group,
        expert_scores={"A1": panel(a1), "A2": panel(a2), "B1": panel(b1)},
    )


# --- consolidation methods ----------------------------------------------------------------


def test_trimmed_mean_drops_one_highest_and_one_lowest():
    # evaluators 1..7 give 10, 6, 7, 8, 10, 8, 9
    # sorted by (points, id): 6(#2) 7(#3) 8(#4) 8(#6) 9(#7) 10(#1) 10(#5)
    # drop lowest 6 (#2) and highest 10 (#5: of the two tens, the higher id)
    # (7 + 8 + 8 + 9 + 10) / 5 = 42 / 5 = 8.4
    scores = panel("10", "6", "7", "8", "10", "8", "9")
    result = compute_round(one_leaf_framework(), [school(expert_scores={"A1": scores})], TRIMMED)

    assert result.schools[0].total == D("8.40")
    why = explain(result, 1, "A1")
    assert why.expert.method_used == Method.TRIMMED_MEAN
    assert why.expert.dropped == ((2, D("6")), (5, D("10")))
    assert why.expert.fallback_reason is None
    assert why.inputs == {1: D(10), 2: D(6), 3: D(7), 4: D(8), 5: D(10), 6: D(8), 7: D(9)}
    assert why.layer == Layer.EXPERT
    assert "dropped lowest 6 (#2) and highest 10 (#5)" in why.as_text()


def test_trimmed_mean_falls_back_to_mean_below_five_scores_and_says_so():
    # 4 scores < trim_min_count 5: no trimming; mean (6 + 7 + 9 + 10) / 4 = 32 / 4 = 8
    scores = panel("6", "7", "9", "10")
    result = compute_round(one_leaf_framework(), [school(expert_scores={"A1": scores})], TRIMMED)

    assert result.schools[0].total == D("8.00")
    why = explain(result, 1, "A1")
    assert why.expert.method == Method.TRIMMED_MEAN
    assert why.expert.method_used == Method.MEAN
    assert why.expert.fallback_reason == FALLBACK_TOO_FEW_FOR_TRIM
    assert why.expert.dropped == ()
    assert "used the mean" in why.as_text()


def test_median_of_odd_and_even_panels():
    # odd: 1 2 3 9 10 → 3;  even: 1 2 4 10 → (2 + 4) / 2 = 3
    fw = Framework(
        nodes=(node("A", 20), node("A1", 10, "A"), node("A2", 10, "A")), total_points=D(20)
    )
    inp = school(
        expert_scores={"A1": panel("9", "1", "10", "3", "2"), "A2": panel("4", "1", "10", "2")}
    )
    result = compute_round(fw, [inp], MEDIAN)

    nodes = result.schools[0].nodes
    assert nodes["A1"].score_exact == D(3)
    assert nodes["A2"].score_exact == D(3)
    assert result.schools[0].total == D("6.00")


def test_mean_method_never_trims():
    # mean of 10 6 7 8 10 8 9 = 58 / 7 = 8.285714… → 8.29
    scores = panel("10", "6", "7", "8", "10", "8", "9")
    result = compute_round(one_leaf_framework(), [school(expert_scores={"A1": scores})], MEAN)

    assert result.schools[0].total == D("8.29")
    assert explain(result, 1, "A1").expert.dropped == ()


# --- layers -------------------------------------------------------------------------------


def test_consensus_overrides_experts_with_its_justification():
    # experts: mean of 4, 5, 6 = 5; the leader's consensus 7 wins
    inp = school(
        expert_scores={"A1": panel("4", "5", "6")},
        consensus_scores={"A1": OverrideScore(D(7), "evidence re-checked on site")},
    )
    result = compute_round(one_leaf_framework(), [inp], MEAN)

    assert result.schools[0].total == D("7.00")
    why = explain(result, 1, "A1")
    assert why.layer == Layer.CONSENSUS
    assert why.justification == "evidence re-checked on site"
    assert why.expert.value == D(5)  # still shown: what was overridden
    assert "overridden by consensus" in why.as_text()


def test_audit_overrides_consensus_and_experts():
    inp = school(
        expert_scores={"A1": panel("4", "5", "6")},
        consensus_scores={"A1": OverrideScore(D(7), "leader")},
        audit_scores={"A1": OverrideScore(D("6.5"), "bureau audit: one certificate expired")},
    )
    result = compute_round(one_leaf_framework(), [inp], MEAN)

    assert result.schools[0].total == D("6.50")
    assert result.schools[0].nodes["A1"].layer == Layer.AUDIT
    why = explain(result, 1, "A1")
    assert why.justification == "bureau audit: one certificate expired"
    assert why.consensus.points == D(7)


def test_override_can_declare_not_applicable():
    fw = Framework(
        nodes=(node("A", 10), node("A1", 4, "A"), node("A2", 6, "A")), total_points=D(10)
    )
    inp = school(
        expert_scores={"A1": panel("2"), "A2": panel("3")},
        audit_scores={"A2": OverrideScore(None, "no dormitories at this school", True)},
    )
    # A2 excluded: A = 2 × 10 / 4 = 5
    result = compute_round(fw, [inp], MEAN)

    assert result.schools[0].nodes["A2"].status == NodeStatus.NOT_APPLICABLE
    assert result.schools[0].total == D("5.00")


def test_override_needs_justification_and_exactly_one_of_points_or_not_applicable():
    with pytest.raises(ValueError, match="justification"):
        OverrideScore(D(1), "  ")
    with pytest.raises(ValueError, match="exactly one"):
        OverrideScore(D(1), "why", True)
    with pytest.raises(ValueError, match="exactly one"):
        OverrideScore(None, "why")


# --- veto ---------------------------------------------------------------------------------


def test_failed_veto_makes_unqualified_despite_high_total():
    # A1 (veto, pass mark = full 2 points) scored 1; total = 1 + 48 + 50 = 99 → would be
    # "excellent", but 1 < 2 fails the veto
    result = compute_round(two_dimension_framework(), [flat("1", "48", "50")], MEAN)

    outcome = result.schools[0]
    assert outcome.total == D("99.00")
    assert outcome.veto_failed == ("A1",)
    assert outcome.grade == UNQUALIFIED
    why = explain(result, 1, "A1")
    assert why.is_veto
    assert why.veto_failed
    assert why.pass_mark == D(2)


def test_veto_with_custom_pass_mark_passes_at_the_mark():
    fw = Framework(
        nodes=(
            node("A", 50),
            node("A1", 2, "A", is_veto=True, veto_pass_mark=D("1.5")),
            node("A2", 48, "A"),
            node("B", 50),
            node("B1", 50, "B"),
        )
    )
    # 1.5 + 48 + 45 = 94.5 → excellent, veto passed (1.5 is not below 1.5)
    result = compute_round(fw, [flat("1.5", "48", "45")], MEAN)

    assert result.schools[0].veto_failed == ()
    assert result.schools[0].grade == "excellent"


def test_veto_ranks_last_and_says_why():
    schools = [flat("1", "48", "50", school_id=1), flat("2", "30", "40", school_id=2)]
    # school 1: 99 but failed veto; school 2: 72
    ranked_last = compute_round(two_dimension_framework(), schools, MEAN)
    assert [s.school_id for s in ranked_last.schools] == [2, 1]
    assert ranked_last.school(1).rank == 2
    assert ranked_last.school(1).rank_note == RankNote.VETO_FAILED_RANKED_LAST
    assert "failed veto A1" in ranked_last.school(1).rank_text
    assert ranked_last.school(2).rank_note is None

    by_total = compute_round(
        two_dimension_framework(), schools, RoundConfig(method=Method.MEAN, veto_ranks_last=False)
    )
    assert [s.school_id for s in by_total.schools] == [1, 2]
    assert by_total.school(1).grade == UNQUALIFIED


# --- not applicable -----------------------------------------------------------------------


def test_not_applicable_leaf_is_excluded_and_parent_rescaled():
    # A (10) = A1 (4) + A2 (6). A2: 2 of 3 evaluators say not applicable → majority → N/A.
    # A1 mean of 3, 3, 3 = 3 → A = 3 × 10 / 4 = 7.5
    fw = Framework(
        nodes=(node("A", 10), node("A1", 4, "A"), node("A2", 6, "A")), total_points=D(10)
    )
    inp = school(expert_scores={"A1": panel("3", "3", "3"), "A2": panel("na", "na", "5")})
    result = compute_round(fw, [inp], MEAN)

    outcome = result.schools[0]
    assert outcome.nodes["A2"].status == NodeStatus.NOT_APPLICABLE
    assert not outcome.nodes["A2"].applicable
    assert outcome.nodes["A"].score_exact == D("7.5")
    assert outcome.total == D("7.50")
    why = explain(result, 1, "A")
    assert why.excluded == ("A2",)
    assert why.rescale_factor == D("2.5")  # 10 / 4
    assert why.children[0].contribution == D("7.5")
    assert "rescaled by 2.5" in why.as_text()
    assert explain(result, 1, "A2").expert.not_applicable_votes == (1, 2)


def test_not_applicable_tie_keeps_the_leaf_applicable():
    # 1 of 2 says N/A: no strict majority → applicable, consolidated over the one score
    result = compute_round(
        one_leaf_framework(), [school(expert_scores={"A1": panel("na", "6")})], MEAN
    )

    assert result.schools[0].nodes["A1"].status == NodeStatus.SCORED
    assert result.schools[0].total == D("6.00")


def test_all_children_not_applicable_make_the_parent_not_applicable_and_total_rescales():
    # A (10) = A1 (10); B (10) = B1 (10); total 20. B1 N/A → B N/A → total = 8 × 20 / 10 = 16
    fw = Framework(
        nodes=(node("A", 10), node("A1", 10, "A"), node("B", 10), node("B1", 10, "B")),
        total_points=D(20),
    )
    inp = school(expert_scores={"A1": panel("8"), "B1": panel("na")})
    result = compute_round(fw, [inp], MEAN)

    outcome = result.schools[0]
    assert outcome.nodes["B"].status == NodeStatus.NOT_APPLICABLE
    assert outcome.dimension_subtotals == {"A": D("8.00"), "B": None}
    assert outcome.total == D("16.00")
    total_why = explain(result, 1)
    assert total_why.kind == "total"
    assert total_why.excluded == ("B",)
    assert total_why.rescale_factor == D(2)


# --- weights ------------------------------------------------------------------------------


def weighted_framework() -> Framework:
    # A (10): A1 max 5 weight 0.6, A2 max 20 weight 0.4
    return Framework(
        nodes=(
            node("A", 10),
            node("A1", 5, "A", weight=D("0.6")),
            node("A2", 20, "A", weight=D("0.4")),
        ),
        total_points=D(10),
    )


def test_weighted_parent():
    # A = 10 × (0.6 × 4/5 + 0.4 × 10/20) = 10 × (0.48 + 0.20) = 6.8
    inp = school(expert_scores={"A1": panel("4"), "A2": panel("10")})
    result = compute_round(weighted_framework(), [inp], MEAN)

    assert result.schools[0].nodes["A"].score_exact == D("6.8")
    why = explain(result, 1, "A")
    assert why.mode == RollupMode.WEIGHTED
    assert [c.contribution for c in why.children] == [D("4.8"), D("2.0")]


def test_weighted_parent_renormalises_weights_of_applicable_children():
    # A2 N/A: weights renormalised to 0.6 / 0.6 = 1 → A = 10 × 1 × 4/5 = 8
    inp = school(expert_scores={"A1": panel("4"), "A2": panel("na")})
    result = compute_round(weighted_framework(), [inp], MEAN)

    assert result.schools[0].total == D("8.00")
    why = explain(result, 1, "A")
    assert why.children[0].effective_weight == D(1)
    assert why.excluded == ("A2",)


# --- missing and not scored ---------------------------------------------------------------


def test_missing_scores_are_listed_and_not_scored_leaf_counts_zero():
    fw = Framework(
        nodes=(node("A", 10), node("A1", 5, "A"), node("A2", 3, "A"), node("A3", 2, "A")),
        total_points=D(10),
    )
    inp = school(
        7,
        expert_scores={
            # evaluator 3 absent, evaluator 2 has an empty (not yet answered) row
            "A1": (EvaluatorScore(1, D(4)), EvaluatorScore(2, None)),
            # nobody scored A2 at all; A3 is covered by the leader's consensus
        },
        consensus_scores={"A3": OverrideScore(D(2), "agreed in the group meeting")},
        expected_evaluator_ids=(1, 2, 3),
    )
    result = compute_round(fw, [inp], MEAN)

    assert result.missing == (
        MissingScore(7, 2, "A1"),
        MissingScore(7, 3, "A1"),
        MissingScore(7, 1, "A2"),
        MissingScore(7, 2, "A2"),
        MissingScore(7, 3, "A2"),
        MissingScore(7, 1, "A3", covered_by_override=True),
        MissingScore(7, 2, "A3", covered_by_override=True),
        MissingScore(7, 3, "A3", covered_by_override=True),
    )
    outcome = result.schools[0]
    # A = 4 (evaluator 1 only) + 0 (A2 not scored) + 2 (consensus) = 6
    assert outcome.total == D("6.00")
    assert outcome.not_scored == ("A2",)
    assert outcome.incomplete
    assert outcome.nodes["A2"].status == NodeStatus.NOT_SCORED
    assert "not scored, counted as 0" in explain(result, 7, "A2").as_text()
    assert explain(result, 7, "A").not_scored_leaves == ("A2",)
    assert explain(result, 7, "A1").missing_evaluators == (2, 3)


def test_not_scored_veto_is_pending_not_failed():
    inp = school(expert_scores={"A2": panel("40"), "B1": panel("40")})
    outcome = compute_round(two_dimension_framework(), [inp], MEAN).schools[0]

    assert outcome.veto_failed == ()
    assert outcome.veto_pending == ("A1",)
    assert outcome.incomplete
    assert outcome.total == D("80.00")


def test_complete_school_is_not_incomplete():
    result = compute_round(two_dimension_framework(), [flat("2", "40", "40")], MEAN)
    assert not result.schools[0].incomplete
    assert result.missing == ()


# --- rounding -----------------------------------------------------------------------------


def test_rounding_is_half_up():
    # mean of 2.34 and 2.35 = 2.345 → 2.35 (banker's rounding would give 2.34)
    result = compute_round(
        one_leaf_framework(), [school(expert_scores={"A1": panel("2.34", "2.35")})], MEAN
    )

    assert result.schools[0].total_exact == D("2.345")
    assert result.schools[0].total == D("2.35")
    assert round_half_up(D("2.345")) == D("2.35")


def test_rounding_happens_at_the_end_only():
    # A1 = A2 = mean(1.00, 1.01) = 1.005 each. Exact total 2.010 → 2.01.
    # Rounding each leaf first would give 1.01 + 1.01 = 2.02.
    fw = Framework(
        nodes=(node("A", 10), node("A1", 5, "A"), node("A2", 5, "A")), total_points=D(10)
    )
    inp = school(expert_scores={"A1": panel("1.00", "1.01"), "A2": panel("1.00", "1.01")})
    outcome = compute_round(fw, [inp], MEAN).schools[0]

    assert outcome.nodes["A1"].score == D("1.01")  # shown rounded
    assert outcome.nodes["A1"].score_exact == D("1.005")  # kept exact
    assert outcome.total == D("2.01")


def test_thirds_stay_exact_enough():
    # three leaves of 1/3 each (mean of 0, 0, 1) sum to 1 after rounding, not 0.99
    fw = Framework(
        nodes=(node("A", 3), node("A1", 1, "A"), node("A2", 1, "A"), node("A3", 1, "A")),
        total_points=D(3),
    )
    third = panel("0", "0", "1")
    inp = school(expert_scores={"A1": third, "A2": third, "A3": third})
    assert compute_round(fw, [inp], MEAN).schools[0].total == D("1.00")


def test_grade_uses_the_rounded_total():
    # mean of 89.99 and 90.00 = 89.995 → 90.00 → excellent
    fw = one_leaf_framework(100)
    result = compute_round(fw, [school(expert_scores={"A1": panel("89.99", "90.00")})], MEAN)
    assert result.schools[0].total == D("90.00")
    assert result.schools[0].grade == "excellent"


@pytest.mark.parametrize(
    ("points", "grade"),
    [
        ("100", "excellent"),
        ("89.99", "good"),
        ("80", "good"),
        ("60", "qualified"),
        ("59.99", UNQUALIFIED),
    ],
)
def test_default_grade_bands(points, grade):
    result = compute_round(
        one_leaf_framework(100), [school(expert_scores={"A1": panel(points)})], MEAN
    )
    assert result.schools[0].grade == grade
    assert dict(DEFAULT_GRADE_BANDS)["good"] == D(80)


# --- ranking ------------------------------------------------------------------------------


def tie_round(config: RoundConfig):
    # totals: #1 90; #2 85 (A 45, B 40); #3 85 (A 40, B 45); #4 80
    schools = [
        flat("2", "43", "45", school_id=1, group="public"),
        flat("2", "43", "40", school_id=2),
        flat("2", "38", "45", school_id=3),
        flat("2", "38", "40", school_id=4),
    ]
    return compute_round(two_dimension_framework(), schools, config)


def test_ties_share_a_rank_competition_style():
    result = tie_round(MEAN)

    assert [(s.school_id, s.total, s.rank) for s in result.schools] == [
        (1, D("90.00"), 1),
        (2, D("85.00"), 2),
        (3, D("85.00"), 2),
        (4, D("80.00"), 4),
    ]
    assert result.school(2).rank_note == RankNote.TIED
    assert result.school(3).rank_note == RankNote.TIED
    assert result.school(1).rank_note is None


def test_tie_break_by_dimension_order():
    # equal totals: compare A first: #2 has A 45 > #3 A 40 → #2 before #3
    result = tie_round(RoundConfig(method=Method.MEAN, tie_break_by_dimension=True))

    assert [(s.school_id, s.rank) for s in result.schools] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert result.school(2).rank_note == RankNote.TIE_BROKEN_BY_DIMENSION
    assert result.school(3).rank_note == RankNote.TIE_BROKEN_BY_DIMENSION


def test_group_ranks():
    result = tie_round(MEAN)
    # public: #1 alone; private: #2 85, #3 85, #4 80 → 1, 1, 3
    assert {s.school_id: s.group_rank for s in result.schools} == {1: 1, 2: 1, 3: 1, 4: 3}


def test_ranking_compares_rounded_totals():
    # 85.004 and 85.001 both show 85.00, so they share the rank
    schools = [flat("2", "43.004", "40", school_id=1), flat("2", "43.001", "40", school_id=2)]
    result = compute_round(two_dimension_framework(), schools, MEAN)
    assert [s.rank for s in result.schools] == [1, 1]


# --- self-assessment gap ------------------------------------------------------------------


def test_self_gap_per_dimension():
    # final: A = 2 + 40 = 42, B = 40. self: A = 2 + 46 = 48, B not self-assessed.
    inp = SchoolInput(
        school_id=1,
        expert_scores={"A1": panel("2"), "A2": panel("40"), "B1": panel("40")},
        self_scores={"A1": D(2), "A2": D(46)},
    )
    outcome = compute_round(two_dimension_framework(), [inp], MEAN).schools[0]

    assert outcome.self_subtotals == {"A": D("48.00"), "B": None}
    assert outcome.self_gap == {"A": D("6.00"), "B": None}


def test_self_not_applicable_rescales_like_the_final_score():
    # self: A2 N/A → A = 2 × 50 / 2 = 50; final A = 42 → gap 8
    inp = SchoolInput(
        school_id=1,
        expert_scores={"A1": panel("2"), "A2": panel("40"), "B1": panel("40")},
        self_scores={"A1": D(2), "A2": NOT_APPLICABLE, "B1": D(40)},
    )
    outcome = compute_round(two_dimension_framework(), [inp], MEAN).schools[0]
    assert outcome.self_gap == {"A": D("8.00"), "B": D("0.00")}


# --- rejected input -----------------------------------------------------------------------


def test_unknown_parent_is_a_clear_error():
    fw = Framework(nodes=(node("A", 10), node("A1", 10, "X")), total_points=D(10))
    with pytest.raises(ValueError, match="'A1' has unknown parent 'X'"):
        compute_round(fw, [], MEAN)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((node("A", 10), node("A", 10)), "duplicate code 'A'"),
        ((node("A1", 10, "A2"), node("A2", 10, "A1")), "no dimension"),
        ((node("A", 10), node("A1", 5, "A2"), node("A2", 5, "A1")), "cycle"),
        ((node("A", 10), node("A1", 5, "A", weight=D(1)), node("A2", 5, "A")), "mix weighted"),
        ((node("A", 10, is_veto=True), node("A1", 10, "A")), "must be an observation point"),
        ((node("A", 10), node("A1", 0, "A")), "max_points must be positive"),
    ],
)
def test_malformed_frameworks_are_rejected(nodes, message):
    with pytest.raises(ValueError, match=message):
        compute_round(Framework(nodes=nodes, total_points=D(10)), [], MEAN)


def test_grade_bands_must_descend():
    with pytest.raises(ValueError, match="descending"):
        Framework(nodes=(), grade_bands=(("good", D(80)), ("excellent", D(90))))


def test_scores_are_validated():
    fw = one_leaf_framework()
    with pytest.raises(ValueError, match="unknown observation points A"):
        compute_round(fw, [school(expert_scores={"A": panel("1")})], MEAN)
    with pytest.raises(ValueError, match="outside 0..10"):
        compute_round(fw, [school(expert_scores={"A1": panel("10.5")})], MEAN)
    with pytest.raises(ValueError, match="scored it twice"):
        compute_round(fw, [school(expert_scores={"A1": panel("1") + panel("2")})], MEAN)
    with pytest.raises(ValueError, match="appears twice"):
        compute_round(fw, [school(1), school(1)], MEAN)
    with pytest.raises(TypeError, match="must be Decimal"):
        EvaluatorScore(1, 1.5)  # type: ignore[arg-type]


def test_explain_unknown_node_or_school():
    result = compute_round(one_leaf_framework(), [school(expert_scores={"A1": panel("1")})], MEAN)
    with pytest.raises(KeyError):
        explain(result, 1, "Z9")
    with pytest.raises(KeyError):
        explain(result, 2, "A1")


def test_sample_like_framework_end_to_end():
    """A four-dimension tree like the 2025 sample: dimension → indicator → leaf."""
    nodes = []
    for order, (dim, points) in enumerate((("A", 25), ("B", 30), ("C", 20), ("D", 25)), start=1):
        nodes.append(node(dim, points, order=order))
        nodes.append(node(f"{dim}1", points, dim))
        half = D(points) / 2
        nodes.append(node(f"{dim}1.1", half, f"{dim}1", is_veto=dim == "A"))
        nodes.append(node(f"{dim}1.2", half, f"{dim}1"))
    fw = Framework(nodes=tuple(nodes))
    # every evaluator gives full marks except evaluator 5 who gives half on every leaf:
    # 5 scores, trimmed: drop the half (lowest) and one full (highest) → full marks → 100
    leaves = [n for n in nodes if "." in n.code]
    expert = {
        leaf.code: tuple(
            EvaluatorScore(e, leaf.max_points / (2 if e == 5 else 1)) for e in range(1, 6)
        )
        for leaf in leaves
    }
    result = compute_round(
        fw, [school(expert_scores=expert, expected_evaluator_ids=(1, 2, 3, 4, 5))], TRIMMED
    )
    outcome = result.schools[0]
    assert outcome.total == D("100.00")
    assert outcome.grade == "excellent"
    assert outcome.dimension_subtotals == {
        "A": D("25.00"),
        "B": D("30.00"),
        "C": D("20.00"),
        "D": D("25.00"),
    }
    assert list(outcome.nodes)[:4] == ["A", "A1", "A1.1", "A1.2"]  # pre-order, for display
