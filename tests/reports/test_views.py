"""Report pages and downloads, checked for every role."""

import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.enums import Role
from reports.enums import ReportKind
from reports.models import RenderJob, ReportArtifact
from tests.factories import SchoolFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _artifact(result_set, kind, school=None):  # noqa: ANN001, ANN202
    artifact = ReportArtifact(
        result_set=result_set,
        kind=kind,
        school=school,
        sha256="0" * 64,
        size=8,
        page_count=1,
        version=result_set.version,
    )
    artifact.file.save("x.pdf", ContentFile(b"%PDF-1.7"), save=False)
    artifact.save()
    return artifact


def _people(data):  # noqa: ANN001, ANN202
    other_school = SchoolFactory()
    return {
        "anonymous": None,
        "bureau_admin": data.admin,
        "supervisor": data.supervisor,
        "evaluator": data.experts[1],
        "own_staff": data.staff[0],
        "other_round_staff": StaffMembershipFactory(
            school=other_school, user=UserFactory(roles=[Role.SCHOOL_STAFF])
        ).user,
        "other_school_staff": data.staff[2],
    }


EXPECTED_PUBLISHED = {
    # role: (own school report, own notice, round summary)
    "anonymous": (302, 302, 302),
    "bureau_admin": (200, 200, 200),
    "supervisor": (200, 200, 200),
    "evaluator": (404, 404, 404),
    "own_staff": (200, 200, 404),
    "other_round_staff": (404, 404, 404),
    "other_school_staff": (404, 404, 404),
}


@pytest.mark.parametrize("published", [True, False])
@pytest.mark.parametrize("role", list(EXPECTED_PUBLISHED))
def test_download_for_every_role(client, request, published, role):
    data = request.getfixturevalue("small_round" if published else "unpublished_round")
    school = data.schools[0]
    report = _artifact(data.result_set, ReportKind.SCHOOL_REPORT, school)
    notice = _artifact(data.result_set, ReportKind.RECTIFICATION_NOTICE, school)
    summary = _artifact(data.result_set, ReportKind.ROUND_SUMMARY)
    user = _people(data)[role]
    if user is not None:
        client.force_login(user)
    got = tuple(
        client.get(reverse("reports:download", args=(a.pk,))).status_code
        for a in (report, notice, summary)
    )
    expected = EXPECTED_PUBLISHED[role]
    if not published and role == "own_staff":
        expected = (404, 404, 404)  # nothing unpublished for the school
    assert got == expected
    if got[0] == 200:
        response = client.get(reverse("reports:download", args=(report.pk,)))
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == b"%PDF-1.7"


def test_the_round_page_lists_what_each_role_may_download(client, small_round):
    data = small_round
    for school in data.schools:
        _artifact(data.result_set, ReportKind.SCHOOL_REPORT, school)
    _artifact(data.result_set, ReportKind.ROUND_SUMMARY)
    url = reverse("reports:round", args=(data.round.pk,))
    client.force_login(data.admin)
    page = client.get(url).content.decode()
    assert page.count("/download/") == 4
    assert "Generate the reports" in page or "生成" in page
    client.force_login(data.staff[0])
    page = client.get(url).content.decode()
    assert page.count("/download/") == 1
    client.force_login(data.experts[1])
    assert client.get(url).status_code == 404


def test_the_round_page_keeps_its_query_count(client, small_round):
    data = small_round
    url = reverse("reports:round", args=(data.round.pk,))
    client.force_login(data.admin)
    _artifact(data.result_set, ReportKind.SCHOOL_REPORT, data.schools[0])
    RenderJob.objects.create(result_set=data.result_set, total=1, documents=[])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for school in data.schools[1:]:
        _artifact(data.result_set, ReportKind.SCHOOL_REPORT, school)
        _artifact(data.result_set, ReportKind.RECTIFICATION_NOTICE, school)
        RenderJob.objects.create(result_set=data.result_set, total=1, documents=[])
    _artifact(data.result_set, ReportKind.ROUND_SUMMARY)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(one) == len(many)


def test_generating_shows_progress_that_survives_a_reload(
    client, small_round, django_capture_on_commit_callbacks
):
    data = small_round
    client.force_login(data.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:render", args=(data.round.pk,)),
            {"version": data.result_set.version},
        )
    job = RenderJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:job", args=(job.pk,))
    page = client.get(response["Location"]).content.decode()
    assert f"{job.total} / {job.total}" in page
    assert job.total == 1 + 3 + 1  # summary, three reports, one notice
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'id="job-progress"' in fragment and "<html" not in fragment
    assert "hx-trigger" not in fragment  # finished: no more polling
    job.refresh_from_db()
    assert job.status == "finished"


