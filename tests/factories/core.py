"""Users, with the roles they hold."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.enums import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):  # noqa: ANN001, ANN201 - factory hook
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))


def add_roles(user: Any, *roles: str) -> Any:
    """Give ``user`` the named roles (on top of those it has)."""
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def bureau_admin_user(username: str = "bureau", **fields: Any) -> Any:
    return UserFactory(username=username, roles=[Role.BUREAU_ADMIN], is_staff=True, **fields)


def phase_actor() -> Any:
    """A bureau admin to move phases with: the first one there is, else a new one."""
    existing = (
        get_user_model().objects.filter(groups__name=Role.BUREAU_ADMIN).order_by("pk").first()
    )
    return existing or UserFactory(username="phase-admin", roles=[Role.BUREAU_ADMIN])


def role_user(role: str, username: str | None = None, **fields: Any) -> Any:
    """A user holding ``role`` (named after it unless told)."""
    return UserFactory(username=username or role, roles=[role], **fields)


# What the confirmation page's button posts (core.confirm): an action acts only with it.
CONFIRMED = {"confirmed": "yes"}
