"""Rectification pages, mounted at ``/rectification/`` (``rectification:``)."""

from django.urls import path

from rectification import views

app_name = "rectification"

urlpatterns = [
    path("", views.rectification_list, name="list"),
    path("<int:rectification_id>/", views.rectification_detail, name="detail"),
    path("<int:rectification_id>/report/", views.rectification_report, name="report"),
    path("<int:rectification_id>/recheck/", views.rectification_recheck, name="recheck"),
    path("<int:rectification_id>/extend/", views.rectification_extend, name="extend"),
    path("evidence/<int:item_id>/", views.rectification_evidence, name="evidence"),
]
