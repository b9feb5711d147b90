"""The score pages, mounted at ``/sheets/`` (namespace ``sheets``)."""

from django.urls import path

from scoring import consolidation_views, self_assessment_views, sheet_views

app_name = "sheets"

urlpatterns = [
    # An evaluator's own score sheet for one school.
    path("<int:round_id>/schools/<int:school_id>/", sheet_views.sheet, name="sheet"),
    path(
        "<int:round_id>/schools/<int:school_id>/points/<int:indicator_id>/",
        sheet_views.score,
        name="score",
    ),
    path("<int:round_id>/schools/<int:school_id>/submit/", sheet_views.submit, name="submit"),
    # The school's self-assessment (the signed-in staff member's school, or a named school).
    path(
        "<int:round_id>/self-assessment/",
        self_assessment_views.self_assessment,
        name="self_assessment",
    ),
    path(
        "<int:round_id>/schools/<int:school_id>/self-assessment/",
        self_assessment_views.self_assessment_school,
        name="self_assessment_school",
    ),
    path(
        "<int:round_id>/schools/<int:school_id>/self-assessment/points/<int:indicator_id>/",
        self_assessment_views.self_score,
        name="self_score",
    ),
    path(
        "<int:round_id>/schools/<int:school_id>/self-assessment/submit/",
        self_assessment_views.self_assessment_submit,
        name="self_assessment_submit",
    ),
    # Consolidation: the leader's consensus scores and the bureau's audit scores.
    path("<int:round_id>/consolidation/", consolidation_views.consolidation, name="consolidation"),
    path(
        "<int:round_id>/schools/<int:school_id>/consensus/",
        consolidation_views.consensus,
        name="consensus",
    ),
    path(
        "<int:round_id>/schools/<int:school_id>/consensus/points/<int:indicator_id>/",
        consolidation_views.consensus_score,
        name="consensus_score",
    ),
    path("<int:round_id>/schools/<int:school_id>/audit/", consolidation_views.audit, name="audit"),
    path(
        "<int:round_id>/schools/<int:school_id>/audit/points/<int:indicator_id>/",
        consolidation_views.audit_score,
        name="audit_score",
    ),
]
