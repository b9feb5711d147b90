"""The bureau's round pages, mounted at /rounds/."""

from django.urls import path

from rounds import views

app_name = "rounds"

urlpatterns = [
    path("", views.round_list, name="list"),
    path("new/", views.round_create, name="create"),
    path("<int:round_id>/", views.round_detail, name="detail"),
    path("<int:round_id>/monitoring/", views.round_monitoring, name="monitoring"),
    path("<int:round_id>/advance/", views.round_advance, name="advance"),
    path("<int:round_id>/compute/", views.round_compute, name="compute"),
    path("<int:round_id>/clone/", views.round_clone, name="clone"),
    path("<int:round_id>/group/", views.round_group, name="group"),
    path(
        "<int:round_id>/group/<int:member_id>/remove/",
        views.round_group_member_remove,
        name="group_member_remove",
    ),
    path("<int:round_id>/assignments/", views.round_assignments, name="assignments"),
]
