"""Framework validation reports every problem, each with its indicator code."""

import dataclasses
from decimal import Decimal

from rounds.validation import validate_nodes
from tests.factories import small_tree


def specs(rows):  # noqa: ANN001, ANN201
    return [row.as_spec() for row in rows]


def test_the_small_tree_is_valid():
    assert validate_nodes(specs(small_tree()), total_points=Decimal(100)) == []


def test_a_broken_framework_reports_every_problem():
    rows = small_tree()
    by_code = {row.code: row for row in rows}
    # 1: an observation point with too many points (B1 children no longer sum to 25,
    #    and the leaves no longer sum to 100)
    by_code["B1.1"] = dataclasses.replace(by_code["B1.1"], max_points=Decimal("15"))
    # 2: an observation point without a method
    by_code["C1.2"] = dataclasses.replace(by_code["C1.2"], method="")
    # 3: an unknown tag
    by_code["D1"] = dataclasses.replace(by_code["D1"], tags=("nonsense",))
    # 4: a veto item that is not an observation point
    by_code["C1"] = dataclasses.replace(by_code["C1"], is_veto=True)
    broken = list(by_code.values())
    # 5: a duplicate code, 6: an orphan whose parent does not exist
    broken.append(dataclasses.replace(by_code["A1.2"]))
    broken.append(dataclasses.replace(by_code["A1.2"], code="X9.1", parent_code="X9"))

    problems = validate_nodes(specs(broken), total_points=Decimal(100))

    found = {(problem.code, problem.indicator_code) for problem in problems}
    assert found == {
        ("children_points", "B1"),
        ("method", "C1.2"),
        ("unknown_tag", "D1"),
        ("veto_not_leaf", "C1"),
        ("duplicate_code", "A1.2"),
        ("unknown_parent", "X9.1"),
        ("leaf_total", ""),
    }
    assert all(problem.message for problem in problems)


def test_missing_dimension_and_wrong_total_are_reported():
    rows = [row for row in small_tree() if not row.code.startswith("D")]
    problems = validate_nodes(specs(rows), total_points=Decimal(100))
    assert {problem.code for problem in problems} == {
        "dimension_count",
        "children_points",
        "leaf_total",
    }


def test_weights_must_sum_to_one_where_used():
    rows = small_tree()
    weighted = [
        dataclasses.replace(row, weight=Decimal("0.6") if row.code == "A1.1" else Decimal("0.3"))
        if row.parent_code == "A1"
        else row
        for row in rows
    ]
    problems = validate_nodes(specs(weighted), total_points=Decimal(100))
    assert [(p.code, p.indicator_code) for p in problems] == [("weights_sum", "A1")]

    partial = [
        dataclasses.replace(row, weight=Decimal("1")) if row.code == "A1.1" else row for row in rows
    ]
    problems = validate_nodes(specs(partial), total_points=Decimal(100))
    assert [(p.code, p.indicator_code) for p in problems] == [("weights_partial", "A1")]


def test_weights_summing_to_one_are_valid():
    rows = [
        dataclasses.replace(row, weight=Decimal("0.5")) if row.parent_code == "A1" else row
        for row in small_tree()
    ]
    assert validate_nodes(specs(rows), total_points=Decimal(100)) == []


def test_grade_bands_must_descend_to_zero():
    bands = [
        {"grade": "excellent", "min": "80"},
        {"grade": "good", "min": "90"},
        {"grade": "unqualified", "min": "10"},
    ]
    problems = validate_nodes(specs(small_tree()), total_points=Decimal(100), grade_bands=bands)
    assert [p.code for p in problems] == ["grade_bands", "grade_bands"]
