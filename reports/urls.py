"""Report pages, downloads and spreadsheets, mounted at /reports/."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("rounds/<int:round_id>/", views.round_reports, name="round"),
    path("rounds/<int:round_id>/render/", views.render_start, name="render"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    path("artifacts/<int:artifact_id>/download/", views.artifact_download, name="download"),
    path(
        "rounds/<int:round_id>/schools/<int:school_id>/opinion/",
        views.group_opinion,
        name="group_opinion",
    ),
    path("frameworks/import/", views.framework_import, name="framework_import"),
    path("frameworks/template.xlsx", views.framework_template, name="framework_template"),
    path(
        "rounds/<int:round_id>/schools/<int:school_id>/workbook.xlsx",
        views.score_workbook,
        name="score_workbook",
    ),
    path(
        "rounds/<int:round_id>/workbook/upload/",
        views.score_workbook_upload,
        name="score_workbook_upload",
    ),
    path("rounds/<int:round_id>/ranking.xlsx", views.export_ranking, name="export_ranking"),
    path(
        "rounds/<int:round_id>/score-matrix.xlsx",
        views.export_score_matrix,
        name="export_score_matrix",
    ),
    path(
        "rounds/<int:round_id>/consistency.xlsx",
        views.export_consistency,
        name="export_consistency",
    ),
]
