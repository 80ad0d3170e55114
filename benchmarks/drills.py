"""Benchmark: grading a drill, and the drill pages a learner uses, in a throwaway database.

Measures

* ``drills.grading.grade`` on every shipped drill (pure Python): microseconds per call;
* the catalogue, a drill page and a submission (plain POST and htmx) through Django's test
  client for a signed-in learner with 200 stored attempts: median and p95 time, SQL queries.

Run from the project root (SQLite in memory by default; with DATABASE_URL Django creates and
drops a ``test_<name>`` database on that server):

    .venv/bin/python benchmarks/drills.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/drills .venv/bin/python benchmarks/drills.py

Targets: grading well under a millisecond; every page under 50 ms with a query count that does
not grow with the number of attempts or interactions.
"""

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from drills import grading, loader  # noqa: E402
from drills.models import Attempt, Drill  # noqa: E402

RUNS = 200


def timed(action, runs: int = RUNS) -> tuple[float, float, int]:
    """Median and p95 in milliseconds, and the queries of the last run."""
    times = []
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            action()
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def bench_grading() -> None:
    drills = loader.read_content().drills
    keys = [[loader.key_item(item) for item in drill["interactions"]] for drill in drills]
    answers = [{item.key: grading.Answer(grading.SYNC) for item in key} for key in keys]
    calls = 20_000
    start = time.perf_counter()
    for n in range(calls):
        grading.grade(keys[n % len(keys)], answers[n % len(keys)])
    per_call = (time.perf_counter() - start) / calls * 1e6
    print(f"grade() on the {len(keys)} shipped drills, all answered sync: {per_call:.1f} µs/call")


def bench_pages() -> None:
    loader.apply(loader.read_content())
    learner = get_user_model().objects.create_user("bench", password="x")
    drill = Drill.objects.get(slug="request-a-ride")
    interactions = list(drill.interactions.all())
    for n in range(RUNS):
        Attempt.objects.create(drill=Drill.objects.order_by("?")[0], learner=learner,
                               score=n % 7, total=7, critical_sync_hops=3,
                               key_critical_sync_hops=1)
    client = Client()
    client.force_login(learner)

    def submit(htmx: bool):
        data = {"token": str(uuid.uuid4())}
        data.update({f"choice-{i.key}": "sync" for i in interactions})
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(f"/drills/{drill.slug}/submit/", data, headers=headers)
        assert response.status_code in (200, 302), response.status_code

    rows = [
        ("catalogue", lambda: client.get("/drills/")),
        ("drill page", lambda: client.get(f"/drills/{drill.slug}/")),
        ("submit (plain POST, stores)", lambda: submit(False)),
        ("submit (htmx, stores)", lambda: submit(True)),
        ("history", lambda: client.get(f"/drills/{drill.slug}/attempts/")),
    ]
    print(f"\n{'page':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, action in rows:
        action()  # warm-up
        median, p95, queries = timed(action)
        print(f"{name:32} {median:10.1f} {p95:8.1f} {queries:8d}")


def main() -> None:
    setup_test_environment()
    from django.conf import settings
    from django.test.utils import get_runner

    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        print(f"database: {connection.vendor}")
        bench_grading()
        bench_pages()
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
