"""Results across cycles, mounted at ``/history/`` (``history:``); public pages."""

from django.urls import path

from publication import history_views as views

app_name = "history"

urlpatterns = [
    path("", views.history_index, name="index"),
    path("schools/<int:school_id>/", views.school_history, name="school"),
    path("rounds/<int:round_id>/", views.round_comparison, name="round"),
]
