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


def cost(client: Client, urls: list[str]) -> tuple[float, int]:
    """CPU milliseconds per view over the URLs in turn, and the queries of one view."""
    for url in urls:
        assert client.get(url, secure=True).status_code == 200, url
    start = time.process_time()
    for n in range(VIEWS):
        client.get(urls[n % len(urls)], secure=True)
    per_view = (time.process_time() - start) / VIEWS * 1000
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[-1], secure=True)
    return per_view, len(queries)


def frame_cost(user) -> tuple[float, int]:
    """CPU milliseconds of base.html alone, with nothing in it: the header, navigation and
    footer that every page of a signed-in learner carries, rendered without a request cycle."""
    request = RequestFactory().get("/", secure=True)
    request.user = user
    request.session = SessionStore()
    render_to_string("base.html", {}, request)
    start = time.process_time()
    for _ in range(VIEWS):
        render_to_string("base.html", {}, request)
    per_view = (time.process_time() - start) / VIEWS * 1000
    with CaptureQueriesContext(connection) as queries:
        render_to_string("base.html", {}, request)
    return per_view, len(queries)


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
        pages: list[tuple[str, Client, list[str]]] = [
            ("/healthz", anonymous, ["/healthz"]),
            ("My submissions, none yet", learner, ["/grading/mine/"]),
            ("password change form", learner, ["/accounts/password/"]),
            ("/simulator/, default inputs", anonymous, ["/simulator/"]),
            ("lesson, anonymous (each in turn)", anonymous, lessons),
            ("lesson, signed in (each in turn)", learner, lessons),
            ("simulator lesson, signed in", learner, ["/lessons/latency-math/"]),
        ]
        print(f"database: {connection.vendor}; cache: {caches['default'].__class__.__name__}; "
              f"{VIEWS} views a page\n")
        print(f"{'page':36} {'CPU ms/view':>12} {'queries':>8} {'× /healthz':>11}")
        healthz = 0.0
        for name, client, urls in pages:
            per_view, queries = cost(client, urls)
            healthz = healthz or per_view
            print(f"{name:36} {per_view:12.2f} {queries:8d} {healthz / per_view:11.2f}")
        per_view, queries = frame_cost(user)
        print(f"{'base.html alone, signed in':36} {per_view:12.2f} {queries:8d} "
              f"{healthz / per_view:11.2f}")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
