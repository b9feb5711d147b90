"""Properties of the scoring engine that hold for any framework and any answers
(hypothesis); the worked examples are in test_engine.py."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import (
    UNQUALIFIED,
    EvaluatorScore,
    Framework,
    Layer,
    Method,
    Node,
    NodeStatus,
    OverrideScore,
    RoundConfig,
    SchoolInput,
    ScoreColumns,
    ScoreRow,
    compute_round,
    consolidate_expert_scores,
    explain,
)
from tests.scoring.test_engine import node

D = Decimal
TRIMMED = RoundConfig(method=Method.TRIMMED_MEAN)
MEAN = RoundConfig(method=Method.MEAN)
MEDIAN = RoundConfig(method=Method.MEDIAN)


# --- properties ---------------------------------------------------------------------------

EVALUATORS = (1, 2, 3, 4, 5, 6)


@st.composite
def frameworks(draw) -> Framework:
    """Random 3-level trees; about half the indicators use weights summing to exactly 1."""
    nodes: list[Node] = []
    total = D(0)
    for d in range(draw(st.integers(1, 3))):
        dim = "ABC"[d]
        dim_max = D(0)
        children: list[Node] = []
        for i in range(draw(st.integers(1, 3))):
            ind = f"{dim}{i + 1}"
            maxes = draw(st.lists(st.integers(1, 10), min_size=1, max_size=3))
            weights: list[Decimal | None] = [None] * len(maxes)
            if draw(st.booleans()):
                raw = draw(st.lists(st.integers(1, 5), min_size=len(maxes), max_size=len(maxes)))
                weights = [round(D(k) / sum(raw), 4) for k in raw[:-1]]
                weights.append(1 - sum(weights, D(0)))
            ind_max = D(sum(maxes))
            children.append(node(ind, ind_max, dim, order=i))
            for j, (m, w) in enumerate(zip(maxes, weights, strict=True)):
                children.append(node(f"{ind}.{j + 1}", m, ind, order=j, weight=w))
            dim_max += ind_max
        nodes.append(node(dim, dim_max, order=d))
        nodes.extend(children)
        total += dim_max
    leaves = [n for n in nodes if "." in n.code]
    veto = draw(st.sampled_from(leaves))
    nodes = [
        Node(
            code=n.code,
            parent_code=n.parent_code,
            max_points=n.max_points,
            weight=n.weight,
            order=n.order,
            is_veto=n is veto,
        )
        for n in nodes
    ]
    return Framework(nodes=tuple(nodes), total_points=total)


def leaves_of(fw: Framework) -> list[Node]:
    parents = {n.parent_code for n in fw.nodes}
    return [n for n in fw.nodes if n.code not in parents]


@st.composite
def answers(draw, max_points: Decimal) -> EvaluatorScore | None:
    """Mostly points in 0.01 steps; sometimes not applicable, sometimes nothing yet."""
    kind = draw(st.sampled_from(["points"] * 8 + ["na", "missing"]))
    if kind == "missing":
        return None
    if kind == "na":
        return EvaluatorScore(0, None, True)
    cents = draw(st.integers(0, int(max_points * 100)))
    return EvaluatorScore(0, D(cents) / 100)


@st.composite
def rounds(draw):
    fw = draw(frameworks())
    schools = []
    for sid in range(1, draw(st.integers(1, 4)) + 1):
        expert = {}
        overrides = {}
        for leaf in leaves_of(fw):
            size = draw(st.integers(0, len(EVALUATORS)))
            row = []
            for e in EVALUATORS[:size]:
                a = draw(answers(leaf.max_points))
                if a is not None:
                    row.append(EvaluatorScore(e, a.points, a.not_applicable))
            expert[leaf.code] = tuple(row)
            if draw(st.integers(0, 9)) == 0:
                cents = draw(st.integers(0, int(leaf.max_points * 100)))
                overrides[leaf.code] = OverrideScore(D(cents) / 100, "consensus")
        schools.append(
            SchoolInput(
                school_id=sid,
                group=draw(st.sampled_from(["public", "private"])),
                expert_scores=expert,
                consensus_scores=overrides,
                expected_evaluator_ids=EVALUATORS,
            )
        )
    config = RoundConfig(
        method=draw(st.sampled_from(list(Method))),
        tie_break_by_dimension=draw(st.booleans()),
        veto_ranks_last=draw(st.booleans()),
    )
    return fw, schools, config


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(rounds())
def test_totals_stay_within_zero_and_the_framework_total(case):
    fw, schools, config = case
    for outcome in compute_round(fw, schools, config).schools:
        assert D(0) <= outcome.total_exact <= fw.total_points
        assert D(0) <= outcome.total <= fw.total_points


@PROPERTY_SETTINGS
@given(rounds(), st.randoms(use_true_random=False))
def test_permuting_evaluators_changes_nothing(case, rnd: random.Random):
    fw, schools, config = case
    shuffled = [
        SchoolInput(
            school_id=s.school_id,
            group=s.group,
            expert_scores={
                code: tuple(rnd.sample(row, len(row))) for code, row in s.expert_scores.items()
            },
            consensus_scores=s.consensus_scores,
            expected_evaluator_ids=tuple(rnd.sample(s.expected_evaluator_ids, len(EVALUATORS))),
        )
        for s in rnd.sample(schools, len(schools))
    ]
    before = compute_round(fw, schools, config)
    after = compute_round(fw, shuffled, config)
    assert after.schools == before.schools
    assert after.missing == before.missing
    for s in before.schools:
        for leaf in leaves_of(fw):
            assert explain(after, s.school_id, leaf.code) == explain(before, s.school_id, leaf.code)


@PROPERTY_SETTINGS
@given(rounds())
def test_scores_given_as_columns_compute_and_explain_the_same(case):
    """The loaders' column form is the same input as a tuple of scores, to the digit."""
    fw, schools, config = case
    as_columns = [
        SchoolInput(
            school_id=s.school_id,
            group=s.group,
            expert_scores={
                code: ScoreColumns(
                    tuple(r.evaluator_id for r in row),
                    tuple(r.points for r in row),
                    tuple(r.not_applicable for r in row),
                )
                for code, row in s.expert_scores.items()
            },
            consensus_scores=s.consensus_scores,
            expected_evaluator_ids=s.expected_evaluator_ids,
        )
        for s in schools
    ]
    before = compute_round(fw, schools, config)
    after = compute_round(fw, as_columns, config)
    assert after.schools == before.schools
    assert after.missing == before.missing
    for s in before.schools:
        for leaf in leaves_of(fw):
            assert explain(after, s.school_id, leaf.code) == explain(before, s.school_id, leaf.code)


