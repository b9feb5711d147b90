"""Incentives of published results, mounted at ``/incentives/`` (``incentives:``)."""

from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("", views.incentive_index, name="index"),
    path("sets/<int:result_set_id>/", views.incentive_page, name="page"),
    path("sets/<int:result_set_id>/export.xlsx", views.incentive_export, name="export"),
]
