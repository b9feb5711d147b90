"""``manage.py api_token USERNAME`` prints a token that authenticates the user."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.enums import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def api_token(*args: str) -> str:
    out = io.StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_the_token_is_created_once_and_authenticates(client):
    user = UserFactory(username="expert", roles=[Role.EVALUATOR])
    key = api_token("expert")
    assert api_token("expert") == key
    assert Token.objects.get(user=user).key == key
    response = client.get(reverse("api:assignment-list"), headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200


def test_rotate_replaces_the_token(client):
    UserFactory(username="expert")
    old = api_token("expert")
    new = api_token("expert", "--rotate")
    assert new != old
    response = client.get(reverse("api:assignment-list"), headers={"Authorization": f"Token {old}"})
    assert response.status_code == 401


def test_unknown_and_inactive_users_are_refused():
    with pytest.raises(CommandError, match="No user"):
        api_token("nobody")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        api_token("gone")
