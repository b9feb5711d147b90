"""API representations of the school registry and of evidence metadata (never file bytes)."""

from __future__ import annotations

from rest_framework import serializers

from schools.models import School


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
