"""Nobody sees what their role and assignment do not give them: other people's objects
answer 404, unpublished results exist only for the bureau roles, drafts stay internal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rounds.enums import AssignmentStatus
from rounds.models import Assignment
from scoring.models import ResultRow

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:  # noqa: ANN001
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# ------------------------------------------------------------ other people's objects


def test_an_evaluator_sees_only_their_own_sheets(world):
    evaluator = world.client("evaluator")
    assert ids(evaluator.get(reverse("api:score-sheet-list"))) == [world.sheet.pk]
    other = world.leader_sheet.pk
    assert evaluator.get(reverse("api:score-sheet-detail", args=[other])).status_code == 404
    assert evaluator.post(reverse("api:score-sheet-submit", args=[other])).status_code == 404
    response = evaluator.put(
        reverse("api:score-sheet-score", args=[other, world.leaves[0].code]),
        {"points": "1"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_evaluator_sees_only_their_own_assignments(world):
    leader_assignment = Assignment.objects.get(
        round=world.scoring, evaluator=world.users["group_leader"]
    )
    evaluator = world.client("evaluator")
    listed = ids(evaluator.get(reverse("api:assignment-list")))
    assert world.assignment.pk in listed
    assert leader_assignment.pk not in listed
    url = reverse("api:assignment-detail", args=[leader_assignment.pk])
    assert evaluator.get(url).status_code == 404


def test_school_staff_see_only_their_own_schools_records(world):
    staff = world.client("school_staff")
    assert ids(staff.get(reverse("api:self-assessment-list"))) == [world.self_assessment.pk]
    other = reverse("api:self-assessment-detail", args=[world.other_self_assessment.pk])
    assert staff.get(other).status_code == 404
    assert ids(staff.get(reverse("api:evidence-list"))) == [world.evidence.pk]
    other = reverse("api:evidence-detail", args=[world.other_evidence.pk])
    assert staff.get(other).status_code == 404


def test_evaluators_see_evidence_of_their_active_assignments_only(world):
    leader = world.client("group_leader")  # assigned to A only
    assert ids(leader.get(reverse("api:evidence-list"))) == [world.evidence.pk]
    other = reverse("api:evidence-detail", args=[world.other_evidence.pk])
    assert leader.get(other).status_code == 404
    Assignment.objects.filter(round=world.scoring, evaluator=world.users["group_leader"]).update(
        status=AssignmentStatus.RECUSED, recusal_reason="前雇主"
    )
    assert ids(leader.get(reverse("api:evidence-list"))) == []


def test_evidence_metadata_never_carries_the_file(world):
    body = world.client("school_staff").get(
        reverse("api:evidence-detail", args=[world.evidence.pk])
    )
    assert body.status_code == 200
    assert "file" not in body.json()
    assert body.json()["sha256"] == world.evidence.sha256


def test_the_school_registry_shows_registry_facts_only(world):
    body = world.client("anonymous").get(reverse("api:school-detail", args=[world.school.pk]))
    assert set(body.json()) == {
        "id",
        "code",
        "name_zh",
        "name_en",
        "kind",
        "ranking_group",
        "status",
        "district",
        "licence_number",
    }


# -------------------------------------------------------------- unpublished results


def rankings(world, role, **params):  # noqa: ANN001, ANN003, ANN201
    url = reverse("api:round-rankings", args=[world.published.pk])
    return world.client(role).get(url, params)


def test_rankings_come_from_the_latest_published_set(world):
    for role in ("anonymous", "school_staff", "evaluator", "bureau_admin"):
        body = rankings(world, role).json()
        assert body["result_set"]["version"] == world.published_v1.version
        assert body["result_set"]["is_published"] is True


@pytest.mark.parametrize("role", ["anonymous", "school_staff", "evaluator", "group_leader"])
def test_unpublished_versions_are_invisible_outside_the_bureau(world, role):
    version = world.unpublished_v2.version
    response = rankings(world, role, version=version)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    url = reverse("api:round-result", args=[world.published.pk, world.school.pk])
    assert world.client(role).get(url, {"version": version}).status_code == 404
    # a published version can be named by anyone
    assert rankings(world, role, version=world.published_v1.version).status_code == 200


@pytest.mark.parametrize("role", ["bureau_admin", "supervisor"])
def test_the_bureau_roles_read_any_version(world, role):
    body = rankings(world, role, version=world.unpublished_v2.version).json()
    assert body["result_set"] == {
        "id": world.unpublished_v2.pk,
        "version": world.unpublished_v2.version,
        "is_published": False,
        "published_at": None,
    }
    assert body["count"] == 2
    listed = ids(world.client(role).get(reverse("api:result-set-list")))
    assert world.unpublished_v2.pk in listed


def test_a_round_without_a_published_set_has_no_public_results(world, bureau_admin):
    from scoring import services

    services.round_results_compute(round=world.scoring, actor=bureau_admin)  # unpublished
    url = reverse("api:round-rankings", args=[world.scoring.pk])
    for role in ("anonymous", "school_staff", "evaluator"):
        assert world.client(role).get(url).status_code == 404
    assert world.client("bureau_admin").get(url, {"version": 1}).status_code == 200
    url = reverse("api:round-result", args=[world.scoring.pk, world.school.pk])
    assert world.client("anonymous").get(url).status_code == 404


def test_rankings_are_read_from_the_stored_rows_never_recomputed(world):
    row = ResultRow.objects.get(result_set=world.published_v1, school=world.school)
    ResultRow.objects.filter(pk=row.pk).update(total="42.42")
    items = rankings(world, "anonymous").json()["results"]
    assert {item["school_id"]: item["total"] for item in items}[world.school.pk] == "42.42"
    url = reverse("api:round-result", args=[world.published.pk, world.school.pk])
    assert world.client("anonymous").get(url).json()["total"] == "42.42"


def test_a_school_result_has_every_indicator_subtotal(world):
    url = reverse("api:round-result", args=[world.published.pk, world.school.pk])
    body = world.client("anonymous").get(url).json()
    row = ResultRow.objects.get(result_set=world.published_v1, school=world.school)
    assert body["school_id"] == world.school.pk
    assert body["total"] == str(row.total)
    assert [d["code"] for d in body["dimensions"]] == ["A", "B", "C", "D"]
    by_code = {item["code"]: item for item in body["indicators"]}
    assert set(by_code) == set(row.indicator_scores)
    assert by_code["A1"]["parent_code"] == "A"
    assert by_code["A1.1"]["score"] == row.node("A1.1").score
    assert body["dimension_subtotals"] == row.dimension_subtotals


def test_a_school_outside_the_result_set_is_not_found(world, bureau_admin):
    url = reverse("api:round-result", args=[world.published.pk, 999_999])
    assert world.client("anonymous").get(url).status_code == 404
    url = reverse("api:round-result", args=[world.published.pk, "nonsense"])
    assert world.client("anonymous").get(url).status_code == 404


# ------------------------------------------------------------------------ drafts


def test_draft_rounds_and_frameworks_are_internal(world):
    url = reverse("api:round-detail", args=[world.draft.pk])
    for role in ("anonymous", "school_staff", "evaluator"):
        assert world.client(role).get(url).status_code == 404
        assert world.draft.pk not in ids(world.client(role).get(reverse("api:round-list")))
    assert world.client("bureau_admin").get(url).status_code == 200
    assert world.draft.pk in ids(world.client("supervisor").get(reverse("api:round-list")))


def test_a_round_lists_its_phase_windows_and_schools(world):
    import datetime as dt

    from rounds.enums import RoundPhase
    from rounds.models import PhaseWindow

    PhaseWindow.objects.create(
        round=world.published,
        phase=RoundPhase.PUBLIC_NOTICE,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 7),
    )
    body = world.client("anonymous").get(reverse("api:round-detail", args=[world.published.pk]))
    body = body.json()
    # Published after its public notice through the services, the round is in the
    # published phase (it used to be set to public notice by hand, with v1 published).
    assert body["phase"] == "published"
    assert body["cycle"] == "2025–2027"
    assert body["phase_windows"] == [
        {"phase": "public_notice", "starts_on": "2026-03-01", "ends_on": "2026-03-07"}
    ]
    assert sorted(body["schools"]) == sorted([world.school.pk, world.other_school.pk])


def test_a_framework_gives_its_tree_flat_with_parent_codes(world):
    url = reverse("api:framework-detail", args=[world.framework.pk])
    nodes = world.client("anonymous").get(url).json()["indicators"]
    assert [n["code"] for n in nodes if n["parent_code"] is None] == ["A", "B", "C", "D"]
    by_code = {n["code"]: n for n in nodes}
    assert by_code["A1.1"]["parent_code"] == "A1"
    assert by_code["A1.1"]["is_veto"] is True
    assert by_code["A1"]["level"] == 2
