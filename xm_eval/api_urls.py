"""URLs of the REST API, mounted at ``/api/``: version 1, its schema and its docs.

Every route is named in the ``api`` namespace; the role-matrix test walks them all.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from publication.api import ResultSetViewSet
from rounds.api import AssignmentViewSet, FrameworkViewSet, RoundViewSet
from rounds.evidence_api import EvidenceViewSet
from schools.api import SchoolViewSet
from scoring.api import (
    RankingsView,
    SchoolResultView,
    ScoreSheetViewSet,
    SelfAssessmentViewSet,
)
from supervision.api import AuditEventViewSet

app_name = "api"


class NotFoundView(APIView):
    """Any other URL under ``/api/``: the API's JSON 404 body, not the site's HTML page."""

    permission_classes = [AllowAny]
    schema = None  # not an endpoint

    def http_method_not_allowed(self, request, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        raise NotFound()


router = SimpleRouter()
router.register("schools", SchoolViewSet, basename="school")
router.register("frameworks", FrameworkViewSet, basename="framework")
router.register("rounds", RoundViewSet, basename="round")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("score-sheets", ScoreSheetViewSet, basename="score-sheet")
router.register("self-assessments", SelfAssessmentViewSet, basename="self-assessment")
router.register("evidence", EvidenceViewSet, basename="evidence")
router.register("result-sets", ResultSetViewSet, basename="result-set")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

v1 = [
    path("rounds/<str:round_id>/rankings/", RankingsView.as_view(), name="round-rankings"),
    path(
        "rounds/<str:round_id>/results/<str:school_id>/",
        SchoolResultView.as_view(),
        name="round-result",
    ),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", NotFoundView.as_view(), name="not-found"),
]
