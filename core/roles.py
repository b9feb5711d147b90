"""The roles as Django groups with model permissions.

Model permissions say what a role may do at all; which objects it may do it to
(its own school, its assignments) is decided by the predicates in
``core.permissions`` and each app's ``permissions``.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from core.enums import Role

ALL_ACTIONS = ("add", "change", "delete", "view")

# role -> {"app.model": actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.BUREAU_ADMIN: {
        **{f"schools.{model}": ALL_ACTIONS for model in ("school", "specialty", "staffmembership")},
        "rounds.evidence": ALL_ACTIONS,
        **{
            f"rounds.{model}": ALL_ACTIONS
            for model in (
                "framework",
                "indicator",
                "round",
                "phasewindow",
                "evaluationgroup",
                "groupmember",
                "assignment",
                "conflictofinterest",
            )
        },
        "rectification.rectification": ALL_ACTIONS,
        **{
            f"scoring.{model}": ("view",)
            for model in (
                "scoresheet",
                "score",
                "selfassessment",
                "selfscore",
                "consensusscore",
                "resultset",
                "resultrow",
            )
        },
        "scoring.auditscore": ALL_ACTIONS,
        "core.auditevent": ("view",),
    },
    Role.GROUP_LEADER: {
        "schools.school": ("view",),
        "rounds.evidence": ("view",),
        "rounds.round": ("view",),
        "rounds.indicator": ("view",),
        "rounds.assignment": ("view",),
        "rounds.conflictofinterest": ("add", "view"),
        "scoring.scoresheet": ("add", "change", "view"),
        "scoring.score": ("add", "change", "view"),
        "scoring.consensusscore": ("add", "change", "view"),
    },
    Role.EVALUATOR: {
        "schools.school": ("view",),
        "rounds.evidence": ("view",),
        "rounds.round": ("view",),
        "rounds.indicator": ("view",),
        "rounds.assignment": ("view",),
        "rounds.conflictofinterest": ("add", "view"),
        "scoring.scoresheet": ("add", "change", "view"),
        "scoring.score": ("add", "change", "view"),
    },
    Role.SCHOOL_STAFF: {
        "schools.school": ("view",),
        "schools.specialty": ("view",),
        "rounds.evidence": ("add", "view"),
        "rounds.round": ("view",),
        "rounds.indicator": ("view",),
        "rectification.rectification": ("view",),
        "scoring.selfassessment": ("add", "change", "view"),
        "scoring.selfscore": ("add", "change", "view"),
    },
    Role.SUPERVISOR: {
        **{
            f"{label}": ("view",)
            for label in (
                "schools.school",
                "rounds.round",
                "rounds.framework",
                "rounds.indicator",
                "rounds.evaluationgroup",
                "rounds.groupmember",
                "rounds.assignment",
                "rounds.conflictofinterest",
                "rectification.rectification",
                "scoring.scoresheet",
                "scoring.score",
                "scoring.consensusscore",
                "scoring.auditscore",
                "scoring.resultset",
                "scoring.resultrow",
                "core.auditevent",
            )
        },
    },
}


def roles_sync() -> None:
    """Create the role groups and set exactly their permissions (idempotent)."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for role, models in ROLE_PERMISSIONS.items():
        wanted[role] = {
            (label.split(".")[0], f"{action}_{label.split('.')[1]}")
            for label, actions in models.items()
            for action in actions
        }
    all_perms = {
        (perm.content_type.app_label, perm.codename): perm
        for perm in Permission.objects.select_related("content_type")
    }
    for role, keys in wanted.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([all_perms[key] for key in sorted(keys) if key in all_perms])
