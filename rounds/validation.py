"""Framework validation over plain node data (no database access).

The same checks run on a framework stored in the database and on rows about
to be imported, so an import is refused for exactly the reasons a stored
framework would be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from rounds.enums import FocusTag, Grade, IndicatorMethod

DIMENSION_COUNT = 4
WEIGHT_TOLERANCE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class NodeSpec:
    code: str
    parent_code: str | None
    max_points: Decimal
    weight: Decimal | None = None
    method: str = ""
    is_veto: bool = False
    veto_pass_mark: Decimal | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a framework, named by its indicator code and field."""

    code: str
    message: str
    indicator_code: str = ""
    field: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message": self.message,
            "indicator_code": self.indicator_code,
            "field": self.field,
        }


def validate_nodes(
    nodes: Sequence[NodeSpec], *, total_points: Decimal, grade_bands: Iterable[dict] = ()
) -> list[Problem]:
    """Every problem of the tree, in code order; an empty list means valid.

    Checks: codes unique, parents exist, no cycles, exactly four dimensions,
    leaves are observation points (level 3 or deeper) with a method and
    positive points, children's points sum to their parent's (sum mode) or
    their weights sum to 1 (weighted mode), leaf points sum to the total,
    veto only on leaves with a pass mark within range, known focus tags, and
    grade bands that descend from at most the total down to 0.
    """
    problems: list[Problem] = []
    by_code: dict[str, NodeSpec] = {}
    for node in nodes:
        if node.code in by_code:
            problems.append(
                Problem(
                    "duplicate_code",
                    _("Code %(code)s appears more than once.") % {"code": node.code},
                    node.code,
                    "code",
                )
            )
        else:
            by_code[node.code] = node

    children: dict[str | None, list[NodeSpec]] = defaultdict(list)
    orphans: set[str] = set()
    for node in by_code.values():
        if node.parent_code is not None and node.parent_code not in by_code:
            orphans.add(node.code)
            problems.append(
                Problem(
                    "unknown_parent",
                    _("Parent %(parent)s of %(code)s does not exist.")
                    % {"parent": node.parent_code, "code": node.code},
                    node.code,
                    "parent",
                )
            )
            continue
        children[node.parent_code].append(node)

    levels = _levels(by_code, problems)

    dimensions = children[None]
    if len(dimensions) != DIMENSION_COUNT:
        problems.append(
            Problem(
                "dimension_count",
                _("A framework has exactly %(expected)d dimensions; this one has %(found)d.")
                % {"expected": DIMENSION_COUNT, "found": len(dimensions)},
                field="parent",
            )
        )

    leaf_total = Decimal(0)
    uses_weights = any(node.weight is not None for node in by_code.values())
    for node in sorted(by_code.values(), key=lambda n: n.code):
        kids = children.get(node.code, [])
        is_leaf = not kids
        if node.max_points <= 0:
            problems.append(
                Problem(
                    "max_points",
                    _("%(code)s: maximum points must be above 0.") % {"code": node.code},
                    node.code,
                    "max_points",
                )
            )
        for tag in node.tags:
            if tag not in FocusTag.values:
                problems.append(
                    Problem(
                        "unknown_tag",
                        _("%(code)s: unknown focus tag “%(tag)s”.")
                        % {"code": node.code, "tag": tag},
                        node.code,
                        "tags",
                    )
                )
        if is_leaf:
            leaf_total += node.max_points
            if node.code not in orphans and levels.get(node.code, 0) < 3:
                problems.append(
                    Problem(
                        "leaf_too_shallow",
                        _(
                            "%(code)s has no children, but only observation points "
                            "(third level or deeper) may be leaves."
                        )
                        % {"code": node.code},
                        node.code,
                        "parent",
                    )
                )
            if node.method not in IndicatorMethod.values:
                problems.append(
                    Problem(
                        "method",
                        _("%(code)s: an observation point needs a scoring method.")
                        % {"code": node.code},
                        node.code,
                        "method",
                    )
                )
            if (
                node.is_veto
                and node.veto_pass_mark is not None
                and not (0 <= node.veto_pass_mark <= node.max_points)
            ):
                problems.append(
                    Problem(
                        "veto_pass_mark",
                        _("%(code)s: the veto pass mark must lie between 0 and the maximum.")
                        % {"code": node.code},
                        node.code,
                        "veto_pass_mark",
                    )
                )
        else:
            if node.is_veto:
                problems.append(
                    Problem(
                        "veto_not_leaf",
                        _("%(code)s: only an observation point can be a veto item.")
                        % {"code": node.code},
                        node.code,
                        "veto",
                    )
                )
            problems.extend(_check_children(node, kids))

    problems.extend(_check_dimensions(dimensions, total_points))
    if not uses_weights and dimensions and leaf_total != total_points:
        problems.append(
            Problem(
                "leaf_total",
                _(
                    "The observation points sum to %(sum)s points, not the framework's "
                    "total of %(total)s."
                )
                % {"sum": leaf_total, "total": total_points},
                field="max_points",
            )
        )
    problems.extend(_check_grade_bands(list(grade_bands), total_points))
    return problems


