"""The confirmation step before the public and irreversible acts of the notice pages,
publishing with incomplete scores, and the objection form's errors.

Each confirmation: a GET shows the page that says what becomes final and for whom;
a POST without ``confirmed=yes`` shows it again and changes nothing; a POST with it
acts. (Sheet and self-assessment submission, the phase advance, the re-check and the
extension are covered with their own pages' tests.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.models import AuditEvent
from publication import services as publication
from publication.enums import ObjectionStatus
from publication.models import NoticePeriod
from reports import services as reports
from reports.enums import ReportKind
from rounds.enums import RoundPhase
from scoring.models import ResultSet
from tests.factories.core import CONFIRMED
from tests.factories.publication import (
    OBJECTOR,
    after_notice,
    file_objection,
    noticed_round,
    scored_round_with_one_unqualified,
)
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db

REASON = "一名专家回避未评该项，经局务会研究按现有评分公布。"


def client_of(user) -> Client:  # noqa: ANN001
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def page_of(response) -> str:  # noqa: ANN001
    return response.content.decode()


def assert_confirmation_page(html: str, *, final: str, audience: str) -> None:
    assert "data-confirm-page" in html
    assert final in html.split("data-becomes-final")[1].split("data-audience")[0]
    assert audience in html.split("data-audience")[1]
    assert 'name="confirmed" value="yes"' in html


# ------------------------------------------------------------- public notice


def test_opening_the_notice_waits_for_the_confirmation(bureau_admin):
    round = scored_round_with_one_unqualified(schools=2)
    from scoring import services

    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    client = client_of(bureau_admin)
    url = reverse("notice:open", args=(round.pk,))
    html = page_of(client.get(url))
    assert_confirmation_page(
        html,
        final="a public notice cannot be withdrawn",
        audience="The public: the notice page needs no sign-in.",
    )
    assert 'name="days"' in html
    # the publication page's form posts the days without the confirmation
    response = client.post(url, {"days": "5"})
    assert response.status_code == 200
    assert 'value="5"' in page_of(response)
    assert not NoticePeriod.objects.filter(result_set=result_set).exists()
    response = client.post(url, {"days": "5", **CONFIRMED})
    assert response.status_code == 302
    notice = NoticePeriod.objects.get(result_set=result_set)
    assert (notice.ends_at - notice.starts_at).days == 5
    assert client.post(url, {"days": "0", **CONFIRMED}).status_code == 400


# ---------------------------------------------------------------- objections


@pytest.fixture
def noticed(bureau_admin):  # noqa: ANN201
    return noticed_round(admin=bureau_admin, schools=3)


def test_dismissing_an_objection_waits_for_the_confirmation(noticed, bureau_admin):
    objection = file_objection(noticed)
    client = client_of(bureau_admin)
    url = reverse("notice:objection_dismiss", args=(objection.pk,))
    html = page_of(client.get(url))
    assert_confirmation_page(
        html,
        final="The objection is closed as dismissed",
        audience="The objector, who reads your response with the tracking code.",
    )
    assert 'name="response"' in html  # filled in on the page itself
    response = client.post(url, {"response": "经核查，异议不成立。"})
    html = page_of(response)
    assert response.status_code == 200
    assert '<input type="hidden" name="response" value="经核查，异议不成立。">' in html
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.RECEIVED
    assert client.post(url, {"response": "经核查，异议不成立。", **CONFIRMED}).status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED
    assert objection.response == "经核查，异议不成立。"


def test_upholding_says_a_new_version_replaces_the_one_under_notice(noticed, bureau_admin):
    objection = file_objection(noticed)
    client = client_of(bureau_admin)
    url = reverse("notice:objection_uphold", args=(objection.pk,))
    html = page_of(client.get(url))
    assert_confirmation_page(
        html,
        final="replaces version 1 on the public notice page",
        audience="The public: the notice page shows the new version.",
    )
    data = {
        "response": "属实，已更正。",
        "school": noticed.schools[-1].pk,
        "indicator": "B1.1",
        "points": "1.5",
    }
    html = page_of(client.post(url, data))
    assert "B1.1" in html.split("data-confirm-details")[1]
    assert ResultSet.objects.filter(round=noticed.round).count() == 1
    assert client.post(url, {**data, **CONFIRMED}).status_code == 302
    assert ResultSet.objects.filter(round=noticed.round).count() == 2


# ---------------------------------------------------------------- publishing


def test_the_publish_confirmation_names_the_schools_that_get_a_rectification_notice(
    noticed, bureau_admin
):
    client = client_of(bureau_admin)
    url = reverse("notice:publish", args=(noticed.result_set.pk,))
    with time_machine.travel(after_notice(noticed), tick=False):
        html = page_of(client.get(url))
        assert_confirmation_page(
            html,
            final=(
                "Rectification notices are issued to the unqualified schools: "
                f"{noticed.unqualified.name_zh}."
            ),
            audience="The unqualified schools: their rectification notice and its deadline.",
        )
        assert "disabled" not in html.split('class="confirm"')[1]
        assert client.post(url).status_code == 200
        noticed.result_set.refresh_from_db()
        assert not noticed.result_set.is_published
        assert client.post(url, CONFIRMED).status_code == 302
    noticed.result_set.refresh_from_db()
    assert noticed.result_set.is_published


def test_a_publish_button_that_cannot_act_looks_disabled_and_says_why(noticed, bureau_admin):
    client = client_of(bureau_admin)
    page = page_of(client.get(reverse("notice:publication", args=(noticed.round.pk,))))
    button = page.split(f'action="{reverse("notice:publish", args=(noticed.result_set.pk,))}"')[1]
    assert 'disabled aria-disabled="true" aria-describedby="publish-refusal"' in button
    assert '<span id="publish-refusal" class="disabled-reason"' in button
    assert "publish after it ends" in button
    confirm = page_of(client.get(reverse("notice:publish", args=(noticed.result_set.pk,))))
    assert 'aria-describedby="confirm-refusal"' in confirm
    assert 'id="confirm-refusal" class="disabled-reason"' in confirm
    css = (Path(settings.BASE_DIR) / "static" / "css" / "xm_eval.css").read_text()
    rule = css.split("button.primary[disabled]")[1].split("}")[0]
    assert "cursor: not-allowed" in rule
    assert "background: #e5e7eb" in rule  # grey, not the accent colour of an active button


def test_confirmation_pages_keep_their_query_count(bureau_admin):
    counts = []
    for schools in (2, 5):
        noticed = noticed_round(admin=bureau_admin, schools=schools)
        objection = file_objection(noticed)
        client = client_of(bureau_admin)
        urls = (
            reverse("notice:publish", args=(noticed.result_set.pk,)),
            reverse("notice:objection_uphold", args=(objection.pk,)),
            reverse("notice:objection_dismiss", args=(objection.pk,)),
        )
        per_page = []
        for url in urls:
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            per_page.append(len(captured))
        counts.append(per_page)
    assert counts[0] == counts[1]


# ---------------------------------------------- publishing with missing scores


@pytest.fixture
def incomplete(bureau_admin):  # noqa: ANN201
    """A set under notice (ended) whose first school misses one expert's score."""
    round = scored_round(schools=3, skip={(0, 1, "B1.1")})
    from scoring import services

    result_set = services.round_results_compute(round=round, actor=bureau_admin)
    with time_machine.travel(timezone.now() - dt.timedelta(days=2), tick=False):
        publication.notice_open(result_set=result_set, actor=bureau_admin, days=1)
    return round, result_set


