"""The pure scoring engine: indicator tree + scores in, totals, grades and ranks out.

Plain Python over frozen dataclasses and ``Decimal``; no Django, no ORM, no floats.
Services load the rows, build the inputs below, call :func:`compute_round` and store
what it returns.

Policies (where DESIGN.md section 4 leaves a choice, this module decides):

* **Layers.** Per observation point (leaf) the expert scores are consolidated with the
  round's method; a leader's consensus score overrides them; a bureau audit score
  overrides both. The winning layer is recorded on the leaf.
* **Trimmed mean.** Drops exactly one highest and one lowest score when at least
  ``RoundConfig.trim_min_count`` (default 5) applicable scores exist; with fewer it
  falls back to the plain mean and the explanation says so. When several evaluators
  share the highest (lowest) value, the one with the highest (lowest) evaluator id is
  reported as dropped; the value is the same either way.
* **Not applicable at the expert layer.** A leaf is not applicable when a strict
  majority of the evaluators who answered it marked it not applicable. Otherwise the
  not-applicable marks are ignored (and listed in the explanation) and the numeric
  scores are consolidated. A consensus or audit override decides on its own.
* **Not applicable rescaling.** A not-applicable child is excluded and its parent is
  rescaled to its own max: sum mode ``Σ applicable scores × parent.max ÷ Σ applicable
  maxes``; weighted mode renormalises the applicable weights. A parent whose children
  are all not applicable is not applicable. The school total is the same roll-up over
  the dimensions towards ``Framework.total_points``.
* **Not scored.** A leaf with no expert score at all and no override is *not scored*:
  it counts 0 towards its parent, it is listed in ``SchoolResult.not_scored`` and the
  school is marked ``incomplete``. A not-scored veto leaf does not fail the veto (no one
  judged it); it is listed in ``SchoolResult.veto_pending`` instead.
* **Missing scores.** Every expected evaluator without an answer (points or
  not-applicable) on a leaf is listed in ``RoundResult.missing``, also when an override
  covers the leaf (``covered_by_override``). A school is ``incomplete`` when it has a
  not-scored leaf or a missing score that no override covers.
* **Veto.** A veto leaf whose consolidated exact score is below its pass mark (default:
  its max) fails; any failed veto grades the school :data:`UNQUALIFIED`.
* **Arithmetic.** Decimal in a local context of 34 significant digits; values are kept
  exact internally and rounded half-up to two places only for presentation (totals,
  subtotals, node scores, self gaps). Grades and ranks use the rounded totals, so two
  schools shown with the same total share a rank.
* **Ranking.** Competition ranking (1, 2, 2, 4) on the rounded total, descending.
  With ``tie_break_by_dimension`` equal totals are ordered by rounded dimension
  subtotals in dimension order (a not-applicable dimension sorts below any score).
  With ``veto_ranks_last`` schools that failed a veto rank after every school that did
  not, and their ``rank_note`` says so. Group ranks apply the same rules per group.
* **Explanations** are built on demand by :func:`explain` from the inputs kept by
  reference in the result (inputs must not be mutated afterwards), so computing a
  round creates no per-node explanation objects.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

__all__ = [
    "DEFAULT_GRADE_BANDS",
    "FALLBACK_TOO_FEW_FOR_TRIM",
    "NOT_APPLICABLE",
    "UNQUALIFIED",
    "ChildContribution",
    "EvaluatorScore",
    "ExpertConsolidation",
    "Explanation",
    "Framework",
    "Layer",
    "Method",
    "MissingScore",
    "Node",
    "NodeResult",
    "NodeStatus",
    "NotApplicable",
    "OverrideScore",
    "RankNote",
    "RollupMode",
    "RoundConfig",
    "RoundResult",
    "SchoolInput",
    "SchoolResult",
    "ScoreColumns",
    "ScoreRow",
    "compute_round",
    "consolidate_expert_scores",
    "explain",
    "round_half_up",
]


# --- Constants and small enums ------------------------------------------------------------

UNQUALIFIED: Final = "unqualified"
DEFAULT_GRADE_BANDS: Final[tuple[tuple[str, Decimal], ...]] = (
    ("excellent", Decimal("90")),
    ("good", Decimal("80")),
    ("qualified", Decimal("60")),
    (UNQUALIFIED, Decimal("0")),
)

TWO_PLACES: Final = Decimal("0.01")
_ZERO: Final = Decimal(0)
_NONE_TYPE: Final = type(None)
_EMPTY: Final[Mapping] = MappingProxyType({})


def _empty() -> Mapping:
    return _EMPTY


# Independent of the caller's thread context; 34 digits keeps repeated thirds exact enough
# that rounding to cents at the end is never disturbed by intermediate rounding.
_CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class NotApplicable(Enum):
    """Marker type for a self score that says "not applicable" (never a magic number)."""

    NOT_APPLICABLE = "not_applicable"

    def __repr__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE: Final = NotApplicable.NOT_APPLICABLE


class Method(StrEnum):
    """How the expert scores of one leaf are consolidated."""

    MEAN = "mean"
    MEDIAN = "median"
    TRIMMED_MEAN = "trimmed_mean"


class Layer(StrEnum):
    """The score layer that decided a leaf."""

    EXPERT = "expert"
    CONSENSUS = "consensus"
    AUDIT = "audit"


class NodeStatus(StrEnum):
    SCORED = "scored"
    NOT_SCORED = "not_scored"  # leaf only: counted as 0, school marked incomplete
    NOT_APPLICABLE = "not_applicable"


class RollupMode(StrEnum):
    SUM = "sum"
    WEIGHTED = "weighted"


class RankNote(StrEnum):
    """Why a ranking row is where it is, when that is not just "by total"."""

    VETO_FAILED_RANKED_LAST = "veto_failed_ranked_last"
    TIE_BROKEN_BY_DIMENSION = "tie_broken_by_dimension"
    TIED = "tied"


FALLBACK_TOO_FEW_FOR_TRIM: Final = "too_few_scores_for_trimming"


def round_half_up(value: Decimal) -> Decimal:
    """Round to two places, half up (2.345 → 2.35): the only rounding the engine does."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP, context=_CONTEXT)


