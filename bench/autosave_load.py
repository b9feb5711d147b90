"""Benchmark: many evaluators autosaving at once, through the real HTTP endpoints.

    DEBUG=1 .venv/bin/python bench/autosave_load.py                # embedded SQLite
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/xm_eval \\
        .venv/bin/python bench/autosave_load.py                    # PostgreSQL

Builds a throw-away database (a SQLite file in a temporary folder, or the
database ``xm_eval_autosave_bench`` beside the configured PostgreSQL one), with
a round in expert scoring on the sample framework (40 observation points), then
starts gunicorn (gthread: 2 workers × 8 threads) on 127.0.0.1 and drives it
with real sessions: sign-in through the login form, CSRF token, the htmx
autosave POST that the score sheet sends.

1. Baseline: one evaluator alone saves every point of their sheet in turn.
2. Load, bounded by --seconds (default 60): --evaluators evaluators (default 30)
   each save their own sheet's points in turn at about one field a second, and
   --pairs pairs (default 5) of sessions of one evaluator (two tabs, two
   devices) save the same points at the same time. Then each pair's two
   sessions write one last value each, one after the other.
3. Checks every intended final value (the last value each session sent and was
   told was saved; for a pair, the last of its two final writes) against the
   database, counts 5xx answers, connection errors and refusals, and verifies
   the audit chain.

Prints requests, p50/p95 latency of the load against the single-user baseline
of the same run (target p95 ≤ 3 × baseline), 5xx (target 0), lost or wrong
writes (target 0). Stops by itself; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "xm_eval_autosave_bench"
PASSWORD = "bench-pass-2025"


def database_url(workdir: Path) -> str:
    """The scratch database's URL, created empty (PostgreSQL) or as a new file (SQLite)."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgres"):
        return f"sqlite:///{workdir / 'db.sqlite3'}"
    import psycopg

    base = configured.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return f"{base}/{BENCH_DB}"


def drop_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


@dataclass
class World:
    round_id: int
    school_ids: list[int]
    points: list[tuple[int, Decimal]]  # (indicator id, max points)
    solo: list[tuple[str, int]]  # (username, school id)
    pairs: list[tuple[str, int]]


