"""``manage.py render_reports ROUND_ID``: render every document of a round, with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from reports import selectors, services
from reports.tasks import render_document
from rounds.models import Round
from scoring.models import ResultSet

BAR_WIDTH = 30


def progress_bar(done: int, failed: int, total: int) -> str:
    finished = done + failed
    filled = BAR_WIDTH if not total else BAR_WIDTH * finished // total
    return (
        f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {finished}/{total}"
        f" ({done} done, {failed} failed)"
    )


class Command(BaseCommand):
    help = (
        "Render the school reports, the round summary and the rectification notices of a "
        "round's latest result set (or --result-version) on the reports queue, showing progress."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("round_id", type=int)
        parser.add_argument(
            "--result-version", type=int, help="result-set version (default: the latest)"
        )
        parser.add_argument(
            "--timeout", type=int, default=3600, help="seconds to wait for the workers"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        round = Round.objects.filter(pk=options["round_id"]).first()
        if round is None:
            raise CommandError(f"No round {options['round_id']}.")
        result_sets = ResultSet.objects.filter(round=round).order_by("-version")
        if options["result_version"]:
            result_sets = result_sets.filter(version=options["result_version"])
        result_set = result_sets.first()
        if result_set is None:
            raise CommandError(f"Round {round.pk} has no result set to render.")
        eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
        try:
            job = services.render_job_start(result_set=result_set, actor=None, enqueue=not eager)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{round.name} v{result_set.version}: {job.total} documents (job #{job.pk})"
        )
        if eager:
            # No broker: render here, one document after another, to show progress.
            for kind, school_id in job.documents:
                render_document.apply(args=(result_set.pk, kind, school_id, job.pk))
                self._show(job)
        else:
            deadline = time.monotonic() + options["timeout"]
            while not self._show(job):
                if time.monotonic() > deadline:
                    raise CommandError("Timed out waiting for the reports workers.")
                time.sleep(1)
        progress = selectors.render_job_progress(job=job)
        self._line(progress_bar(progress.done, progress.failed, progress.total), end="\n")
        self._last = None
        for failure in progress.failures:
            self.stderr.write(f"failed: {failure.kind} {failure.school_id or ''}: {failure.error}")
        if progress.failures:
            raise CommandError(f"{len(progress.failures)} document(s) failed.")

    def _show(self, job: Any) -> bool:
        progress = selectors.render_job_progress(job=job)
        self._line(progress_bar(progress.done, progress.failed, progress.total))
        return progress.finished

    def _line(self, text: str, end: str = "") -> None:
        """Redraw the bar in place on a terminal; elsewhere print each new state once."""
        if getattr(sys.stdout, "isatty", lambda: False)():
            self.stdout.write("\r" + text, ending=end)
        elif text != getattr(self, "_last", None):
            self.stdout.write(text)
        self._last = text
        self.stdout.flush()