def _round_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_half_up(value)


# --- Inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """One node of the indicator tree: a dimension (no parent), an indicator or a leaf.

    ``weight`` is set on all children of a parent or on none of them: with weights the
    parent is ``parent.max × Σ wᵢ × (scoreᵢ ÷ maxᵢ)``, without it is the sum.
    ``veto_pass_mark`` defaults to the leaf's full max points.
    """

    code: str
    parent_code: str | None = None
    max_points: Decimal
    weight: Decimal | None = None
    order: int = 0
    is_veto: bool = False
    veto_pass_mark: Decimal | None = None

    @property
    def pass_mark(self) -> Decimal:
        return self.max_points if self.veto_pass_mark is None else self.veto_pass_mark


@dataclass(frozen=True, slots=True, kw_only=True)
class Framework:
    """An indicator tree with its total and grade bands (sorted by min score, descending)."""

    nodes: tuple[Node, ...]
    total_points: Decimal = Decimal(100)
    grade_bands: tuple[tuple[str, Decimal], ...] = DEFAULT_GRADE_BANDS

    def __post_init__(self) -> None:
        bands = tuple((code, Decimal(minimum)) for code, minimum in self.grade_bands)
        if not bands:
            raise ValueError("grade_bands must not be empty")
        for (upper_code, upper), (lower_code, lower) in zip(bands, bands[1:], strict=False):
            if not upper > lower:
                raise ValueError(
                    f"grade_bands must be sorted by min score, descending: "
                    f"{upper_code!r} ({upper}) is not above {lower_code!r} ({lower})"
                )
        object.__setattr__(self, "grade_bands", bands)
        object.__setattr__(self, "nodes", tuple(self.nodes))


@dataclass(frozen=True, slots=True)
class EvaluatorScore:
    """One evaluator's answer on one leaf: points, or not applicable, or not yet (None)."""

    evaluator_id: int
    points: Decimal | None
    not_applicable: bool = False

    def __iter__(self) -> Iterator[Any]:
        """Unpack as ``(evaluator_id, points, not_applicable)``, like :class:`ScoreRow`."""
        return iter((self.evaluator_id, self.points, self.not_applicable))

    def __post_init__(self) -> None:
        if self.points is not None:
            if type(self.points) is not Decimal:
                raise TypeError(
                    f"evaluator {self.evaluator_id}: points must be Decimal, "
                    f"got {type(self.points).__name__}"
                )
            if self.not_applicable:
                raise ValueError(
                    f"evaluator {self.evaluator_id}: a score is either points or not applicable"
                )


class ScoreRow(NamedTuple):
    """The unchecked twin of :class:`EvaluatorScore`, for loaders of large rounds.

    A round can hold 300,000 expert scores; a named tuple is built several times
    faster than a validated dataclass. Use it only for points that already are
    ``Decimal`` within range (as read from the database, where a constraint
    holds them); the engine still refuses points outside 0 … max, and a float
    fails at the first addition with a Decimal.
    """

    evaluator_id: int
    points: Decimal | None
    not_applicable: bool = False


@dataclass(frozen=True, slots=True)
class ScoreColumns:
    """One leaf's expert scores as three parallel columns: the loaders' form.

    The same scores as a tuple of :class:`ScoreRow` (iterating or indexing gives those
    rows), kept as columns because the engine reads them by column and a large round
    holds 300,000 scores: no object per score is built. Same caveat as ``ScoreRow``:
    the points are ``Decimal`` within range, as read from the database.
    """

    evaluator_ids: tuple[int, ...]
    points: tuple[Decimal | None, ...]
    not_applicable: tuple[bool, ...]

    def __iter__(self) -> Iterator[ScoreRow]:
        return map(
            ScoreRow._make,
            zip(self.evaluator_ids, self.points, self.not_applicable, strict=True),
        )

    def __len__(self) -> int:
        return len(self.evaluator_ids)

    def __getitem__(self, index: int) -> ScoreRow:
        return ScoreRow(self.evaluator_ids[index], self.points[index], self.not_applicable[index])


@dataclass(frozen=True, slots=True)
class OverrideScore:
    """A leader's consensus or a bureau audit score; the justification is mandatory."""

    points: Decimal | None
    justification: str
    not_applicable: bool = False

    def __post_init__(self) -> None:
        if self.not_applicable == (self.points is not None):
            raise ValueError("an override gives either points or not applicable, exactly one")
        if self.points is not None and type(self.points) is not Decimal:
            raise TypeError(f"override points must be Decimal, got {type(self.points).__name__}")
        if not self.justification.strip():
            raise ValueError("an override needs a written justification")


