"""``python manage.py seed_demo``: load the demo data (idempotent) and print the accounts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from xm_eval.demo import demo_seed

SITE_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Create the demo data: 1 public and 8 sample private schools, the sample framework, "
        "an open 2025–2027 round with its evaluation group and assignments, a completed "
        "2022–2024 sample round (scored, noticed, published, one rectification passed, "
        "closed), and a demo account for every role. Running it again creates nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even though DEBUG is off. The demo accounts share a published password; "
            "never use this on a production database.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo accounts share a "
                "published password. Run with DEBUG=1, or pass --allow-without-debug."
            )
        verbose = options["verbosity"] >= 2
        try:
            summary = demo_seed(stdout=self.stdout if verbose else None)
        except DomainError as error:
            raise CommandError(f"{error} {error.details or ''}".strip()) from error

        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"Demo accounts (password for all: {summary.password})")
        )
        width = max(len(account.username) for account in summary.accounts)
        role_width = max(len(account.role) for account in summary.accounts)
        for account in summary.accounts:
            self.stdout.write(
                f"  {account.username:<{width}}  {account.role:<{role_width}}  "
                f"{account.display_name}  {account.note}".rstrip()
            )
        self.stdout.write(
            "  (accounts that existed before this run were left unchanged, password included)"
        )
        self.stdout.write("")
        self.stdout.write(f"Site:  {SITE_URL}")
        self.stdout.write(f"Admin: {SITE_URL}admin/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(summary.line()))
