"""Incentives from a published result set (pure functions, no Django, no database).

High scorers get preference (DESIGN §1): the city's scholarship quota
(奖学金名额) is shared out between the schools, and three preference lists are
drawn up — awards (评优评先), competition training (竞赛集训) and specialty
support (专业帮扶).

**Quota allocation** — each school's *weighted score* is the weight of its
grade × its total. The exact share of school *i* is
``quota × weighted_i ÷ Σ weighted``; with the largest-remainder (Hamilton)
method every school first gets the whole part of its exact share, and the seats
left over go one each to the schools with the largest fractional remainders, so
the quotas always add up to the total exactly. Shares are computed as exact
fractions (``fractions.Fraction`` over the ``Decimal`` inputs), never floats, so
two remainders that are equal on paper are equal here too.

Ties for a left-over seat are broken, in this order, by: the larger remainder;
the larger weighted score; the better (smaller) rank; the school code
(alphabetical); the school id. The school code is unique, so the outcome is
fully deterministic and independent of the order the schools are given in.

**Preference lists** — a rule names the grades that are eligible, in order of
priority (e.g. 优秀 first, then 良好), an optional limit, and whether schools
that failed a veto item or whose scores are incomplete are left out. Eligible
schools are listed by grade priority, then by rank, then by school code. A
limit never splits a tie: schools sharing the last place's grade and rank are
all listed. Tied schools share a position (1, 2, 2, 4), as in the ranking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "DEFAULT_GRADE_WEIGHTS",
    "DEFAULT_RULES",
    "GRADES",
    "IncentiveCandidate",
    "IncentiveError",
    "PreferenceEntry",
    "PreferenceKind",
    "PreferenceList",
    "PreferenceRule",
    "QuotaShare",
    "allocate_quota",
    "preference_list",
    "preference_lists",
]

# The grades, best first (the values of ``scoring.enums.Grade``).
GRADES: tuple[str, ...] = ("excellent", "good", "qualified", "unqualified")

# Not published by the bureau, so configurable on the page; an unqualified school
# (it must rectify) gets no scholarship places by default.
DEFAULT_GRADE_WEIGHTS: Mapping[str, Decimal] = {
    "excellent": Decimal("1.5"),
    "good": Decimal("1.2"),
    "qualified": Decimal("1.0"),
    "unqualified": Decimal("0"),
}


class IncentiveError(ValueError):
    """Parameters that cannot give an allocation or a list; ``code`` is stable."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IncentiveCandidate:
    """One school's published result, as the incentives need it."""

    school_id: int
    code: str
    name: str
    grade: str
    total: Decimal
    rank: int
    veto_failed: bool = False
    complete: bool = True


# ----------------------------------------------------------------- quota


@dataclass(frozen=True, slots=True)
class QuotaShare:
    """A school's part of the quota and how it was arrived at."""

    candidate: IncentiveCandidate
    weight: Decimal
    weighted_score: Decimal  # weight × total
    exact: Fraction  # quota × weighted ÷ Σ weighted
    whole: int  # the whole part of ``exact``
    remainder: Fraction  # exact − whole
    extra: int  # 1 when a left-over seat went to this school, else 0

    @property
    def quota(self) -> int:
        return self.whole + self.extra


def _check_weights(grade_weights: Mapping[str, Decimal]) -> None:
    for grade, weight in grade_weights.items():
        if grade not in GRADES:
            raise IncentiveError(f"unknown grade {grade!r}", code="unknown_grade")
        if not isinstance(weight, Decimal | int) or weight < 0:
            raise IncentiveError(
                f"the weight of {grade!r} must be a number ≥ 0", code="negative_weight"
            )


def allocate_quota(
    candidates: Iterable[IncentiveCandidate],
    *,
    total_quota: int,
    grade_weights: Mapping[str, Decimal],
) -> list[QuotaShare]:
    """Share ``total_quota`` places between the schools by weighted score (Hamilton).

    Returns one share per school, in the order of the ranking (rank, code). The
    quotas add up to ``total_quota`` exactly. A grade missing from
    ``grade_weights`` weighs 0. Raises ``IncentiveError`` for a negative quota or
    weight, or when places are to be shared but no school has a weighted score
    above zero (there is nothing to share them by).
    """
    if isinstance(total_quota, bool) or not isinstance(total_quota, int) or total_quota < 0:
        raise IncentiveError("the total quota must be a whole number ≥ 0", code="invalid_quota")
    _check_weights(grade_weights)
    schools = sorted(candidates, key=lambda c: (c.rank, c.code, c.school_id))
    if len({c.school_id for c in schools}) != len(schools):
        raise IncentiveError("a school appears twice", code="duplicate_school")
    weights = [Decimal(grade_weights.get(c.grade, 0)) for c in schools]
    weighted = [weight * c.total for weight, c in zip(weights, schools, strict=True)]
    pool = sum((Fraction(w) for w in weighted), Fraction(0))
    if pool == 0:
        if total_quota:
            raise IncentiveError(
                "no school has a weighted score above zero to share the quota by",
                code="nothing_to_share_by",
            )
        exacts = [Fraction(0)] * len(schools)
    else:
        exacts = [Fraction(total_quota) * Fraction(w) / pool for w in weighted]
    wholes = [math.floor(exact) for exact in exacts]
    left_over = total_quota - sum(wholes)
    # The order in which left-over seats are handed out (see the module docstring).
    order = sorted(
        range(len(schools)),
        key=lambda i: (
            -(exacts[i] - wholes[i]),
            -weighted[i],
            schools[i].rank,
            schools[i].code,
            schools[i].school_id,
        ),
    )
    lucky = set(order[:left_over])
    return [
        QuotaShare(
            candidate=school,
            weight=weights[i],
            weighted_score=weighted[i],
            exact=exacts[i],
            whole=wholes[i],
            remainder=exacts[i] - wholes[i],
            extra=1 if i in lucky else 0,
        )
        for i, school in enumerate(schools)
    ]


