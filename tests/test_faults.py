"""Faults: Redis refusing or hanging, PostgreSQL refusing or hanging, floods, races, bad bodies.

The server tests run real gunicorns with production settings over a database of their own,
with a Redis of their own, and with a TCP proxy in front of PostgreSQL that can freeze, and
look at what a learner gets. The rest use Django's test client.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from http.client import HTTPConnection
from urllib.parse import urlsplit

import psycopg
import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.urls import reverse

from config.faults import Throttled
from tests.appserver import Client as HttpClient
from tests.appserver import gunicorn, manage, prepare_database, production_env
from tests.conftest import PASSWORD as TEST_PASSWORD
from tests.faultservers import FreezableProxy, HungListener, RedisServer, drill_form
from tests.grading_factories import make_submission
from tests.matching import search

PASSWORD = "a-long-faults-password-63"
# A normal page time on a busy two-core machine, with room to spare; hung dependencies take
# 20 or 30 seconds without the timeouts.
PAGE_SECONDS = 3.0
# Servers not testing the limits should not meet them.
GENEROUS = {"DJANGO_LOGIN_RATE": "1000/m", "DJANGO_SIGNUP_RATE": "1000/m"}
# The servers and their database are made once per module: on one worker.
pytestmark = pytest.mark.xdist_group("faults")


# A database of the servers' own ------------------------------------------------------------


@dataclass
class ServerDatabase:
    vendor: str
    url: str
    host: str = ""
    port: int = 0

    def count(self, sql: str) -> int:
        if self.vendor == "sqlite":
            with sqlite3.connect(urlsplit(self.url).path) as db:
                return db.execute(sql).fetchone()[0]
        with psycopg.connect(self.url) as db:
            row = db.execute(sql).fetchone()
            assert row is not None
            return row[0]

    def url_through(self, port: int) -> str:
        parts = urlsplit(self.url)
        return parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}").geturl()


@pytest.fixture(scope="module")
def server_db(django_db_setup, django_db_blocker, tmp_path_factory):
    """A freshly migrated database with the course and a learner, on the vendor of this run."""
    with django_db_blocker.unblock():
        vendor, params = connection.vendor, dict(connection.settings_dict)
    name = f"faults_servers_{os.getpid()}"
    if vendor == "postgresql":
        user, host = params["USER"] or "postgres", params["HOST"] or "127.0.0.1"
        port = int(params["PORT"] or 5432)
        with psycopg.connect(f"postgres://{user}@{host}:{port}/postgres", autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            db.execute(f"CREATE DATABASE {name}")
        database = ServerDatabase(vendor, f"postgres://{user}@{host}:{port}/{name}", host, port)
    else:
        path = tmp_path_factory.mktemp("faults") / f"{name}.sqlite3"
        database = ServerDatabase("sqlite", f"sqlite:///{path}")
    prepare_database(production_env(database.url), learner="ada", password=PASSWORD)
    yield database
    if vendor == "postgresql":
        admin = f"postgres://{user}@{host}:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def lesson_and_drill(client: HttpClient) -> tuple[str, str]:
    home = client.get("/").text
    lesson = search(r'href="(/lessons/[-a-z0-9]+/)"', home).group(1)
    drills = client.get("/drills/").text
    drill = search(r'href="/drills/([-a-z0-9]+)/"', drills).group(1)
    return lesson, drill


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def submit_drill(client: HttpClient, slug: str):
    form = drill_form(client, slug)
    token = client.get(f"/drills/{slug}/").form_token()
    return timed(client.post, form.action, form.data(str(uuid.uuid4()), token))


def assert_signed_in_and_working(client: HttpClient, db: ServerDatabase, lesson: str,
                                 drill: str) -> None:
    page, seconds = timed(client.get, lesson)
    assert page.status == 200, page.text[:500]
    assert "Signed in as <strong>ada</strong>" in page.text
    assert seconds < PAGE_SECONDS
    before = db.count("SELECT COUNT(*) FROM drills_attempt")
    answered, seconds = submit_drill(client, drill)
    assert answered.status in (200, 302), answered.text[:500]
    assert seconds < PAGE_SECONDS
    # Stored, once.
    assert db.count("SELECT COUNT(*) FROM drills_attempt") == before + 1


# Redis refusing, then hanging --------------------------------------------------------------


def test_signed_in_learners_keep_working_while_redis_is_down_or_hung(server_db):
    redis = RedisServer().start()
    env = production_env(server_db.url, REDIS_URL=redis.url, DJANGO_CACHE_RETRY_SECONDS="1",
                         **GENEROUS)
    try:
        with gunicorn(env) as base_url:
            learner = HttpClient(base_url)
            learner.log_in("ada", PASSWORD)
            lesson, drill = lesson_and_drill(learner)
            assert_signed_in_and_working(learner, server_db, lesson, drill)
            assert HttpClient(base_url).get("/readyz").status == 200

            redis.stop()
            assert_signed_in_and_working(learner, server_db, lesson, drill)
            # A login writes a new session: to the database, while Redis refuses.
            newcomer = HttpClient(base_url)
            newcomer.log_in("ada", PASSWORD)
            assert "Signed in as" in newcomer.get(lesson).text
            ready = HttpClient(base_url).get("/readyz")
            assert ready.status == 503 and "cache: " in ready.text
            assert "database: ok" in ready.text
            assert HttpClient(base_url).get("/healthz").status == 200

            with HungListener(redis.port):
                assert_signed_in_and_working(learner, server_db, lesson, drill)
                assert_signed_in_and_working(newcomer, server_db, lesson, drill)
                ready, seconds = timed(HttpClient(base_url).get, "/readyz")
                assert ready.status == 503 and seconds < 1 + PAGE_SECONDS
                assert HttpClient(base_url).get("/healthz").status == 200

            redis.start()
            # Nobody was logged out; the cache is back once each worker's breaker lets a call
            # through again.
            assert_signed_in_and_working(learner, server_db, lesson, drill)
            deadline = time.monotonic() + 1 + PAGE_SECONDS
            while HttpClient(base_url).get("/readyz").status != 200:
                assert time.monotonic() < deadline, "the cache never came back"
                time.sleep(0.2)
    finally:
        redis.stop()


# PostgreSQL hanging, then refusing ---------------------------------------------------------


# gunicorn's timeout in the hung-database test: short, but long enough for a real password hash
# on a busy machine.
HUNG_TIMEOUT = 8


def test_a_hung_or_refusing_database_gets_a_fast_styled_503(server_db):
    if server_db.vendor != "postgresql":
        pytest.skip("SQLite is a file, not a server that can hang; runs in the PostgreSQL pass")
    proxy = FreezableProxy(server_db.port)
    env = production_env(
        server_db.url_through(proxy.port),
        GUNICORN_TIMEOUT=str(HUNG_TIMEOUT),
        DJANGO_DB_CONNECT_TIMEOUT="2",
        DJANGO_ANONYMOUS_PAGE_CACHE_SECONDS="0",
        **GENEROUS,
    )
    try:
        with gunicorn(env) as base_url:
            learner = HttpClient(base_url)
            learner.log_in("ada", PASSWORD)
            lesson, _ = lesson_and_drill(learner)
            assert learner.get(lesson).status == 200

            proxy.freeze()
            # Open connections hang until gunicorn's timeout; new ones until the connect timeout.
            for _ in range(3):
                page, seconds = timed(learner.get, lesson)
                assert_unavailable(page)
                assert seconds < HUNG_TIMEOUT + PAGE_SECONDS
            ready, seconds = timed(HttpClient(base_url).get, "/readyz")
            assert ready.status == 503 and "database: timed out" in ready.text
            assert seconds < 1 + PAGE_SECONDS
            assert HttpClient(base_url).get("/healthz").status == 200
            proxy.thaw()
            wait_until_ready(base_url)
            assert learner.get(lesson).status == 200

            proxy.refuse()
            page, seconds = timed(learner.get, lesson)
            assert_unavailable(page)
            assert seconds < PAGE_SECONDS
            # A visitor without a session may still be served from the worker's copy of the
            # course content, which needs no database; otherwise the same 503.
            anonymous = HttpClient(base_url).get(lesson)
            if anonymous.status != 200:
                assert_unavailable(anonymous)
            assert HttpClient(base_url).get("/readyz").status == 503
            assert HttpClient(base_url).get("/healthz").status == 200

            proxy.restore()
            wait_until_ready(base_url)
            assert "Signed in as <strong>ada</strong>" in learner.get(lesson).text
    finally:
        proxy.close()


def assert_unavailable(response) -> None:
    assert response.status == 503, response.text[:500]
    assert int(response.header("Retry-After")) > 0
    assert "Nothing you sent was lost" in response.text
    assert "bootstrap" in response.text  # the site's own page, not gunicorn's
    assert "no-store" in response.header("Cache-Control")


def wait_until_ready(base_url: str) -> None:
    deadline = time.monotonic() + 20
    while HttpClient(base_url).get("/readyz").status != 200:
        assert time.monotonic() < deadline, "not ready again within 20 s"
        time.sleep(0.5)


# Limits, bad bodies and races on a plain server --------------------------------------------


@pytest.fixture(scope="module")
def plain_server(server_db):
    env = production_env(server_db.url, DJANGO_LOGIN_RATE="5/m", DJANGO_SIGNUP_RATE="20/m",
                         DJANGO_HASHING_RATE="1000/s")
    with gunicorn(env) as base_url:
        yield base_url


def test_a_login_flood_from_one_address_is_refused_cheaply(plain_server):
    address = {"X-Forwarded-For": "203.0.113.7"}
    statuses = []
    # The limit counts in fixed windows of a minute; if one ends during the flood, the next
    # window lets five more through before refusing, so the refusal comes after five to ten.
    for n in range(11):
        client = HttpClient(plain_server)
        token = client.get("/accounts/login/").form_token()
        response = client.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": f"nobody-{n}", "password": "guess"},
            headers=address,
        )
        statuses.append(response.status)
        if response.status == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {200} and 5 <= len(statuses) - 1 <= 10, statuses
    assert 0 < int(response.header("Retry-After") or "0") <= 60
    assert "Too many login attempts" in response.text and "bootstrap" in response.text
    # Counted per address: someone else still gets in.
    HttpClient(plain_server).log_in("ada", PASSWORD)


def raw_post(base_url: str, path: str, body: bytes, content_type: str):
    """Posts a body exactly as given, with a valid CSRF cookie and token, and reads the answer
    while still sending: a server may answer and stop reading before the body is all sent."""
    client = HttpClient(base_url)
    token = client.get("/accounts/login/").form_token()
    parts = urlsplit(base_url)
    body = body.replace(b"TOKEN", token.encode())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nX-Forwarded-Proto: https\r\n"
        f"Origin: https://{parts.netloc}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in client.cookies.items())}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)

    def send() -> None:
        try:
            sock.sendall(head + body)
        except OSError:
            pass  # the server answered and stopped reading

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    sender.join(timeout=30)
    sock.close()
    status_line, _, rest = received.partition(b"\r\n")
    text = rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    return int(status_line.split()[1]), text


@pytest.mark.parametrize("charset", ["latin-1", "utf-16"])
def test_a_form_in_another_charset_gets_a_styled_400(plain_server, charset):
    body = "csrfmiddlewaretoken=TOKEN&username=Zoë&password=x".encode(charset)
    status, text = raw_post(
        plain_server, "/accounts/login/", body,
        f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert status == 400
    assert "must be sent in UTF-8" in text and "bootstrap" in text


def test_a_form_with_bytes_that_are_not_utf8_gets_a_styled_400(plain_server):
    status, text = raw_post(
        plain_server, "/accounts/login/", b"csrfmiddlewaretoken=TOKEN&username=%FF%FE&password=x",
        "application/x-www-form-urlencoded",
    )
    assert status == 400 and "not UTF-8" in text


def test_a_file_part_is_refused_where_no_form_takes_one(plain_server):
    boundary = "fault-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n"
        f"TOKEN\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"answer\"; "
        f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"x" * (5 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    status, text = raw_post(
        plain_server, "/accounts/login/", body, f"multipart/form-data; boundary={boundary}"
    )
    assert status == 400 and "does not take files" in text


def test_a_body_over_the_limit_gets_a_styled_400(plain_server):
    body = b"csrfmiddlewaretoken=TOKEN&username=" + b"a" * (2 * 1024 * 1024) + b"&password=x"
    status, text = raw_post(
        plain_server, "/accounts/login/", body, "application/x-www-form-urlencoded"
    )
    assert status == 400 and "larger than this site accepts" in text


def test_a_slow_body_is_answered_when_gunicorn_gives_up(server_db):
    env = production_env(server_db.url, GUNICORN_TIMEOUT="4", **GENEROUS)
    with gunicorn(env, workers=1) as base_url:
        parts = urlsplit(base_url)
        started = time.monotonic()
        sock = HTTPConnection(parts.hostname, parts.port, timeout=30)
        sock.putrequest("POST", "/accounts/login/")
        sock.putheader("Content-Type", "application/x-www-form-urlencoded")
        sock.putheader("Content-Length", "1000")
        sock.putheader("X-Forwarded-Proto", "https")
        sock.endheaders(b"username=a")
        response = sock.getresponse()
        text = response.read().decode()
        assert response.status == 503 and "took us too long" in text
        assert time.monotonic() - started < 4 + PAGE_SECONDS
        sock.close()
        # The worker was replaced, not left hanging.
        deadline = time.monotonic() + 15
        while HttpClient(base_url).get("/healthz").status != 200:
            assert time.monotonic() < deadline, "no worker answers after the timeout"
            time.sleep(0.2)


# Races on PostgreSQL ---------------------------------------------------------------------


def postgres_only(server_db) -> None:
    if server_db.vendor != "postgresql":
        pytest.skip("parallel writes race on PostgreSQL; SQLite runs one write at a time")


def parallel(count: int, call):
    barrier = threading.Barrier(count)

    def run(n):
        barrier.wait()
        return call(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_ten_identical_sign_ups_make_one_account(server_db, plain_server):
    postgres_only(server_db)
    clients = [HttpClient(plain_server) for _ in range(10)]
    tokens = [client.get("/accounts/signup/").form_token() for client in clients]
    data = {"username": "twin", "email": "twin@example.com",
            "password1": "a-long-twin-password-1", "password2": "a-long-twin-password-1"}

    responses = parallel(10, lambda n: clients[n].post(
        "/accounts/signup/", {"csrfmiddlewaretoken": tokens[n], **data}
    ))

    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 9 + [302]
    for response in responses:
        if response.status == 200:
            assert "A user with that username already exists." in response.text
    assert server_db.count("SELECT COUNT(*) FROM auth_user WHERE username = 'twin'") == 1


def test_ten_identical_regrade_requests_store_one(server_db, plain_server):
    postgres_only(server_db)
    code = (
        "from decimal import Decimal; "
        "from django.contrib.auth.models import User; "
        "from accounts.roles import ensure_instructor_group; "
        "from grading import services; "
        "from tests.grading_factories import make_submission; "
        "ada = User.objects.get(username='ada'); "
        "teach = User.objects.create_user('teach-regrade'); "
        "teach.groups.add(ensure_instructor_group()); "
        "submission = make_submission(ada); "
        "grade = services.save_grade(submission=submission, grader=teach, score=Decimal(6), "
        "criteria=['c1'], feedback='Say who waits.', expected_version=0).grade; "
        "services.release_grade(grade=grade, by=teach); "
        "print(submission.pk)"
    )
    result = manage(production_env(server_db.url), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    pk = int(result.stdout.strip().splitlines()[-1])
    learner = HttpClient(plain_server)
    learner.log_in("ada", PASSWORD)
    token = learner.get(f"/grading/mine/{pk}/").form_token()

    def ask(n):
        client = HttpClient(plain_server, cookies=dict(learner.cookies))
        return client.post(
            f"/grading/mine/{pk}/regrade/",
            {"csrfmiddlewaretoken": token, "reason": "My answer names the caller first."},
        )

    responses = parallel(10, ask)

    statuses = sorted(response.status for response in responses)
    assert statuses.count(302) == 1 and statuses.count(409) == 9, statuses
    for response in responses:
        if response.status == 409:
            assert "already asked for a regrade" in response.text
    assert server_db.count(
        f"SELECT COUNT(*) FROM grading_regraderequest WHERE submission_id = {pk}"
    ) == 1


# In-process: budgets, JSON refusals, privacy headers, readiness ------------------------------


@pytest.fixture
def budget(settings, db):
    settings.SIMULATION_SAMPLES_PER_MINUTE = 25_000
    cache.clear()
    yield
    cache.clear()


def test_the_simulator_api_refuses_past_a_clients_sample_budget_with_json(client, budget):
    url = reverse("simulator:api_fanout")
    query = {"servers": 10, "slow": 0.01, "samples": 10_000}
    assert client.get(url, {**query, "seed": 1}).status_code == 200
    assert client.get(url, {**query, "seed": 2}).status_code == 200
    # A scenario someone ran already is remembered and costs nothing more.
    assert client.get(url, {**query, "seed": 1}).status_code == 200
    refused = client.get(url, {**query, "seed": 3})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "simulated requests this minute" in refused.json()["error"]
    # Exact figures simulate nothing and cost nothing.
    assert client.get(url, {"servers": 10, "slow": 0.01}).status_code == 200
    # Another address has its own budget.
    other = client.get(url, {**query, "seed": 3}, REMOTE_ADDR="198.51.100.4")
    assert other.status_code == 200


def test_the_calculator_page_refuses_past_the_budget_with_a_styled_429(client, budget):
    url = reverse("simulator:calculator")
    query = {"samples": 20_000}
    assert client.get(url, {**query, "seed": 1}).status_code == 200
    assert client.get(url, {**query, "seed": 1}).status_code == 200
    refused = client.get(url, {**query, "seed": 2})
    assert refused.status_code == 429
    assert "Please slow down" in refused.content.decode()
    assert refused["Retry-After"]


def test_sign_up_and_password_change_are_limited_per_address(client, settings, learner, db):
    settings.SIGNUP_RATE = "2/m"
    settings.PASSWORD_RATE = "1/m"
    cache.clear()
    for n in range(2):
        assert client.post(reverse("signup"), {"username": f"u{n}"}).status_code == 200
    assert client.post(reverse("signup"), {"username": "u3"}).status_code == 429
    client.force_login(learner)
    assert client.post(reverse("password_change"), {}).status_code == 200
    refused = client.post(reverse("password_change"), {})
    assert refused.status_code == 429 and "password changes" in refused.content.decode()
    cache.clear()


def test_a_flood_spread_over_many_addresses_meets_the_site_wide_cap(client, settings, db):
    settings.HASHING_RATE = "3/m"
    cache.clear()
    statuses = [
        client.post(reverse("login"), {"username": f"n{n}", "password": "x"},
                    REMOTE_ADDR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.post(reverse("signup"), {"username": "late"}, REMOTE_ADDR="198.51.100.9")
    assert refused.status_code == 429
    assert "Many people are signing in" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    cache.clear()


def test_limits_fail_open_while_the_cache_is_unreachable(client, settings, db):
    settings.LOGIN_RATE = "1/m"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2,
                        "IGNORE_EXCEPTIONS": True},
        },
    }
    for _ in range(3):
        assert client.post(reverse("login"), {"username": "x", "password": "y"}).status_code == 200


def unused_port() -> int:
    from tests.appserver import free_port

    return free_port()


def test_personal_pages_are_private_and_never_stored(learner, instructor, client):
    submission = make_submission(learner)
    anonymous = client.get(reverse("courseware:home"))
    assert "private" not in anonymous.get("Cache-Control", "")

    client.force_login(learner)
    for url in (reverse("grading:my_submissions"),
                reverse("grading:my_submission", args=[submission.pk]),
                reverse("courseware:home")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= cache_control(response), url

    client.force_login(instructor)
    for url in (reverse("grading:queue"), reverse("grading:grade", args=[submission.pk]),
                reverse("grading:gradebook")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= cache_control(response), url


def cache_control(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


def test_a_login_answer_that_sets_the_session_is_private(client, learner):
    response = client.post(reverse("login"), {"username": "ada", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert {"private", "no-store"} <= cache_control(response)


def test_a_database_error_in_a_view_is_a_503(client, db, monkeypatch):
    from courseware import views

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "render", unreachable)
    client.raise_request_exception = False
    response = client.get(reverse("courseware:home"))
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "could not reach the database" in response.content.decode()


def test_a_throttled_exception_carries_at_least_a_second():
    assert Throttled("x", retry_after=-1).retry_after == 1


@pytest.mark.django_db(transaction=True)
def test_readyz_says_ok_for_each_dependency(client):
    # Transactional: the checks run in threads of their own, which must see committed tables
    # (SQLite's shared test database is locked by a test that holds a transaction open).
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content.decode() == "database: ok\ncache: ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_regrade_service_turns_a_lost_race_into_a_clear_refusal(learner, instructor, db):
    from grading import services
    from grading.models import RegradeRequest

    submission = make_submission(learner)
    grade = services.save_grade(
        submission=submission, grader=instructor, score=Decimal(6), criteria=["c1"],
        feedback="Say who waits.", expected_version=0,
    ).grade
    services.release_grade(grade=grade, by=instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Look again please.")
    # The look-up the service does first cannot see a request made at the same instant; the
    # constraint can. Hide the first one from the look-up to stand for that instant.
    real_open = RegradeRequest.objects.open

    def nothing_open():
        return real_open().none()

    RegradeRequest.objects.open = nothing_open
    try:
        with pytest.raises(services.GradingError, match="already asked"):
            services.request_regrade(submission=submission, learner=learner, reason="Again!!")
    finally:
        del RegradeRequest.objects.open
    assert RegradeRequest.objects.filter(submission=submission).count() == 1


def test_every_wait_on_a_dependency_is_bounded_below_gunicorns_timeout(monkeypatch):
    from tests.test_production import PRODUCTION, load_settings

    settings = load_settings(monkeypatch, **PRODUCTION, REDIS_URL="redis://127.0.0.1:6379/3")
    options = settings.CACHES["default"]["OPTIONS"]
    assert 0 < options["SOCKET_CONNECT_TIMEOUT"] < 1 and 0 < options["SOCKET_TIMEOUT"] < 1
    assert options["IGNORE_EXCEPTIONS"] and settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS
    database = settings.DATABASES["default"]["OPTIONS"]
    assert database["connect_timeout"] == 3
    assert database["options"] == "-c statement_timeout=5000"

    spec = importlib.util.spec_from_file_location("gunicorn_conf", "config/gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    spec.loader.exec_module(conf)
    assert conf.timeout > database["connect_timeout"] + 5000 / 1000
    assert callable(conf.worker_abort)


# A hung Redis costs one timeout, not one per cache call ------------------------------------


@pytest.fixture
def redis_cache(settings):
    """The production Redis cache settings, pointed at a port of the test's choosing."""
    from django.core.cache import caches

    from config import cachebreaker

    def configure(url: str):
        settings.CACHES = {"default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
                "CONNECTION_POOL_KWARGS": {
                    "connection_class": cachebreaker.FailFastConnection,
                },
            },
        }}
        # Changing the setting gives a new cache handler (Django's setting_changed receiver).
        return caches["default"]

    settings.CACHE_RETRY_SECONDS = 1
    cachebreaker.breaker.cache_clear()
    yield configure
    cachebreaker.breaker.cache_clear()


