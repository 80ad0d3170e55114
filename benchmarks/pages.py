"""Benchmark: what each main page costs the server in CPU, in-process, with production settings.

Every page goes through the whole middleware stack with Django's test client, after one warm-up
view of each URL, against a throwaway copy of the configured database with the course loaded.
For each page it prints the CPU time of the Python process per view, the SQL queries of one
view, and ``/healthz``'s CPU time over the page's: the share of ``/healthz``'s rate the page
could reach if the server's CPU were all that limited both. The database server's
own CPU is not counted; the load benchmark (``make bench-load``) measures everything together.

Run from the project root, with the cache and database that production would use:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pages .venv/bin/python benchmarks/pages.py
    REDIS_URL=redis://127.0.0.1:6379/5 DATABASE_URL=... .venv/bin/python benchmarks/pages.py

Django creates and drops a ``test_<name>`` database on that server.
"""

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-" + "0" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.cache import cache, caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from courseware.models import Lesson  # noqa: E402

VIEWS = 200


def cost(view: Callable[[int], object]) -> tuple[float, int]:
    """CPU milliseconds per call of ``view(n)`` for n = 0, 1, …, and the queries of ``view(-1)``
    (a page's last URL)."""
    view(0)
    start = time.process_time()
    for n in range(VIEWS):
        view(n)
    per_view = (time.process_time() - start) / VIEWS * 1000
    with CaptureQueriesContext(connection) as queries:
        view(-1)
    return per_view, len(queries)


def page(client: Client, urls: list[str]) -> Callable[[int], object]:
    """The n-th view: the URLs in turn, each warmed up first."""
    for url in urls:
        assert client.get(url, secure=True).status_code == 200, url
    return lambda n: client.get(urls[n % len(urls)], secure=True)


def frame(user) -> Callable[[int], object]:
    """base.html alone, with nothing in it: the header, navigation and footer that every page of
    a signed-in learner carries, rendered without a request cycle."""
    request = RequestFactory().get("/", secure=True)
    request.user = user
    request.session = SessionStore()
    return lambda n: render_to_string("base.html", {}, request)


def main() -> None:
    old = setup_databases(verbosity=0, interactive=False)
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        cache.clear()
        call_command("load_course", verbosity=0)
        lessons = [f"/lessons/{slug}/" for slug in Lesson.objects.values_list("slug", flat=True)]
        anonymous = Client()
        learner = Client()
        user = get_user_model().objects.create_user("bench", password="x")
        learner.force_login(user)
        views: list[tuple[str, Callable[[int], object]]] = [
            ("/healthz", page(anonymous, ["/healthz"])),
            ("My submissions, none yet", page(learner, ["/grading/mine/"])),
            ("password change form", page(learner, ["/accounts/password/"])),
            ("/simulator/, default inputs", page(anonymous, ["/simulator/"])),
            ("lesson, anonymous (each in turn)", page(anonymous, lessons)),
            ("lesson, signed in (each in turn)", page(learner, lessons)),
            ("simulator lesson, signed in", page(learner, ["/lessons/latency-math/"])),
            ("base.html alone, signed in", frame(user)),
        ]
        print(f"database: {connection.vendor}; cache: {caches['default'].__class__.__name__}; "
              f"{VIEWS} views a page\n")
        print(f"{'page':36} {'CPU ms/view':>12} {'queries':>8} {'× /healthz':>11}")
        costs = [(name, *cost(view)) for name, view in views]
        healthz = costs[0][1]
        for name, per_view, queries in costs:
            print(f"{name:36} {per_view:12.2f} {queries:8d} {healthz / per_view:11.2f}")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
