"""One autosave costs at most ten queries, for a new score and a re-save, at two sizes.

The budget (issue 13): the request's session and user, the assignment with its round,
framework and school, the sheet's row lock, the point with the sheet's answered and
leaf counts, the write, and the audit chain's three; a savepoint pair around it all.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rounds.enums import RoundPhase
from scoring.models import Score
from tests.scoring.test_sheet_views import build_world, htmx

pytestmark = pytest.mark.django_db

BUDGET = 10


def _autosave(client, url, data):
    with CaptureQueriesContext(connection) as captured:
        response = htmx(client, url, data)
    assert response.status_code == 200, response.content
    return response, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("leaves", [2, 10])
def test_an_autosave_costs_at_most_ten_queries(bureau_admin, leaves):
    world = build_world(bureau_admin, leaves_per_indicator=leaves, prefix=f"q{leaves}-")
    world.phase(RoundPhase.EXPERT_SCORING)
    client = world.client("evaluator")
    points = world.leaves()
    first, second = points[0], points[1]

    def url(point):
        return reverse("sheets:score", args=[world.round.pk, world.school.pk, point.pk])

    # The very first save opens the sheet too; it may cost a little more.
    htmx(client, url(first), {"points": "1", "deduction_reason": "扣分"})

    new, sql_new = _autosave(client, url(second), {"points": str(second.max_points)})
    assert "status-message ok" in new.content.decode()
    again, sql_again = _autosave(client, url(second), {"points": "0", "deduction_reason": "缺材料"})
    assert len(sql_new) <= BUDGET, "\n".join(sql_new)
    assert len(sql_again) <= BUDGET, "\n".join(sql_again)
    score = Score.objects.get(sheet__school=world.school, indicator=second)
    assert score.points == Decimal("0.00") and score.deduction_reason == "缺材料"
    body = again.content.decode()
    assert "status-message ok" in body
    assert f'max="{len(points)}" value="2"' in body
