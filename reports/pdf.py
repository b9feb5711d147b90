"""HTML to PDF with WeasyPrint, fetching nothing but our own static files.

The HTML comes only from our templates. Its stylesheet and any image are
addressed under ``ASSET_BASE_URL`` (an ``.invalid`` host, which never resolves)
and served from the static files by ``StaticAssetFetcher``; ``file://`` URLs are
served only inside the static directories; everything else (other files,
``http(s)`` anywhere, ``data:``, ``ftp:``) is refused.

Fonts come from fontconfig (Debian ``fonts-noto-cjk``: Noto Sans CJK SC). Writing
a PDF subsets every embedded font; with the CJK fonts that is the slow part.
WeasyPrint subsets with HarfBuzz when ``libharfbuzz-subset`` is installed and
falls back to fontTools otherwise, which takes 10–20 s per document for a Noto
CJK face instead of a few tenths of a second. ``font_subsetter()`` says which
is in use; the ``reports.W001`` system check warns when it is fontTools.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

logger = logging.getLogger(__name__)
# WeasyPrint reports every step of every document at INFO; only its problems matter here.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

ASSET_HOST = "assets.xm-eval.invalid"
ASSET_BASE_URL = f"https://{ASSET_HOST}/"
# WeasyPrint's own defaults, written out: no hinting (smaller fonts), compressed
# streams, images as they are. ``full_fonts`` stays off: a full Noto CJK face
# is 16 MB per PDF.
PDF_OPTIONS = {"hinting": False, "full_fonts": False, "optimize_images": False}


class AssetRefused(ValueError):
    """The URL fetcher refused a URL: only our static files may be fetched."""


def _static_url_prefix() -> str:
    return "/" + settings.STATIC_URL.strip("/") + "/"


@cache
def static_roots() -> tuple[Path, ...]:
    """Every directory static files are served from (finders' locations, STATIC_ROOT)."""
    roots: list[Path] = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return tuple(dict.fromkeys(roots))


def _inside_static(path: Path) -> bool:
    resolved = path.resolve()
    return resolved.is_file() and any(resolved.is_relative_to(root) for root in static_roots())


def static_asset_path(url: str) -> Path:
    """The file a URL may be served from; raises ``AssetRefused`` for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.netloc.lower() == ASSET_HOST:
        relative = unquote(parts.path)
        prefix = _static_url_prefix()
        if relative.startswith(prefix) and ".." not in relative.split("/"):
            found = finders.find(relative[len(prefix) :])
            if found is None and settings.STATIC_ROOT:
                candidate = Path(settings.STATIC_ROOT) / relative[len(prefix) :]
                found = str(candidate) if candidate.is_file() else None
            if found and _inside_static(Path(found)):
                return Path(found).resolve()
        raise AssetRefused(f"not one of our static files: {url}")
    if scheme == "file" and parts.netloc in ("", "localhost"):
        path = Path(unquote(parts.path))
        if _inside_static(path):
            return path.resolve()
        raise AssetRefused(f"file outside the static directories: {url}")
    raise AssetRefused(f"only our static files can be fetched, not {url}")


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticAssetFetcher(URLFetcher):
        """WeasyPrint's fetcher, restricted to our static files (never the network)."""

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            try:
                path = static_asset_path(url)
            except AssetRefused:
                logger.warning("PDF rendering refused to fetch %s", url)
                raise
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticAssetFetcher


def url_fetcher():  # noqa: ANN201 - a WeasyPrint URLFetcher
    """A fresh fetcher that serves our static files and refuses everything else."""
    return _fetcher_class()()


@cache
def font_subsetter() -> str:
    """“harfbuzz” when WeasyPrint subsets fonts with HarfBuzz, else “fonttools” (slow)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "harfbuzz"
    return "fonttools"


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    data: bytes
    pages: int
    layout_seconds: float
    write_seconds: float


def html_layout(html: str):  # noqa: ANN201 - a weasyprint Document
    """Lay out and paginate ``html`` (WeasyPrint's ``HTML(...).render()``)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=url_fetcher()).render(
        **PDF_OPTIONS
    )


def html_to_pdf(html: str) -> RenderedPdf:
    """Render ``html`` (from our templates) to PDF bytes, timing layout and writing."""
    started = time.perf_counter()
    document = html_layout(html)
    laid_out = time.perf_counter()
    data = document.write_pdf(**PDF_OPTIONS)
    written = time.perf_counter()
    return RenderedPdf(
        data=data,
        pages=len(document.pages),
        layout_seconds=laid_out - started,
        write_seconds=written - laid_out,
    )
