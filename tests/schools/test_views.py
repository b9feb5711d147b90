"""Evidence pages: every URL × every role, uploads, the checklist, the private download."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from rounds.enums import RoundPhase
from rounds.models import Evidence, Indicator, PhaseWindow
from tests.scoring.test_sheet_views import PDF, ROLES, World, build_world

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64


@pytest.fixture
def world(bureau_admin, settings, tmp_path) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    return build_world(bureau_admin)


D = dict  # expected status per role; roles not listed answer 403
MATRIX = [
    # (url name, args, expected)
    ("evidence:point", ("round", "leaf"), D(anonymous=302, staff_own=200, staff_other=200)),
    (
        "evidence:school_point",
        ("round", "school", "leaf"),
        D(
            anonymous=302,
            admin=200,
            supervisor=200,
            leader=404,
            evaluator=200,
            unassigned=404,
            recused=403,
            staff_own=200,
            staff_other=404,
        ),
    ),
    (
        "evidence:download",
        ("evidence",),
        D(
            anonymous=302,
            admin=200,
            supervisor=200,
            leader=404,
            evaluator=200,
            unassigned=404,
            recused=404,
            staff_own=200,
            staff_other=404,
        ),
    ),
]


def url_args(world: World, names: tuple[str, ...]) -> list[int]:
    values = {
        "round": world.round.pk,
        "school": world.school.pk,
        "leaf": world.leaf().pk,
        "evidence": world.evidence.pk,
    }
    return [values[name] for name in names]


@pytest.mark.parametrize(("name", "args", "expected"), MATRIX)
def test_every_url_answers_every_role_as_expected(world, name, args, expected):
    url = reverse(name, args=url_args(world, args))
    got = {}
    for role in ROLES:
        response = world.client(role).get(url)
        got[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert got == {role: expected.get(role, 403) for role in ROLES}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("admin", 403),
        ("supervisor", 403),
        ("evaluator", 403),
        ("recused", 403),
        ("unassigned", 404),
        ("leader", 404),
        ("staff_other", 404),
        ("staff_own", 200),
    ],
)
def test_only_the_schools_own_staff_upload(world, role, status):
    url = reverse("evidence:school_point", args=url_args(world, ("round", "school", "leaf")))
    response = world.client(role).post(
        url, {"files": SimpleUploadedFile("新.pdf", PDF + b"new")}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == status
    assert Evidence.objects.count() == (2 if role == "staff_own" else 1)


def upload(world: World, *files: SimpleUploadedFile, code: str = "A1.2", htmx: bool = True):
    url = reverse(
        "evidence:school_point", args=[world.round.pk, world.school.pk, world.leaf(code).pk]
    )
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return world.client("staff_own").post(
        url, {"files": list(files), "with_checklist": "1"}, **extra
    )


def test_a_pdf_is_accepted_and_the_checklist_updates(world):
    Indicator.objects.filter(pk=world.leaf("A1.2").pk).update(required_evidence=["招生台账"])
    client = world.client("staff_own")
    page = client.get(reverse("sheets:self_assessment", args=[world.round.pk])).content.decode()
    assert 'data-code="A1.2"' in page and "✗" in page
    response = upload(world, SimpleUploadedFile("招生台账.pdf", PDF + b"ledger"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "招生台账.pdf uploaded (version 1)." in body
    assert 'id="evidence-checklist"' in body and 'hx-swap-oob="true"' in body
    evidence = Evidence.objects.get(original_name="招生台账.pdf")
    assert evidence.sha256[:12] in body
    assert "v1" in body
    checklist = body[body.index('id="evidence-checklist"') :]
    row = checklist[checklist.index('data-code="A1.2"') :]
    assert row.index("✓") < row.index("</tr>")


def test_a_renamed_executable_is_refused_and_nothing_is_stored(world):
    body = upload(world, SimpleUploadedFile("报告.pdf", EXE)).content.decode()
    assert "报告.pdf is not a PDF, JPEG, PNG, XLSX or DOCX file (checked from its content)." in body
    assert Evidence.objects.filter(original_name="报告.pdf").count() == 0


def test_a_duplicate_and_a_file_over_the_limit_are_refused_but_good_files_kept(world, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    body = upload(
        world,
        SimpleUploadedFile("copy.pdf", PDF),  # same bytes as A1.1's file but another point: fine
        SimpleUploadedFile("copy-again.pdf", PDF),  # the same file again for A1.2: duplicate
        SimpleUploadedFile("big.pdf", PDF + b"0" * 2048),
    ).content.decode()
    assert "copy.pdf uploaded (version 1)." in body
    assert "This file was uploaded already for A1.2" in body
    assert "big.pdf is 2.0" in body and "the limit is 1.0" in body
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == [
        "copy.pdf",
        "办学许可证.pdf",
    ]


def test_the_same_name_again_becomes_a_new_version(world):
    upload(world, SimpleUploadedFile("制度.pdf", PDF + b"1"))
    body = upload(world, SimpleUploadedFile("制度.pdf", PDF + b"2")).content.decode()
    assert "制度.pdf uploaded (version 2)." in body
    assert body.count("制度.pdf</a>") == 2


def test_without_a_file_the_page_says_so(world):
    body = upload(world).content.decode()
    assert "Choose at least one file to upload." in body


def test_without_htmx_the_upload_redirects_to_next(world):
    url = reverse("evidence:school_point", args=[world.round.pk, world.school.pk, world.leaf().pk])
    back = reverse("sheets:self_assessment", args=[world.round.pk]) + "#point-1"
    client = world.client("staff_own")
    response = client.post(url, {"files": SimpleUploadedFile("b.pdf", PDF + b"b"), "next": back})
    assert (response.status_code, response["Location"]) == (302, back)
    response = client.post(
        url, {"files": SimpleUploadedFile("c.pdf", PDF + b"c"), "next": "https://evil.example/"}
    )
    assert response["Location"] == url


def test_after_the_deadline_upload_is_closed_and_the_page_says_why(world):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    PhaseWindow.objects.filter(round=world.round, phase=RoundPhase.SELF_ASSESSMENT).update(
        ends_on=yesterday
    )
    page = world.client("staff_own").get(
        reverse("evidence:point", args=[world.round.pk, world.leaf().pk])
    )
    body = page.content.decode()
    assert "Evidence upload closed on" in body
    assert 'name="files"' not in body
    body = upload(world, SimpleUploadedFile("late.pdf", PDF + b"late")).content.decode()
    assert "Evidence upload closed on" in body
    assert not Evidence.objects.filter(original_name="late.pdf").exists()


def test_a_closed_phase_closes_upload(world):
    world.phase(RoundPhase.EXPERT_SCORING)
    body = upload(world, SimpleUploadedFile("x.pdf", PDF + b"x")).content.decode()
    assert "Evidence upload is closed: the round is in the phase" in body
    assert Evidence.objects.count() == 1


def test_the_download_serves_the_private_file_under_its_original_name(world):
    response = world.client("evaluator").get(reverse("evidence:download", args=[world.evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%E5%8A%9E%E5%AD%A6%E8%AE%B8%E5%8F%AF%E8%AF%81.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_guessing_another_schools_file_id_gives_404(world):
    other_staff = world.client("staff_other")
    for evidence_id in (world.evidence.pk, world.evidence.pk + 1000):
        response = other_staff.get(reverse("evidence:download", args=[evidence_id]))
        assert response.status_code == 404
