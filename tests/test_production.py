"""The production configuration: settings, `make serve`, gunicorn, static files, headers.

Most tests run a real gunicorn with DEBUG off against a database of its own, as `make serve`
does, and look at what a visitor behind the TLS proxy would get.
"""

import gzip
import importlib.util
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from courseware.models import Course, Lesson, Module, Question
from courseware.versioning import content_version
from tests.appserver import BASE_DIR, PYTHON, gunicorn, manage, prepare_database, production_env
from tests.appserver import Client as HttpClient
from tests.matching import search

SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
PASSWORD = "a-long-production-password-81"
# The server and its database are made once per module: on one worker.
pytestmark = pytest.mark.xdist_group("production")


def load_settings(monkeypatch, **env: str):
    """Imports config/settings.py afresh under the given environment."""
    for name in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL",
                 "REDIS_URL", "DJANGO_CONN_MAX_AGE", "DJANGO_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-secret-that-is-only-used-in-this-test-0123456789",
    "DJANGO_ALLOWED_HOSTS": "critical-path.example,www.critical-path.example",
    "DATABASE_URL": "postgres://app@db.internal:5432/critical_path",
}


# Settings ----------------------------------------------------------------------------------


def test_production_settings_turn_on_every_protection(monkeypatch):
    settings = load_settings(monkeypatch, **PRODUCTION)

    assert settings.DEBUG is False
    assert settings.ALLOWED_HOSTS == ["critical-path.example", "www.critical-path.example"]
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SECURE_HSTS_SECONDS >= 365 * 24 * 60 * 60
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS and settings.SECURE_HSTS_PRELOAD
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.X_FRAME_OPTIONS == "DENY"
    storage = settings.STORAGES["staticfiles"]["BACKEND"]
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] > 0 and database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["server_side_binding"] is True
    # Shared state never lives in one process's memory.
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    # One cache, shared by every server: no per-process aliases beside it.
    assert set(settings.CACHES) == {"default"}


