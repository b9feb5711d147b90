"""``manage.py render_reports ROUND_ID``."""

import io

import pytest
from django.core.management import CommandError, call_command

from reports.management.commands.render_reports import progress_bar
from reports.models import RenderJob, ReportArtifact

pytestmark = pytest.mark.django_db


def test_the_command_renders_everything_with_a_progress_bar(small_round):
    out = io.StringIO()
    call_command("render_reports", str(small_round.round.pk), stdout=out)
    text = out.getvalue()
    assert "5 documents" in text
    assert "[" + "#" * 30 + "] 5/5 (5 done, 0 failed)" in text
    assert ReportArtifact.objects.count() == 5
    assert RenderJob.objects.get().status == "finished"
    # a second run finds everything done and renders nothing
    out = io.StringIO()
    call_command("render_reports", str(small_round.round.pk), stdout=out)
    assert ReportArtifact.objects.count() == 5


def test_unknown_round():
    with pytest.raises(CommandError):
        call_command("render_reports", "999999")


def test_progress_bar():
    assert progress_bar(1, 1, 4) == "[" + "#" * 15 + "-" * 15 + "] 2/4 (1 done, 1 failed)"