def test_a_running_job_polls(client, small_round):
    data = small_round
    job = RenderJob.objects.create(
        result_set=data.result_set, total=2, documents=[["round_summary", None]] * 2
    )
    client.force_login(data.supervisor)
    fragment = client.get(
        reverse("reports:job", args=(job.pk,)), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "0 / 2" in fragment


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 403), ("evaluator", 403), ("own_staff", 403), ("bureau_admin", 302)],
)
def test_only_the_bureau_admin_starts_rendering(client, small_round, role, status):
    user = _people(small_round)[role]
    client.force_login(user)
    response = client.post(reverse("reports:render", args=(small_round.round.pk,)))
    assert response.status_code == status
    assert RenderJob.objects.exists() == (status == 302)


@pytest.mark.parametrize(
    ("role", "ranking", "details"),
    [
        ("bureau_admin", 200, 200),
        ("supervisor", 200, 200),
        ("evaluator", 200, 404),
        ("own_staff", 200, 404),
    ],
)
def test_exports_for_each_role(client, small_round, role, ranking, details):
    client.force_login(_people(small_round)[role])
    round_id = small_round.round.pk
    assert client.get(reverse("reports:export_ranking", args=(round_id,))).status_code == ranking
    for name in ("reports:export_score_matrix", "reports:export_consistency"):
        assert client.get(reverse(name, args=(round_id,))).status_code == details


def test_unpublished_ranking_is_for_the_bureau_only(client, unpublished_round):
    url = reverse("reports:export_ranking", args=(unpublished_round.round.pk,))
    client.force_login(unpublished_round.staff[0])
    assert client.get(url).status_code == 404
    client.force_login(unpublished_round.supervisor)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_framework_import_page(client, small_round):
    from reports.framework_xlsx import framework_template_workbook
    from rounds.models import Framework

    url = reverse("reports:framework_import")
    client.force_login(small_round.staff[0])
    assert client.get(url).status_code == 403
    client.force_login(small_round.admin)
    template = client.get(reverse("reports:framework_template"))
    assert template.status_code == 200
    data = template.content
    assert data == framework_template_workbook() or data[:2] == b"PK"
    form = {
        "name": "从表格导入",
        "policy_title": "办法",
        "valid_from": "2025-01-01",
        "valid_to": "2029-12-31",
        "total_points": "100",
    }
    upload = io.BytesIO(data)
    upload.name = "framework.xlsx"
    response = client.post(url, {**form, "file": upload})
    assert response.status_code == 302
    assert Framework.objects.filter(name="从表格导入").exists()
    bad = io.BytesIO(b"not a workbook")
    bad.name = "x.xlsx"
    response = client.post(url, {**form, "name": "另一个", "file": bad})
    assert response.status_code == 400
    assert "not an Excel workbook" in response.content.decode()


def test_offline_workbook_download_needs_an_assignment(client, expert_scoring_round):
    small_round = expert_scoring_round
    url = reverse("reports:score_workbook", args=(small_round.round.pk, small_round.schools[0].pk))
    client.force_login(small_round.staff[0])
    assert client.get(url).status_code == 404
    client.force_login(small_round.experts[1])
    response = client.get(url)
    assert response.status_code == 200
    upload = io.BytesIO(response.content)
    upload.name = "scores.xlsx"
    result = client.post(
        reverse("reports:score_workbook_upload", args=(small_round.round.pk,)), {"file": upload}
    )
    assert result.status_code == 200
    assert "0 score(s) changed" in result.content.decode() or "message--success" in (
        result.content.decode()
    )


def test_group_opinion_page(client, unpublished_round):
    from reports.models import GroupOpinion

    small_round = unpublished_round  # in consolidation
    url = reverse("reports:group_opinion", args=(small_round.round.pk, small_round.schools[0].pk))
    client.force_login(small_round.experts[1])
    assert client.get(url).status_code == 404
    client.force_login(small_round.experts[0])  # the group leader
    assert client.post(url, {"text": "综合意见：良好。"}).status_code == 302
    assert GroupOpinion.objects.get(
        round=small_round.round, school=small_round.schools[0]
    ).text == ("综合意见：良好。")
