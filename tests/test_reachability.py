"""Every page a role may use is reachable from its home page, by links and GET forms only.

For each main phase of a round, a world is built (a round of three schools in that
phase, its group, staff, and from the public notice on an objection, a published
result set, a rectification and the PDFs) and the site is crawled as each role:
bureau admin, supervisor, evaluator, group leader, school staff and the anonymous
public. The crawler starts at the home page (the sign-in page for the public),
follows ``<a href>`` and submits ``<form method="get">`` with their default values,
staying on the site; it never types a URL. Every page found is named by its URL name;
``MUST_REACH`` lists, per role and phase, the pages that role may use there.

A page is followed at most ``PER_NAME`` times per URL name (the explanation of every
number is one page, whichever number), so the crawl stays small.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from core.enums import Role
from reports.enums import ReportKind
from reports.models import ReportArtifact
from rounds.enums import RoundPhase
from scoring.enums import SheetStatus
from scoring.models import ScoreSheet
from scoring.services import round_results_compute
from tests.factories import UserFactory
from tests.factories.core import add_roles
from tests.factories.publication import PDF, file_objection, noticed_round, published_round
from tests.factories.rounds import group_evaluators, group_leader
from tests.factories.schools import staff_of
from tests.factories.scoring import scored_round

pytestmark = pytest.mark.django_db

PER_NAME = 3
# Not crawled (followed): other interfaces and actions that are not pages. A link
# to them still counts as found.
NOT_FOLLOWED = ("/admin/", "/api/", "/i18n/", "/static/", "/accounts/logout/")
ROLES = ("bureau_admin", "supervisor", "evaluator", "group_leader", "school_staff", "public")
PHASES = (
    RoundPhase.SELF_ASSESSMENT,
    RoundPhase.EXPERT_SCORING,
    RoundPhase.CONSOLIDATION,
    RoundPhase.PUBLIC_NOTICE,
    RoundPhase.PUBLISHED,
)

# ------------------------------------------------------------------ expectations

EVERYONE_SIGNED_IN = {"site:home", "scoring:index", "notice:index", "history:index"}
PUBLIC_ALWAYS = {"site:login", "notice:index", "history:index", "notice:track"}

ADMIN_ALWAYS = EVERYONE_SIGNED_IN | {
    "rounds:list",
    "rounds:create",
    "rounds:detail",
    "rounds:monitoring",
    "rounds:remind",
    "rounds:advance",
    "rounds:group",
    "rounds:assignments",
    "rounds:clone",
    "notice:objections",
    "rectification:list",
    "incentives:index",
    "supervision:index",
    "admin:index",
}
SUPERVISOR_ALWAYS = EVERYONE_SIGNED_IN | {
    "rounds:list",
    "rounds:detail",
    "rounds:monitoring",
    "supervision:index",
    "supervision:events",
    "supervision:scores",
    "supervision:recusals",
    "supervision:late",
    "rectification:list",
    "incentives:index",
}
EVALUATOR_ALWAYS = EVERYONE_SIGNED_IN | {"rounds:conflicts"}
LEADER_ALWAYS = EVALUATOR_ALWAYS
STAFF_ALWAYS = EVERYONE_SIGNED_IN

SCORING_ON = {"sheets:sheet"}
RESULTS = {"scoring:round", "scoring:school", "scoring:explain"}
NOTICE_PUBLIC = {"notice:round", "notice:objection_new"}
PUBLISHED_PUBLIC = {"notice:round", "history:school", "history:round"}

MUST_REACH: dict[str, dict[str, set[str]]] = {
    RoundPhase.SELF_ASSESSMENT: {
        "bureau_admin": ADMIN_ALWAYS | {"sheets:self_assessment_school"},
        "supervisor": SUPERVISOR_ALWAYS | {"sheets:self_assessment_school"},
        "evaluator": EVALUATOR_ALWAYS,
        "group_leader": LEADER_ALWAYS,
        # evidence is uploaded on the self-assessment page itself (evidence:point's form)
        "school_staff": STAFF_ALWAYS | {"sheets:self_assessment"},
        "public": PUBLIC_ALWAYS,
    },
    RoundPhase.EXPERT_SCORING: {
        "bureau_admin": ADMIN_ALWAYS,
        "supervisor": SUPERVISOR_ALWAYS,
        "evaluator": EVALUATOR_ALWAYS
        | SCORING_ON
        | {"reports:score_workbook", "reports:score_workbook_upload"},
        "group_leader": LEADER_ALWAYS | SCORING_ON,
        "school_staff": STAFF_ALWAYS | {"sheets:self_assessment"},
        "public": PUBLIC_ALWAYS,
    },
    RoundPhase.CONSOLIDATION: {
        "bureau_admin": ADMIN_ALWAYS
        | RESULTS
        | {
            "notice:publication",
            "reports:round",
            "reports:export_ranking",
            "reports:export_score_matrix",
            "reports:export_consistency",
        },
        "supervisor": SUPERVISOR_ALWAYS,
        "evaluator": EVALUATOR_ALWAYS | SCORING_ON,
        "group_leader": LEADER_ALWAYS
        | SCORING_ON
        | {"sheets:consolidation", "sheets:consensus", "reports:group_opinion"},
        "school_staff": STAFF_ALWAYS | {"sheets:self_assessment"},
        "public": PUBLIC_ALWAYS,
    },
    RoundPhase.PUBLIC_NOTICE: {
        "bureau_admin": ADMIN_ALWAYS
        | RESULTS
        | NOTICE_PUBLIC
        | {"notice:publication", "notice:objection", "reports:round"},
        "supervisor": SUPERVISOR_ALWAYS | RESULTS | {"supervision:consistency"},
        "evaluator": EVALUATOR_ALWAYS | NOTICE_PUBLIC,
        "group_leader": LEADER_ALWAYS | NOTICE_PUBLIC,
        "school_staff": STAFF_ALWAYS | NOTICE_PUBLIC,
        "public": PUBLIC_ALWAYS | NOTICE_PUBLIC,
    },
    RoundPhase.PUBLISHED: {
        "bureau_admin": ADMIN_ALWAYS
        | RESULTS
        | PUBLISHED_PUBLIC
        | {
            "notice:publication",
            "reports:round",
            "reports:download",
            "rectification:detail",
            "incentives:page",
        },
        "supervisor": SUPERVISOR_ALWAYS
        | RESULTS
        | PUBLISHED_PUBLIC
        | {"supervision:consistency", "reports:round", "rectification:detail"},
        "evaluator": EVALUATOR_ALWAYS | PUBLISHED_PUBLIC | {"scoring:round"},
        "group_leader": LEADER_ALWAYS | PUBLISHED_PUBLIC | {"scoring:round"},
        "school_staff": STAFF_ALWAYS
        | PUBLISHED_PUBLIC
        | {
            "scoring:round",
            "scoring:school",
            "reports:round",
            "reports:download",
            "rectification:detail",
            "rectification:report",
        },
        "public": PUBLIC_ALWAYS | PUBLISHED_PUBLIC,
    },
}

# ------------------------------------------------------------------- the crawler


class _Page(HTMLParser):
    """The links and the GET forms (with their default values) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "form" and values.get("method", "get").lower() == "get":
            self._form = (values.get("action", ""), [])
        elif self._form is not None and tag == "input" and values.get("name"):
            kind = values.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            if kind not in ("submit", "button", "file"):
                self._form[1].append((values["name"], values.get("value", "")))
        elif self._form is not None and tag == "select":
            self._select, self._select_value = values.get("name"), None
        elif (
            self._select
            and tag == "option"
            and (self._select_value is None or "selected" in values)
        ):
            self._select_value = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._form is not None and self._select:
            self._form[1].append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def crawl(client: Client, start: str) -> set[str]:
    """The URL names of every page reachable from ``start`` by links and GET forms."""
    queue, seen, found = [start], {start}, set()
    followed: Counter[str] = Counter()
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        name = url_name(path)
        if name is None:
            continue
        found.add(name)
        if path.startswith(NOT_FOLLOWED) or followed[name] >= PER_NAME:
            continue
        followed[name] += 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.content.decode())
        targets = [urljoin(url, href) for href in page.links]
        targets += [
            urljoin(url, action or url).split("?")[0] + "?" + urlencode(fields)
            for action, fields in page.forms
        ]
        for target in targets:
            parts = urlsplit(target)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen:
                seen.add(local)
                queue.append(local)
    return found