@dataclass(frozen=True, slots=True, kw_only=True)
class SchoolInput:
    """Everything the engine needs about one school in one round, keyed by leaf code."""

    school_id: int
    group: str = ""
    expert_scores: Mapping[str, ScoreColumns | tuple[EvaluatorScore | ScoreRow, ...]] = field(
        default_factory=_empty
    )
    consensus_scores: Mapping[str, OverrideScore] = field(default_factory=_empty)
    audit_scores: Mapping[str, OverrideScore] = field(default_factory=_empty)
    self_scores: Mapping[str, Decimal | NotApplicable] = field(default_factory=_empty)
    expected_evaluator_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundConfig:
    """Per-round choices.

    ``spread_threshold`` is a fraction of the leaf's max points: the consistency report
    flags a leaf whose expert spread (max − min) exceeds ``threshold × leaf max``
    (default 0.3, i.e. more than 30 %, e.g. more than 0.9 on a 3-point leaf).
    """

    method: Method = Method.TRIMMED_MEAN
    trim_min_count: int = 5
    veto_ranks_last: bool = True
    tie_break_by_dimension: bool = False
    spread_threshold: Decimal = Decimal("0.3")

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        if self.trim_min_count < 3:
            raise ValueError("trim_min_count must be at least 3 so a score remains after trimming")
        if self.spread_threshold < 0:
            raise ValueError("spread_threshold must not be negative")


# --- Outputs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissingScore:
    """An expected evaluator has not answered a leaf for a school."""

    school_id: int
    evaluator_id: int
    leaf_code: str
    covered_by_override: bool = False


@dataclass(frozen=True, slots=True)
class NodeResult:
    """The outcome for one node of one school; ``score_exact`` is None when not applicable."""

    code: str
    max_points: Decimal
    score_exact: Decimal | None
    status: NodeStatus
    layer: Layer | None = None  # leaves only; None for parents and not-scored leaves

    @property
    def score(self) -> Decimal | None:
        """Rounded half-up to two places, for presentation."""
        return _round_or_none(self.score_exact)

    @property
    def applicable(self) -> bool:
        return self.status is not NodeStatus.NOT_APPLICABLE


@dataclass(frozen=True, slots=True, kw_only=True)
class SchoolResult:
    school_id: int
    group: str
    total: Decimal
    total_exact: Decimal
    grade: str
    veto_failed: tuple[str, ...]
    veto_pending: tuple[str, ...]
    rank: int
    group_rank: int
    rank_note: RankNote | None
    dimension_subtotals: Mapping[str, Decimal | None]
    nodes: Mapping[str, NodeResult]
    self_subtotals: Mapping[str, Decimal | None]
    self_gap: Mapping[str, Decimal | None]  # self subtotal − final subtotal, per dimension
    not_scored: tuple[str, ...]
    incomplete: bool

    @property
    def rank_text(self) -> str:
        """A short English reading of ``rank_note``; the Django layer translates the code."""
        if self.rank_note is RankNote.VETO_FAILED_RANKED_LAST:
            return (
                f"failed veto {', '.join(self.veto_failed)}; "
                "ranked after every school without a failed veto"
            )
        if self.rank_note is RankNote.TIE_BROKEN_BY_DIMENSION:
            return "total tied with another school; order decided by dimension subtotals"
        if self.rank_note is RankNote.TIED:
            return "shares its rank with another school (same rounded total)"
        return ""