def test_a_hung_redis_costs_one_timeout_then_misses_at_once(redis_cache):
    port = unused_port()
    with HungListener(port):
        hung = redis_cache(f"redis://127.0.0.1:{port}/0")
        _, first = timed(hung.get, "a-key")
        assert first >= 0.15
        # Twenty more calls, as a page makes several: every one a miss at once.
        started = time.monotonic()
        for n in range(20):
            assert hung.get(f"key-{n}") is None
            hung.set(f"key-{n}", n)
        assert time.monotonic() - started < 0.1
        # After the retry interval one call tries Redis again, and waits again.
        time.sleep(1.05)
        _, retried = timed(hung.get, "a-key")
        assert retried >= 0.15


def test_the_breaker_closes_again_when_redis_answers(redis_cache):
    redis = RedisServer().start()
    try:
        working = redis_cache(redis.url)
        working.set("kept", "yes")
        assert working.get("kept") == "yes"
        redis.stop()
        assert working.get("kept") is None
        redis.start()
        # Still open: not asked yet.
        assert working.get("kept") is None
        time.sleep(1.05)
        working.set("kept", "again")
        assert working.get("kept") == "again"
    finally:
        redis.stop()


def test_a_wrong_command_does_not_open_the_breaker(redis_cache):
    from config import cachebreaker

    redis = RedisServer().start()
    try:
        working = redis_cache(redis.url)
        working.set("text", "not a number")
        with pytest.raises(Exception, match="not an integer"):
            working.client.get_client().incr(working.make_key("text"))
        assert cachebreaker.breaker().current_state == "closed"
        assert working.get("text") == "not a number"
    finally:
        redis.stop()
