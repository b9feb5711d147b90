"""The supervisor's pages, mounted at ``/supervision/`` (``supervision:``)."""

from django.urls import path

from supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.supervision_index, name="index"),
    path("events/", views.event_log, name="events"),
    path("scores/", views.score_history, name="scores"),
    path("recusals/", views.recusal_list, name="recusals"),
    path("late/", views.late_change_list, name="late"),
    path("rounds/<int:round_id>/consistency/", views.consistency, name="consistency"),
]
