"""Consistency statistics: spread, leniency and ICC(2,k), checked by hand and on the
Shrout & Fleiss (1979) textbook data. No database, no Django."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import consistency
from scoring.consistency import (
    LeafSpread,
    _build,
    _fast_round_consistency,
    _reference_round_consistency,
    _std_units,
    icc_2k,
    round_consistency,
    spread_and_std,
)
from scoring.engine import (
    EvaluatorScore,
    Framework,
    Method,
    Node,
    OverrideScore,
    RoundConfig,
    SchoolInput,
    ScoreColumns,
    compute_round,
)

D = Decimal
MEAN = RoundConfig(method=Method.MEAN)
TRIMMED = RoundConfig(method=Method.TRIMMED_MEAN)

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


# --- the array fast path against the Decimal reference ---------------------------------------
#
# round_consistency runs on integer-cent numpy arrays; _reference_round_consistency is the
# plain Decimal loop that defines the figures. They must agree exactly: repr() of the
# reports compares every Decimal with its exponent and sign (2.5 vs 2.50, -0.0000) and
# every float bit for bit.


def same_report(result) -> str:
    fast = round_consistency(result)
    assert repr(fast) == repr(_reference_round_consistency(result))
    return fast


POOL = (3, 7, 11, 12, 40, 41, 99, 100, 101)
MAXES = ("1", "2.5", "3", "10", "3.333")


@st.composite
def points_in_cents(draw, top: Decimal) -> Decimal:
    cents = draw(st.integers(0, int(top * 100)))
    if draw(st.booleans()):
        return D(cents) / 100  # normalised exponent: 2.5, 3
    return D(f"{cents // 100}.{cents % 100:02d}")  # two places: 2.50, 3.00


@st.composite
def consistency_rounds(draw):
    maxes = draw(st.lists(st.sampled_from(MAXES), min_size=1, max_size=4))
    leaves = [(f"A{i + 1}", D(m)) for i, m in enumerate(maxes)]
    total = sum((m for _, m in leaves), D(0))
    fw = Framework(
        nodes=(
            Node(code="A", max_points=total),
            *(Node(code=c, parent_code="A", max_points=m) for c, m in leaves),
        ),
        total_points=total,
    )
    pool = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=len(POOL), unique=True))
    school_ids = draw(st.lists(st.integers(1, 500), min_size=1, max_size=6, unique=True))
    schools = []
    for sid in school_ids:
        expert, consensus, audit = {}, {}, {}
        for code, top in leaves:
            row = []
            for e in pool:
                kind = draw(st.sampled_from(["points"] * 6 + ["na", "unanswered", "absent"]))
                if kind == "points":
                    row.append(EvaluatorScore(e, draw(points_in_cents(top))))
                elif kind == "na":
                    row.append(EvaluatorScore(e, None, True))
                elif kind == "unanswered":
                    row.append(EvaluatorScore(e, None))
            expert[code] = tuple(draw(st.permutations(row)))
            override = draw(st.integers(0, 9))
            if override == 0:
                consensus[code] = OverrideScore(draw(points_in_cents(top)), "meeting")
            elif override == 1:
                audit[code] = OverrideScore(None, "no such facility", True)
        schools.append(
            SchoolInput(
                school_id=sid,
                expert_scores=expert,
                consensus_scores=consensus,
                audit_scores=audit,
                expected_evaluator_ids=tuple(pool),
            )
        )
    config = RoundConfig(
        method=draw(st.sampled_from(list(Method))),
        trim_min_count=draw(st.integers(3, 6)),
        spread_threshold=D(draw(st.sampled_from(["0", "0.1", "0.3"]))),
    )
    return compute_round(fw, schools, config)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistency_rounds())
def test_fast_path_equals_the_decimal_reference(result):
    numeric = any(
        s.points is not None
        for inp in result.inputs.values()
        for row in inp.expert_scores.values()
        for s in row
    )
    # whole cents: the fast path answers itself (None would mean the reference stood in)
    assert (_fast_round_consistency(result) is not None) == numeric
    same_report(result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistency_rounds())
def test_scores_given_as_columns_give_the_same_statistics(result):
    """Stored result sets hand their scores over as ScoreColumns (the loader's form)."""
    as_columns = [
        SchoolInput(
            school_id=inp.school_id,
            expert_scores={
                code: ScoreColumns(
                    tuple(s.evaluator_id for s in row),
                    tuple(s.points for s in row),
                    tuple(s.not_applicable for s in row),
                )
                for code, row in inp.expert_scores.items()
            },
            consensus_scores=inp.consensus_scores,
            audit_scores=inp.audit_scores,
            expected_evaluator_ids=inp.expected_evaluator_ids,
        )
        for inp in result.inputs.values()
    ]
    again = compute_round(result.framework, as_columns, result.config)
    assert repr(same_report(again)) == repr(round_consistency(result))


def test_fast_path_on_a_larger_random_round():
    rnd = random.Random(7)
    leaves = [(f"A{i}", D(rnd.choice(MAXES))) for i in range(20)]
    total = sum((m for _, m in leaves), D(0))
    fw = Framework(
        nodes=(
            Node(code="A", max_points=total),
            *(Node(code=c, parent_code="A", max_points=m) for c, m in leaves),
        ),
        total_points=total,
    )
    schools = []
    for sid in rnd.sample(range(1, 1000), 40):
        expert = {}
        for code, top in leaves:
            row = [
                EvaluatorScore(e, D(rnd.randint(0, int(top * 100))) / 100)
                if rnd.random() > 0.08
                else EvaluatorScore(e, None, rnd.random() < 0.5)
                for e in range(1, 8)
            ]
            rnd.shuffle(row)
            expert[code] = tuple(row)
        schools.append(SchoolInput(school_id=sid, expert_scores=expert))
    for method in Method:
        same_report(compute_round(fw, schools, RoundConfig(method=method)))


def test_leniency_exactly_on_a_rounding_half_follows_the_decimal_reference():
    # 200 schools, one 10-point leaf, mean of 3. On 3 schools e1 gives 5.00 against 5.00
    # and 4.99: mean 14.99 / 3, e1's gap 0.01 / 3; elsewhere all agree (gap 0). The exact
    # mean gap is 0.03 / 3 / 200 = 0.00005, a rounding half, but the reference adds three
    # 34-digit thirds (0.00999…9) and so rounds to 0.0000. The fast path sees it cannot
    # decide from floats and redoes that evaluator in Decimal.
    schools = [
        SchoolInput(
            school_id=i,
            expert_scores={"A1": panel("5.00", "5.00", "4.99" if i <= 3 else "5.00")},
        )
        for i in range(1, 201)
    ]
    report = same_report(compute_round(framework(("A1", 10)), schools, MEAN))

    assert report.evaluators[0].leniency == D("0.0000")
    assert report.evaluators[0].compared_count == 200


def test_a_small_negative_leniency_keeps_its_sign():
    # e1 is 0.01 below e2 on 1 school of 1000: mean gap −0.005 / 1000, shown as −0.0000
    schools = [
        SchoolInput(school_id=i, expert_scores={"A1": panel("5.00", "5.01" if i == 1 else "5")})
        for i in range(1, 1001)
    ]
    report = same_report(compute_round(framework(("A1", 10)), schools, MEAN))

    assert str(report.evaluators[0].leniency) == "-0.0000"


@pytest.mark.parametrize("odd", ["6.125", "-0", "5.000000000000000000"])
def test_points_the_cent_arrays_cannot_hold_use_the_reference(odd):
    # finer than a cent; a negative zero; an exponent beyond the packed range
    inp = SchoolInput(school_id=1, expert_scores={"A1": panel(odd, "7", "8.5")})
    result = compute_round(framework(("A1", 10)), [inp], MEAN)

    assert _fast_round_consistency(result) is None
    same_report(result)


def test_minimum_maximum_and_spread_keep_their_decimal_exponents():
    # 2.50 (e1) and 2.5 (e2) tie for lowest: min() keeps the first, 2.50; 3 − 2.50 = 0.50
    inp = SchoolInput(school_id=1, expert_scores={"A1": panel("2.50", "2.5", "3")})
    row = same_report(compute_round(framework(("A1", 10)), [inp], MEAN)).spreads[0]

    assert (str(row.minimum), str(row.maximum), str(row.spread)) == ("2.50", "3", "0.50")


def test_not_applicable_majority_stops_trimming_even_with_enough_numbers():
    # 5 numbers and 6 not-applicable marks: the leaf is not applicable, nothing is dropped
    na = tuple(EvaluatorScore(e, None, True) for e in range(6, 12))
    inp = SchoolInput(school_id=1, expert_scores={"A1": panel(1, 5, 5, 5, 9) + na})
    report = same_report(compute_round(framework(("A1", 10)), [inp], TRIMMED))

    assert all(e.dropped_count == 0 for e in report.evaluators)


def test_trimming_names_the_engine_s_evaluators_on_ties():
    # 3 3 7 7 7 (ids 5 4 3 2 1 after shuffling the tuple): drop e4 (lowest id among the
    # 3s) and e3 (highest id among the 7s)
    scores = (
        EvaluatorScore(3, D(7)),
        EvaluatorScore(5, D(3)),
        EvaluatorScore(1, D(7)),
        EvaluatorScore(4, D(3)),
        EvaluatorScore(2, D(7)),
    )
    inp = SchoolInput(school_id=1, expert_scores={"A1": scores})
    report = same_report(compute_round(framework(("A1", 10)), [inp], TRIMMED))

    assert [e.evaluator_id for e in report.evaluators if e.dropped_count] == [3, 4]


def test_more_raters_than_a_bit_mask_holds():
    evaluators = range(1, 71)
    schools = [
        SchoolInput(
            school_id=i,
            expert_scores={"A1": tuple(EvaluatorScore(e, D((e * i) % 11)) for e in evaluators)},
        )
        for i in (1, 2, 3)
    ]
    report = same_report(compute_round(framework(("A1", 10)), schools, TRIMMED))

    assert report.reliability.k == 70


def test_std_units_marks_an_exact_half_for_the_decimal_reference():
    # n = 32, Σc = 4, Σc² = 1: Q = 32 − 16 = 16, √(4·10⁴·16) = 800 = 32 × 25, exactly
    # 12.5 units of 0.0001 → handed back as −1; next to it an ordinary row (√2 → 1.4142)
    n = np.array([32, 5])
    s1 = np.array([4, 4000])
    s2 = np.array([1, 3_300_000])  # 600 700 800 900 1000 cents: Q = 500,000, std 1.4142
    assert _std_units(n, s1, s2, 1000).tolist() == [-1, 14142]


def test_build_by_columns_makes_what_init_makes():
    columns = {
        "school_id": [1, 2],
        "leaf_code": ["A1", "A2"],
        "count": [3, 2],
        "minimum": [D("2.50"), D(1)],
        "maximum": [D(3), D("1.5")],
        "spread": [D("0.50"), D("0.5")],
        "std": [D("0.2357"), D("0.2500")],
        "threshold": [D("3.0"), D("0.45")],
        "flagged": [False, True],
    }
    built = _build(LeafSpread, 2, lambda: columns)
    rows = zip(*columns.values(), strict=True)
    by_init = [LeafSpread(**dict(zip(columns, row, strict=True))) for row in rows]

    assert built == by_init
    assert repr(built) == repr(by_init)
    assert [hash(b) for b in built] == [hash(b) for b in by_init]
    with pytest.raises(TypeError, match="columns"):
        _build(LeafSpread, 2, lambda: {k: v for k, v in columns.items() if k != "std"})
    with pytest.raises(ValueError, match="length"):
        _build(LeafSpread, 2, lambda: {**columns, "count": [3]})


def test_build_of_a_class_without_slots_goes_through_init():
    @dataclass(frozen=True)
    class Plain:
        value: int

    assert _build(Plain, 2, lambda: {"value": [1, 2]}) == [Plain(1), Plain(2)]


def test_build_runs_post_init_where_there_is_one():
    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    assert _build(Checked, 2, lambda: {"value": [1, 2]}) == [Checked(1), Checked(2)]
    with pytest.raises(ValueError, match="negative"):
        _build(Checked, 2, lambda: {"value": [1, -1]})


def test_a_leaf_max_too_fine_for_float_division_rates_in_decimal():
    # 100 × the max's numerator exceeds 2⁵³, so p ÷ max is taken in Decimal, like the
    # reference does
    top = "3.333333333333333333"
    schools = [
        SchoolInput(school_id=i, expert_scores={"A1": panel(*row)})
        for i, row in enumerate([("1.5", "2", "2.25"), ("3", "2.75", "3.33"), ("0", "1", "0.5")])
    ]
    fw = Framework(
        nodes=(
            Node(code="A", max_points=D(top)),
            Node(code="A1", parent_code="A", max_points=D(top)),
        ),
        total_points=D(top),
    )
    report = same_report(compute_round(fw, schools, MEAN))

    assert report.reliability.value is not None


def test_a_std_on_a_rounding_half_is_taken_from_spread_and_std(monkeypatch):
    # no panel of whole cents seems to land exactly on a half, so pretend one does
    real = consistency._std_units

    def with_a_half(*args):
        units = real(*args)
        units[0] = -1
        return units

    monkeypatch.setattr(consistency, "_std_units", with_a_half)
    inp = SchoolInput(school_id=1, expert_scores={"A1": panel(6, 7, 8, 9, 10), "A2": panel(7, 8)})
    report = same_report(compute_round(framework(("A1", 10), ("A2", 10)), [inp], MEAN))

    assert report.spreads[0].std == D("1.4142")
