"""Cloning a round: the next cycle's round as a draft copy of the last one.

``round_clone`` goes through ``rounds.services.round_create`` and
``rounds.group_services.evaluation_group_member_add``, so it refuses what they
refuse and records their audit events, plus one ``round.clone`` event.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.audit import audit_record, model_snapshot
from rounds.group_services import evaluation_group_member_add
from rounds.models import EvaluationGroup, Framework, GroupMember, PhaseWindow, Round
from rounds.services import round_create

CYCLE_YEARS = 3  # one round every three years (DESIGN §1)


def cycle_shifted_date(day: dt.date, years: int = CYCLE_YEARS) -> dt.date:
    """``day`` moved by ``years`` (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def round_cycle_shifted_text(*, round: Round, text: str, years: int = CYCLE_YEARS) -> str:
    """``text`` with the round's cycle (“2025–2027”, also with a hyphen) moved by ``years``.

    Names of rounds and groups usually carry their cycle; a clone's default
    names are the source's with the next cycle in them.
    """
    start, end = round.cycle_start + years, round.cycle_end + years
    shifted = text
    for dash in ("–", "-", "—", "~"):
        shifted = shifted.replace(
            f"{round.cycle_start}{dash}{round.cycle_end}", f"{start}{dash}{end}"
        )
    return shifted


@transaction.atomic
def round_clone(
    *,
    round: Round,
    actor: AbstractBaseUser | None,
    name: str,
    framework: Framework | None = None,
    years: int = CYCLE_YEARS,
) -> Round:
    """Open the next cycle's round as a draft copy of ``round``.

    Copies the framework (or uses ``framework``, a newer version, when given),
    the schools in scope, the round's settings, the evaluation group with its
    members' roles and affiliations, and every phase window shifted by
    ``years`` (one cycle, three years, by default). Assignments, conflicts of
    interest, scores and results are not copied: they belong to the cycle.
    Goes through ``round_create`` and ``evaluation_group_member_add``, so it
    refuses what they refuse (a cycle or dates outside the framework's
    validity, a duplicate name) and leaves nothing written; records their
    audit events and one ``round.clone`` event naming the source round.
    """
    source = Round.objects.select_related("framework").get(pk=round.pk)
    windows = {
        window.phase: (
            cycle_shifted_date(window.starts_on, years),
            cycle_shifted_date(window.ends_on, years),
        )
        for window in PhaseWindow.objects.filter(round=source)
    }
    clone = round_create(
        actor=actor,
        framework=framework or source.framework,
        name=name,
        cycle_start=source.cycle_start + years,
        cycle_end=source.cycle_end + years,
        schools=list(source.schools.all()),
        consolidation_method=source.consolidation_method,
        phase_windows=windows,
    )
    settings_fields = (
        "peer_scores_visible",
        "spread_threshold",
        "veto_ranks_last",
        "tie_break_by_dimension",
    )
    for field_name in settings_fields:
        setattr(clone, field_name, getattr(source, field_name))
    clone.save(update_fields=list(settings_fields))
    source_group = EvaluationGroup.objects.filter(round=source).first()
    group_name = (
        round_cycle_shifted_text(round=source, text=source_group.name, years=years)
        if source_group is not None
        else ""
    )
    members = list(
        GroupMember.objects.filter(group__round=source)
        .select_related("user", "affiliated_school")
        .order_by("id")
    )
    for member in members:
        evaluation_group_member_add(
            round=clone,
            actor=actor,
            user=member.user,
            role=member.role,
            affiliation=member.affiliation,
            affiliated_school=member.affiliated_school,
            group_name=group_name,
        )
    audit_record(
        actor=actor,
        action="round.clone",
        obj=clone,
        before={"source_round": source.pk, "source_name": source.name},
        after={
            **model_snapshot(clone),
            "phase_windows": {phase: list(dates) for phase, dates in windows.items()},
            "group_members": len(members),
        },
        round_id=clone.pk,
    )
    return clone
