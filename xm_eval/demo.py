"""Demo data: the "1+8" schools, the sample framework, one open round with its
evaluation group, assignments and conflicts, an account for every role, and a
completed previous round (``xm_eval.demo_previous``).

``demo_seed`` is idempotent: every object is looked up first and only created
when it is missing, so a second run writes no row and records no audit event.
Objects that exist already are left as they are (a changed demo account keeps
its password). State changes go through the services of each app, with the
demo bureau admin as the actor, so the audit trail of a demo looks like that
of real work. Django auth users and their role groups have no service of
their own and are written with the ORM.

The private schools, their addresses and licence numbers, all people and the
indicator framework are made up and marked as samples (样例). 厦门技师学院 is
the city's real public technician college; its licence number, district and
address are left empty rather than invented.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from core.enums import Role
from core.errors import DomainError
from rectification.enums import RectificationStatus
from rectification.models import Rectification
from rounds import selectors as round_selectors
from rounds.enums import AssignmentStatus, ConflictKind, Grade, GroupRole, RoundPhase
from rounds.framework_csv import framework_rows_from_csv, sample_framework_path
from rounds.group_services import assignment_create, conflict_record, evaluation_group_member_add
from rounds.models import Assignment, ConflictOfInterest, Framework, Indicator, Round
from rounds.services import framework_create, round_create, round_phase_advance
from schools.enums import SchoolKind
from schools.models import School, StaffMembership
from schools.services import school_upsert, specialty_upsert, staff_membership_add
from scoring.models import ResultRow, ResultSet
from xm_eval.demo_previous import PreviousCycle

DEMO_PASSWORD = "demo-pass-2025"

FRAMEWORK_CSV = sample_framework_path()
# The indicator table is not the official one (which is not public), so its
# name says it is a sample wherever it is shown (shared data README).
FRAMEWORK_NAME = "厦门市民办技工学校办学质量评估指标（2025，样例）"
FRAMEWORK_POLICY_TITLE = "《厦门市民办技工学校办学质量评估办法》"
FRAMEWORK_VALID_FROM = dt.date(2025, 1, 1)
FRAMEWORK_VALID_TO = dt.date(2029, 12, 31)

ROUND_NAME = "2025–2027 年度办学质量评估"
ROUND_CYCLE = (2025, 2027)
GROUP_NAME = "2025–2027 年度办学质量评估工作组"

EVALUATORS_PER_SCHOOL = 5  # the least for the trimmed mean to drop highest and lowest

# Each school: its fields for school_upsert, plus specialties as (code, name, year established).
PUBLIC_COLLEGE = {
    "code": "XM-01",
    "name_zh": "厦门技师学院",
    "name_en": "Xiamen Technician College",
    "kind": SchoolKind.PUBLIC_TECHNICIAN_COLLEGE,
    "is_sample": False,
    "specialties": (
        ("Z01", "数控加工", None),
        ("Z02", "汽车维修", None),
        ("Z03", "电气自动化设备安装与维修", None),
        ("Z04", "计算机网络应用", None),
    ),
}
PRIVATE_SCHOOLS: tuple[dict[str, Any], ...] = tuple(
    {
        "code": f"XM-{number:02d}",
        "name_zh": f"{name_zh}（样例）",
        "name_en": f"{name_en} (sample)",
        "kind": SchoolKind.PRIVATE_TECHNICAL_SCHOOL,
        "is_sample": True,
        "licence_number": f"人社民3502{number:04d}号（样例）",
        "district": district,
        "address": f"厦门市{district}样例路{number * 11}号",
        "specialties": specialties,
    }
    for number, name_zh, name_en, district, specialties in (
        (
            2,
            "厦门鹭岛技工学校",
            "Xiamen Ludao Technical School",
            "思明区",
            (
                ("Z01", "电子商务", 2012),
                ("Z02", "酒店服务与管理", 2014),
                ("Z03", "美容美发与造型", 2016),
            ),
        ),
        (
            3,
            "厦门湖里智造技工学校",
            "Xiamen Huli Smart Manufacturing Technical School",
            "湖里区",
            (
                ("Z01", "工业机器人应用与维护", 2017),
                ("Z02", "电气自动化设备安装与维修", 2013),
                ("Z03", "数控加工", 2011),
            ),
        ),
        (
            4,
            "厦门集美航空服务技工学校",
            "Xiamen Jimei Aviation Services Technical School",
            "集美区",
            (("Z01", "航空服务", 2015), ("Z02", "城市轨道交通运输与管理", 2018)),
        ),
        (
            5,
            "厦门海沧港航技工学校",
            "Xiamen Haicang Port and Shipping Technical School",
            "海沧区",
            (("Z01", "物流服务与管理", 2013), ("Z02", "港口机械运行与维护", 2016)),
        ),
        (
            6,
            "厦门同安汽车技工学校",
            "Xiamen Tong'an Automotive Technical School",
            "同安区",
            (
                ("Z01", "汽车维修", 2010),
                ("Z02", "新能源汽车检测与维修", 2019),
                ("Z03", "汽车钣金与涂装", 2014),
            ),
        ),
        (
            7,
            "厦门翔安电子技工学校",
            "Xiamen Xiang'an Electronics Technical School",
            "翔安区",
            (
                ("Z01", "电子技术应用", 2012),
                ("Z02", "计算机网络应用", 2013),
                ("Z03", "无人机应用技术", 2021),
            ),
        ),
        (
            8,
            "厦门思明烹饪技工学校",
            "Xiamen Siming Culinary Technical School",
            "思明区",
            (("Z01", "烹饪（中式烹调）", 2011), ("Z02", "烹饪（中西式面点）", 2015)),
        ),
        (
            9,
            "厦门湖里数字创意技工学校",
            "Xiamen Huli Digital Creative Technical School",
            "湖里区",
            (
                ("Z01", "计算机动画制作", 2016),
                ("Z02", "平面设计", 2014),
                ("Z03", "电子商务", 2018),
                ("Z04", "计算机网络应用", 2017),
            ),
        ),
    )
)
SCHOOLS: tuple[dict[str, Any], ...] = (PUBLIC_COLLEGE, *PRIVATE_SCHOOLS)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    username: str
    last_name: str
    first_name: str
    roles: tuple[str, ...]
    is_staff: bool = False
    affiliation: str = ""
    affiliated_school: str | None = None  # a school code
    school: str | None = None  # school staff: the school code
    title: str = ""


ADMIN = DemoPerson(
    "admin_demo", "林", "国强", (Role.BUREAU_ADMIN,), is_staff=True, title="市人社局职业能力建设处"
)
SUPERVISOR = DemoPerson(
    "supervisor_demo", "苏", "明远", (Role.SUPERVISOR,), is_staff=True, title="评估监督员"
)
EVALUATORS: tuple[DemoPerson, ...] = (
    DemoPerson(
        "expert1",
        "陈",
        "志远",
        (Role.GROUP_LEADER, Role.EVALUATOR),
        affiliation="市技工教育中心 教研部（样例）",
    ),
    DemoPerson(
        "expert2", "林", "雅琴", (Role.EVALUATOR,), affiliation="技工教育联盟成员校（泉州，样例）"
    ),
    DemoPerson(
        "expert3", "黄", "建国", (Role.EVALUATOR,), affiliation="技工教育联盟成员校（漳州，样例）"
    ),
    DemoPerson(
        "expert4", "吴", "晓燕", (Role.EVALUATOR,), affiliation="某智能制造企业 人力资源部（样例）"
    ),
    DemoPerson(
        "expert5", "郑", "海峰", (Role.EVALUATOR,), affiliation="某汽车服务企业 技术总监（样例）"
    ),
    DemoPerson(
        "expert6",
        "王",
        "丽萍",
        (Role.EVALUATOR,),
        affiliation="原厦门鹭岛技工学校（样例）教务处副主任",
        affiliated_school="XM-02",
    ),
    DemoPerson(
        "expert7", "刘", "振华", (Role.EVALUATOR,), affiliation="市职业技能行业协会（样例）"
    ),
)
SCHOOL_STAFF: tuple[DemoPerson, ...] = tuple(
    DemoPerson(
        f"school{index:02d}",
        last_name,
        first_name,
        (Role.SCHOOL_STAFF,),
        school=f"XM-{index:02d}",
        title="评估联络员",
    )
    for index, (last_name, first_name) in enumerate(
        (
            ("张", "伟"),
            ("李", "娜"),
            ("王", "芳"),
            ("刘", "洋"),
            ("陈", "静"),
            ("杨", "帆"),
            ("赵", "磊"),
            ("黄", "敏"),
            ("周", "婷"),
        ),
        start=1,
    )
)
PEOPLE: tuple[DemoPerson, ...] = (ADMIN, SUPERVISOR, *EVALUATORS, *SCHOOL_STAFF)

# expert6 formerly worked for XM-02: detected from the affiliation, the
# assignment there is refused, and the bureau records the conflict.
DETECTED_CONFLICT = ("expert6", "XM-02", "原任该校教务处副主任（评估组成员任职单位登记）")
# expert4 declares a conflict after being assigned; the assignment is recused.
# XM-07 gets one evaluator more than the others so five remain active.
DECLARED_CONFLICT = ("expert4", "XM-07", "本人所在企业与该校签有订单班合作协议")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo database holds after seeding, and how much this run created."""

    schools: int
    specialties: int
    framework: str
    indicators: int
    observation_points: int
    round: str
    phase: str
    users: int
    group_members: int
    active_assignments: int
    recused_assignments: int
    conflicts: int
    created: int
    previous_round: str = ""
    previous_phase: str = ""
    previous_version: int | None = None
    previous_grades: tuple[tuple[str, int], ...] = ()
    rectifications_passed: int = 0
    password: str = DEMO_PASSWORD
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)

    def line(self) -> str:
        return (
            f"{self.schools} schools, {self.specialties} specialties; framework "
            f"“{self.framework}” with {self.indicators} indicators "
            f"({self.observation_points} observation points); round “{self.round}” in phase "
            f"{self.phase}; {self.users} demo users; {self.group_members} group members; "
            f"{self.active_assignments} active and {self.recused_assignments} recused "
            f"assignments; {self.conflicts} conflicts of interest; previous round "
            f"“{self.previous_round}” {self.previous_phase} (published results "
            f"v{self.previous_version}: "
            + ", ".join(f"{count} {grade}" for grade, count in self.previous_grades)
            + f"; {self.rectifications_passed} rectification passed its re-check); "
            f"{self.created} objects created by this run."
        )


