"""Query-string filters of the scoring endpoints (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms

from rounds.enums import Grade
from schools.enums import RankingGroup, SchoolKind
from scoring.enums import SheetStatus
from scoring.models import ResultRow, ResultSet, ScoreSheet, SelfAssessment
from scoring.selectors import RANKING_DIMENSIONS

# ordering parameter → annotation or field of ``selectors.ranking_rows``
RANKING_ORDERING = (
    ("rank", "rank"),
    ("group_rank", "group_rank"),
    ("total", "total"),
    ("grade_order", "grade"),
    ("school__code", "school_code"),
    ("school__name_zh", "school_name"),
    ("school__kind", "kind"),
    ("ranked_group", "group"),
    *((f"dimension_{i}", f"dimension_{i}") for i in range(1, RANKING_DIMENSIONS + 1)),
)


class IdFilter(django_filters.NumberFilter):
    """A whole-number id (``NumberFilter`` would accept "1.5")."""

    field_class = forms.IntegerField


class RankingOrderingFilter(django_filters.OrderingFilter):
    """Orders by the chosen fields, then always by rank and school code (a stable order).

    ``grade`` orders best first; ``dimension_N`` is the N-th dimension of the framework.
    """

    def filter(self, qs, value):  # noqa: ANN001, ANN201 - django-filter's signature
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value if param not in ("", None)]
        return qs.order_by(*ordering, "rank", "school__code")


class RankingFilter(django_filters.FilterSet):
    group = django_filters.ChoiceFilter(field_name="ranked_group", choices=RankingGroup.choices)
    kind = django_filters.ChoiceFilter(field_name="school__kind", choices=SchoolKind.choices)
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    ordering = RankingOrderingFilter(fields=RANKING_ORDERING)

    class Meta:
        model = ResultRow
        fields = ["group", "kind", "grade"]


class ScoreSheetFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SheetStatus.choices)

    class Meta:
        model = ScoreSheet
        fields = ["round", "school", "status"]


class SelfAssessmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SheetStatus.choices)

    class Meta:
        model = SelfAssessment
        fields = ["round", "school", "status"]


class ResultSetFilter(django_filters.FilterSet):
    class Meta:
        model = ResultSet
        fields = ["round", "is_published"]
