"""Computing and publishing result sets."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError
from core.models import AuditEvent
from rounds.enums import RoundPhase
from scoring import engine_inputs, services
from scoring.models import AuditScore, ResultRow, ResultSet, Score
from tests.factories.scoring import leaf, scored_round

pytestmark = pytest.mark.django_db

ROW_FIELDS = (
    "school_id",
    "total",
    "grade",
    "rank",
    "group_rank",
    "rank_note",
    "veto_failed",
    "dimension_subtotals",
    "indicator_scores",
    "self_gap",
    "is_complete",
    "inputs",
)


def rows_of(result_set):  # noqa: ANN001, ANN201
    return list(
        ResultRow.objects.filter(result_set=result_set).order_by("school_id").values(*ROW_FIELDS)
    )


def test_computing_twice_gives_two_versions_with_identical_rows(bureau_admin):
    round = scored_round(schools=3)
    first = services.round_results_compute(round=round, actor=bureau_admin)
    second = services.round_results_compute(round=round, actor=bureau_admin)
    assert (first.version, second.version) == (1, 2)
    assert rows_of(first) == rows_of(second)
    assert len(rows_of(first)) == 3
    assert AuditEvent.objects.filter(action="result_set.compute").count() == 2


def test_rows_hold_totals_ranks_and_subtotals(bureau_admin):
    round = scored_round(schools=4)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    rows = list(engine_inputs.result_set_rows(result_set=result_set))
    assert sorted(r.rank for r in rows)[0] == 1
    for row in rows:
        subtotals = [Decimal(v) for v in row.dimension_subtotals.values()]
        assert list(row.dimension_subtotals) == ["A", "B", "C", "D"]
        assert abs(sum(subtotals) - row.total) <= Decimal("0.02")
        assert row.node("A1.1").layer == "expert"
        assert row.is_complete


def test_an_audit_score_overrides_and_the_explanation_says_why(bureau_admin):
    round = scored_round(schools=2)
    school = round.schools.order_by("code").first()
    point = leaf(round, "B1.2")
    AuditScore.objects.create(
        round=round,
        school=school,
        indicator=point,
        points=Decimal(3),
        max_points=point.max_points,
        auditor=bureau_admin,
        reason="复核发现课程开出率不足",
    )
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    row = ResultRow.objects.get(result_set=result_set, school=school)
    assert row.indicator_scores["B1.2"] == ["3.00", "scored", "audit"]
    assert row.node("B1.2") == ("3.00", "scored", "audit")
    explanation = engine_inputs.result_row_explain(row=row, code="B1.2")
    assert explanation.justification == "复核发现课程开出率不足"
    assert len(explanation.expert.used) == 5
    # the explanation stays the same after the score tables change
    AuditScore.objects.all().delete()
    assert engine_inputs.result_row_explain(row=row, code="B1.2").score == Decimal("3.00")


def test_missing_scores_are_listed_not_treated_silently(bureau_admin):
    round = scored_round(schools=2, skip={(0, 1, "C1.1"), (1, 4, "D1.2")})
    codes = dict(round.schools.order_by("code").values_list("code", "id"))
    school_ids = list(codes.values())
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    missing = {(s, code) for s, _e, code, _covered in result_set.missing_scores}
    assert missing == {(school_ids[0], "C1.1"), (school_ids[1], "D1.2")}
    assert not ResultRow.objects.filter(result_set=result_set, is_complete=True).exists()


def test_a_published_set_refuses_to_be_published_again_and_compute_needs_the_phase(
    bureau_admin,
):
    round = scored_round(schools=2)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    with pytest.raises(DomainError) as error:
        services.result_set_publish(result_set=result_set, actor=bureau_admin)
    assert error.value.code == "phase_closed"

    round.phase = RoundPhase.PUBLIC_NOTICE
    round.save(update_fields=["phase"])
    services.result_set_publish(result_set=result_set, actor=bureau_admin)
    result_set.refresh_from_db()
    assert result_set.is_published and result_set.published_at is not None
    with pytest.raises(DomainError) as error:
        services.result_set_publish(result_set=result_set, actor=bureau_admin)
    assert error.value.code == "already_published"

    round.phase = RoundPhase.SELF_ASSESSMENT
    round.save(update_fields=["phase"])
    with pytest.raises(DomainError) as error:
        services.round_results_compute(round=round, actor=bureau_admin)
    assert error.value.code == "phase_closed"
    assert ResultSet.objects.count() == 1


def test_only_the_latest_version_can_be_published(bureau_admin):
    round = scored_round(schools=2, phase=RoundPhase.PUBLIC_NOTICE)
    old = services.round_results_compute(round=round, actor=bureau_admin)
    services.round_results_compute(round=round, actor=bureau_admin)
    with pytest.raises(DomainError) as error:
        services.result_set_publish(result_set=old, actor=bureau_admin)
    assert error.value.code == "not_latest"


def count_compute_queries(schools: int, actor) -> int:  # noqa: ANN001
    round = scored_round(schools=schools, evaluators=5)
    with CaptureQueriesContext(connection) as captured:
        services.round_results_compute(round=round, actor=actor)
    return len(captured.captured_queries)


def test_compute_runs_a_constant_number_of_queries(bureau_admin):
    small = count_compute_queries(2, bureau_admin)
    large = count_compute_queries(20, bureau_admin)
    assert small == large
    assert small <= 18


def test_rows_stored_in_the_first_snapshot_format_explain_the_same(bureau_admin):
    """Rows computed before the column snapshot keep one row per score; both read alike."""
    import json
    import zlib

    from scoring import engine

    round = scored_round(schools=2, skip={(0, 1, "C1.1")})  # one school with a gap
    # and one evaluator who found A1.1 not applicable
    first_a11 = Score.objects.filter(sheet__round=round, indicator__code="A1.1").earliest("pk")
    Score.objects.filter(pk=first_a11.pk).update(points=None, not_applicable=True)
    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    framework, code_of = engine_inputs.engine_framework(round=round)
    config = engine_inputs.stored_config(result_set=result_set)
    votes = []
    for row in ResultRow.objects.filter(result_set=result_set):
        payload = json.loads(zlib.decompress(row.inputs))
        assert payload["v"] == 2
        first = {
            "expert": [
                [row.school_id, evaluator_id, indicator_id, points, points is None]
                for evaluator_id, indicators, all_points in payload["sheets"]
                for indicator_id, points in zip(
                    indicators or payload["points"], all_points, strict=True
                )
            ],
            **{key: payload[key] for key in ("consensus", "audit", "self", "expected")},
        }
        old = ResultRow(school_id=row.school_id, group=row.group)
        old.inputs = zlib.compress(json.dumps(first).encode())
        now = engine_inputs.stored_school_input(row=row, code_of=code_of)
        then = engine_inputs.stored_school_input(row=old, code_of=code_of)
        computed = engine.compute_round(framework, [now], config)
        computed_then = engine.compute_round(framework, [then], config)
        assert computed.schools == computed_then.schools
        assert computed.missing == computed_then.missing
        for code in ("A", "A1.1", "C1.1", "B1.2"):
            assert engine.explain(computed, row.school_id, code) == engine.explain(
                computed_then, row.school_id, code
            )
        votes += engine.explain(computed, row.school_id, "A1.1").expert.not_applicable_votes
    assert votes == [first_a11.sheet.evaluator_id]


# ------------------------------------------- audit scores after consolidation


@pytest.mark.parametrize(
    ("cause", "phase"),
    [
        ("objection", RoundPhase.PUBLIC_NOTICE),
        ("correction", RoundPhase.PUBLISHED),
        ("correction", RoundPhase.RECTIFICATION),
    ],
)
def test_an_audit_score_is_revised_for_its_cause_on_the_record(bureau_admin, cause, phase):
    round = scored_round(schools=1, phase=phase)
    school = round.schools.get()
    point = leaf(round, "B1.2")

    row = services.audit_score_revise(
        round=round,
        school=school,
        actor=bureau_admin,
        indicator="B1.2",
        reason="  异议成立，复核后改分  ",
        cause=cause,
        points="3",
    )

    assert (row.indicator_id, row.points, row.reason, row.auditor) == (
        point.pk,
        Decimal(3),
        "异议成立，复核后改分",
        bureau_admin,
    )
    (event,) = AuditEvent.objects.filter(action=f"audit_score.set_{cause}")
    assert (event.actor, event.round_id, event.school_id, event.before) == (
        bureau_admin,
        round.pk,
        school.pk,
        None,
    )
    assert event.after["indicator"] == "B1.2"
    assert event.after["points"] == "3.00"


@pytest.mark.parametrize(
    ("cause", "phase"),
    [
        ("objection", RoundPhase.CONSOLIDATION),
        ("objection", RoundPhase.PUBLISHED),
        ("correction", RoundPhase.PUBLIC_NOTICE),
        ("correction", RoundPhase.CLOSED),
        ("consolidation", RoundPhase.PUBLIC_NOTICE),
    ],
)
def test_an_audit_score_revision_outside_its_phases_is_refused(bureau_admin, cause, phase):
    round = scored_round(schools=1, phase=phase)
    with pytest.raises(DomainError) as error:
        services.audit_score_revise(
            round=round,
            school=round.schools.get(),
            actor=bureau_admin,
            indicator="B1.2",
            reason="改分",
            cause=cause,
            points="3",
        )
    assert error.value.code == ("invalid" if cause == "consolidation" else "phase_closed")
    assert AuditScore.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="audit_score.").exists()


def test_only_the_bureau_revises_an_audit_score():
    round = scored_round(schools=1, phase=RoundPhase.PUBLIC_NOTICE)
    leader = round.evaluation_group.members.get(role="leader").user
    with pytest.raises(DomainError) as error:
        services.audit_score_revise(
            round=round,
            school=round.schools.get(),
            actor=leader,
            indicator="B1.2",
            reason="改分",
            cause="objection",
            points="3",
        )
    assert error.value.code == "not_allowed"
    assert AuditScore.objects.count() == 0
