"""The API's audit trail: read-only, for the supervisor and the bureau admin."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from core.models import AuditEvent
from scoring.filters import IdFilter
from supervision import selectors
from supervision.permissions import CanViewAuditTrail


class AuditEventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", read_only=True, default=None)
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_username",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "round_id",
            "school_id",
            "before",
            "after",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id")
    school = IdFilter(field_name="school_id")
    actor = IdFilter(field_name="actor_id")
    action = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["round", "school", "actor", "action", "object_type"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail (supervisor, bureau admin), filterable by round, school, action, actor."""

    permission_classes = [CanViewAuditTrail]
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.audit_events_list()
