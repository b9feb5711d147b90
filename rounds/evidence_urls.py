"""Evidence pages, mounted at ``/evidence/`` (namespace ``evidence``)."""

from django.urls import path

from rounds import evidence_views as views

app_name = "evidence"

urlpatterns = [
    # The signed-in staff member's own school.
    path("<int:round_id>/points/<int:indicator_id>/", views.point, name="point"),
    # A named school (its staff, its evaluators, the bureau).
    path(
        "<int:round_id>/schools/<int:school_id>/points/<int:indicator_id>/",
        views.school_point,
        name="school_point",
    ),
    path("files/<int:evidence_id>/", views.download, name="download"),
]