def test_redis_url_moves_cache_and_sessions_to_redis(monkeypatch):
    settings = load_settings(monkeypatch, **PRODUCTION, REDIS_URL="redis://127.0.0.1:6379/3")

    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CACHES["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    # Written through to the database too, so a Redis restart logs nobody out.
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"


def test_development_settings_need_nothing_set(monkeypatch):
    settings = load_settings(monkeypatch)

    assert settings.DEBUG is True
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("StaticFilesStorage")
    assert set(settings.CACHES) == {"default"}


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_environment(missing):
    env = production_env("sqlite:///unused.sqlite3")
    del env[missing]

    result = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode != 0
    assert "need these environment variables: " + missing in result.stderr


def test_make_serve_names_what_is_missing():
    env = production_env("")
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
        env.pop(name, None)

    result = subprocess.run(
        ["make", "--no-print-directory", "serve"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False,
    )

    assert result.returncode != 0
    assert (
        "set these environment variables first: DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS "
        "DATABASE_URL" in result.stderr
    )


def test_gunicorn_config_sizes_workers_from_the_cores(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKER_CLASS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8123")
    path = BASE_DIR / "config" / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf", path)
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    assert conf.bind == "127.0.0.1:8123"
    assert conf.workers == conf.cpu_count() + 1
    # Sync workers take requests one at a time from the shared accept queue.
    assert conf.worker_class == "sync" and conf.threads == 1
    assert 10 <= conf.timeout <= 120 and conf.graceful_timeout > 0 and conf.keepalive > 0


# A running production server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with production settings over its own, freshly migrated SQLite database."""
    database = tmp_path_factory.mktemp("production") / "production.sqlite3"
    env = production_env(f"sqlite:///{database}")
    prepare_database(env, learner="ada", password=PASSWORD)
    with gunicorn(env) as base_url:
        yield base_url, database


@pytest.fixture
def base_url(server) -> str:
    return server[0]


def lesson_paths(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT slug FROM courseware_lesson").fetchall()
    return [f"/lessons/{slug}/" for (slug,) in rows]


def test_healthz_answers_plain_http_without_a_session(base_url):
    response = HttpClient(base_url, https=False).get("/healthz")

    assert response.status == 200
    assert response.text == "ok"
    assert response.header("Set-Cookie") is None
    assert "no-cache" in (response.header("Cache-Control") or "")


def test_plain_http_is_sent_to_https(base_url):
    response = HttpClient(base_url, https=False).get("/")

    assert response.status == 301
    assert (response.header("Location") or "").startswith("https://")


def test_pages_carry_the_security_headers(base_url):
    response = HttpClient(base_url).get("/")

    assert response.status == 200
    hsts = response.header("Strict-Transport-Security")
    assert hsts is not None
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)
    assert int(search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    csp = response.header("Content-Security-Policy")
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in csp
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Referrer-Policy") == "same-origin"
    assert response.header("Cross-Origin-Opener-Policy") == "same-origin"


def test_cookies_are_secure_httponly_and_samesite(base_url):
    client = HttpClient(base_url)
    login_page = client.get("/accounts/login/")
    csrf_cookie = [c for c in login_page.all_headers("Set-Cookie") if c.startswith("csrftoken=")]

    response = client.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": login_page.form_token(), "username": "ada",
         "password": PASSWORD},
    )

    assert response.status == 302
    session_cookie = [c for c in response.all_headers("Set-Cookie") if c.startswith("sessionid=")]
    for cookie in csrf_cookie + session_cookie:
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"secure", "httponly", "samesite"} <= attributes, cookie
        assert "SameSite=Lax" in cookie
    assert len(session_cookie) == 1 and len(csrf_cookie) == 1
    assert "Signed in as" in client.get("/").text


def test_every_lesson_and_main_page_renders_in_production(server):
    base_url, database = server
    client = HttpClient(base_url)
    client.log_in("ada", PASSWORD)
    paths = ["/", "/drills/", "/simulator/", *lesson_paths(database)]
    assert len(paths) > 5

    for path in paths:
        response = client.get(path)
        assert response.status == 200, f"{path}: {response.status}"


def test_errors_are_styled_pages_without_debug_details(base_url):
    response = HttpClient(base_url).get("/lessons/no-such-lesson/")

    assert response.status == 404
    assert "We could not find that page" in response.text
    assert "Traceback" not in response.text and "URLconf" not in response.text


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page)


def test_static_files_are_hashed_compressed_and_cached_for_a_year(base_url):
    client = HttpClient(base_url)
    urls = static_urls(client.get("/").text)
    assert urls

    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), f"{url} is not content-hashed"
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.header("Content-Encoding") == "gzip"
        cache_control = response.header("Cache-Control") or ""
        assert "max-age=315360000" in cache_control and "immutable" in cache_control


def test_static_files_named_without_hash_are_served_too(base_url):
    """Lesson Markdown links diagrams by their plain /static/ path."""
    client = HttpClient(base_url)
    diagrams = sorted((BASE_DIR / "static" / "courseware" / "diagrams").glob("*.svg"))
    assert diagrams

    for diagram in diagrams:
        response = client.get(f"/static/courseware/diagrams/{diagram.name}")
        assert response.status == 200
        assert (response.header("Content-Type") or "").startswith("image/svg+xml")
        assert response.text == diagram.read_text()