@dataclass(frozen=True, slots=True)
class ExpertConsolidation:
    """The expert layer of one leaf, in full detail (what :func:`explain` shows)."""

    status: NodeStatus
    value: Decimal | None
    method: Method
    method_used: Method | None
    fallback_reason: str | None
    used: tuple[tuple[int, Decimal], ...]  # (evaluator id, points) that entered the figure
    dropped: tuple[tuple[int, Decimal], ...]  # removed by trimming: (lowest, highest)
    not_applicable_votes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChildContribution:
    code: str
    score_exact: Decimal | None
    max_points: Decimal
    applicable: bool
    weight: Decimal | None  # as given in the framework
    effective_weight: Decimal | None  # renormalised over applicable siblings
    contribution: Decimal | None  # what the child adds to the parent's score


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why a number is what it is. ``code`` None means the school total."""

    school_id: int
    code: str | None
    kind: Literal["leaf", "parent", "total"]
    status: NodeStatus
    score_exact: Decimal | None
    score: Decimal | None
    max_points: Decimal
    # leaves
    layer: Layer | None = None
    justification: str = ""
    expert: ExpertConsolidation | None = None
    consensus: OverrideScore | None = None
    audit: OverrideScore | None = None
    missing_evaluators: tuple[int, ...] = ()
    is_veto: bool = False
    pass_mark: Decimal | None = None
    veto_failed: bool = False
    # parents and total
    mode: RollupMode | None = None
    children: tuple[ChildContribution, ...] = ()
    excluded: tuple[str, ...] = ()  # not-applicable children
    rescale_factor: Decimal | None = None  # None when nothing was excluded
    not_scored_leaves: tuple[str, ...] = ()

    @property
    def inputs(self) -> Mapping[int, Decimal]:
        """Evaluator id → points of the applicable expert scores."""
        return dict(self.expert.used) if self.expert else {}

    def as_text(self) -> str:
        """A short English rendering; localised texts belong to the Django layer."""
        name = self.code or "total"
        if self.status is NodeStatus.NOT_APPLICABLE:
            head = f"{name}: not applicable (max {self.max_points})"
        elif self.status is NodeStatus.NOT_SCORED:
            head = f"{name}: not scored, counted as 0 of {self.max_points}"
        else:
            head = f"{name}: {self.score} of {self.max_points}"
        lines = [head]
        if self.kind == "leaf":
            lines.extend(self._leaf_lines())
        else:
            lines.extend(self._parent_lines())
        return "\n".join(lines)

    def _leaf_lines(self) -> list[str]:
        lines: list[str] = []
        expert = self.expert
        if expert is not None:
            if expert.used:
                given = ", ".join(f"#{e}: {p}" for e, p in expert.used)
                lines.append(f"expert scores: {given}")
            if expert.not_applicable_votes:
                voters = ", ".join(f"#{e}" for e in expert.not_applicable_votes)
                lines.append(f"marked not applicable by {voters}")
            if expert.fallback_reason == FALLBACK_TOO_FEW_FOR_TRIM:
                lines.append(
                    f"trimmed mean needs more scores than the {len(expert.used)} given; "
                    "used the mean"
                )
            if expert.dropped:
                (lo_id, lo), (hi_id, hi) = expert.dropped
                lines.append(f"dropped lowest {lo} (#{lo_id}) and highest {hi} (#{hi_id})")
            if expert.method_used is not None and expert.value is not None:
                lines.append(f"expert {expert.method_used}: {round_half_up(expert.value)}")
        if self.missing_evaluators:
            lines.append("missing: " + ", ".join(f"#{e}" for e in self.missing_evaluators))
        if self.layer in (Layer.CONSENSUS, Layer.AUDIT):
            lines.append(f"overridden by {self.layer}: {self.justification}")
        if self.is_veto:
            verdict = "FAILED" if self.veto_failed else "passed"
            if self.status is NodeStatus.NOT_SCORED:
                verdict = "pending"
            elif self.status is NodeStatus.NOT_APPLICABLE:
                verdict = "not applicable"
            lines.append(f"veto item, pass mark {self.pass_mark}: {verdict}")
        return lines

    def _parent_lines(self) -> list[str]:
        lines = [f"{self.mode} of children:"]
        for child in self.children:
            if not child.applicable:
                lines.append(f"  {child.code}: not applicable, excluded")
                continue
            weight = "" if child.effective_weight is None else f" × weight {child.effective_weight}"
            lines.append(
                f"  {child.code}: {child.score_exact} of {child.max_points}{weight}"
                f" → {child.contribution}"
            )
        if self.rescale_factor is not None:
            lines.append(f"excluded {', '.join(self.excluded)}; rescaled by {self.rescale_factor}")
        if self.not_scored_leaves:
            lines.append("not scored (counted 0): " + ", ".join(self.not_scored_leaves))
        return lines


# --- Framework compilation (once per computation) ------------------------------------------


class _Plan:
    """The tree flattened into arrays: pre-order node list, children, post-order parents.

    Index ``root`` (== number of nodes) is the virtual root whose children are the
    dimensions and whose max is the framework total.
    """

    __slots__ = (
        "children",
        "codes",
        "descendant_leaves",
        "dimensions",
        "index",
        "leaf_codes",
        "leaf_dimension",
        "leaves",
        "maxes",
        "nodes",
        "postorder_parents",
        "root",
        "veto_leaves",
        "weight_totals",
        "weighted",
        "weights",
    )

    def __init__(self, framework: Framework) -> None:
        nodes = framework.nodes
        by_code: dict[str, Node] = {}
        for node in nodes:
            if node.code in by_code:
                raise ValueError(f"malformed framework: duplicate code {node.code!r}")
            by_code[node.code] = node
        kids: dict[str | None, list[Node]] = {}
        for node in nodes:
            if node.parent_code is not None and node.parent_code not in by_code:
                raise ValueError(
                    f"malformed framework: node {node.code!r} has unknown parent "
                    f"{node.parent_code!r}"
                )
            kids.setdefault(node.parent_code, []).append(node)
        if None not in kids:
            raise ValueError("malformed framework: no dimension (node without parent)")
        if framework.total_points <= 0:
            raise ValueError("malformed framework: total_points must be positive")

        ordered: list[Node] = []

        def visit(parent: str | None) -> None:
            for child in sorted(kids.get(parent, ()), key=_order_key):
                ordered.append(child)
                visit(child.code)

        visit(None)
        if len(ordered) != len(nodes):
            stray = sorted(set(by_code) - {n.code for n in ordered})
            raise ValueError(f"malformed framework: cycle through {', '.join(stray)}")

        self.nodes = tuple(ordered)
        self.codes = tuple(n.code for n in ordered)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.root = root = len(ordered)
        children: list[tuple[int, ...]] = [
            tuple(self.index[c.code] for c in sorted(kids.get(n.code, ()), key=_order_key))
            for n in ordered
        ]
        children.append(tuple(self.index[c.code] for c in sorted(kids[None], key=_order_key)))
        self.children = tuple(children)
        self.maxes = tuple(n.max_points for n in ordered) + (framework.total_points,)
        self.weights = tuple(n.weight for n in ordered)
        self.dimensions = children[root]
        self.leaves = tuple(i for i in range(root) if not children[i])
        self.leaf_codes = frozenset(self.codes[i] for i in self.leaves)

        for node in ordered:
            if node.max_points <= 0:
                raise ValueError(f"malformed framework: {node.code!r} max_points must be positive")
            if node.weight is not None and node.weight <= 0:
                raise ValueError(f"malformed framework: {node.code!r} weight must be positive")
        weighted: list[bool] = []
        weight_totals: list[Decimal | None] = []
        for i, kid_ids in enumerate(self.children):
            given = [self.weights[k] is not None for k in kid_ids]
            if any(given) and not all(given):
                owner = "the dimensions" if i == root else repr(self.codes[i])
                raise ValueError(
                    f"malformed framework: children of {owner} mix weighted and unweighted nodes"
                )
            weighted.append(bool(kid_ids) and all(given))
            weight_totals.append(
                sum((self.weights[k] for k in kid_ids), _ZERO) if weighted[-1] else None
            )
        self.weighted = tuple(weighted)
        self.weight_totals = tuple(weight_totals)

        veto: list[tuple[int, Decimal]] = []
        for i, node in enumerate(ordered):
            if not node.is_veto:
                continue
            if children[i]:
                raise ValueError(
                    f"malformed framework: veto {node.code!r} must be an observation point"
                )
            if not _ZERO <= node.pass_mark <= node.max_points:
                raise ValueError(
                    f"malformed framework: veto {node.code!r} pass mark outside 0..max_points"
                )
            veto.append((i, node.pass_mark))
        self.veto_leaves = tuple(veto)

        # post-order: reversed pre-order visits every child before its parent
        self.postorder_parents = tuple(i for i in reversed(range(root)) if children[i]) + (root,)
        parent_of = {k: p for p, ks in enumerate(children) for k in ks}
        leaf_dimension: dict[int, int] = {}
        descendant_leaves: list[list[int]] = [[] for _ in range(root + 1)]
        for leaf in self.leaves:
            i = leaf
            while True:
                up = parent_of[i]
                descendant_leaves[up].append(leaf)
                if up == root:
                    leaf_dimension[leaf] = i
                    break
                i = up
        self.leaf_dimension = leaf_dimension
        self.descendant_leaves = tuple(tuple(ds) for ds in descendant_leaves)

    def roll_up(self, values: list[Decimal | None]) -> None:
        """Fill parent slots of ``values`` (leaf slots set; None = not applicable).

        Enforces the roll-up rules: plain sum, or weighted ``max × Σ w·s/m``; excluded
        (not-applicable) children rescale the parent to its max; all excluded → None.
        """
        children, maxes, weights = self.children, self.maxes, self.weights
        weighted, weight_totals = self.weighted, self.weight_totals
        for p in self.postorder_parents:
            if weighted[p]:
                acc = _ZERO
                wsum = _ZERO
                for c in children[p]:
                    v = values[c]
                    if v is not None:
                        w = weights[c]
                        acc += w * v / maxes[c]
                        wsum += w
                if not wsum:
                    values[p] = None
                elif wsum == weight_totals[p]:
                    values[p] = maxes[p] * acc
                else:
                    values[p] = maxes[p] * acc * weight_totals[p] / wsum
            else:
                acc = _ZERO
                applicable_max = _ZERO
                excluded = False
                for c in children[p]:
                    v = values[c]
                    if v is None:
                        excluded = True
                    else:
                        acc += v
                        applicable_max += maxes[c]
                if not excluded:
                    values[p] = acc
                elif not applicable_max:
                    values[p] = None
                else:
                    values[p] = acc * maxes[p] / applicable_max


def _order_key(node: Node) -> tuple[int, str]:
    return (node.order, node.code)


# --- Expert consolidation ------------------------------------------------------------------


def consolidate_expert_scores(
    scores: Iterable[EvaluatorScore], *, method: Method, trim_min_count: int = 5
) -> ExpertConsolidation:
    """Consolidate one leaf's expert scores, keeping every detail for explanations.

    Enforces: majority not-applicable rule, trimmed-mean fallback below
    ``trim_min_count`` scores, deterministic choice of the dropped evaluators. Gives the
    same value as the fast path used by :func:`compute_round`.
    """
    with decimal.localcontext(_CONTEXT):
        used = sorted(
            (s.evaluator_id, s.points)
            for s in scores
            if not s.not_applicable and s.points is not None
        )
        votes = tuple(sorted(s.evaluator_id for s in scores if s.not_applicable))
        used_t = tuple(used)
        n = len(used)
        if 2 * len(votes) > n + len(votes):
            return ExpertConsolidation(
                NodeStatus.NOT_APPLICABLE, None, method, None, None, used_t, (), votes
            )
        if not n:
            return ExpertConsolidation(
                NodeStatus.NOT_SCORED, None, method, None, None, used_t, (), votes
            )
        points = [p for _, p in used]
        dropped: tuple[tuple[int, Decimal], ...] = ()
        fallback = None
        if method is Method.MEDIAN:
            value, used_method = _median(sorted(points)), Method.MEDIAN
        elif method is Method.TRIMMED_MEAN and n >= trim_min_count:
            by_value = sorted(used, key=lambda pair: (pair[1], pair[0]))
            dropped = (by_value[0], by_value[-1])
            value = sum((p for _, p in by_value[1:-1]), _ZERO) / (n - 2)
            used_method = Method.TRIMMED_MEAN
        else:
            if method is Method.TRIMMED_MEAN:
                fallback = FALLBACK_TOO_FEW_FOR_TRIM
            value, used_method = sum(points, _ZERO) / n, Method.MEAN
        return ExpertConsolidation(
            NodeStatus.SCORED, value, method, used_method, fallback, used_t, dropped, votes
        )


def _median(ordered: list[Decimal]) -> Decimal:
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


# --- The computation -----------------------------------------------------------------------


class _Scored:
    """Per-school figures before ranking (internal, mutable, short-lived)."""

    __slots__ = (
        "dims",
        "group",
        "incomplete",
        "inp",
        "nodes",
        "not_scored",
        "self_gap",
        "self_subtotals",
        "total",
        "total_exact",
        "veto_failed",
        "veto_pending",
    )


def compute_round(
    framework: Framework, schools: Sequence[SchoolInput], config: RoundConfig
) -> RoundResult:
    """Score every school of a round: consolidate, roll up, grade, rank.

    Enforces the layering, not-applicable, not-scored, veto, rounding and ranking
    policies of this module. Raises ValueError for a malformed tree, an unknown leaf
    code, a duplicate school or evaluator, or points outside 0..max. Writes nothing.
    """
    with decimal.localcontext(_CONTEXT):
        plan = _Plan(framework)
        seen: set[int] = set()
        missing_rows: list[tuple[int, int, int, bool]] = []
        scored: list[_Scored] = []
        for school in schools:
            if school.school_id in seen:
                raise ValueError(f"school {school.school_id} appears twice")
            seen.add(school.school_id)
            scored.append(_score_school(plan, config, school, missing_rows))
        ranked = _rank(scored, plan, framework, config)
    missing_rows.sort()
    codes = plan.codes
    missing = tuple(
        MissingScore(school_id, evaluator_id, codes[leaf], covered)
        for school_id, leaf, evaluator_id, covered in missing_rows
    )
    return RoundResult(
        schools=ranked,
        missing=missing,
        framework=framework,
        config=config,
        inputs=MappingProxyType({s.school_id: s for s in schools}),
        plan=plan,
    )


def _score_school(
    plan: _Plan,
    config: RoundConfig,
    school: SchoolInput,
    missing_rows: list[tuple[int, int, int, bool]],
) -> _Scored:
    """Consolidate the leaves of one school and roll them up (hot path: ~150 leaves)."""
    sid = school.school_id
    _check_codes(plan, school)
    codes, maxes = plan.codes, plan.maxes
    expert = school.expert_scores
    consensus = school.consensus_scores
    audit = school.audit_scores
    expected = frozenset(school.expected_evaluator_ids)
    method = config.method
    trim_min = config.trim_min_count
    values: list[Decimal | None] = [None] * (plan.root + 1)
    results: dict[str, NodeResult] = {}
    not_scored: list[str] = []
    uncovered_missing = False

    scored_status, na_status = NodeStatus.SCORED, NodeStatus.NOT_APPLICABLE
    audit_layer, consensus_layer, expert_layer = Layer.AUDIT, Layer.CONSENSUS, Layer.EXPERT
    for li in plan.leaves:
        code = codes[li]
        top = maxes[li]
        # columns of (evaluator, points, not applicable), cut without a loop
        scores = expert.get(code, ())
        if type(scores) is ScoreColumns:
            evaluators, given = scores.evaluator_ids, scores.points
            flags = scores.not_applicable
        elif scores:
            evaluators, given, flags = zip(*scores, strict=True)
        else:
            evaluators = given = flags = ()
        if evaluators:
            if any(flags) or not all(given) and _NONE_TYPE in map(type, given):
                # a not-applicable mark or a blank among them: count the answers only
                # (``all`` is the quick test; it is false for a zero too, and
                # ``None in given`` would compare every Decimal with None, slowly)
                pts = [
                    p for p, flag in zip(given, flags, strict=True) if not flag and p is not None
                ]
                answered = [
                    e
                    for e, p, flag in zip(evaluators, given, flags, strict=True)
                    if flag or p is not None
                ]
                na = len(answered) - len(pts)
            else:
                pts, answered, na = list(given), evaluators, 0
            ids = set(answered)
            if len(ids) != len(answered):
                raise ValueError(f"school {sid}, leaf {code}: an evaluator scored it twice")
            n = len(pts)
            if n:
                pts.sort()
                if pts[0] < 0 or pts[-1] > top:
                    raise ValueError(f"school {sid}, leaf {code}: expert points outside 0..{top}")
        else:
            pts, ids, n, na = [], set(), 0, 0

        override = audit.get(code)
        layer = audit_layer
        if override is None:
            override = consensus.get(code)
            layer = consensus_layer
        if expected:
            gone = expected.difference(ids)
            if gone:
                covered = override is not None
                uncovered_missing = uncovered_missing or not covered
                missing_rows.extend((sid, li, e, covered) for e in gone)

        if override is not None:
            if override.not_applicable:
                value, status = None, na_status
            else:
                value, status = override.points, scored_status
                if not _ZERO <= value <= top:
                    raise ValueError(f"school {sid}, leaf {code}: {layer} points outside 0..{top}")
        elif 2 * na > n + na:
            value, status, layer = None, na_status, expert_layer
        elif not n:
            value, status, layer = _ZERO, NodeStatus.NOT_SCORED, None
            not_scored.append(code)
        else:
            layer, status = expert_layer, scored_status
            if method is Method.MEAN or n < trim_min and method is Method.TRIMMED_MEAN:
                value = sum(pts) / n
            elif method is Method.MEDIAN:
                value = _median(pts)  # sorted above
            else:
                value = sum(pts[1:-1]) / (n - 2)
        values[li] = value
        results[code] = NodeResult(code, top, value, status, layer)

    plan.roll_up(values)
    for p in plan.postorder_parents[:-1]:
        v = values[p]
        status = scored_status if v is not None else na_status
        results[codes[p]] = NodeResult(codes[p], maxes[p], v, status)

    veto_failed: list[str] = []
    veto_pending: list[str] = []
    for li, pass_mark in plan.veto_leaves:
        node = results[codes[li]]
        if node.status is NodeStatus.NOT_SCORED:
            veto_pending.append(codes[li])
        elif node.score_exact is not None and node.score_exact < pass_mark:
            veto_failed.append(codes[li])

    record = _Scored()
    record.inp = school
    record.group = school.group
    # a school with nothing applicable at all scores 0 rather than "no total"
    total_exact = values[plan.root] if values[plan.root] is not None else _ZERO
    record.total_exact = total_exact
    record.total = round_half_up(total_exact)
    record.dims = {codes[d]: _round_or_none(values[d]) for d in plan.dimensions}
    record.nodes = {code: results[code] for code in codes}  # pre-order, for display
    record.not_scored = tuple(not_scored)
    record.incomplete = bool(not_scored) or uncovered_missing
    record.veto_failed = tuple(veto_failed)
    record.veto_pending = tuple(veto_pending)
    record.self_subtotals, record.self_gap = _self_assessment(plan, school, values)
    return record


def _check_codes(plan: _Plan, school: SchoolInput) -> None:
    """Reject scores for codes that are not observation points of the framework."""
    for label, mapping in (
        ("expert", school.expert_scores),
        ("consensus", school.consensus_scores),
        ("audit", school.audit_scores),
        ("self", school.self_scores),
    ):
        if mapping and not plan.leaf_codes.issuperset(mapping):
            unknown = sorted(set(mapping) - plan.leaf_codes)
            raise ValueError(
                f"school {school.school_id}: {label} scores for unknown observation points "
                f"{', '.join(unknown)}"
            )


def _self_assessment(
    plan: _Plan, school: SchoolInput, final: list[Decimal | None]
) -> tuple[Mapping[str, Decimal | None], Mapping[str, Decimal | None]]:
    """Roll the self scores up like the final ones; gap = self subtotal − final subtotal.

    A leaf without a self score counts 0; a dimension without any self score has no
    self subtotal and no gap (None), nor does one that is not applicable on either side.
    """
    codes = plan.codes
    if not school.self_scores:
        nothing = MappingProxyType(dict.fromkeys(codes[d] for d in plan.dimensions))
        return nothing, nothing
    values: list[Decimal | None] = [None] * (plan.root + 1)
    answered: set[int] = set()
    for li in plan.leaves:
        given = school.self_scores.get(codes[li])
        if given is None:
            values[li] = _ZERO
            continue
        answered.add(plan.leaf_dimension[li])
        if given is NOT_APPLICABLE:
            continue
        if type(given) is not Decimal:
            raise TypeError(f"school {school.school_id}, leaf {codes[li]}: self score not Decimal")
        if not _ZERO <= given <= plan.maxes[li]:
            raise ValueError(
                f"school {school.school_id}, leaf {codes[li]}: self points outside "
                f"0..{plan.maxes[li]}"
            )
        values[li] = given
    plan.roll_up(values)
    subtotals: dict[str, Decimal | None] = {}
    gaps: dict[str, Decimal | None] = {}
    for d in plan.dimensions:
        own = values[d] if d in answered else None
        subtotals[codes[d]] = _round_or_none(own)
        gaps[codes[d]] = None if own is None or final[d] is None else round_half_up(own - final[d])
    return MappingProxyType(subtotals), MappingProxyType(gaps)


def _grade(bands: tuple[tuple[str, Decimal], ...], total: Decimal, veto_failed: bool) -> str:
    """Grade from the bands on the rounded total; a failed veto is always unqualified."""
    if veto_failed:
        return UNQUALIFIED
    for code, minimum in bands:
        if total >= minimum:
            return code
    return UNQUALIFIED


_NOT_APPLICABLE_LAST: Final = Decimal("Infinity")


def _rank(
    scored: list[_Scored], plan: _Plan, framework: Framework, config: RoundConfig
) -> tuple[SchoolResult, ...]:
    """Competition ranking overall and per group; veto failures last if configured."""
    dim_codes = [plan.codes[d] for d in plan.dimensions]

    def total_key(r: _Scored) -> tuple:
        veto_block = 1 if config.veto_ranks_last and r.veto_failed else 0
        return (veto_block, -r.total)

    def full_key(r: _Scored) -> tuple:
        if not config.tie_break_by_dimension:
            return total_key(r)
        dims = tuple(_NOT_APPLICABLE_LAST if r.dims[c] is None else -r.dims[c] for c in dim_codes)
        return (*total_key(r), dims)

    overall, notes = _competition_ranks(scored, full_key, total_key)
    group_ranks: dict[int, int] = {}
    by_group: dict[str, list[_Scored]] = {}
    for r in scored:
        by_group.setdefault(r.group, []).append(r)
    for members in by_group.values():
        ranks, _ = _competition_ranks(members, full_key, total_key)
        group_ranks.update(ranks)

    results = []
    for r in scored:
        sid = r.inp.school_id
        note = notes[sid]
        if config.veto_ranks_last and r.veto_failed:
            note = RankNote.VETO_FAILED_RANKED_LAST
        results.append(
            SchoolResult(
                school_id=sid,
                group=r.group,
                total=r.total,
                total_exact=r.total_exact,
                grade=_grade(framework.grade_bands, r.total, bool(r.veto_failed)),
                veto_failed=r.veto_failed,
                veto_pending=r.veto_pending,
                rank=overall[sid],
                group_rank=group_ranks[sid],
                rank_note=note,
                dimension_subtotals=MappingProxyType(r.dims),
                nodes=MappingProxyType(r.nodes),
                self_subtotals=r.self_subtotals,
                self_gap=r.self_gap,
                not_scored=r.not_scored,
                incomplete=r.incomplete,
            )
        )
    results.sort(key=lambda s: (s.rank, s.school_id))
    return tuple(results)


def _competition_ranks(
    members: list[_Scored],
    full_key: Callable[[_Scored], tuple],
    total_key: Callable[[_Scored], tuple],
) -> tuple[dict[int, int], dict[int, RankNote | None]]:
    """Ranks 1, 2, 2, 4 by ``full_key``; notes say tied / tie broken by dimension."""
    ordered = sorted(members, key=lambda r: (full_key(r), r.inp.school_id))
    ranks: dict[int, int] = {}
    notes: dict[int, RankNote | None] = {}
    total_counts: dict[tuple, int] = {}
    full_counts: dict[tuple, int] = {}
    for r in ordered:
        total_counts[total_key(r)] = total_counts.get(total_key(r), 0) + 1
        full_counts[full_key(r)] = full_counts.get(full_key(r), 0) + 1
    previous = None
    rank = 0
    for position, r in enumerate(ordered, start=1):
        key = full_key(r)
        if key != previous:
            rank, previous = position, key
        sid = r.inp.school_id
        ranks[sid] = rank
        if full_counts[key] > 1:
            notes[sid] = RankNote.TIED
        elif total_counts[total_key(r)] > 1:
            notes[sid] = RankNote.TIE_BROKEN_BY_DIMENSION
        else:
            notes[sid] = None
    return ranks, notes


# --- The result and its explanations -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    """An immutable computation: schools ordered by rank, and every missing score.

    Keeps the framework, config and inputs by reference so :func:`explain` can rebuild
    the reasoning behind any number without having stored it.
    """

    schools: tuple[SchoolResult, ...]
    missing: tuple[MissingScore, ...]
    framework: Framework
    config: RoundConfig
    inputs: Mapping[int, SchoolInput] = field(repr=False, compare=False)
    plan: _Plan = field(repr=False, compare=False)
    _by_id: Mapping[int, SchoolResult] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.school_id: s for s in self.schools})

    def school(self, school_id: int) -> SchoolResult:
        try:
            return self._by_id[school_id]
        except KeyError:
            raise KeyError(f"school {school_id} is not part of this result") from None

    def explain(self, school_id: int, code: str | None = None) -> Explanation:
        return explain(self, school_id, code)


def explain(result: RoundResult, school_id: int, code: str | None = None) -> Explanation:
    """Explain one node (or, with ``code`` None, the total) of one school.

    Rebuilds the leaf consolidation from the inputs (same functions as the computation)
    and the children's contributions from the stored node results. Writes nothing.
    """
    school = result.school(school_id)
    plan = result.plan
    with decimal.localcontext(_CONTEXT):
        if code is None:
            return _explain_parent(result, school, plan.root)
        try:
            idx = plan.index[code]
        except KeyError:
            raise KeyError(f"{code!r} is not a node of the framework") from None
        if plan.children[idx]:
            return _explain_parent(result, school, idx)
        return _explain_leaf(result, school, idx)


def _explain_leaf(result: RoundResult, school: SchoolResult, idx: int) -> Explanation:
    plan, config = result.plan, result.config
    code = plan.codes[idx]
    node = plan.nodes[idx]
    outcome = school.nodes[code]
    given = result.inputs[school.school_id]
    scores = given.expert_scores.get(code, ())
    answered = {s.evaluator_id for s in scores if s.not_applicable or s.points is not None}
    consensus = given.consensus_scores.get(code)
    audit = given.audit_scores.get(code)
    winner = {Layer.AUDIT: audit, Layer.CONSENSUS: consensus}.get(outcome.layer)
    return Explanation(
        school_id=school.school_id,
        code=code,
        kind="leaf",
        status=outcome.status,
        score_exact=outcome.score_exact,
        score=outcome.score,
        max_points=outcome.max_points,
        layer=outcome.layer,
        justification=winner.justification if winner is not None else "",
        expert=consolidate_expert_scores(
            scores, method=config.method, trim_min_count=config.trim_min_count
        ),
        consensus=consensus,
        audit=audit,
        missing_evaluators=tuple(sorted(set(given.expected_evaluator_ids) - answered)),
        is_veto=node.is_veto,
        pass_mark=node.pass_mark if node.is_veto else None,
        veto_failed=code in school.veto_failed,
    )


def _explain_parent(result: RoundResult, school: SchoolResult, idx: int) -> Explanation:
    plan = result.plan
    top = plan.maxes[idx]
    kids = plan.children[idx]
    scores = {c: school.nodes[plan.codes[c]].score_exact for c in kids}
    excluded = tuple(plan.codes[c] for c in kids if scores[c] is None)
    contributions: list[ChildContribution] = []
    rescale: Decimal | None = None
    if plan.weighted[idx]:
        mode = RollupMode.WEIGHTED
        applicable_weight = sum((plan.weights[c] for c in kids if scores[c] is not None), _ZERO)
        scale = plan.weight_totals[idx] / applicable_weight if applicable_weight else None
        if excluded and scale is not None:
            rescale = scale
        for c in kids:
            value, weight = scores[c], plan.weights[c]
            effective = weight * scale if value is not None and scale is not None else None
            contributions.append(
                ChildContribution(
                    code=plan.codes[c],
                    score_exact=value,
                    max_points=plan.maxes[c],
                    applicable=value is not None,
                    weight=weight,
                    effective_weight=effective,
                    contribution=(
                        None if effective is None else top * effective * value / plan.maxes[c]
                    ),
                )
            )
    else:
        mode = RollupMode.SUM
        applicable_max = sum((plan.maxes[c] for c in kids if scores[c] is not None), _ZERO)
        if excluded and applicable_max:
            rescale = top / applicable_max
        for c in kids:
            value = scores[c]
            contributions.append(
                ChildContribution(
                    code=plan.codes[c],
                    score_exact=value,
                    max_points=plan.maxes[c],
                    applicable=value is not None,
                    weight=None,
                    effective_weight=None,
                    contribution=None if value is None else value * (rescale or 1),
                )
            )
    if idx == plan.root:
        code, kind = None, "total"
        anything = any(v is not None for v in scores.values())
        status = NodeStatus.SCORED if anything else NodeStatus.NOT_APPLICABLE
        exact, shown = school.total_exact, school.total
    else:
        code, kind = plan.codes[idx], "parent"
        outcome = school.nodes[code]
        status, exact, shown = outcome.status, outcome.score_exact, outcome.score
    not_scored = tuple(
        plan.codes[leaf]
        for leaf in plan.descendant_leaves[idx]
        if school.nodes[plan.codes[leaf]].status is NodeStatus.NOT_SCORED
    )
    return Explanation(
        school_id=school.school_id,
        code=code,
        kind=kind,
        status=status,
        score_exact=exact,
        score=shown,
        max_points=top,
        mode=mode,
        children=tuple(contributions),
        excluded=excluded,
        rescale_factor=rescale,
        not_scored_leaves=not_scored,
    )
