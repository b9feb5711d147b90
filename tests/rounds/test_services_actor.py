"""The framework and phase-date services refuse anyone but a bureau admin, and write nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from rounds import services
from rounds.enums import RoundPhase
from rounds.models import PhaseWindow
from tests.factories import SchoolFactory, UserFactory, make_framework, make_round

pytestmark = pytest.mark.django_db

NOT_BUREAU = [None, Role.EVALUATOR, Role.GROUP_LEADER, Role.SCHOOL_STAFF, Role.SUPERVISOR]


def actor_with(role: str | None):  # noqa: ANN201
    return None if role is None else UserFactory(roles=[role])


@pytest.fixture
def round_with_window(bureau_admin):  # noqa: ANN001, ANN201
    round = make_round(schools=[SchoolFactory()], actor=bureau_admin)
    window = services.round_phase_window_set(
        round=round,
        actor=bureau_admin,
        phase=RoundPhase.SELF_ASSESSMENT,
        starts_on=dt.date(2025, 3, 1),
        ends_on=dt.date(2025, 3, 31),
    )
    return round, window


@pytest.mark.parametrize("role", NOT_BUREAU)
def test_only_the_bureau_changes_a_framework(bureau_admin, role):
    framework = make_framework(actor=bureau_admin)
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as error:
        services.framework_update(framework=framework, actor=actor_with(role), name="改名")
    assert error.value.code == "not_allowed"
    framework.refresh_from_db()
    assert framework.name != "改名"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("role", NOT_BUREAU)
def test_only_the_bureau_changes_an_indicator(bureau_admin, role):
    framework = make_framework(actor=bureau_admin)
    point = framework.indicators.get(code="A1.1")
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as error:
        services.indicator_update(indicator=point, actor=actor_with(role), title_zh="改名")
    assert error.value.code == "not_allowed"
    point.refresh_from_db()
    assert point.title_zh != "改名"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("role", NOT_BUREAU)
def test_only_the_bureau_sets_phase_dates(round_with_window, role):
    round, window = round_with_window
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as error:
        services.round_phase_window_set(
            round=round,
            actor=actor_with(role),
            phase=RoundPhase.SELF_ASSESSMENT,
            starts_on=dt.date(2025, 4, 1),
            ends_on=dt.date(2025, 4, 30),
        )
    assert error.value.code == "not_allowed"
    with pytest.raises(DomainError) as error:
        services.round_phase_window_set(
            round=round,
            actor=actor_with(role),
            phase=RoundPhase.EXPERT_SCORING,
            starts_on=dt.date(2025, 5, 1),
            ends_on=dt.date(2025, 5, 31),
        )
    assert error.value.code == "not_allowed"
    assert list(PhaseWindow.objects.filter(round=round).values_list("phase", "starts_on")) == [
        (RoundPhase.SELF_ASSESSMENT, dt.date(2025, 3, 1))
    ]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("role", NOT_BUREAU)
def test_only_the_bureau_removes_phase_dates(round_with_window, role):
    _round, window = round_with_window
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as error:
        services.round_phase_window_remove(window=window, actor=actor_with(role))
    assert error.value.code == "not_allowed"
    assert PhaseWindow.objects.filter(pk=window.pk).exists()
    assert AuditEvent.objects.count() == events


def test_the_bureau_admin_still_changes_frameworks_and_phase_dates(bureau_admin, round_with_window):
    round, window = round_with_window
    framework = round.framework
    services.framework_update(framework=framework, actor=bureau_admin, policy_title="新办法")
    point = framework.indicators.get(code="A1.1")
    services.indicator_update(indicator=point, actor=bureau_admin, max_points=Decimal("12.5"))
    services.round_phase_window_remove(window=window, actor=bureau_admin)
    framework.refresh_from_db()
    assert framework.policy_title == "新办法"
    assert not PhaseWindow.objects.filter(round=round).exists()
    actions = list(
        AuditEvent.objects.filter(actor=bureau_admin)
        .order_by("-sequence")
        .values_list("action", flat=True)[:3]
    )
    assert actions == ["round.phase_window_remove", "indicator.update", "framework.update"]


def test_the_refusal_is_translated(bureau_admin):
    # Needs the compiled catalogue (``make test`` compiles it).
    framework = make_framework(actor=bureau_admin)
    with translation.override("zh-hans"), pytest.raises(DomainError) as error:
        services.framework_update(framework=framework, actor=None, name="改名")
    assert str(error.value) == "只有市人社局可以修改指标体系。"
