"""Evidence upload: type from content, size limit, duplicates, versions, deadline."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.enums import Role
from core.errors import DomainError
from rounds.enums import RoundPhase
from rounds.evidence import evidence_upload
from rounds.models import Evidence, PhaseWindow
from tests.factories import SchoolFactory, StaffMembershipFactory, make_round

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml" if kind == "xlsx" else "word/document.xml", "<x/>")
    return buffer.getvalue()


@pytest.fixture
def upload_setting(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    school = SchoolFactory()
    round = make_round(schools=[school])
    round.phase = RoundPhase.SELF_ASSESSMENT
    round.save()
    staff = StaffMembershipFactory(school=school, user__roles=[Role.SCHOOL_STAFF]).user
    return round, school, staff


def upload(setting, name, content, code="A1.1"):  # noqa: ANN001, ANN201
    round, school, staff = setting
    return evidence_upload(
        round=round,
        school=school,
        indicator=code,
        actor=staff,
        file=SimpleUploadedFile(name, content),
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("licence.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("scan.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 16, "image/jpeg"),
        (
            "table.xlsx",
            office("xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "report.docx",
            office("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("renamed.txt", PDF, "application/pdf"),
    ],
)
def test_allowed_types_are_recognised_from_content(upload_setting, name, content, expected):
    evidence = upload(upload_setting, name, content)
    assert evidence.content_type == expected
    assert len(evidence.sha256) == 64
    assert evidence.size == len(content)
    assert evidence.original_name == name
    assert not evidence.file.name.endswith(name)  # stored under its hash, not the given name


@pytest.mark.parametrize("content", [b"MZ\x90\x00 windows exe", b"<html>", b"PK\x03\x04junk"])
def test_other_content_is_refused_whatever_its_name(upload_setting, content):
    with pytest.raises(DomainError) as error:
        upload(upload_setting, "looks-fine.pdf", content)
    assert error.value.code == "file_type"
    assert Evidence.objects.count() == 0


def test_size_limit_and_duplicates(upload_setting, settings):
    settings.EVIDENCE_MAX_BYTES = 60
    with pytest.raises(DomainError) as error:
        upload(upload_setting, "big.pdf", PDF + b"x" * 100)
    assert error.value.code == "too_large"
    upload(upload_setting, "a.pdf", PDF)
    with pytest.raises(DomainError) as error:
        upload(upload_setting, "copy.pdf", PDF)
    assert error.value.code == "duplicate"
    assert "a.pdf" in str(error.value)
    second = upload(upload_setting, "a.pdf", PDF.replace(b"1.4", b"1.5"))
    assert second.version == 2
    assert Evidence.objects.count() == 2


def test_upload_closes_after_the_deadline_and_outside_the_phase(upload_setting):
    round, _school, _staff = upload_setting
    PhaseWindow.objects.create(
        round=round,
        phase=RoundPhase.SELF_ASSESSMENT,
        starts_on=dt.date(2025, 3, 1),
        ends_on=dt.date(2025, 4, 30),
    )
    with pytest.raises(DomainError) as error:
        upload(upload_setting, "late.pdf", PDF)
    assert error.value.code == "deadline_passed"
    PhaseWindow.objects.all().delete()
    round.phase = RoundPhase.EXPERT_SCORING
    round.save()
    with pytest.raises(DomainError) as error:
        upload(upload_setting, "late.pdf", PDF)
    assert error.value.code == "phase_closed"


def test_only_own_staff_upload(upload_setting):
    round, school, _staff = upload_setting
    other = StaffMembershipFactory(user__roles=[Role.SCHOOL_STAFF]).user
    with pytest.raises(DomainError) as error:
        evidence_upload(
            round=round,
            school=school,
            indicator="A1.1",
            actor=other,
            file=SimpleUploadedFile("a.pdf", PDF),
        )
    assert error.value.code == "not_staff"
