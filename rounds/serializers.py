"""API representations of frameworks (with their indicator trees), rounds and assignments.

An indicator tree is given **flat**, in framework order (``order``, then ``code``):
every node names its ``parent_code`` (null for the four dimensions) and its
``level`` (1 dimension, 2 indicator, 3 observation point). A flat list keeps the
schema simple and lets a client index nodes by code; the tree is one pass away.
"""

from __future__ import annotations

from rest_framework import serializers

from rounds.enums import IndicatorMethod
from rounds.models import Assignment, Framework, Indicator, PhaseWindow, Round


class GradeBandSerializer(serializers.Serializer):
    grade = serializers.CharField(read_only=True)
    min = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)


class IndicatorSerializer(serializers.ModelSerializer):
    parent_code = serializers.SerializerMethodField()
    # Declared: DRF drops ``allow_blank`` from read-only model fields, and the
    # schema must say that an indicator may have no method.
    method = serializers.ChoiceField(
        choices=IndicatorMethod.choices, allow_blank=True, read_only=True
    )
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    required_evidence = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "code",
            "parent_code",
            "level",
            "order",
            "title_zh",
            "title_en",
            "max_points",
            "weight",
            "method",
            "is_veto",
            "veto_pass_mark",
            "tags",
            "guidance",
            "required_evidence",
        ]
        read_only_fields = fields

    def get_parent_code(self, indicator: Indicator) -> str | None:
        return indicator.parent.code if indicator.parent_id else None


class FrameworkSerializer(serializers.ModelSerializer):
    grade_bands = GradeBandSerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = [
            "id",
            "name",
            "policy_title",
            "valid_from",
            "valid_to",
            "total_points",
            "grade_bands",
            "status",
        ]
        read_only_fields = fields


class FrameworkDetailSerializer(FrameworkSerializer):
    """A framework with its whole indicator tree, flat (see the module docstring)."""

    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta(FrameworkSerializer.Meta):
        fields = [*FrameworkSerializer.Meta.fields, "indicators"]
        read_only_fields = fields


class PhaseWindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseWindow
        fields = ["phase", "starts_on", "ends_on"]
        read_only_fields = fields


class RoundSerializer(serializers.ModelSerializer):
    cycle = serializers.CharField(read_only=True)
    phase_windows = PhaseWindowSerializer(many=True, read_only=True)
    schools = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Round
        fields = [
            "id",
            "name",
            "framework",
            "cycle_start",
            "cycle_end",
            "cycle",
            "phase",
            "phase_windows",
            "consolidation_method",
            "schools",
        ]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    round_name = serializers.CharField(source="round.name", read_only=True)
    school_code = serializers.CharField(source="school.code", read_only=True)
    school_name = serializers.CharField(source="school.name_zh", read_only=True)
    evaluator_username = serializers.CharField(source="evaluator.username", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "round",
            "round_name",
            "school",
            "school_code",
            "school_name",
            "evaluator",
            "evaluator_username",
            "status",
            "recusal_reason",
            "created_at",
        ]
        read_only_fields = fields
