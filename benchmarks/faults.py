"""Fault benchmark: signed-in learners while Redis is down, while it hangs, in a login flood.

Starts gunicorn with production settings over a fresh PostgreSQL database and a Redis of its
own, signs in a cohort of learners, then runs each scenario for a fixed time with a simple
threaded client: learners reading lessons and submitting drills, visitors reading a lesson
without a session, and (in the flood) other clients posting logins with random usernames from a
handful of addresses. Prints requests/s, p99 and error counts per kind of traffic, and whether
the anonymous lesson kept at least half its rate during the flood.

    .venv/bin/python benchmarks/faults.py [--seconds 15] [--database-url postgres://…]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.run_load import recreate_database  # noqa: E402
from tests.appserver import Client, gunicorn, manage, production_env  # noqa: E402
from tests.faultservers import HungListener, RedisServer, drill_form  # noqa: E402

PASSWORD = "a-long-benchmark-password-19"
LEARNERS = 6
FLOOD_ADDRESSES = [f"198.51.100.{n}" for n in range(1, 5)]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int | None, seconds: float) -> None:
        with self.lock:
            if status is None:
                self.failures += 1
            else:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.latencies.append(seconds)

    def errors(self) -> int:
        return self.failures + sum(n for s, n in self.statuses.items() if s >= 500)

    def p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


def prepare(url: str) -> None:
    recreate_database(url)
    env = production_env(url)
    names = [f"fault-learner-{n}" for n in range(LEARNERS)]
    code = (
        "from django.contrib.auth import get_user_model; "
        "from django.contrib.auth.hashers import make_password; "
        f"password = make_password({PASSWORD!r}); "
        "get_user_model().objects.bulk_create("
        f"get_user_model()(username=name, password=password) for name in {names!r})"
    )
    for command in (["migrate", "--noinput"], ["load_course"], ["shell", "-c", code]):
        result = manage(env, *command)
        if result.returncode != 0:
            raise SystemExit(result.stderr)


def loop(until: float, tally: Tally, step) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status = step()
        except OSError:
            status = None
        tally.add(status, time.monotonic() - started)


def learner_loop(until: float, client: Client, lesson: str, drill: str,
                 lessons: Tally, submissions: Tally) -> None:
    """A signed-in learner reading the lesson and submitting the drill, turn about."""
    form = drill_form(client, drill)
    token = client.get(f"/drills/{drill}/").form_token()
    read = True
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            if read:
                status = client.get(lesson).status
            else:
                status = client.post(form.action, form.data(str(uuid.uuid4()), token)).status
        except OSError:
            status = None
        (lessons if read else submissions).add(status, time.monotonic() - started)
        read = not read


def flood_step(base_url: str, address: str):
    client = Client(base_url)
    token = client.get("/accounts/login/").form_token()

    def step() -> int:
        return client.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": secrets.token_hex(6), "password": "guess"},
            headers={"X-Forwarded-For": address},
        ).status

    return step


def run_scenario(base_url: str, learners: list[Client], lesson: str, drill: str,
                 seconds: float, *, flood: bool) -> dict[str, Tally]:
    tallies = {"signed-in lesson": Tally(), "drill submission": Tally(),
               "anonymous lesson": Tally()}
    if flood:
        tallies["login flood"] = Tally()
    until = time.monotonic() + seconds
    threads = []
    for client in learners:
        threads.append(threading.Thread(target=learner_loop, args=(
            until, client, lesson, drill, tallies["signed-in lesson"],
            tallies["drill submission"],
        )))
    for _ in range(2):
        anonymous = Client(base_url)
        threads.append(threading.Thread(
            target=loop,
            args=(until, tallies["anonymous lesson"], lambda c=anonymous: c.get(lesson).status),
        ))
    if flood:
        for address in FLOOD_ADDRESSES:
            step = flood_step(base_url, address)
            threads.append(threading.Thread(target=loop, args=(until, tallies["login flood"],
                                                               step)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/critical_path_faults_bench"
        ),
    )
    args = parser.parse_args()
    prepare(args.database_url)
    redis = RedisServer().start()
    results: list[tuple[str, dict[str, Tally]]] = []
    try:
        env = production_env(args.database_url, REDIS_URL=redis.url)
        with gunicorn(env, workers=int(os.environ.get("WEB_CONCURRENCY", "3"))) as base_url:
            learners = []
            for n in range(LEARNERS):
                client = Client(base_url)
                client.log_in(f"fault-learner-{n}", PASSWORD)
                learners.append(client)
            home = learners[0].get("/").text
            lesson_link = re.search(r'href="(/lessons/[-a-z0-9]+/)"', home)
            drills_page = learners[0].get("/drills/").text
            drill_link = re.search(r'href="/drills/([-a-z0-9]+)/"', drills_page)
            assert lesson_link and drill_link, "the home and drills pages link a lesson and a drill"
            lesson, drill = lesson_link.group(1), drill_link.group(1)

            def scenario(name: str, *, flood: bool = False) -> None:
                tallies = run_scenario(base_url, learners, lesson, drill, args.seconds,
                                       flood=flood)
                results.append((name, tallies))

            scenario("Redis up")
            redis.stop()
            scenario("Redis down")
            with HungListener(redis.port):
                scenario("Redis hung")
            redis.start()
            scenario("login flood", flood=True)
    finally:
        redis.stop()
    report(results, args.seconds)


def report(results: list[tuple[str, dict[str, Tally]]], seconds: float) -> None:
    print("| scenario | traffic | requests/s | p99 ms | 5xx or failed | 429 |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, tallies in results:
        for traffic, tally in tallies.items():
            total = sum(tally.statuses.values())
            print(
                f"| {name} | {traffic} | {total / seconds:,.1f} | {tally.p99_ms():,.0f} | "
                f"{tally.errors()} | {tally.statuses.get(429, 0)} |"
            )
    rates = {name: sum(t["anonymous lesson"].statuses.values()) / seconds for name, t in results}
    kept = rates["login flood"] / rates["Redis up"] if rates["Redis up"] else 0
    print(
        f"\nanonymous lesson during the flood: {rates['login flood']:,.1f} requests/s, "
        f"{kept:.0%} of its rate without it: "
        + ("kept at least half" if kept >= 0.5 else "FELL BELOW HALF")
    )


if __name__ == "__main__":
    main()
