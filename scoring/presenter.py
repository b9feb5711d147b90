"""The results presenter: what a stored result set says, in one shape for every reader.

The results page, the API, every PDF and every xlsx export read a result set's
figures through here, so they cannot disagree. Everything comes from the stored
set: a school's group is the group stored in its row when the set was computed
(results are snapshots; a school that changes group afterwards keeps its old
group in the old set), and a group average is the average over the rows that
stored that group.

The display tables (grade and group labels) and the display helpers (a stored
figure rounded for display, an indicator's title in the page language) are
defined here once; every other module imports them.

Reads only: two queries (the set's dimensions, its rows with their schools)
whatever the number of schools; no request objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from core.display import number, school_name, title
from rounds import selectors as round_selectors
from rounds.enums import Grade
from schools.enums import RankingGroup
from scoring import engine, engine_inputs
from scoring.models import ResultRow, ResultSet

# The grade as the Measures write it; shown in Chinese whatever the page language.
GRADE_ZH: dict[str, str] = {
    Grade.EXCELLENT: "优秀",
    Grade.GOOD: "良好",
    Grade.QUALIFIED: "合格",
    Grade.UNQUALIFIED: "不合格",
}
# The ranking groups as the documents name them.
GROUP_ZH: dict[str, str] = {RankingGroup.PUBLIC: "公办组", RankingGroup.PRIVATE: "民办组"}
ALL_SCHOOLS_ZH = "全部学校"


# ------------------------------------------------------------ display helpers


def grade_zh(grade: str) -> str:
    return GRADE_ZH.get(grade, grade)


def group_zh(group: str) -> str:
    return GROUP_ZH.get(group, group)


def average(values: Iterable[Decimal | None]) -> Decimal | None:
    """The mean of the figures present (``None`` left out), rounded for display."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return number(sum(present, Decimal(0)) / len(present))


def stored_group(row: ResultRow) -> str:
    """The ranking group a row was computed in (rows from before the group was
    stored fall back to the school's group)."""
    return row.group or row.school.ranking_group


# ---------------------------------------------------------------- the shapes


@dataclass(frozen=True, slots=True)
class Dimension:
    """One top-level dimension of the set's framework."""

    code: str
    title_zh: str
    title_en: str
    max_points: Decimal

    @property
    def title(self) -> str:
        return title(self)


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """A school's subtotal in one dimension, beside its stored group's average."""

    code: str
    title_zh: str
    title_en: str
    score: Decimal | None  # None: not applicable
    max_points: Decimal
    group_average: Decimal | None

    @property
    def title(self) -> str:
        return title(self)


@dataclass(frozen=True, slots=True)
class GroupAverage:
    """The averages of one ranking group (or of every school, ``group`` empty)."""

    group: str
    label_zh: str
    school_count: int
    total: Decimal | None
    dimensions: tuple[Decimal | None, ...]  # in dimension order

    @property
    def label(self) -> str:
        """The group's name in the page language."""
        if not self.group:
            return str(_("All schools"))
        if self.group in RankingGroup.values:
            return str(RankingGroup(self.group).label)
        return self.group

    def by_code(self, dimensions: Iterable[Dimension]) -> dict[str, Decimal | None]:
        return {dim.code: value for dim, value in zip(dimensions, self.dimensions, strict=True)}


@dataclass(frozen=True, slots=True)
class SchoolResult:
    """One school's presented result in a result set."""

    row_id: int
    school_id: int
    school_code: str
    school_name_zh: str
    school_name_en: str
    school_kind: str
    group: str  # as stored in the set
    group_zh: str
    total: Decimal
    grade: str
    grade_zh: str
    rank: int
    group_rank: int
    group_size: int
    rank_note: str
    veto_failed: tuple[str, ...]  # codes of the failed veto items
    is_complete: bool
    dimensions: tuple[DimensionScore, ...]

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label) if self.grade in Grade.values else self.grade

    @property
    def group_label(self) -> str:
        return str(RankingGroup(self.group).label) if self.group in RankingGroup.values else ""

    @property
    def name_zh(self) -> str:
        return self.school_name_zh

    @property
    def name_en(self) -> str:
        return self.school_name_en

    @property
    def school_name(self) -> str:
        return school_name(self)

    @property
    def scores(self) -> list[Decimal | None]:
        return [dimension.score for dimension in self.dimensions]

    @property
    def group_averages(self) -> list[Decimal | None]:
        return [dimension.group_average for dimension in self.dimensions]


