"""The bureau's round pages that read scoring; mounted at /rounds/ (``rounds:``) by the project."""

from django.urls import path

from scoring import round_views as views

urlpatterns = [
    path("", views.round_list, name="list"),
    path("<int:round_id>/", views.round_detail, name="detail"),
    path("<int:round_id>/monitoring/", views.round_monitoring, name="monitoring"),
    path("<int:round_id>/advance/", views.round_advance, name="advance"),
    path("<int:round_id>/compute/", views.round_compute, name="compute"),
]
