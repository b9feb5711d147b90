"""API representations of the school registry and of evidence metadata (never file bytes)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Evidence, School


class SchoolSerializer(serializers.ModelSerializer):
    """Registry facts only: no staff, no address, nothing internal."""

    class Meta:
        model = School
        fields = [
            "id",
            "code",
            "name_zh",
            "name_en",
            "kind",
            "ranking_group",
            "status",
            "district",
            "licence_number",
        ]
        read_only_fields = fields


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
