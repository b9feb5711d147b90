"""In a real browser: school staff upload evidence, are refused a renamed
executable and a file over the limit, and see the checklist update."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from rounds.models import Evidence, Indicator
from tests.browser.test_scoring_sheet import media_in_tmp  # noqa: F401 - a fixture
from tests.scoring.test_sheet_views import PDF, World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64


def upload(page: Any, point_pk: int, name: str, content: bytes, mime: str) -> Any:
    files = page.locator(f"#files-{point_pk}")
    files.set_input_files([{"name": name, "mimeType": mime, "buffer": content}])
    page.locator(f"#evidence-{point_pk} button[type=submit]").click()
    return page.locator(f"#evidence-{point_pk} .upload-result")


@pytest.mark.usefixtures("media_in_tmp")
def test_school_staff_upload_evidence_and_the_checklist_updates(
    browser_page, sign_in, screenshot, bureau_admin, settings
):
    settings.EVIDENCE_MAX_BYTES = 4096
    page = browser_page
    world: World = build_world(bureau_admin)
    point = world.leaf("A1.2")
    Indicator.objects.filter(pk=point.pk).update(required_evidence=["招生简章及备案回执"])
    url = reverse("sheets:self_assessment", args=[world.round.pk])
    sign_in(page, world.users["staff_own"].username, url)
    row = page.locator("#evidence-checklist tr[data-code='A1.2']")
    assert "missing" in row.get_attribute("class")

    result = upload(page, point.pk, "招生简章.pdf", PDF + b"brochure", "application/pdf")
    result.get_by_text("招生简章.pdf 已上传（第 1 版）。").wait_for()
    page.locator("#evidence-checklist tr[data-code='A1.2'].complete").wait_for()
    assert page.locator(f"#evidence-{point.pk} table.files").get_by_text("招生简章.pdf").count()

    result = upload(page, point.pk, "备案回执.pdf", EXE, "application/pdf")
    result.get_by_text("备案回执.pdf 不是 PDF、JPEG、PNG、XLSX 或 DOCX 文件").wait_for()

    result = upload(page, point.pk, "扫描件.pdf", PDF + b"0" * 8192, "application/pdf")
    result.get_by_text("上限为 4.0").wait_for()
    screenshot(page, "evidence-upload")

    assert list(
        Evidence.objects.filter(indicator=point).values_list("original_name", flat=True)
    ) == ["招生简章.pdf"]
