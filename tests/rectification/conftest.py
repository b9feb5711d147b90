import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def _no_pdf_rendering(settings):  # noqa: ANN001, ANN202
    # The rectification notices are the reports app's PDFs; the one test that checks
    # they are enqueued turns this back on.
    settings.RECTIFICATION_NOTICE_RENDER = False


@pytest.fixture(autouse=True)
def _english(settings):  # noqa: ANN001, ANN202
    # The assertions read the English source texts; the pages default to Chinese.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
