"""The API's publishing action on result sets, added to scoring's result-set viewset."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from publication import services as publication
from scoring import selectors
from scoring.api import ResultSetViewSet as ScoringResultSetViewSet
from scoring.api import _id_or_404
from scoring.permissions import CanPublishResults
from scoring.serializers import ResultSetSerializer


class ResultSetViewSet(ScoringResultSetViewSet):
    """Scoring's result sets, plus publishing (bureau admin)."""

    def get_permissions(self):  # noqa: ANN201
        if self.action == "publish":
            return [CanPublishResults()]
        return super().get_permissions()

    @extend_schema(
        request=inline_serializer(
            "ResultSetPublish",
            {"incomplete_reason": serializers.CharField(required=False, allow_blank=True)},
        ),
        responses={200: ResultSetSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Publish this (latest) version after its public notice, with no open objection.

        The same checks as the notice pages; it never changes after. A version in
        which some school's scoring is incomplete needs ``incomplete_reason``.
        """
        result_set = get_object_or_404(
            selectors.result_sets_visible_to(user=request.user), pk=_id_or_404(pk)
        )
        # A bare POST (no body) publishes a complete set as before; the body is read
        # only when it is JSON, the one media type this API parses.
        reason = ""
        if (request.content_type or "").startswith("application/json"):
            reason = str(request.data.get("incomplete_reason") or "")
        publication.result_set_publish_checked(
            result_set=result_set, actor=request.user, incomplete_reason=reason
        )
        return Response(ResultSetSerializer(self.get_queryset().get(pk=result_set.pk)).data)
