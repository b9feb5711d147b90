"""The API's evidence metadata (never the file itself)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from rounds import evidence_selectors as selectors
from rounds.models import Evidence
from rounds.permissions import CanViewEvidence


class EvidenceFilter(django_filters.FilterSet):
    indicator = django_filters.CharFilter(field_name="indicator__code")

    class Meta:
        model = Evidence
        fields = ["round", "school", "indicator"]


class EvidenceSerializer(serializers.ModelSerializer):
    """What a file is, for which observation point; the file itself is not served here."""

    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = Evidence
        fields = [
            "id",
            "round",
            "school",
            "indicator",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "version",
            "uploaded_at",
        ]
        read_only_fields = fields


class EvidenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Evidence metadata (never the file): the own school's for staff, the assigned
    schools' for evaluators, every school's for the bureau roles."""

    permission_classes = [CanViewEvidence]
    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.evidence_visible_to(user=self.request.user)