@dataclass(frozen=True, slots=True)
class GradeCount:
    grade: str
    grade_zh: str
    count: int


@dataclass(frozen=True, slots=True)
class PresentedResults:
    """A result set as every reader shows it: schools in ranking order, averages per
    stored group (and of all schools), the grade distribution."""

    result_set_id: int
    version: int
    is_published: bool
    dimensions: tuple[Dimension, ...]
    schools: tuple[SchoolResult, ...]
    overall: GroupAverage
    groups: tuple[GroupAverage, ...]  # by group value
    grades: tuple[GradeCount, ...]  # best grade first
    school: SchoolResult | None = None  # the one asked for, if any

    def group_average(self, group: str) -> GroupAverage | None:
        return next((entry for entry in self.groups if entry.group == group), None)

    def school_of(self, school_id: int) -> SchoolResult | None:
        return next((entry for entry in self.schools if entry.school_id == school_id), None)


# ---------------------------------------------------------------- selectors

_ROW_FIELDS = (
    "id",
    "school_id",
    "total",
    "grade",
    "rank",
    "group_rank",
    "rank_note",
    "veto_failed",
    "dimension_subtotals",
    "is_complete",
    "group",
    "school__id",
    "school__code",
    "school__name_zh",
    "school__name_en",
    "school__kind",
    "school__ranking_group",
)


def result_set_dimensions(*, result_set: ResultSet) -> tuple[Dimension, ...]:
    """The dimensions of the set's framework, in framework order (one query at most)."""
    return tuple(
        Dimension(
            code=indicator.code,
            title_zh=indicator.title_zh,
            title_en=indicator.title_en,
            max_points=indicator.max_points,
        )
        for indicator in round_selectors.round_dimensions(round=result_set.round)
    )


def _group_average(
    group: str, figures: list[tuple[Any, Mapping[str, Any]]], dimensions: tuple[Dimension, ...]
) -> GroupAverage:
    """The averages of (total, dimension subtotals) pairs, each figure rounded for display
    first, as every school's figure is shown."""
    return GroupAverage(
        group=group,
        label_zh=group_zh(group) if group else ALL_SCHOOLS_ZH,
        school_count=len(figures),
        total=average(number(total) for total, _subtotals in figures),
        dimensions=tuple(
            average(number(subtotals.get(dim.code)) for _total, subtotals in figures)
            for dim in dimensions
        ),
    )


def _averages(
    figures: Iterable[tuple[str, Any, Mapping[str, Any] | None]], dimensions: tuple[Dimension, ...]
) -> tuple[GroupAverage, dict[str, GroupAverage]]:
    """Every school's and each stored group's averages of (group, total, subtotals)."""
    everyone: list[tuple[Any, Mapping[str, Any]]] = []
    by_group: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for group, total, subtotals in figures:
        pair = (total, subtotals or {})
        everyone.append(pair)
        by_group.setdefault(group, []).append(pair)
    return _group_average("", everyone, dimensions), {
        group: _group_average(group, members, dimensions)
        for group, members in sorted(by_group.items())
    }


def result_set_group_averages(
    *, result_set: ResultSet, dimensions: Iterable[Dimension] | None = None
) -> tuple[GroupAverage, tuple[GroupAverage, ...]]:
    """(every school, each stored group) averages of a set, in one query, for a reader
    that does not need the schools themselves (the API's ranking pages)."""
    dimensions = (
        tuple(dimensions)
        if dimensions is not None
        else result_set_dimensions(result_set=result_set)
    )
    figures = (
        (group or school_group, total, subtotals)
        for group, school_group, total, subtotals in ResultRow.objects.filter(
            result_set=result_set
        ).values_list("group", "school__ranking_group", "total", "dimension_subtotals")
    )
    overall, groups = _averages(figures, dimensions)
    return overall, tuple(groups.values())