def _levels(by_code: dict[str, NodeSpec], problems: list[Problem]) -> dict[str, int]:
    levels: dict[str, int] = {}
    for code in by_code:
        seen: list[str] = []
        current: str | None = code
        while current is not None and current in by_code:
            if current in seen:
                problems.append(
                    Problem(
                        "cycle", _("%(code)s is its own ancestor.") % {"code": code}, code, "parent"
                    )
                )
                break
            seen.append(current)
            current = by_code[current].parent_code
        levels[code] = len(seen)
    return levels


def _check_children(parent: NodeSpec, kids: list[NodeSpec]) -> list[Problem]:
    weighted = [kid for kid in kids if kid.weight is not None]
    if not weighted:
        total = sum((kid.max_points for kid in kids), Decimal(0))
        if total != parent.max_points:
            return [
                Problem(
                    "children_points",
                    _("%(code)s: its children's points sum to %(sum)s, not its %(max)s.")
                    % {"code": parent.code, "sum": total, "max": parent.max_points},
                    parent.code,
                    "max_points",
                )
            ]
        return []
    if len(weighted) != len(kids):
        return [
            Problem(
                "weights_partial",
                _("%(code)s: either all or none of its children carry a weight.")
                % {"code": parent.code},
                parent.code,
                "weight",
            )
        ]
    total_weight = sum((kid.weight for kid in weighted), Decimal(0))
    if abs(total_weight - 1) > WEIGHT_TOLERANCE:
        return [
            Problem(
                "weights_sum",
                _("%(code)s: its children's weights sum to %(sum)s, not 1.")
                % {"code": parent.code, "sum": total_weight},
                parent.code,
                "weight",
            )
        ]
    return []


def _check_dimensions(dimensions: list[NodeSpec], total_points: Decimal) -> list[Problem]:
    if not dimensions:
        return []
    pseudo_root = NodeSpec(code="", parent_code=None, max_points=total_points)
    problems = _check_children(pseudo_root, dimensions)
    # Re-word the root-level problem: there is no indicator code to name.
    return [
        Problem(
            problem.code,
            _("The dimensions' points sum to %(sum)s, not the framework's total of %(total)s.")
            % {"sum": sum((d.max_points for d in dimensions), Decimal(0)), "total": total_points}
            if problem.code == "children_points"
            else problem.message.lstrip(": "),
            "",
            problem.field,
        )
        for problem in problems
    ]


def _check_grade_bands(bands: list[dict], total_points: Decimal) -> list[Problem]:
    if not bands:
        return []
    problems: list[Problem] = []
    try:
        minimums = [Decimal(str(band["min"])) for band in bands]
        grades = [str(band["grade"]) for band in bands]
    except (KeyError, TypeError, ArithmeticError, ValueError):
        return [
            Problem(
                "grade_bands",
                _("Each grade band needs a grade and a minimum score."),
                field="grade_bands",
            )
        ]

    unknown = [grade for grade in grades if grade not in Grade.values]
    if unknown:
        problems.append(
            Problem(
                "grade_bands",
                _("Unknown grades in the bands: %(grades)s.") % {"grades": ", ".join(unknown)},
                field="grade_bands",
            )
        )
    if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
        problems.append(
            Problem(
                "grade_bands",
                _("Grade bands must go from the highest minimum down."),
                field="grade_bands",
            )
        )
    if minimums[0] > total_points or minimums[-1] != 0:
        problems.append(
            Problem(
                "grade_bands",
                _("Grade band minimums must lie within 0 and the total, the last one 0."),
                field="grade_bands",
            )
        )
    return problems
