"""Rectifications: what publishing a round with an unqualified school opens, and the
school's report on it. Built through ``publication.services`` and
``rectification.services`` only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rectification import services
from rectification.models import Rectification
from rounds.models import Round
from schools.models import School
from tests.factories.publication import PDF, Noticed, published_round, upload


def rectification_of(round: Round, school: School) -> Rectification:
    return Rectification.objects.get(round=round, school=school)


def rectified_round(
    *, admin: Any, schools: int = 3, at: dt.datetime | None = None
) -> tuple[Noticed, Rectification]:
    """A round published after its notice (at ``at``) and the rectification its
    unqualified school got."""
    noticed = published_round(admin=admin, schools=schools, at=at)
    return noticed, rectification_of(noticed.round, noticed.unqualified)


def rectification_report(
    rectification: Rectification, actor: Any, *, with_files: bool = True, text: str | None = None
) -> Rectification:
    """The school's report on every item (a PDF each unless ``with_files`` is False)."""
    reports = {
        item.pk: services.ItemReport(
            text=text or f"已整改 {item.code}",
            file=upload(PDF, f"{item.code}.pdf") if with_files else None,
        )
        for item in rectification.items.all()
    }
    return services.rectification_submit_report(
        rectification=rectification, actor=actor, reports=reports
    )
