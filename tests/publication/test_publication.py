"""Public notice, objections, publication and corrections (scoring.publication)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from core.enums import Role
from core.errors import DomainError
from core.models import AuditEvent
from publication import services as publication
from publication.enums import ObjectionStatus
from publication.models import NoticePeriod, Objection
from rectification.enums import RectificationStatus
from rectification.models import Rectification
from rounds.enums import Grade, RoundPhase
from scoring import selectors, services
from scoring.models import AuditScore, ResultRow, ResultSet
from tests.factories import UserFactory
from tests.factories.publication import (
    OBJECTOR,
    ORGANISATION,
    PDF,
    PNG,
    after_notice,
    file_objection,
    noticed_round,
    upload,
)

pytestmark = pytest.mark.django_db


def rows_of(result_set: ResultSet) -> list[tuple]:
    return list(
        ResultRow.objects.filter(result_set=result_set)
        .order_by("school__code")
        .values_list("school__code", "total", "grade", "rank", "indicator_scores")
    )


def uphold(objection: Objection, admin, *, school, points="0", code="B1.1") -> Objection:  # noqa: ANN001
    return publication.objection_uphold(
        objection=objection,
        actor=admin,
        response="经核查，异议属实，已调整审核分。",
        changes=[publication.AuditScoreChange(school=school, indicator=code, points=points)],
    )


# ------------------------------------------------------------------ notice


def test_opening_the_notice_moves_the_round_to_public_notice_for_seven_days(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    assert noticed.round.phase == RoundPhase.PUBLIC_NOTICE
    assert noticed.notice.ends_at - noticed.notice.starts_at == dt.timedelta(days=7)
    actions = list(
        AuditEvent.objects.filter(round_id=noticed.round.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["round.phase_advance", "notice.open"]


def test_the_notice_length_is_configurable(bureau_admin, settings):
    settings.NOTICE_DAYS = 10
    noticed = noticed_round(admin=bureau_admin, days=None)
    assert noticed.notice.ends_at - noticed.notice.starts_at == dt.timedelta(days=10)


def test_a_second_notice_is_refused_while_one_runs_and_only_the_latest_version_is_noticed(
    bureau_admin,
):
    noticed = noticed_round(admin=bureau_admin)
    second = services.round_results_compute(round=noticed.round, actor=bureau_admin)
    with pytest.raises(DomainError) as error:
        publication.notice_open(result_set=second, actor=bureau_admin)
    assert error.value.code == "notice_running"
    with time_machine.travel(after_notice(noticed), tick=False):
        with pytest.raises(DomainError) as error:
            publication.notice_open(result_set=noticed.result_set, actor=bureau_admin)
        assert error.value.code == "not_latest"
        notice = publication.notice_open(result_set=second, actor=bureau_admin, days=3)
    assert notice.result_set == second


def test_only_the_bureau_admin_opens_a_notice(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    supervisor = UserFactory(roles=[Role.SUPERVISOR])
    with time_machine.travel(after_notice(noticed), tick=False):
        second = services.round_results_compute(round=noticed.round, actor=bureau_admin)
        with pytest.raises(DomainError) as error:
            publication.notice_open(result_set=second, actor=supervisor)
    assert error.value.code == "not_allowed"


# ------------------------------------------------------------- publication


def test_publication_is_refused_while_the_notice_period_runs(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    for moment in (
        noticed.notice.starts_at,
        noticed.notice.starts_at + dt.timedelta(days=6, hours=23),
        noticed.notice.ends_at - dt.timedelta(seconds=1),
    ):
        with time_machine.travel(moment, tick=False):
            with pytest.raises(DomainError) as error:
                publication.result_set_publish_checked(
                    result_set=noticed.result_set, actor=bureau_admin
                )
            assert error.value.code == "notice_running"
    noticed.result_set.refresh_from_db()
    assert noticed.result_set.is_published is False
    with time_machine.travel(noticed.notice.ends_at, tick=False):
        published = publication.result_set_publish_checked(
            result_set=noticed.result_set, actor=bureau_admin
        )
    assert published.is_published is True
    noticed.round.refresh_from_db()
    assert noticed.round.phase == RoundPhase.PUBLISHED


def test_publication_is_refused_while_objections_are_open(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    received = file_objection(noticed)
    reviewed = file_objection(noticed)
    publication.objection_review(objection=reviewed, actor=bureau_admin)
    with time_machine.travel(after_notice(noticed), tick=False):
        with pytest.raises(DomainError) as error:
            publication.result_set_publish_checked(
                result_set=noticed.result_set, actor=bureau_admin
            )
        assert error.value.code == "objections_open"
        assert "2 objection(s)" in str(error.value)
        publication.objection_dismiss(objection=received, actor=bureau_admin, response="不属实。")
        with pytest.raises(DomainError) as error:
            publication.result_set_publish_checked(
                result_set=noticed.result_set, actor=bureau_admin
            )
        assert error.value.code == "objections_open"
        publication.objection_dismiss(objection=reviewed, actor=bureau_admin, response="不属实。")
        publication.result_set_publish_checked(result_set=noticed.result_set, actor=bureau_admin)
    noticed.result_set.refresh_from_db()
    assert noticed.result_set.is_published


def test_a_version_that_was_never_under_notice_cannot_be_published(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    with time_machine.travel(after_notice(noticed), tick=False):
        recomputed = services.round_results_compute(round=noticed.round, actor=bureau_admin)
        with pytest.raises(DomainError) as error:
            publication.result_set_publish_checked(result_set=recomputed, actor=bureau_admin)
    assert error.value.code == "not_noticed"


def test_publication_creates_the_rectifications_of_unqualified_schools(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    with time_machine.travel(after_notice(noticed), tick=False):
        publication.result_set_publish_checked(result_set=noticed.result_set, actor=bureau_admin)
    unqualified = set(
        ResultRow.objects.filter(
            result_set=noticed.result_set, grade=Grade.UNQUALIFIED
        ).values_list("school_id", flat=True)
    )
    assert noticed.unqualified.pk in unqualified
    assert (
        set(Rectification.objects.filter(round=noticed.round).values_list("school_id", flat=True))
        == unqualified
    )


def test_publication_enqueues_each_rectification_notice_after_commit(
    bureau_admin, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.RECTIFICATION_NOTICE_RENDER = True
    from reports import tasks as report_tasks

    sent = []
    monkeypatch.setattr(
        report_tasks.render_document, "delay", lambda *args: sent.append(args), raising=False
    )
    noticed = noticed_round(admin=bureau_admin)
    with time_machine.travel(after_notice(noticed), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            publication.result_set_publish_checked(
                result_set=noticed.result_set, actor=bureau_admin
            )
        assert sent == []  # nothing before the commit
        for callback in callbacks:
            callback()
    assert (noticed.result_set.pk, "rectification_notice", noticed.unqualified.pk) in sent


# -------------------------------------------------------------- objections


def test_an_objection_gets_an_unguessable_tracking_code_and_starts_received(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(noticed)
    assert objection.status == ObjectionStatus.RECEIVED
    assert len(objection.tracking_code) == len("YY-XXXX-XXXX-XXXX-XXXX")
    assert file_objection(noticed).tracking_code != objection.tracking_code
    typed = objection.tracking_code.lower().replace("-", " ")
    assert publication.normalise_tracking_code(typed) == objection.tracking_code


def test_objections_are_accepted_only_during_the_notice(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    with (
        time_machine.travel(after_notice(noticed), tick=False),
        pytest.raises(DomainError) as error,
    ):
        file_objection(noticed)
    assert error.value.code == "notice_closed"
    assert Objection.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"id_number": "110105194912310021"}, "id_number"),  # wrong check character
        ({"phone": "call me"}, "phone"),
        ({"content": ""}, "content"),
        ({"objector_kind": "organisation", "organisation": ORGANISATION}, "seal"),
        (
            {
                "objector_kind": "organisation",
                "organisation": ORGANISATION,
                "seal": upload(b"GIF89a....", "seal.gif"),
            },
            "seal",
        ),
        ({"objector_kind": "organisation", "seal": upload(PNG, "seal.png")}, "organisation"),
    ],
)
def test_an_objection_with_a_bad_identity_is_refused_naming_the_field(
    bureau_admin, overrides, field
):
    noticed = noticed_round(admin=bureau_admin)
    with pytest.raises(DomainError) as error:
        file_objection(noticed, **overrides)
    assert error.value.field == field
    assert Objection.objects.count() == 0


def test_the_identity_and_the_seal_are_stored_encrypted_and_read_by_the_bureau_admin_only(
    bureau_admin,
):
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(
        noticed,
        objector_kind="organisation",
        organisation=ORGANISATION,
        id_number="91350200MA2XXXXX1K",
        seal=upload(PDF, "seal.pdf"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity_encrypted, seal_encrypted FROM scoring_objection WHERE id = %s",
            [objection.pk],
        )
        identity_raw, seal_raw = cursor.fetchone()
    for secret in (OBJECTOR["name"], OBJECTOR["phone"], ORGANISATION, "91350200MA2XXXXX1K"):
        assert secret not in identity_raw
    assert b"%PDF" not in bytes(seal_raw)
    identity = publication.objection_identity(objection=objection, actor=bureau_admin)
    assert (identity.name, identity.phone, identity.organisation, identity.has_seal) == (
        OBJECTOR["name"],
        OBJECTOR["phone"],
        ORGANISATION,
        True,
    )
    assert publication.objection_seal(objection=objection, actor=bureau_admin) == (
        PDF,
        "application/pdf",
    )
    for role in (Role.SUPERVISOR, Role.GROUP_LEADER, Role.EVALUATOR, Role.SCHOOL_STAFF):
        user = UserFactory(roles=[role])
        with pytest.raises(DomainError):
            publication.objection_identity(objection=objection, actor=user)
        with pytest.raises(DomainError):
            publication.objection_seal(objection=objection, actor=user)


def test_a_separate_field_encryption_key_is_used_when_set(bureau_admin, settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(noticed)
    assert (
        publication.objection_identity(objection=objection, actor=bureau_admin).name
        == (OBJECTOR["name"])
    )
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    from core.crypto import InvalidToken

    with pytest.raises(InvalidToken):
        publication.objection_identity(objection=objection, actor=bureau_admin)


def test_the_audit_trail_never_carries_the_objectors_identity(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    first = file_objection(noticed)
    second = file_objection(
        noticed,
        objector_kind="organisation",
        organisation=ORGANISATION,
        seal=upload(PNG, "seal.png"),
    )
    publication.objection_review(objection=first, actor=bureau_admin)
    publication.objection_dismiss(objection=first, actor=bureau_admin, response="不属实。")
    uphold(second, bureau_admin, school=noticed.schools[-1])
    events = AuditEvent.objects.filter(object_type="publication.objection")
    assert {event.action for event in events} == {
        "objection.file",
        "objection.review",
        "objection.dismiss",
        "objection.uphold",
    }
    text = json.dumps(
        [
            [event.object_repr, event.before, event.after]
            for event in AuditEvent.objects.filter(round_id=noticed.round.pk)
        ],
        ensure_ascii=False,
    )
    for secret in (*OBJECTOR.values(), ORGANISATION):
        assert secret not in text


def test_an_upheld_objection_yields_a_new_version_and_the_old_one_stays(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    target = noticed.schools[-1]
    before = rows_of(noticed.result_set)
    objection = file_objection(noticed, school=target)
    objection = uphold(objection, bureau_admin, school=target, points="0", code="B1.1")

    new = objection.result_set_after
    assert objection.status == ObjectionStatus.UPHELD
    assert new.version == noticed.result_set.version + 1
    assert new.supersedes == noticed.result_set
    assert objection.tracking_code in new.correction_reason
    old = ResultSet.objects.get(pk=noticed.result_set.pk)
    assert old.is_superseded and not old.is_published
    assert rows_of(old) == before  # the old version is untouched
    audit = AuditScore.objects.get(round=noticed.round, school=target, indicator__code="B1.1")
    assert audit.points == Decimal("0.00")
    new_row = ResultRow.objects.get(result_set=new, school=target)
    old_row = ResultRow.objects.get(result_set=old, school=target)
    assert new_row.node("B1.1").score == "0.00"
    assert new_row.total < old_row.total
    (score_event,) = AuditEvent.objects.filter(action="audit_score.set_objection")
    assert (score_event.actor, score_event.school_id, score_event.object_id) == (
        bureau_admin,
        target.pk,
        str(audit.pk),
    )
    assert (score_event.after["indicator"], score_event.after["points"]) == ("B1.1", "0.00")
    assert objection.tracking_code in score_event.after["reason"]

    # the corrected version is published after the notice, as the noticed one would be
    with time_machine.travel(after_notice(noticed), tick=False):
        with pytest.raises(DomainError) as error:
            publication.result_set_publish_checked(result_set=old, actor=bureau_admin)
        assert error.value.code == "not_latest"
        publication.result_set_publish_checked(result_set=new, actor=bureau_admin)
    assert (
        selectors.result_set_for_reading(round_id=noticed.round.pk, user=None, version=None) == new
    )


def test_an_upheld_objection_needs_a_response_and_a_score_change(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(noticed)
    with pytest.raises(DomainError) as error:
        publication.objection_uphold(
            objection=objection, actor=bureau_admin, response="属实", changes=[]
        )
    assert error.value.code == "required"
    with pytest.raises(DomainError) as error:
        uphold_change = publication.AuditScoreChange(
            school=noticed.schools[0], indicator="B1.1", points="1"
        )
        publication.objection_uphold(
            objection=objection, actor=bureau_admin, response=" ", changes=[uphold_change]
        )
    assert error.value.code == "reason_required"
    with pytest.raises(DomainError) as error:
        uphold(objection, bureau_admin, school=noticed.schools[0], points="999")
    assert error.value.code == "out_of_range"
    assert ResultSet.objects.filter(round=noticed.round).count() == 1
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.RECEIVED


def test_an_answered_objection_cannot_be_answered_again(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(noticed)
    publication.objection_dismiss(objection=objection, actor=bureau_admin, response="不属实。")
    with pytest.raises(DomainError) as error:
        uphold(objection, bureau_admin, school=noticed.schools[0])
    assert error.value.code == "objection_closed"
    with pytest.raises(DomainError) as error:
        publication.objection_review(objection=objection, actor=bureau_admin)
    assert error.value.code == "invalid_state"


def test_only_the_bureau_admin_answers_objections(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    objection = file_objection(noticed)
    supervisor = UserFactory(roles=[Role.SUPERVISOR])
    for call in (
        lambda: publication.objection_review(objection=objection, actor=supervisor),
        lambda: publication.objection_dismiss(objection=objection, actor=supervisor, response="x"),
        lambda: uphold(objection, supervisor, school=noticed.schools[0]),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == "not_allowed"


# --------------------------------------------------------------- correction


def published(bureau_admin):  # noqa: ANN001, ANN201
    noticed = noticed_round(admin=bureau_admin)
    with time_machine.travel(after_notice(noticed), tick=False):
        publication.result_set_publish_checked(result_set=noticed.result_set, actor=bureau_admin)
    noticed.result_set.refresh_from_db()
    return noticed


def test_a_correction_after_publication_is_a_new_published_version_with_its_reason(
    bureau_admin,
):
    noticed = published(bureau_admin)
    old = noticed.result_set
    before = rows_of(old)
    school = noticed.unqualified
    new = publication.result_set_correct(
        result_set=old,
        actor=bureau_admin,
        reason="发现否决项审核分录入错误，予以更正。",
        changes=[publication.AuditScoreChange(school=school, indicator="A1.1", points="12.5")],
    )
    old.refresh_from_db()
    assert new.is_published and new.version == old.version + 1
    assert new.supersedes == old and new.correction_reason.startswith("发现否决项")
    assert old.is_published and old.is_superseded  # still readable, marked superseded
    assert rows_of(old) == before
    assert (
        selectors.result_set_for_reading(round_id=noticed.round.pk, user=None, version=None) == new
    )
    event = AuditEvent.objects.get(action="result_set.correct")
    assert event.after["supersedes"] == old.pk
    # the school is no longer unqualified: its rectification is withdrawn
    row = ResultRow.objects.get(result_set=new, school=school)
    assert row.grade != Grade.UNQUALIFIED
    rectification = Rectification.objects.get(round=noticed.round, school=school)
    assert rectification.status == RectificationStatus.WITHDRAWN
    assert rectification.result_set == new


def test_a_correction_needs_a_reason_and_the_latest_published_version(bureau_admin):
    noticed = published(bureau_admin)
    with pytest.raises(DomainError) as error:
        publication.result_set_correct(result_set=noticed.result_set, actor=bureau_admin, reason="")
    assert error.value.code == "reason_required"
    publication.result_set_correct(
        result_set=noticed.result_set, actor=bureau_admin, reason="更正一"
    )
    with pytest.raises(DomainError) as error:
        publication.result_set_correct(
            result_set=noticed.result_set, actor=bureau_admin, reason="更正二"
        )
    assert error.value.code == "not_latest"


def test_unpublished_results_are_not_corrected_but_answered_through_objections(bureau_admin):
    noticed = noticed_round(admin=bureau_admin)
    with pytest.raises(DomainError) as error:
        publication.result_set_correct(
            result_set=noticed.result_set, actor=bureau_admin, reason="更正"
        )
    assert error.value.code == "not_published"
    assert NoticePeriod.objects.count() == 1
