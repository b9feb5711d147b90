import shutil
import subprocess
from pathlib import Path

import pytest

from core.enums import Role
from rounds.enums import AssignmentStatus, GroupRole, RoundPhase
from rounds.models import Assignment, EvaluationGroup, GroupMember, Round
from schools.models import StaffMembership
from tests.factories import SchoolFactory, UserFactory, make_round
from tests.reports.helpers import compute_and_publish, score_round
from xm_eval.demo import ROUND_NAME, demo_seed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def _eager_tasks(request, settings):  # noqa: ANN001, ANN202
    """Tasks run in-process, also where REDIS_URL is set, except for the real-worker test."""
    if "worker_factory" in request.fixturenames:
        yield
        return
    from xm_eval.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def _english(settings):  # noqa: ANN001, ANN202
    # Messages are asserted in English; the PDFs switch to Chinese by themselves.
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def hostile_dir() -> Path:
    from tests.fixtures.make_hostile import FIXTURES as BUILDERS
    from tests.fixtures.make_hostile import write_all

    if not all((FIXTURES / name).exists() for name in BUILDERS):
        write_all(FIXTURES)
    return FIXTURES


def needs_poppler() -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdffonts")):
        pytest.skip("poppler-utils (pdftotext, pdffonts) is not installed")


def pdf_text(path: Path, page: int | None = None) -> str:
    needs_poppler()
    args = ["pdftotext", "-raw"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(
        [*args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_fonts(path: Path) -> list[dict[str, str]]:
    needs_poppler()
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    fonts = []
    for line in lines:
        parts = line.split()
        # name, type words…, encoding, emb, sub, uni, object, id
        fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return fonts


def pdf_pages(path: Path) -> int:
    needs_poppler()
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


class SmallRound:
    """Three schools (one public), five evaluators, scored, computed (not published)."""

    def __init__(self, *, publish: bool, phase: str = RoundPhase.CONSOLIDATION) -> None:
        self.admin = UserFactory(username="bureau", roles=[Role.BUREAU_ADMIN], is_staff=True)
        self.supervisor = UserFactory(username="watch", roles=[Role.SUPERVISOR])
        self.schools = [SchoolFactory(), SchoolFactory(), SchoolFactory(ranking_group="public")]
        self.round = make_round(schools=self.schools)
        self.experts = [
            UserFactory(
                username=f"r{self.round.pk}-ex{i}",
                roles=[Role.EVALUATOR, Role.GROUP_LEADER] if i == 0 else [Role.EVALUATOR],
            )
            for i in range(5)
        ]
        group = EvaluationGroup.objects.create(round=self.round, name="评估组")
        for index, expert in enumerate(self.experts):
            GroupMember.objects.create(
                group=group,
                user=expert,
                role=GroupRole.LEADER if index == 0 else GroupRole.EVALUATOR,
            )
            for school in self.schools:
                Assignment.objects.create(
                    round=self.round,
                    school=school,
                    evaluator=expert,
                    status=AssignmentStatus.ACTIVE,
                )
        self.staff = []
        for school in self.schools:
            user = UserFactory(roles=[Role.SCHOOL_STAFF])
            StaffMembership.objects.create(user=user, school=school)
            self.staff.append(user)
        # schools[1] fails its veto item: unqualified whatever its total
        score_round(self.round, veto_zero={self.schools[1].code: "A1.1"}, phase=phase)
        if phase == RoundPhase.EXPERT_SCORING:
            self.result_set = None  # nothing to compute before consolidation
        else:
            self.result_set = compute_and_publish(self.round, actor=self.admin, publish=publish)
        self.round.refresh_from_db()


@pytest.fixture
def small_round(db):  # noqa: ANN001, ANN201
    return SmallRound(publish=True)


@pytest.fixture
def unpublished_round(db):  # noqa: ANN001, ANN201
    return SmallRound(publish=False)


@pytest.fixture
def expert_scoring_round(db):  # noqa: ANN001, ANN201
    """The small round left in expert scoring (its sheets submitted, nothing computed)."""
    return SmallRound(publish=False, phase=RoundPhase.EXPERT_SCORING)


@pytest.fixture
def demo_round(db):  # noqa: ANN001, ANN201
    """The demo's 1+8 schools scored: XM-09 weak (unqualified), XM-05 failing a veto."""
    demo_seed()
    round = Round.objects.get(name=ROUND_NAME)
    score_round(round, qualities={"XM-09": 0.45}, veto_zero={"XM-05": "A1.1"})
    result_set = compute_and_publish(round)
    return round, result_set
