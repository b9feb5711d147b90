"""The Simplified Chinese catalogue is complete: every marked string is translated."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs GNU gettext (make test installs it)"
)


def entries(po_text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry but the header; plural forms joined."""
    found = []
    for block in po_text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        translated = " ".join(v for k, v in fields.items() if k.startswith("msgstr"))
        found.append((fields["msgid"], translated, fuzzy))
    return found


def test_makemessages_finds_no_untranslated_string(tmp_path):
    assert CATALOGUE.exists(), "locale/zh_Hans/LC_MESSAGES/django.po is missing"
    before = CATALOGUE.read_bytes()
    # makemessages writes into every "locale" folder it finds beside the files it
    # reads, whatever the settings say: so it runs in a copy of the project made
    # of links to the sources and a copied catalogue, and the real one is untouched.
    project = tmp_path / "project"
    project.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"locale", "var", "__pycache__"} and entry.name[0] != ".":
            (project / entry.name).symlink_to(entry)
    locale = project / "locale"
    shutil.copytree(ROOT / "locale", locale)
    env = {**os.environ, "DEBUG": "1", "XM_EVAL_LOCALE_DIR": str(locale)}
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--symlinks",
            "--no-obsolete",
            "--ignore",
            ".venv/*",
            "--ignore",
            "var/*",
            "--ignore",
            "tests/*",
            "--ignore",
            "bench/*",
        ],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert CATALOGUE.read_bytes() == before, "makemessages wrote into the real catalogue"
    extracted = entries((locale / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text())
    untranslated = [msgid for msgid, msgstr, fuzzy in extracted if not msgstr or fuzzy]
    assert extracted, "no string was extracted"
    assert untranslated == [], f"{len(untranslated)} untranslated: {untranslated[:20]}"