def _school_result(
    row: ResultRow,
    dimensions: tuple[Dimension, ...],
    group_average: GroupAverage,
) -> SchoolResult:
    school = row.school
    subtotals = row.dimension_subtotals or {}
    group = stored_group(row)
    return SchoolResult(
        row_id=row.pk,
        school_id=row.school_id,
        school_code=school.code,
        school_name_zh=school.name_zh,
        school_name_en=school.name_en,
        school_kind=school.kind,
        group=group,
        group_zh=group_zh(group),
        total=number(row.total),
        grade=row.grade,
        grade_zh=grade_zh(row.grade),
        rank=row.rank,
        group_rank=row.group_rank,
        group_size=group_average.school_count,
        rank_note=row.rank_note,
        veto_failed=tuple(row.veto_failed or ()),
        is_complete=row.is_complete,
        dimensions=tuple(
            DimensionScore(
                code=dim.code,
                title_zh=dim.title_zh,
                title_en=dim.title_en,
                score=number(subtotals.get(dim.code)),
                max_points=dim.max_points,
                group_average=dim_average,
            )
            for dim, dim_average in zip(dimensions, group_average.dimensions, strict=True)
        ),
    )


def present_rows(
    *,
    result_set: ResultSet,
    rows: Iterable[ResultRow],
    dimensions: tuple[Dimension, ...],
    school_id: int | None = None,
) -> PresentedResults:
    """Present rows already read (school joined); no query. ``result_set_present`` reads
    them; this is for a caller that has the rows anyway."""
    rows = list(rows)
    overall, groups = _averages(
        ((stored_group(row), row.total, row.dimension_subtotals) for row in rows), dimensions
    )
    schools = tuple(
        _school_result(row, dimensions, groups[stored_group(row)])
        for row in sorted(rows, key=lambda row: (row.rank, row.school.code))
    )
    counts = Counter(row.grade for row in rows)
    return PresentedResults(
        result_set_id=result_set.pk,
        version=result_set.version,
        is_published=result_set.is_published,
        dimensions=dimensions,
        schools=schools,
        overall=overall,
        groups=tuple(groups.values()),
        grades=tuple(
            GradeCount(grade=grade.value, grade_zh=GRADE_ZH[grade], count=counts.get(grade, 0))
            for grade in Grade
        ),
        school=None
        if school_id is None
        else next((entry for entry in schools if entry.school_id == school_id), None),
    )


def result_set_present(*, result_set: ResultSet, school_id: int | None = None) -> PresentedResults:
    """Every school of a stored result set, presented (two queries at most, whatever
    the number of schools; the set's round must be loaded or is read once).

    ``school_id`` also picks that school out as ``.school`` (``None`` when the set
    has no row for it).
    """
    dimensions = result_set_dimensions(result_set=result_set)
    rows = (
        ResultRow.objects.filter(result_set=result_set)
        .select_related("school")
        .only(*_ROW_FIELDS)
        .order_by("rank", "school__code")
    )
    return present_rows(
        result_set=result_set, rows=rows, dimensions=dimensions, school_id=school_id
    )


def result_explanation(*, row: ResultRow, code: str | None = None) -> engine.Explanation:
    """Why one number of a stored row (``code``: a node; none: the total) is what it is,
    from the row's own stored inputs. Raises KeyError for an unknown code."""
    return engine_inputs.result_row_explain(row=row, code=code)


def group_average_item(entry: GroupAverage, dimensions: Iterable[Dimension]) -> dict[str, Any]:
    """A group's averages as plain data (decimal strings), as the API serves them."""
    return {
        "group": entry.group,
        "school_count": entry.school_count,
        "total": _text(entry.total),
        "dimension_subtotals": {
            code: _text(value) for code, value in entry.by_code(dimensions).items()
        },
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
