"""The public notice, objections and publication, mounted at ``/notice/`` (``notice:``)."""

from django.urls import path

from publication import views

app_name = "notice"

urlpatterns = [
    # anybody
    path("", views.notice_index, name="index"),
    path("rounds/<int:round_id>/", views.notice_round, name="round"),
    path("rounds/<int:round_id>/objections/new/", views.objection_new, name="objection_new"),
    path("track/", views.objection_track, name="track"),
    # the bureau admin
    path("objections/", views.objection_list, name="objections"),
    path("objections/<int:objection_id>/", views.objection_detail, name="objection"),
    path("objections/<int:objection_id>/seal/", views.objection_seal, name="objection_seal"),
    path("objections/<int:objection_id>/review/", views.objection_review, name="objection_review"),
    path(
        "objections/<int:objection_id>/dismiss/",
        views.objection_dismiss,
        name="objection_dismiss",
    ),
    path("objections/<int:objection_id>/uphold/", views.objection_uphold, name="objection_uphold"),
    path("rounds/<int:round_id>/publication/", views.publication_round, name="publication"),
    path("rounds/<int:round_id>/open/", views.notice_open, name="open"),
    path("sets/<int:result_set_id>/publish/", views.publish, name="publish"),
    path("sets/<int:result_set_id>/correct/", views.correct, name="correct"),
]