def test_publishing_with_incomplete_scores_needs_a_reason(incomplete, bureau_admin):
    round, result_set = incomplete
    with pytest.raises(DomainError) as refused:
        publication.result_set_publish_checked(result_set=result_set, actor=bureau_admin)
    assert refused.value.code == "scores_incomplete"
    with pytest.raises(DomainError):
        publication.result_set_publish_checked(
            result_set=result_set, actor=bureau_admin, incomplete_reason="   "
        )
    result_set.refresh_from_db()
    assert not result_set.is_published

    publication.result_set_publish_checked(
        result_set=result_set, actor=bureau_admin, incomplete_reason=f"  {REASON}  "
    )
    result_set.refresh_from_db()
    assert result_set.is_published
    assert result_set.incomplete_publication_reason == REASON
    event = AuditEvent.objects.get(action="result_set.publish", object_id=str(result_set.pk))
    school = round.schools.order_by("code").first()
    assert event.after["incomplete_reason"] == REASON
    assert event.after["incomplete_schools"] == [school.code]


def test_a_complete_set_publishes_without_a_reason_and_records_none(noticed, bureau_admin):
    with time_machine.travel(after_notice(noticed), tick=False):
        publication.result_set_publish_checked(result_set=noticed.result_set, actor=bureau_admin)
    noticed.result_set.refresh_from_db()
    assert noticed.result_set.incomplete_publication_reason == ""
    event = AuditEvent.objects.get(
        action="result_set.publish", object_id=str(noticed.result_set.pk)
    )
    assert "incomplete_reason" not in event.after


