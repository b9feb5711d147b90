"""System checks for PDF rendering: a CJK font, and fast font subsetting."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from django.core import checks

CJK_FAMILY = "Noto Sans CJK SC"


@checks.register()
def pdf_rendering_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from reports.pdf import font_subsetter  # WeasyPrint loads only when the check runs

    messages: list[checks.CheckMessage] = []
    try:
        subsetter = font_subsetter()
    except Exception as error:  # WeasyPrint's native libraries are missing  # noqa: BLE001
        return [
            checks.Warning(
                f"WeasyPrint cannot load its libraries ({error}); PDF reports will fail.",
                hint="Install the Debian packages libpango-1.0-0 and libpangoft2-1.0-0.",
                id="reports.W002",
            )
        ]
    if subsetter != "harfbuzz":
        messages.append(
            checks.Warning(
                "WeasyPrint subsets fonts with fontTools: every Chinese PDF takes 10 s or more.",
                hint="Install the Debian package libharfbuzz-subset0 (HarfBuzz ≥ 4.1).",
                id="reports.W001",
            )
        )
    fc_list = shutil.which("fc-list")
    if fc_list:
        found = subprocess.run(
            [fc_list, f":family={CJK_FAMILY}", "family"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout
        if CJK_FAMILY not in found:
            messages.append(
                checks.Warning(
                    f"The font “{CJK_FAMILY}” is not installed; Chinese PDFs would lack glyphs.",
                    hint="Install the Debian package fonts-noto-cjk.",
                    id="reports.W003",
                )
            )
    return messages
