import pytest

from tests.factories import SchoolFactory, UserFactory
from xm_eval.enums import Role


@pytest.fixture
def bureau_admin(db):  # noqa: ANN001, ANN201
    return UserFactory(username="bureau", roles=[Role.BUREAU_ADMIN], is_staff=True)


@pytest.fixture
def school(db):  # noqa: ANN001, ANN201
    return SchoolFactory()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # noqa: ANN001, ANN202
    # PBKDF2's deliberate slowness buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