def demo_phase_windows(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Phase dates that put ``today`` inside the self-assessment window.

    The round is opened into self-assessment, so the demo shows it a month
    under way with about five weeks left; the later phases follow back to back
    (public notice 7 days, as the Measures' default) and the round closes at
    the end of its cycle. Only when today is so far from the 2025–2027 cycle
    that these dates would leave it (or the framework's validity) does the
    fixed 2025 calendar apply instead.
    """
    durations = (
        (RoundPhase.SELF_ASSESSMENT, 66),
        (RoundPhase.EXPERT_SCORING, 45),
        (RoundPhase.CONSOLIDATION, 14),
        (RoundPhase.PUBLIC_NOTICE, 7),
        (RoundPhase.PUBLISHED, 30),
        (RoundPhase.RECTIFICATION, 180),
    )
    windows: dict[str, tuple[dt.date, dt.date]] = {}
    start = today - dt.timedelta(days=30)
    for phase, days in durations:
        end = start + dt.timedelta(days=days - 1)
        windows[phase] = (start, end)
        start = end + dt.timedelta(days=1)
    cycle_end = dt.date(ROUND_CYCLE[1], 12, 31)
    windows[RoundPhase.CLOSED] = (start, cycle_end)
    first = windows[RoundPhase.SELF_ASSESSMENT][0]
    if first >= dt.date(ROUND_CYCLE[0], 1, 1) and start <= cycle_end:
        return windows
    return {
        RoundPhase.SELF_ASSESSMENT: (dt.date(2025, 3, 1), dt.date(2025, 4, 30)),
        RoundPhase.EXPERT_SCORING: (dt.date(2025, 5, 1), dt.date(2025, 6, 15)),
        RoundPhase.CONSOLIDATION: (dt.date(2025, 6, 16), dt.date(2025, 6, 30)),
        RoundPhase.PUBLIC_NOTICE: (dt.date(2025, 7, 1), dt.date(2025, 7, 7)),
        RoundPhase.PUBLISHED: (dt.date(2025, 7, 8), dt.date(2025, 7, 31)),
        RoundPhase.RECTIFICATION: (dt.date(2025, 8, 1), dt.date(2026, 1, 31)),
        RoundPhase.CLOSED: (dt.date(2026, 2, 1), cycle_end),
    }


class _Seeder:
    def __init__(self, stdout: TextIO | None, today: dt.date) -> None:
        self.stdout = stdout
        self.today = today
        self.created = 0
        self.actor: AbstractBaseUser | None = None
        self.users: dict[str, AbstractBaseUser] = {}
        self.schools: dict[str, School] = {}

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message + "\n")

    def new(self, message: str) -> None:
        self.created += 1
        self.say(f"  + {message}")

    # ------------------------------------------------------------------ users

    def seed_users(self) -> None:
        user_model = get_user_model()
        groups = {role: Group.objects.get(name=role) for role in Role.values}
        for person in PEOPLE:
            user = user_model.objects.filter(username=person.username).first()
            if user is None:
                user = user_model.objects.create_user(
                    username=person.username,
                    password=DEMO_PASSWORD,
                    email=f"{person.username}@example.com",
                    first_name=person.first_name,
                    last_name=person.last_name,
                    is_staff=person.is_staff,
                )
                user.groups.add(*(groups[role] for role in person.roles))
                self.new(f"user {person.username}")
            self.users[person.username] = user
        self.actor = self.users[ADMIN.username]

    # ---------------------------------------------------------------- schools

    def seed_schools(self) -> None:
        for data in SCHOOLS:
            fields = {
                key: value for key, value in data.items() if key not in {"code", "specialties"}
            }
            school = School.objects.filter(code=data["code"]).first()
            if school is None:
                school, _created = school_upsert(actor=self.actor, code=data["code"], **fields)
                self.new(f"school {school.code} {school.name_zh}")
            self.schools[school.code] = school
            existing = set(school.specialties.values_list("code", flat=True))
            for code, name, established in data["specialties"]:
                if code in existing:
                    continue
                specialty_upsert(
                    actor=self.actor,
                    school=school,
                    code=code,
                    name=name,
                    established_year=established,
                )
                self.new(f"specialty {school.code}/{code} {name}")
        for person in SCHOOL_STAFF:
            user, school = self.users[person.username], self.schools[person.school]
            if not StaffMembership.objects.filter(user=user, school=school).exists():
                staff_membership_add(actor=self.actor, user=user, school=school, title=person.title)
                self.new(f"staff membership {person.username} @ {school.code}")

    # ------------------------------------------------------ framework, round

    def seed_framework(self) -> Framework:
        framework = Framework.objects.filter(name=FRAMEWORK_NAME).first()
        if framework is None:
            rows = framework_rows_from_csv(FRAMEWORK_CSV.read_text(encoding="utf-8"))
            framework = framework_create(
                actor=self.actor,
                name=FRAMEWORK_NAME,
                policy_title=FRAMEWORK_POLICY_TITLE,
                valid_from=FRAMEWORK_VALID_FROM,
                valid_to=FRAMEWORK_VALID_TO,
                indicators=rows,
            )
            self.new(f"framework {framework.name} ({len(rows)} indicators)")
        return framework

    def seed_round(self, framework: Framework) -> Round:
        round = Round.objects.filter(name=ROUND_NAME).first()
        if round is None:
            round = round_create(
                actor=self.actor,
                framework=framework,
                name=ROUND_NAME,
                cycle_start=ROUND_CYCLE[0],
                cycle_end=ROUND_CYCLE[1],
                schools=list(self.schools.values()),
                phase_windows=demo_phase_windows(self.today),
            )
            self.new(f"round {round.name}")
        return round

    def seed_group(self, round: Round, group_name: str = GROUP_NAME) -> None:
        for person in EVALUATORS:
            user = self.users[person.username]
            if round_selectors.round_member(round=round, user_id=user.pk) is not None:
                continue
            evaluation_group_member_add(
                round=round,
                actor=self.actor,
                user=user,
                role=GroupRole.LEADER if Role.GROUP_LEADER in person.roles else GroupRole.EVALUATOR,
                affiliation=person.affiliation,
                affiliated_school=(
                    self.schools[person.affiliated_school] if person.affiliated_school else None
                ),
                group_name=group_name,
            )
            self.new(f"group member {person.username} ({round.name})")

    def seed_assignments(self, round: Round, extra: dict[str, int] | None = None) -> None:
        """Give every school five evaluators (plus ``extra`` by school code), taking the
        group in turn.

        The turn continues from school to school so the load stays even. A
        pair the service refuses for a conflict of interest is skipped and the
        next evaluator in turn takes the place; a pair that exists already
        (also a recused one) counts as assigned, so a second run makes the same
        choices and creates nothing.
        """
        extra = extra or {}
        evaluators = [self.users[person.username] for person in EVALUATORS]
        existing = set(
            Assignment.objects.filter(round=round).values_list("school_id", "evaluator_id")
        )
        position = 0
        for code, school in self.schools.items():
            wanted = EVALUATORS_PER_SCHOOL + extra.get(code, 0)
            assigned = tried = 0
            while assigned < wanted and tried < len(evaluators):
                evaluator = evaluators[position % len(evaluators)]
                position += 1
                tried += 1
                if (school.pk, evaluator.pk) in existing:
                    assigned += 1
                    continue
                try:
                    assignment_create(
                        round=round, actor=self.actor, school=school, evaluator=evaluator
                    )
                except DomainError as error:
                    if error.code != "conflict_of_interest":
                        raise
                    self.say(f"  - refused {evaluator.username} → {code}: {error}")
                    continue
                assigned += 1
                self.new(f"assignment {evaluator.username} → {code} ({round.name})")

    def seed_conflicts(self) -> None:
        for (username, code, reason), kind, actor in (
            (DETECTED_CONFLICT, ConflictKind.DETECTED, self.actor),
            # Declared by the evaluator, so the audit trail names them.
            (DECLARED_CONFLICT, ConflictKind.DECLARED, self.users[DECLARED_CONFLICT[0]]),
        ):
            evaluator, school = self.users[username], self.schools[code]
            if ConflictOfInterest.objects.filter(evaluator=evaluator, school=school).exists():
                continue
            conflict_record(
                actor=actor, evaluator=evaluator, school=school, reason=reason, kind=kind
            )
            self.new(f"{kind} conflict {username} × {code}")


@transaction.atomic
def demo_seed(*, stdout: TextIO | None = None, today: dt.date | None = None) -> DemoSummary:
    """Create whatever of the demo data is missing; all of it or nothing.

    Writes users and role groups with the ORM, everything else through the
    services (audited, actor the demo bureau admin, a declared conflict by its
    evaluator). Opens the round into self-assessment, which freezes the
    framework. ``today`` (default: the local date) places the phase windows.
    Then takes the previous cycle's round from draft to closed (see
    ``xm_eval.demo_previous``); its rectification notice is rendered after
    commit, and its rectification evidence is stored under ``MEDIA_ROOT``.
    Progress lines go to ``stdout`` when given.
    """
    seeder = _Seeder(stdout, today or timezone.localdate())
    seeder.say("Users and roles")
    seeder.seed_users()
    seeder.say("Schools, specialties and staff")
    seeder.seed_schools()
    seeder.say("Framework and round")
    framework = seeder.seed_framework()
    round = seeder.seed_round(framework)
    seeder.say("Evaluation group and assignments")
    seeder.seed_group(round)
    # The evaluator who declares a conflict at XM-07 was assigned there first.
    seeder.seed_assignments(round, extra={DECLARED_CONFLICT[1]: 1})
    if round.phase == RoundPhase.DRAFT:
        round = round_phase_advance(round=round, actor=seeder.actor)
        seeder.new(f"round opened: {round.get_phase_display()}")
    seeder.say("Conflicts of interest")
    seeder.seed_conflicts()
    # After the conflicts, so the previous round's assignments respect them too.
    seeder.say("Previous cycle (2022–2024): scored, computed, noticed, published, rectified")
    previous = PreviousCycle(seeder).seed(
        framework_csv=FRAMEWORK_CSV.read_text(encoding="utf-8"),
        policy_title=FRAMEWORK_POLICY_TITLE,
    )
    return _summary(seeder, framework, round, previous)


def _summary(seeder: _Seeder, framework: Framework, round: Round, previous: Round) -> DemoSummary:
    indicators = Indicator.objects.filter(framework=framework)
    assignments = Assignment.objects.filter(round=round)
    published = (
        ResultSet.objects.filter(round=previous, is_published=True).order_by("-version").first()
    )
    rows = list(ResultRow.objects.filter(result_set=published)) if published else []
    school_ids = [school.pk for school in seeder.schools.values()]
    accounts = []
    for person in PEOPLE:
        if person.school:
            note = seeder.schools[person.school].name_zh
        else:
            note = person.affiliation or person.title
        accounts.append(
            DemoAccount(
                username=person.username,
                role=" + ".join(str(Role(role).label) for role in person.roles),
                display_name=f"{person.last_name}{person.first_name}",
                note=note,
            )
        )
    return DemoSummary(
        schools=len(seeder.schools),
        specialties=sum(school.specialties.count() for school in seeder.schools.values()),
        framework=framework.name,
        indicators=indicators.count(),
        observation_points=indicators.filter(children__isnull=True).count(),
        round=round.name,
        phase=str(round.get_phase_display()),
        users=len(seeder.users),
        group_members=round.evaluation_group.members.count(),
        active_assignments=assignments.filter(status=AssignmentStatus.ACTIVE).count(),
        recused_assignments=assignments.filter(status=AssignmentStatus.RECUSED).count(),
        conflicts=ConflictOfInterest.objects.filter(school_id__in=school_ids).count(),
        created=seeder.created,
        previous_round=previous.name,
        previous_phase=str(previous.get_phase_display()),
        previous_version=published.version if published else None,
        previous_grades=tuple(
            (str(Grade(grade).label), count)
            for grade in Grade.values
            if (count := sum(1 for row in rows if row.grade == grade))
        ),
        rectifications_passed=Rectification.objects.filter(
            round=previous, status=RectificationStatus.PASSED
        ).count(),
        accounts=tuple(accounts),
    )