def test_whitenoise_serves_the_precompressed_file(base_url):
    client = HttpClient(base_url)
    url = next(u for u in static_urls(client.get("/").text) if "bootstrap" in u)

    plain = client.get(url)
    # http.client does not inflate, so read the gzip body raw.
    raw = _raw_get(base_url, url, {"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})

    assert gzip.decompress(raw) == plain.text.encode()
    assert len(raw) < len(plain.text.encode()) / 3


def _raw_get(base_url: str, path: str, headers: dict[str, str]) -> bytes:
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    assert parts.hostname is not None
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": parts.netloc, **headers})
        return connection.getresponse().read()
    finally:
        connection.close()


def redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        message = f"Redis is not running at {url}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return client


def worker_redis_db() -> int:
    """Redis database 15 in a run of one process, 15 - n on pytest-xdist's worker gw<n>, so
    workers never flush each other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 15 - int(worker.removeprefix("gw") or 0) % 8


def test_with_redis_url_sessions_and_cache_live_in_redis(server):
    url = f"redis://127.0.0.1:6379/{worker_redis_db()}"
    redis_client = redis_or_skip(url)
    redis_client.flushdb()
    _, database = server
    env = production_env(f"sqlite:///{database}", REDIS_URL=url)

    with gunicorn(env, workers=1) as base_url:
        client = HttpClient(base_url)
        client.log_in("ada", PASSWORD)
        page = client.get("/").text

    keys = [key.decode() for key in redis_client.keys("critical-path:*")]
    redis_client.flushdb()
    assert "Signed in as <strong>ada</strong>" in page
    assert any("django.contrib.sessions.cached_db" in key for key in keys), keys


def test_healthz_needs_no_database(tmp_path):
    """A load balancer's probe must not fail, or pile up, because the database is slow."""
    env = production_env("postgres://nobody@127.0.0.1:9/unreachable")

    with gunicorn(env, workers=1) as base_url:
        client = HttpClient(base_url)
        assert client.get("/healthz").status == 200
        # The database really is out of reach: a page that needs it says so (config/faults.py).
        assert client.get("/").status == 503


def test_demo_accounts_are_refused_in_production(tmp_path):
    env = production_env(f"sqlite:///{Path(tmp_path) / 'unused.sqlite3'}")

    result = manage(env, "create_demo_accounts")

    assert result.returncode != 0
    assert "only created when DEBUG is on" in result.stderr


# Pages of anonymous visitors: cached content, never a cached token ------------------------------


@pytest.fixture
def page_cache(db):
    course = Course.objects.create(slug="cache-course", title="Cache course")
    module = Module.objects.create(course=course, slug="cache-module", title="Module", order=1)
    lesson = Lesson.objects.create(
        module=module, slug="cached", title="Cached lesson", order=1, body_markdown="Hello."
    )
    Question.objects.create(lesson=lesson, slug="cached-question", prompt="Why?", order=1)
    return lesson


def csrf_tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))


def test_anonymous_visitors_share_content_but_not_a_token(page_cache):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page = first.get("/lessons/cached/").content.decode()
    kept_lesson, *_ = cache.get(f"content:{content_version()}:lesson:cached")
    assert "Hello." in kept_lesson.body_html

    response = second.get("/lessons/cached/")
    second_page = response.content.decode()

    assert response.status_code == 200 and "Cached lesson" in second_page
    assert response.cookies["csrftoken"]["httponly"]
    assert csrf_tokens(first_page) and csrf_tokens(second_page)
    assert not csrf_tokens(first_page) & csrf_tokens(second_page)
    # Each visitor's token is good for that visitor's own forms.
    posted = second.post(
        "/questions/cached-question/answer/",
        {"csrfmiddlewaretoken": csrf_tokens(second_page).pop(), "answer": "Because."},
    )
    assert posted.status_code == 302


def test_a_visitor_keeps_their_existing_csrf_secret(page_cache):
    Client().get("/lessons/cached/")
    returning = Client(enforce_csrf_checks=True)
    returning.get("/accounts/login/")
    secret = returning.cookies["csrftoken"].value

    page = returning.get("/lessons/cached/").content.decode()
    posted = returning.post(
        "/questions/cached-question/answer/",
        {"csrfmiddlewaretoken": csrf_tokens(page).pop(), "answer": "Because."},
    )

    assert returning.cookies["csrftoken"].value == secret
    assert posted.status_code == 302


def test_visitors_with_a_session_always_get_a_fresh_page(page_cache, learner_client):
    Client().get("/lessons/cached/")

    page = learner_client.get("/lessons/cached/").content.decode()

    assert "Signed in as <strong>ada</strong>" in page


def test_an_anonymous_page_shows_an_edit_at_once(page_cache):
    Client().get("/lessons/cached/")
    page_cache.title = "Renamed lesson"
    page_cache.body_markdown = "Hello again."
    page_cache.save()

    fresh = Client().get("/lessons/cached/").content.decode()

    assert "Renamed lesson" in fresh and "Hello again." in fresh
