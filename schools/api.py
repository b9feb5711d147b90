"""REST API of the school registry (public) and of evidence metadata (by role)."""

from __future__ import annotations

import django_filters
from rest_framework import viewsets

from core.api import Public
from schools import selectors
from schools.enums import RankingGroup, SchoolKind, SchoolStatus
from schools.models import School
from schools.serializers import SchoolSerializer


class SchoolFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SchoolKind.choices)
    group = django_filters.ChoiceFilter(field_name="ranking_group", choices=RankingGroup.choices)
    status = django_filters.ChoiceFilter(choices=SchoolStatus.choices)

    class Meta:
        model = School
        fields = ["kind", "group", "status", "district"]


class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    """The school registry: codes, names, kind, ranking group, status, district, licence."""

    permission_classes = [Public]
    serializer_class = SchoolSerializer
    filterset_class = SchoolFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.schools_registry()
