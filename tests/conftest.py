import pytest

from core.enums import Role
from tests.factories import SchoolFactory, UserFactory


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


@pytest.fixture(autouse=True)
def _english_unless_asked(request, settings):  # noqa: ANN001, ANN202
    # Assertions compare with the English msgids; a test about the Chinese
    # interface, which is the users' default, is marked ``zh_hans``.
    if request.node.get_closest_marker("zh_hans") is None:
        settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path_factory):  # noqa: ANN001, ANN202
    # Checkpoints belong to one database: each test's database gets its own folder.
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path_factory.mktemp("audit-checkpoints"))
