"""Recognising evidence files by their content, never by their name."""

from __future__ import annotations

import zipfile
from typing import IO

from django.utils.translation import gettext_lazy as _

# content type → (label shown to users, the extension we store it as)
ALLOWED_TYPES = {
    "application/pdf": ("PDF", "pdf"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("XLSX", "xlsx"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("DOCX", "docx"),
}
ALLOWED_LABEL = _("PDF, JPEG, PNG, XLSX or DOCX")


def sniff_content_type(stream: IO[bytes]) -> str | None:
    """The content type of an allowed evidence file, from its bytes; None otherwise.

    Office files are zip archives: only the central directory is read (no
    entry is decompressed) to find the part that makes them a workbook or a
    document.
    """
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            stream.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None
