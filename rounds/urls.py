"""The bureau's round pages about rounds themselves (create, clone, group, assignments).

The project mounts them at /rounds/ in the ``rounds`` namespace together with
``scoring.round_urls`` (list, detail, monitoring, advance, compute).
"""

from django.urls import path

from rounds import views

urlpatterns = [
    path("new/", views.round_create, name="create"),
    path("conflicts/", views.conflict_declare, name="conflicts"),
    path("<int:round_id>/clone/", views.round_clone, name="clone"),
    path("<int:round_id>/group/", views.round_group, name="group"),
    path(
        "<int:round_id>/group/<int:member_id>/remove/",
        views.round_group_member_remove,
        name="group_member_remove",
    ),
    path("<int:round_id>/assignments/", views.round_assignments, name="assignments"),
]