def test_score_columns_iterate_as_score_rows():
    columns = ScoreColumns((7, 9), (D("1.5"), None), (False, True))
    assert len(columns) == 2
    assert list(columns) == [ScoreRow(7, D("1.5"), False), ScoreRow(9, None, True)]
    assert columns[1] == ScoreRow(9, None, True)
    assert columns[-2] == ScoreRow(7, D("1.5"), False)


@given(
    st.integers(0, 1000).map(lambda c: D(c) / 100),
    st.integers(1, 9),
)
def test_trimmed_mean_equals_mean_when_all_evaluators_agree(points, size):
    row = tuple(EvaluatorScore(e, points) for e in range(size))
    trimmed = consolidate_expert_scores(row, method=Method.TRIMMED_MEAN)
    mean = consolidate_expert_scores(row, method=Method.MEAN)
    assert trimmed.value == mean.value == points


@PROPERTY_SETTINGS
@given(rounds(), st.data())
def test_raising_one_leaf_score_never_lowers_the_total(case, data):
    fw, schools, config = case
    target = data.draw(st.sampled_from(schools))
    maxes = {n.code: n.max_points for n in leaves_of(fw)}
    scored = [
        (code, i)
        for code, row in target.expert_scores.items()
        for i, s in enumerate(row)
        if s.points is not None
    ]
    if not scored:
        return
    code, i = data.draw(st.sampled_from(scored))
    old = target.expert_scores[code][i]
    cents = data.draw(st.integers(int(old.points * 100), int(maxes[code] * 100)))
    row = list(target.expert_scores[code])
    row[i] = EvaluatorScore(old.evaluator_id, D(cents) / 100)
    raised = SchoolInput(
        school_id=target.school_id,
        group=target.group,
        expert_scores={**target.expert_scores, code: tuple(row)},
        consensus_scores=target.consensus_scores,
        expected_evaluator_ids=target.expected_evaluator_ids,
    )
    others = [s for s in schools if s is not target]
    before = compute_round(fw, schools, config).school(target.school_id)
    after = compute_round(fw, [*others, raised], config).school(target.school_id)
    assert after.total_exact >= before.total_exact
    assert after.total >= before.total


@PROPERTY_SETTINGS
@given(rounds())
def test_a_failed_veto_always_yields_unqualified(case):
    fw, schools, config = case
    for outcome in compute_round(fw, schools, config).schools:
        if outcome.veto_failed:
            assert outcome.grade == UNQUALIFIED
        veto_codes = {n.code for n in fw.nodes if n.is_veto}
        for code in veto_codes:
            leaf = outcome.nodes[code]
            below = leaf.score_exact is not None and leaf.score_exact < leaf.max_points
            if leaf.status == NodeStatus.SCORED and below:
                assert code in outcome.veto_failed


@PROPERTY_SETTINGS
@given(rounds())
def test_fast_consolidation_agrees_with_the_explained_one(case):
    fw, schools, config = case
    result = compute_round(fw, schools, config)
    for s in schools:
        for code in s.expert_scores:
            outcome = result.school(s.school_id).nodes[code]
            if outcome.layer == Layer.EXPERT or outcome.status == NodeStatus.NOT_SCORED:
                detail = explain(result, s.school_id, code).expert
                assert detail.status == outcome.status
                assert detail.value == (
                    outcome.score_exact if outcome.applicable and outcome.layer else None
                )


@PROPERTY_SETTINGS
@given(rounds())
def test_ranks_are_competition_ranks(case):
    fw, schools, config = case
    result = compute_round(fw, schools, config)
    ranks = [s.rank for s in result.schools]
    assert ranks == sorted(ranks)
    for position, s in enumerate(result.schools, start=1):
        assert s.rank == 1 + sum(1 for other in ranks if other < s.rank)
        assert s.rank <= position
