"""REST API of frameworks with their indicator trees and rounds (public), and assignments."""

from __future__ import annotations

import django_filters
from rest_framework import viewsets

from core.api import Public
from rounds import selectors
from rounds.enums import AssignmentStatus, RoundPhase
from rounds.models import Assignment, Round
from rounds.permissions import CanViewAssignments
from rounds.serializers import (
    AssignmentSerializer,
    FrameworkDetailSerializer,
    FrameworkSerializer,
    RoundSerializer,
)


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Indicator frameworks in use; the detail carries the whole tree, flat, with parent codes."""

    permission_classes = [Public]

    def get_queryset(self):  # noqa: ANN201
        return selectors.frameworks_visible_to(
            user=self.request.user, with_indicators=self.action == "retrieve"
        )

    def get_serializer_class(self):  # noqa: ANN201
        return FrameworkDetailSerializer if self.action == "retrieve" else FrameworkSerializer


class RoundFilter(django_filters.FilterSet):
    phase = django_filters.ChoiceFilter(choices=RoundPhase.choices)

    class Meta:
        model = Round
        fields = ["phase", "cycle_start", "framework"]


class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    """Rounds past their draft: phase, phase windows, cycle, schools in scope."""

    permission_classes = [Public]
    serializer_class = RoundSerializer
    filterset_class = RoundFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.rounds_visible_to(user=self.request.user)


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)

    class Meta:
        model = Assignment
        fields = ["round", "school", "status"]


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """An evaluator's own assignments; every assignment for the bureau roles."""

    permission_classes = [CanViewAssignments]
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter

    def get_queryset(self):  # noqa: ANN201
        return selectors.assignments_visible_to(user=self.request.user)
