"""Walk the audit chain; name the first broken link and exit non-zero if there is one."""

import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        try:
            report = audit_verify()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        if report.broken is not None:
            broken = report.broken
            where = f"event #{broken.sequence}"
            if broken.event_id is not None:
                where += f" (id {broken.event_id})"
            raise CommandError(
                f"audit chain broken at {where}: {broken.reason}; "
                f"{report.events} event(s) before it verified."
            )
        algorithms = ", ".join(f"{name} from #{sequence}" for sequence, name in report.algorithms)
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {report.events} event(s) verified in {seconds:.2f} s"
                f" ({algorithms or 'empty'}); {report.checkpoints} signed checkpoint(s) hold."
            )
        )
