"""Score sheets through the API: the same services and rules as the browser; a refused
write answers a stable code and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from rounds.enums import RoundPhase
from scoring import services
from scoring.enums import SheetStatus
from scoring.models import Score, ScoreSheet
from tests.factories import round_to_phase

pytestmark = pytest.mark.django_db


def snapshot(sheet: ScoreSheet) -> tuple:
    sheet.refresh_from_db()
    scores = tuple(
        Score.objects.filter(sheet=sheet)
        .order_by("indicator__code")
        .values_list("indicator__code", "points", "not_applicable", "deduction_reason", "comment")
    )
    return sheet.status, sheet.submitted_at, scores, AuditEvent.objects.count()


def put_score(world, code, body, *, role="evaluator", method="put", sheet=None):  # noqa: ANN001, ANN201
    url = reverse("api:score-sheet-score", args=[(sheet or world.sheet).pk, code])
    return getattr(world.client(role), method)(url, body, content_type="application/json")


def error(response) -> dict:  # noqa: ANN001
    return response.json()["error"]


def test_a_score_out_of_range_answers_400_and_changes_nothing(world):
    before = snapshot(world.sheet)
    code = world.leaves[0].code
    response = put_score(world, code, {"points": "99", "deduction_reason": ""})
    assert response.status_code == 400
    assert error(response)["code"] == "out_of_range"
    assert error(response)["field"] == "points"
    assert code in error(response)["message"]
    response = put_score(world, code, {"points": -1})
    assert (response.status_code, error(response)["code"]) == (400, "out_of_range")
    assert snapshot(world.sheet) == before


def test_writing_a_locked_sheet_answers_409_and_changes_nothing(world):
    submitted = world.client("evaluator").post(
        reverse("api:score-sheet-submit", args=[world.sheet.pk])
    )
    assert submitted.status_code == 200
    assert submitted.json()["status"] == SheetStatus.SUBMITTED
    before = snapshot(world.sheet)
    for method in ("put", "patch"):
        response = put_score(
            world, world.leaves[0].code, {"points": "1", "comment": "x"}, method=method
        )
        assert response.status_code == 409
        assert error(response)["code"] == "sheet_locked"
    response = world.client("evaluator").post(
        reverse("api:score-sheet-submit", args=[world.sheet.pk])
    )
    assert (response.status_code, error(response)["code"]) == (409, "sheet_locked")
    assert snapshot(world.sheet) == before


def test_scoring_after_the_phase_answers_409(world):
    round_to_phase(world.scoring, RoundPhase.CONSOLIDATION)
    before = snapshot(world.sheet)
    response = put_score(world, world.leaves[0].code, {"points": "1", "deduction_reason": "缺"})
    assert (response.status_code, error(response)["code"]) == (409, "phase_closed")
    assert snapshot(world.sheet) == before


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"points": "1.5"}, "reason_required", "deduction_reason"),
        ({"points": "abc"}, "invalid_number", "points"),
        ({"points": "1.555", "deduction_reason": "x"}, "invalid_number", "points"),
        ({}, "required", "points"),
        ({"points": True}, "invalid", "points"),
        ({"points": ["1"]}, "invalid", "points"),
        ({"points": "1e400"}, "invalid", "points"),
        ({"not_applicable": "maybe"}, "invalid", "not_applicable"),
    ],
)
def test_bad_scores_answer_400_with_a_code_and_change_nothing(world, body, code, field):
    before = snapshot(world.sheet)
    response = put_score(world, world.leaves[0].code, body)
    assert response.status_code == 400, response.content
    assert (error(response)["code"], error(response)["field"]) == (code, field)
    assert snapshot(world.sheet) == before


def test_an_unknown_observation_point_changes_nothing(world):
    before = snapshot(world.sheet)
    response = put_score(world, "A1", {"points": "1", "deduction_reason": "x"})  # not a leaf
    assert (response.status_code, error(response)["code"]) == (400, "unknown_indicator")
    response = put_score(world, "%00", {"points": "1"})
    assert response.status_code == 404
    assert snapshot(world.sheet) == before


def test_put_sets_the_whole_score_and_patch_only_what_is_sent(world):
    leaf = world.leaves[1]
    response = put_score(world, leaf.code, {"points": 2.5, "deduction_reason": "部分材料缺失"})
    assert response.status_code == 200, response.content
    assert response.json()["points"] == "2.50"
    assert response.json()["deduction_reason"] == "部分材料缺失"
    response = put_score(world, leaf.code, {"comment": "复核过"}, method="patch")
    assert response.status_code == 200
    assert response.json()["points"] == "2.50"
    assert response.json()["deduction_reason"] == "部分材料缺失"
    assert response.json()["comment"] == "复核过"
    score = Score.objects.get(sheet=world.sheet, indicator=leaf)
    assert (str(score.points), score.comment) == ("2.50", "复核过")
    assert AuditEvent.objects.filter(action="score.set", object_id=str(score.pk)).exists()
    response = put_score(world, leaf.code, {"not_applicable": True})
    assert response.json()["points"] is None
    assert response.json()["not_applicable"] is True
    response = put_score(world, leaf.code, {"points": "3", "deduction_reason": "x"}, method="patch")
    assert (response.json()["points"], response.json()["not_applicable"]) == ("3.00", False)


def test_opening_a_sheet_creates_it_once(world):
    url = reverse("api:score-sheet-list")
    body = {"round": world.scoring.pk, "school": world.other_school.pk}
    first = world.client("evaluator").post(url, body, content_type="application/json")
    assert first.status_code == 201
    assert first.json()["school"] == world.other_school.pk
    assert first.json()["scores"] == []
    again = world.client("evaluator").post(url, body, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # submitting an empty sheet lists every missing observation point
    submit = world.client("evaluator").post(
        reverse("api:score-sheet-submit", args=[first.json()["id"]])
    )
    assert submit.status_code == 400
    assert error(submit)["code"] == "incomplete"
    assert error(submit)["details"] == [leaf.code for leaf in world.leaves]


def test_opening_a_sheet_needs_an_assignment_and_valid_ids(world):
    url = reverse("api:score-sheet-list")
    leader = world.client("group_leader")
    body = {"round": world.scoring.pk, "school": world.other_school.pk}
    response = leader.post(url, body, content_type="application/json")
    assert (response.status_code, error(response)["code"]) == (403, "not_assigned")
    response = leader.post(url, {"round": 999_999, "school": "x"}, content_type="application/json")
    assert response.status_code == 400
    assert error(response)["code"] == "invalid"
    assert set(error(response)["details"]) == {"round", "school"}
    assert not ScoreSheet.objects.filter(
        evaluator=world.users["group_leader"], school=world.other_school
    ).exists()


def test_the_list_carries_the_scores(world):
    body = world.client("evaluator").get(reverse("api:score-sheet-list")).json()
    (sheet,) = body["results"]
    assert [score["indicator"] for score in sheet["scores"]] == [leaf.code for leaf in world.leaves]
    assert sheet["scores"][0]["points"] == str(world.leaves[0].max_points)


def test_session_authentication_needs_the_csrf_token_for_writes(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["evaluator"])
    assert client.get(reverse("api:score-sheet-list")).status_code == 200
    response = client.put(
        reverse("api:score-sheet-score", args=[world.sheet.pk, world.leaves[0].code]),
        {"points": "1", "deduction_reason": "x"},
        content_type="application/json",
    )
    assert (response.status_code, error(response)["code"]) == (403, "permission_denied")


def test_the_bureau_computes_and_publishes_through_the_services(world):
    admin = world.client("bureau_admin")
    response = admin.post(
        reverse("api:result-set-list"), {"round": world.scoring.pk}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["version"] == 1
    assert response.json()["school_count"] == 2
    assert response.json()["is_published"] is False
    publish = admin.post(reverse("api:result-set-publish", args=[response.json()["id"]]))
    assert (publish.status_code, error(publish)["code"]) == (409, "not_noticed")
    # v2 was computed after v1's publication and never put under public notice
    publish = admin.post(reverse("api:result-set-publish", args=[world.unpublished_v2.pk]))
    assert (publish.status_code, error(publish)["code"]) == (409, "not_noticed")
    again = admin.post(reverse("api:result-set-publish", args=[world.published_v1.pk]))
    assert again.status_code == 409  # published already (and never noticed)
    body = world.client("anonymous").get(reverse("api:round-rankings", args=[world.published.pk]))
    assert body.json()["result_set"]["version"] == world.published_v1.version
    # publishing after an ended notice: tests/api/test_publish.py


def test_statistics_name_schools_and_evaluators(world):
    url = reverse("api:result-set-statistics", args=[world.published_v1.pk])
    pending = world.client("supervisor").get(url).json()
    assert (pending["ready"], pending["reliability"], pending["evaluators"]) == (False, None, [])
    services.result_set_statistics_compute(result_set=world.published_v1)
    body = world.client("supervisor").get(url)
    assert body.status_code == 200
    body = body.json()
    assert body["version"] == world.published_v1.version
    assert body["ready"] is True
    assert body["reliability"]["method"] == "ICC(2,k)"
    assert {e["evaluator_username"] for e in body["evaluators"]} == {
        f"r{world.published.pk}-expert0",
        f"r{world.published.pk}-expert1",
    }
