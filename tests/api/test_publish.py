"""Publishing through the API follows the public notice, as the pages do."""

import datetime as dt

import pytest
from django.urls import reverse

from publication.services import notice_open
from rounds.enums import RoundPhase
from rounds.models import Round
from scoring import services
from scoring.models import ResultSet
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db


def test_publish_waits_for_the_notice_then_succeeds(client, bureau_admin):
    round = scored_round(schools=2, evaluators=2)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    client.force_login(bureau_admin)
    url = reverse("api:result-set-publish", args=(result_set.pk,))

    response = client.post(url)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_noticed")

    notice = notice_open(result_set=result_set, actor=bureau_admin, days=7)
    response = client.post(url)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "notice_running")
    assert not ResultSet.objects.get(pk=result_set.pk).is_published

    type(notice).objects.filter(pk=notice.pk).update(
        starts_at=notice.starts_at - dt.timedelta(days=8),
        ends_at=notice.ends_at - dt.timedelta(days=8),
    )
    response = client.post(url)
    assert response.status_code == 200
    assert response.json()["is_published"] is True
    assert Round.objects.get(pk=round.pk).phase == RoundPhase.PUBLISHED
