"""Consistency statistics: spread, leniency and ICC(2,k), checked by hand and on the
Shrout & Fleiss (1979) textbook data. No database, no Django."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.consistency import icc_2k, round_consistency, spread_and_std
from scoring.engine import (
    EvaluatorScore,
    Framework,
    Method,
    Node,
    OverrideScore,
    RoundConfig,
    SchoolInput,
    compute_round,
)

D = Decimal
MEAN = RoundConfig(method=Method.MEAN)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
# Their ANOVA: BMS 11.24, JMS 32.49, EMS 1.02, so
# ICC(2,4) = (11.24 − 1.02) / (11.24 + (32.49 − 1.02) / 6) = 10.22 / 16.485 = 0.62
# ICC(2,1) = 10.22 / (11.24 + 3 × 1.02 + 4 × 31.47 / 6) = 10.22 / 35.28 = 0.29
SHROUT_FLEISS = (
    (9, 2, 5, 8),
    (6, 1, 3, 2),
    (8, 4, 6, 8),
    (7, 1, 2, 6),
    (10, 5, 6, 9),
    (6, 2, 4, 7),
)


def framework(*leaves: tuple[str, int]) -> Framework:
    """Dimension A holding the given observation points."""
    total = sum(points for _, points in leaves)
    nodes = [Node(code="A", max_points=D(total))]
    nodes += [Node(code=code, parent_code="A", max_points=D(points)) for code, points in leaves]
    return Framework(nodes=tuple(nodes), total_points=D(total))


def panel(*points: int | str) -> tuple[EvaluatorScore, ...]:
    return tuple(EvaluatorScore(i, D(p)) for i, p in enumerate(points, start=1))


def test_spread_and_population_std_by_hand():
    # 6 7 8 9 10: range 4; mean 8; squared deviations 4 1 0 1 4 = 10; 10 / 5 = 2; √2 = 1.4142
    assert spread_and_std([D(6), D(7), D(8), D(9), D(10)]) == (D(4), D("1.4142"))
    # 7 8 8: mean 23/3; squared deviations 4/9 1/9 1/9 = 6/9; ÷ 3 = 2/9; √(2/9) = 0.4714
    assert spread_and_std([D(7), D(8), D(8)]) == (D(1), D("0.4714"))


def test_leaf_spread_is_flagged_above_the_threshold():
    # threshold 0.3 × 10 points = 3: A1's spread 4 is flagged, A2's spread 1 is not;
    # A3 has a single score, so no spread is reported for it
    inp = SchoolInput(
        school_id=5,
        expert_scores={"A1": panel(6, 7, 8, 9, 10), "A2": panel(7, 8, 8), "A3": panel(4)},
    )
    result = compute_round(framework(("A1", 10), ("A2", 10), ("A3", 10)), [inp], MEAN)
    report = round_consistency(result)

    assert [(s.leaf_code, s.spread, s.std, s.flagged) for s in report.spreads] == [
        ("A1", D(4), D("1.4142"), True),
        ("A2", D(1), D("0.4714"), False),
    ]
    assert report.spreads[0].threshold == D("3.0")
    assert [s.leaf_code for s in report.flagged] == ["A1"]


def test_leniency_is_the_mean_signed_deviation_from_the_final_score():
    # A1: 6 8 10 → mean 8;  deviations e1 −2, e2 0, e3 +2
    # A2: 4 5 9  → mean 6;  deviations e1 −2, e2 −1, e3 +3
    # A3: 5 5 5, consensus 7 wins → deviations −2 each
    # e1: (−2 − 2 − 2) / 3 = −2;  e2: (0 − 1 − 2) / 3 = −1;  e3: (2 + 3 − 2) / 3 = 1
    # relative to the 10-point leaves: −0.2, −0.1, 0.1
    inp = SchoolInput(
        school_id=1,
        expert_scores={"A1": panel(6, 8, 10), "A2": panel(4, 5, 9), "A3": panel(5, 5, 5)},
        consensus_scores={"A3": OverrideScore(D(7), "group meeting")},
    )
    result = compute_round(framework(("A1", 10), ("A2", 10), ("A3", 10)), [inp], MEAN)
    report = round_consistency(result)

    assert [(e.evaluator_id, e.leniency, e.leniency_share) for e in report.evaluators] == [
        (1, D("-2.0000"), D("-0.2000")),
        (2, D("-1.0000"), D("-0.1000")),
        (3, D("1.0000"), D("0.1000")),
    ]
    assert all(e.score_count == e.compared_count == 3 for e in report.evaluators)
    assert all(e.dropped_count == 0 for e in report.evaluators)


def test_leniency_skips_leaves_that_ended_not_applicable():
    inp = SchoolInput(
        school_id=1,
        expert_scores={"A1": panel(6, 8), "A2": panel(4, 5)},
        audit_scores={"A2": OverrideScore(None, "no such facility", True)},
    )
    result = compute_round(framework(("A1", 10), ("A2", 10)), [inp], MEAN)
    first = round_consistency(result).evaluators[0]

    # A1 mean 7: e1 −1; A2 not applicable in the end, not compared
    assert (first.score_count, first.compared_count, first.leniency) == (2, 1, D("-1.0000"))


def test_dropped_share_counts_trimmed_scores():
    # A1: 10 5 5 5 0 → drop e5 (0) and e1 (10)
    # A2:  7 9 6 5 1 → drop e5 (1) and e2 (9)
    # A3: only 4 scores (e1–e4) → mean, nothing dropped
    # e1: 1 of 3 dropped; e2: 1 of 3; e3, e4: 0 of 3; e5: 2 of its 2
    inp = SchoolInput(
        school_id=1,
        expert_scores={
            "A1": panel(10, 5, 5, 5, 0),
            "A2": panel(7, 9, 6, 5, 1),
            "A3": panel(5, 5, 5, 5),
        },
    )
    result = compute_round(
        framework(("A1", 10), ("A2", 10), ("A3", 10)), [inp], RoundConfig(method="trimmed_mean")
    )
    report = round_consistency(result)

    assert [(e.evaluator_id, e.dropped_count, e.dropped_share) for e in report.evaluators] == [
        (1, 1, D("0.3333")),
        (2, 1, D("0.3333")),
        (3, 0, D("0.0000")),
        (4, 0, D("0.0000")),
        (5, 2, D("1.0000")),
    ]


def test_icc_2k_on_the_shrout_fleiss_table():
    figure = icc_2k(SHROUT_FLEISS)

    assert figure.method == "ICC(2,k)"
    assert figure.value == pytest.approx(0.62, abs=0.005)
    assert figure.value == pytest.approx(0.6200505, abs=1e-6)
    assert figure.single_rater == pytest.approx(0.29, abs=0.005)
    assert (figure.k, figure.n_targets, figure.reason) == (4, 6, None)


def test_round_reliability_through_the_engine_matches_the_textbook():
    # 6 schools × 1 leaf (max 10) × 4 evaluators; dividing by the leaf max leaves ICC unchanged
    schools = [
        SchoolInput(school_id=i, expert_scores={"A1": panel(*row)})
        for i, row in enumerate(SHROUT_FLEISS, start=1)
    ]
    result = compute_round(framework(("A1", 10)), schools, MEAN)
    reliability = round_consistency(result).reliability

    assert reliability.value == pytest.approx(0.6200505, abs=1e-6)
    assert reliability.rater_ids == (1, 2, 3, 4)
    assert (reliability.n_targets, reliability.excluded_targets) == (6, 0)


def test_targets_with_a_different_panel_are_excluded():
    # schools 1–3 are rated by evaluators 1, 2, 3; school 4 only by 1 and 2
    schools = [
        SchoolInput(school_id=1, expert_scores={"A1": panel(9, 8, 9)}),
        SchoolInput(school_id=2, expert_scores={"A1": panel(4, 5, 4)}),
        SchoolInput(school_id=3, expert_scores={"A1": panel(6, 6, 7)}),
        SchoolInput(school_id=4, expert_scores={"A1": panel(5, 6)}),
    ]
    report = round_consistency(compute_round(framework(("A1", 10)), schools, MEAN))

    assert report.reliability.rater_ids == (1, 2, 3)
    assert (report.reliability.n_targets, report.reliability.excluded_targets) == (3, 1)
    assert report.reliability.value is not None
    assert [(r.rater_ids, r.reason) for r in report.reliability_by_panel] == [
        ((1, 2, 3), None),
        ((1, 2), "fewer than 2 targets"),
    ]


@pytest.mark.parametrize(
    ("ratings", "reason"),
    [
        (((1,), (2,), (3,)), "fewer than 2 raters"),
        (((1, 2, 3),), "fewer than 2 targets"),
        ((), "fewer than 2 raters"),
        (((5, 5), (5, 5)), "scores do not vary"),
    ],
)
def test_icc_not_computable(ratings, reason):
    figure = icc_2k(ratings)
    assert (figure.value, figure.reason) == (None, reason)


def test_round_reliability_not_computable_says_why():
    one_target = compute_round(
        framework(("A1", 10)), [SchoolInput(school_id=1, expert_scores={"A1": panel(5, 6)})], MEAN
    )
    assert round_consistency(one_target).reliability.reason == "fewer than 2 targets"

    one_rater = compute_round(
        framework(("A1", 10)),
        [SchoolInput(school_id=i, expert_scores={"A1": panel(i)}) for i in (1, 2, 3)],
        MEAN,
    )
    reliability = round_consistency(one_rater).reliability
    assert reliability.value is None
    assert reliability.reason == "no target rated by the same 2 or more raters"
    assert reliability.excluded_targets == 3
