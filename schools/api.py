"""REST API of the school registry (public) and of evidence metadata (by role)."""

from __future__ import annotations

import django_filters
from rest_framework import viewsets

from xm_eval.api import CanViewEvidence, Public

from . import selectors
from .enums import RankingGroup, SchoolKind, SchoolStatus
from .models import Evidence, School
from .serializers import EvidenceSerializer, SchoolSerializer


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


class EvidenceFilter(django_filters.FilterSet):
    indicator = django_filters.CharFilter(field_name="indicator__code")

    class Meta:
        model = Evidence
        fields = ["round", "school", "indicator"]


class EvidenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Evidence metadata (never the file): the own school's for staff, the assigned
    schools' for evaluators, every school's for the bureau roles."""

    permission_classes = [CanViewEvidence]
    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.evidence_visible_to(user=self.request.user)