def test_the_reason_is_asked_on_the_confirmation_and_printed_where_the_set_is_shown(
    incomplete, bureau_admin
):
    round, result_set = incomplete
    client = client_of(bureau_admin)
    url = reverse("notice:publish", args=(result_set.pk,))
    html = page_of(client.get(url))
    assert "The scoring of 1 school(s) is incomplete" in html
    assert 'name="incomplete_reason"' in html
    response = client.post(url, CONFIRMED)
    assert response.status_code == 400
    assert "give the reason for publishing now" in page_of(response)
    result_set.refresh_from_db()
    assert not result_set.is_published
    assert client.post(url, {"incomplete_reason": REASON, **CONFIRMED}).status_code == 302
    result_set.refresh_from_db()
    assert result_set.is_published
    assert round.__class__.objects.get(pk=round.pk).phase == RoundPhase.PUBLISHED

    for page in (
        reverse("notice:publication", args=(round.pk,)),
        reverse("scoring:round", args=(round.pk,)),
        reverse("notice:round", args=(round.pk,)),
    ):
        assert REASON in page_of(client.get(page)), page
    assert REASON in page_of(Client().get(reverse("notice:round", args=(round.pk,))))
    html = reports.report_html(result_set=result_set, kind=ReportKind.ROUND_SUMMARY)
    assert "评分未齐即公布的理由" in html
    assert REASON in html


def test_the_round_summary_pdf_prints_the_reason(incomplete, bureau_admin, tmp_path):
    from tests.reports.conftest import pdf_text

    round, result_set = incomplete
    publication.result_set_publish_checked(
        result_set=result_set, actor=bureau_admin, incomplete_reason=REASON
    )
    result_set.refresh_from_db()
    rendered = reports.report_render(result_set=result_set, kind=ReportKind.ROUND_SUMMARY)
    path = tmp_path / "summary.pdf"
    path.write_bytes(rendered.data)
    text = "".join(pdf_text(path).split())
    assert "评分未齐即公布的理由" in text
    assert "".join(REASON.split()) in text


def test_the_api_publishes_an_incomplete_set_only_with_the_reason(incomplete, bureau_admin):
    _round, result_set = incomplete
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(bureau_admin)
    url = f"/api/v1/result-sets/{result_set.pk}/publish/"
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400
    assert "scores_incomplete" in refused.content.decode()
    assert api.post(url, {"incomplete_reason": REASON}, format="json").status_code == 200
    result_set.refresh_from_db()
    assert result_set.incomplete_publication_reason == REASON


# ------------------------------------------------------- the objection form


def test_the_objection_form_shows_every_problem_at_once(noticed):
    url = reverse("notice:objection_new", args=(noticed.round.pk,))
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        url,
        {
            "school": noticed.schools[0].pk,
            "content": "",
            "objector_kind": "person",
            "name": "",
            "id_number": "123",
            "phone": "abc",
        },
    )
    assert response.status_code == 400
    html = page_of(response)
    summary = html.split("data-error-summary")[1].split("</div>")[0]
    for field in ("content", "name", "id_number", "phone", "truthful"):
        assert f'href="#id_{field}"' in summary, field
    assert "not a valid 18-character citizen identity number" in summary
    assert "Enter a phone number we can call back" in summary
    assert html.count('class="field field--error"') == 5


def test_an_organisation_learns_every_missing_piece_in_one_answer(noticed):
    url = reverse("notice:objection_new", args=(noticed.round.pk,))
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        url,
        {
            "school": noticed.schools[0].pk,
            "content": "设备数量不符。",
            "objector_kind": "organisation",
            "name": OBJECTOR["name"],
            "phone": OBJECTOR["phone"],
            "truthful": "on",
        },
    )
    assert response.status_code == 400
    html = page_of(response)
    assert "Name the organisation that objects." in html
    assert "carries a scan of its seal" in html


def test_the_service_reports_every_identity_problem_together(noticed):
    with pytest.raises(DomainError) as refused:
        file_objection(noticed, name=" ", phone="x", id_number="1")
    fields = [problem.field for problem in refused.value.details]
    assert fields == ["name", "phone", "id_number"]
