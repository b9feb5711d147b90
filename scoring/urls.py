"""The result pages, mounted at /results/."""

from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.results_index, name="index"),
    path("rounds/<int:round_id>/", views.round_results, name="round"),
    path("rounds/<int:round_id>/schools/<int:school_id>/", views.school_result, name="school"),
    path("rows/<int:row_id>/explain/", views.explain, name="explain"),
]
