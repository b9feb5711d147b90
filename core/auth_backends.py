"""The sign-in backend: Django's ``ModelBackend`` whose ``get_user`` brings the roles.

Every request loads its user from the session; the roles (``core.permissions``) were
a second query on top, asked by nearly every view. Here one query reads the user
and, as one ``EXISTS`` per role, the groups it belongs to, and primes the roles the
permission predicates read (``core.permissions._roles``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef

from core.enums import Role
from core.permissions import prime_roles


class RolesModelBackend(ModelBackend):
    """``ModelBackend`` that loads the user's roles with the user."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        flags = {
            f"_has_role_{index}": Exists(Group.objects.filter(user=OuterRef("pk"), name=role))
            for index, role in enumerate(Role)
        }
        try:
            user = user_model._default_manager.annotate(**flags).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        prime_roles(
            user, [role for index, role in enumerate(Role) if getattr(user, f"_has_role_{index}")]
        )
        return user
