"""The URL fetcher of the PDF rendering serves our static files and nothing else."""

import pytest
from django.conf import settings

from reports.pdf import ASSET_BASE_URL, AssetRefused, html_to_pdf, static_asset_path, url_fetcher


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://example.com/static/reports/pdf.css",
        f"{ASSET_BASE_URL}static/../../../../etc/passwd",
        f"{ASSET_BASE_URL}static/%2e%2e/%2e%2e/etc/passwd",
        f"{ASSET_BASE_URL}etc/passwd",
        "ftp://example.com/file",
        "data:text/plain,hello",
        f"file://{settings.BASE_DIR}/xm_eval/settings.py",
        f"file://{settings.BASE_DIR}/static/../xm_eval/settings.py",
    ],
)
def test_everything_but_our_static_files_is_refused(url):
    with pytest.raises(AssetRefused):
        static_asset_path(url)
    with pytest.raises(AssetRefused):
        url_fetcher().fetch(url)


def test_our_stylesheet_is_served():
    response = url_fetcher().fetch(f"{ASSET_BASE_URL}static/reports/pdf.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_a_file_url_inside_the_static_files_is_served():
    path = settings.BASE_DIR / "reports" / "static" / "reports" / "pdf.css"
    response = url_fetcher().fetch(f"file://{path}")
    assert b"@page" in response.read()


def test_a_document_that_asks_for_more_gets_nothing(caplog):
    html = (
        '<html><body><p>测试</p><img src="file:///etc/passwd">'
        '<img src="http://169.254.169.254/latest/meta-data/">'
        '<link rel="stylesheet" href="http://169.254.169.254/x.css"></body></html>'
    )
    rendered = html_to_pdf(html)
    assert rendered.pages == 1
    refused = [r.getMessage() for r in caplog.records if "refused to fetch" in r.getMessage()]
    assert any("/etc/passwd" in message for message in refused)
    assert any("169.254.169.254" in message for message in refused)