# ---------------------------------------------------------- preference lists


class PreferenceKind(StrEnum):
    AWARDS = "awards"  # 评优评先
    COMPETITION_TRAINING = "competition_training"  # 竞赛集训
    SPECIALTY_SUPPORT = "specialty_support"  # 专业帮扶


@dataclass(frozen=True, slots=True)
class PreferenceRule:
    """Who is listed and in which order: eligible grades (in priority order), a limit."""

    eligible_grades: tuple[str, ...]
    limit: int | None = None
    exclude_veto_failed: bool = True
    exclude_incomplete: bool = False

    def __post_init__(self) -> None:
        if not self.eligible_grades:
            raise IncentiveError("a rule needs at least one eligible grade", code="no_grade")
        unknown = [grade for grade in self.eligible_grades if grade not in GRADES]
        if unknown:
            raise IncentiveError(f"unknown grade {unknown[0]!r}", code="unknown_grade")
        if len(set(self.eligible_grades)) != len(self.eligible_grades):
            raise IncentiveError("a grade is named twice", code="duplicate_grade")
        if self.limit is not None and self.limit < 1:
            raise IncentiveError("a limit must be at least 1", code="invalid_limit")


# Defaults, all configurable on the page: awards go to excellent schools; competition
# training draws on excellent and good schools; specialty support on every school that
# qualified, the better ones first.
DEFAULT_RULES: Mapping[PreferenceKind, PreferenceRule] = {
    PreferenceKind.AWARDS: PreferenceRule(eligible_grades=("excellent",)),
    PreferenceKind.COMPETITION_TRAINING: PreferenceRule(eligible_grades=("excellent", "good")),
    PreferenceKind.SPECIALTY_SUPPORT: PreferenceRule(
        eligible_grades=("excellent", "good", "qualified")
    ),
}


@dataclass(frozen=True, slots=True)
class PreferenceEntry:
    position: int  # tied schools share a position: 1, 2, 2, 4
    candidate: IncentiveCandidate
    tied: bool  # shares its position with another listed school
    beyond_limit: bool  # listed past the limit only because it ties with the last place


@dataclass(frozen=True, slots=True)
class PreferenceList:
    kind: str
    rule: PreferenceRule
    entries: tuple[PreferenceEntry, ...]
    excluded: tuple[tuple[IncentiveCandidate, str], ...]  # (school, reason code)


def preference_list(
    candidates: Iterable[IncentiveCandidate], *, rule: PreferenceRule, kind: str = ""
) -> PreferenceList:
    """The schools ``rule`` lists, best first (grade priority, rank, school code).

    ``excluded`` names the schools of an eligible grade that the rule leaves out
    (``veto_failed``, ``incomplete``) or that fell below the limit (``limit``);
    schools of other grades are simply not listed.
    """
    priority = {grade: index for index, grade in enumerate(rule.eligible_grades)}
    eligible: list[IncentiveCandidate] = []
    excluded: list[tuple[IncentiveCandidate, str]] = []
    for candidate in sorted(candidates, key=lambda c: (c.rank, c.code, c.school_id)):
        if candidate.grade not in priority:
            continue
        if rule.exclude_veto_failed and candidate.veto_failed:
            excluded.append((candidate, "veto_failed"))
        elif rule.exclude_incomplete and not candidate.complete:
            excluded.append((candidate, "incomplete"))
        else:
            eligible.append(candidate)
    eligible.sort(key=lambda c: (priority[c.grade], c.rank, c.code, c.school_id))

    def place(candidate: IncentiveCandidate) -> tuple[int, int]:
        return priority[candidate.grade], candidate.rank

    entries: list[PreferenceEntry] = []
    for index, candidate in enumerate(eligible):
        previous = eligible[index - 1] if index else None
        following = eligible[index + 1] if index + 1 < len(eligible) else None
        beyond_limit = rule.limit is not None and index >= rule.limit
        if beyond_limit and (previous is None or place(previous) != place(candidate)):
            excluded.extend((rest, "limit") for rest in eligible[index:])
            break
        tied_before = previous is not None and place(previous) == place(candidate)
        tied_after = following is not None and place(following) == place(candidate)
        position = entries[-1].position if tied_before else index + 1
        entries.append(
            PreferenceEntry(
                position=position,
                candidate=candidate,
                tied=tied_before or tied_after,
                beyond_limit=beyond_limit,
            )
        )
    return PreferenceList(kind=kind, rule=rule, entries=tuple(entries), excluded=tuple(excluded))


def preference_lists(
    candidates: Sequence[IncentiveCandidate],
    rules: Mapping[str, PreferenceRule] | None = None,
) -> dict[str, PreferenceList]:
    """The three lists (or those ``rules`` names), each by its own rule."""
    chosen = dict(DEFAULT_RULES if rules is None else rules)
    return {
        str(kind): preference_list(candidates, rule=rule, kind=str(kind))
        for kind, rule in chosen.items()
    }