def build(evaluators: int, pairs: int) -> World:
    """Migrate and seed through the services: a bureau admin, the sample framework,
    ten schools, a round in expert scoring, one assignment per evaluator."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from core.enums import Role
    from rounds import services as round_services
    from rounds.framework_csv import framework_rows_from_csv, sample_framework_path
    from rounds.selectors import framework_leaves
    from rounds.services import framework_create, round_create, round_phase_advance
    from schools.models import School
    from xm_eval.demo import demo_phase_windows

    call_command("migrate", verbosity=0)
    User = get_user_model()

    def user(username: str, role: str) -> object:
        person = User.objects.create_user(username=username, password=PASSWORD)
        person.groups.add(Group.objects.get(name=role))
        return person

    admin = user("bench-bureau", Role.BUREAU_ADMIN)
    framework = framework_create(
        actor=admin,
        name="bench",
        policy_title="bench",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=framework_rows_from_csv(sample_framework_path().read_text(encoding="utf-8")),
    )
    schools = School.objects.bulk_create(
        School(
            code=f"L{i:02d}",
            name_zh=f"负载学校{i}",
            kind="private_technical_school",
            ranking_group="private",
        )
        for i in range(10)
    )
    today = timezone.localdate()
    round = round_create(
        actor=admin,
        framework=framework,
        name="bench",
        cycle_start=today.year,
        cycle_end=today.year + 2,
        schools=schools,
        phase_windows=demo_phase_windows(today),
    )
    names_solo = [(f"solo{i}", schools[i % len(schools)].pk) for i in range(evaluators)]
    names_pair = [(f"pair{i}", schools[i % len(schools)].pk) for i in range(pairs)]
    school_by_id = {school.pk: school for school in schools}
    for username, school_id in names_solo + names_pair:
        person = user(username, Role.EVALUATOR)
        round_services.evaluation_group_member_add(round=round, actor=admin, user=person)
        round_services.assignment_create(
            round=round, actor=admin, school=school_by_id[school_id], evaluator=person
        )
    round = round_phase_advance(round=round, actor=admin)  # self-assessment
    round = round_phase_advance(round=round, actor=admin)  # expert scoring
    points = [(leaf.pk, leaf.max_points) for leaf in framework_leaves(framework=framework)]
    return World(round.pk, [s.pk for s in schools], points, names_solo, names_pair)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "xm_eval.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).ok:
                return server
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


@dataclass
class Client:
    """One signed-in browser session of an evaluator."""

    base: str
    username: str
    round_id: int
    school_id: int
    session: requests.Session = field(default_factory=requests.Session)
    latencies: list[float] = field(default_factory=list)
    server_errors: int = 0
    connection_errors: int = 0
    refused: list[str] = field(default_factory=list)
    saved: dict[int, Decimal] = field(default_factory=dict)  # last value told saved

    def sign_in(self) -> None:
        page = self.session.get(f"{self.base}/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = self.session.post(
            f"{self.base}/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base}/accounts/login/"},
            timeout=30,
        )
        if "sessionid" not in self.session.cookies:
            raise SystemExit(f"{self.username} could not sign in ({answer.status_code})")

    def save(self, indicator_id: int, value: Decimal, maximum: Decimal) -> None:
        url = f"{self.base}/sheets/{self.round_id}/schools/{self.school_id}/points/{indicator_id}/"
        data = {"points": str(value)}
        if value < maximum:
            data["deduction_reason"] = "负载测试扣分"
        started = time.perf_counter()
        try:
            answer = self.session.post(
                url,
                data=data,
                headers={
                    "HX-Request": "true",
                    "X-CSRFToken": self.session.cookies.get("csrftoken", ""),
                    "Referer": url,
                },
                timeout=60,
            )
        except requests.RequestException:
            self.connection_errors += 1
            return
        self.latencies.append(time.perf_counter() - started)
        if answer.status_code >= 500:
            self.server_errors += 1
        elif answer.status_code != 200 or "status-message ok" not in answer.text:
            self.refused.append(f"{answer.status_code} {answer.text[:120]!r}")
        else:
            self.saved[indicator_id] = value


def value_for(rng: random.Random, maximum: Decimal) -> Decimal:
    halves = int(maximum * 2)
    return Decimal(rng.randint(0, halves)) / 2


def run_client(
    client: Client, points: list[tuple[int, Decimal]], until: float, seed: int, pace: float
) -> None:
    rng = random.Random(seed)
    order = points[:]
    rng.shuffle(order)
    index = 0
    while time.monotonic() < until:
        indicator_id, maximum = order[index % len(order)]
        client.save(indicator_id, value_for(rng, maximum), maximum)
        index += 1
        time.sleep(rng.uniform(0.5, 1.5) * pace)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaluators", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xm_eval-autosave-"))
    url = database_url(workdir)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "XM_EVAL_VAR_DIR": str(workdir),
        "REDIS_URL": "",  # tasks in-process; the benchmark is about the web tier
        "DJANGO_SETTINGS_MODULE": "xm_eval.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    backend = connection.vendor
    started = time.perf_counter()
    world = build(arguments.evaluators + 1, arguments.pairs)
    connection.close()
    print(
        f"backend: {backend}; {arguments.evaluators} evaluators + {arguments.pairs} pairs on "
        f"{len(world.points)} observation points (built in {time.perf_counter() - started:.1f} s)"
    )
    port = free_port()
    server = start_gunicorn(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        # 1. the single-user baseline (the extra evaluator, alone)
        alone_name, alone_school = world.solo[-1]
        alone = Client(base, alone_name, world.round_id, alone_school)
        alone.sign_in()
        rng = random.Random(1)
        for _ in range(2):
            for indicator_id, maximum in world.points:
                alone.save(indicator_id, value_for(rng, maximum), maximum)
        baseline = alone.latencies

        # 2. the load
        solo = [Client(base, name, world.round_id, school) for name, school in world.solo[:-1]]
        pair_clients = [
            (Client(base, name, world.round_id, school), Client(base, name, world.round_id, school))
            for name, school in world.pairs
        ]
        everyone = solo + [c for pair in pair_clients for c in pair]
        for client in everyone:
            client.sign_in()
        until = time.monotonic() + arguments.seconds
        shared = world.points[:3]  # a pair's two sessions fight over the same few points
        threads = [
            threading.Thread(target=run_client, args=(c, world.points, until, i, 1.0))
            for i, c in enumerate(solo)
        ] + [
            threading.Thread(target=run_client, args=(c, shared, until, 1000 + i, 0.5))
            for i, pair in enumerate(pair_clients)
            for c in pair
        ]
        load_started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=arguments.seconds + 120)
        load_seconds = time.perf_counter() - load_started
        # each pair ends with one last write per session, one after the other
        final_rng = random.Random(7)
        intended: dict[tuple[str, int], Decimal] = {}
        for first, second in pair_clients:
            for client in (first, second):
                for indicator_id, maximum in shared:
                    client.save(indicator_id, value_for(final_rng, maximum), maximum)
            for indicator_id, _ in shared:
                last = second.saved.get(indicator_id, first.saved.get(indicator_id))
                if last is not None:
                    intended[first.username, indicator_id] = last
        for client in solo:
            for indicator_id, value in client.saved.items():
                intended[client.username, indicator_id] = value
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    # 3. what the database holds
    from core.audit import audit_verify
    from scoring.models import Score

    stored = {
        (username, indicator_id): points
        for username, indicator_id, points in Score.objects.filter(
            sheet__round_id=world.round_id
        ).values_list("sheet__evaluator__username", "indicator_id", "points")
    }
    lost = [key for key in intended if key not in stored]
    wrong = [key for key in intended if key in stored and stored[key] != intended[key]]
    latencies = [value for client in everyone for value in client.latencies]
    server_errors = sum(client.server_errors for client in everyone + [alone])
    connection_errors = sum(client.connection_errors for client in everyone + [alone])
    refused = [message for client in everyone + [alone] for message in client.refused]
    report = audit_verify()
    base_p50, base_p95 = statistics.median(baseline), percentile(baseline, 0.95)
    load_p50, load_p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"baseline (one evaluator alone): {len(baseline)} saves")
    print(f"  p50 {base_p50 * 1000:.0f} ms   p95 {base_p95 * 1000:.0f} ms")
    print(
        f"load: {len(latencies)} saves in {load_seconds:.0f} s "
        f"({len(latencies) / load_seconds:.1f}/s) by {len(everyone)} sessions"
    )
    print(
        f"  p50 {load_p50 * 1000:.0f} ms   p95 {load_p95 * 1000:.0f} ms   "
        f"p95 / baseline p95 = {load_p95 / base_p95:.2f} (target ≤ 3)"
    )
    print(
        f"5xx: {server_errors}   connection errors: {connection_errors}   "
        f"refused: {len(refused)}   (targets 0)"
    )
    for message in refused[:5]:
        print("  refused:", message)
    print(
        f"intended final values: {len(intended)}   lost: {len(lost)}   wrong: {len(wrong)} "
        "(targets 0)"
    )
    print(f"audit chain: {'intact' if report.ok else 'BROKEN'}, {report.events} events")
    connection.close()
    drop_database(url)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