# --------------------------------------------------------------------- the worlds


def render_reports(result_set: Any, school: Any) -> None:
    """The school's report and rectification notice, as rendering leaves them (the
    PDF rendering itself is tested in tests/reports)."""
    for kind in (ReportKind.SCHOOL_REPORT, ReportKind.RECTIFICATION_NOTICE):
        artifact = ReportArtifact(
            result_set=result_set,
            kind=kind,
            school=school,
            sha256="0" * 64,
            size=len(PDF),
            page_count=1,
            version=result_set.version,
        )
        artifact.file.save(f"{kind}-{school.code}.pdf", ContentFile(PDF), save=False)
        artifact.save()


def build(phase: str, admin: Any) -> dict[str, Any]:
    if phase == RoundPhase.PUBLIC_NOTICE:
        noticed = noticed_round(admin=admin, schools=3)
        file_objection(noticed)
        round, school = noticed.round, noticed.unqualified
    elif phase == RoundPhase.PUBLISHED:
        noticed = published_round(admin=admin, schools=3)
        round, school = noticed.round, noticed.unqualified
    else:
        round = scored_round(schools=3, evaluators=3, phase=phase, actor=admin)
        school = round.schools.order_by("code").first()
        if phase == RoundPhase.CONSOLIDATION:
            round_results_compute(round=round, actor=admin)
    if phase == RoundPhase.EXPERT_SCORING:
        # the evaluator is still at work on their sheets
        ScoreSheet.objects.filter(round=round, evaluator=group_evaluators(round)[0]).update(
            status=SheetStatus.DRAFT, submitted_at=None
        )
    if phase == RoundPhase.PUBLISHED:
        render_reports(noticed.result_set, school)
    return {
        "bureau_admin": admin,
        "supervisor": UserFactory(username="crawl-supervisor", roles=[Role.SUPERVISOR]),
        "evaluator": add_roles(group_evaluators(round)[0], Role.EVALUATOR),
        "group_leader": add_roles(group_leader(round), Role.EVALUATOR, Role.GROUP_LEADER),
        "school_staff": staff_of(school, "crawl-staff"),
        "public": None,
    }


@pytest.mark.parametrize("phase", PHASES)
def test_every_page_a_role_may_use_is_reachable_from_its_home(phase, bureau_admin):
    users = build(phase, bureau_admin)
    missing = {}
    for role in ROLES:
        client = Client()
        user = users[role]
        if user is not None:
            client.force_login(user)
        start = reverse("site:home") if user is not None else reverse("site:login")
        found = crawl(client, start)
        lacking = MUST_REACH[phase][role] - found
        if lacking:
            missing[role] = sorted(lacking)
    assert missing == {}
