"""Security controls: login throttling, sessions, cookies, headers, redirects, logging, escaping."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import sitemap
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SECURITY_LOG = "critical_path.security"


def fail_login(client: Client, username: str = "ada", **extra):
    return client.post(LOGIN, {"username": username, "password": "not-the-password"}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Login throttling ---------------------------------------------------------------------------


def test_five_failures_lock_the_account_from_that_address(client, learner, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOG)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = fail_login(client)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    locked = fail_login(client)
    right_password = client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert locked.status_code == right_password.status_code == 429
    assert "Too many failed log-ins" in right_password.content.decode()
    assert not signed_in(client)
    messages = [r.getMessage() for r in caplog.records if r.name == SECURITY_LOG]
    # Five wrong passwords, then the right one refused during the lockout.
    assert sum("login failed: username='ada'" in m for m in messages) == 6
    assert any("login throttled after repeated failures: username='ada'" in m for m in messages)
    assert any(m.startswith("refused POST 429: throttled") for m in messages)


def test_a_lockout_does_not_spread_to_other_addresses_or_accounts(client, learner, other_learner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client)

    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    elsewhere.post(LOGIN, {"username": "ada", "password": PASSWORD})
    client.post(LOGIN, {"username": "grace", "password": PASSWORD})

    assert signed_in(elsewhere)
    assert signed_in(client)


def test_behind_the_proxy_the_forwarded_client_address_counts(client, learner):
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client, **attacker)

    blocked = client.post(LOGIN, {"username": "ada", "password": PASSWORD}, **attacker)
    learner_at_home = Client(HTTP_X_FORWARDED_FOR="192.0.2.44, 203.0.113.5, 192.0.2.1")
    learner_at_home.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert blocked.status_code == 429
    assert signed_in(learner_at_home)


def test_a_client_cannot_dodge_the_lockout_by_inventing_forwarded_addresses(learner):
    direct = "198.51.100.7"  # not the proxy, so its X-Forwarded-For is not believed
    for number in range(settings.AXES_FAILURE_LIMIT):
        fail_login(Client(REMOTE_ADDR=direct, HTTP_X_FORWARDED_FOR=f"10.9.9.{number}"))

    retry = Client(REMOTE_ADDR=direct, HTTP_X_FORWARDED_FOR="10.9.9.99")
    response = retry.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert response.status_code == 429


def test_garbage_in_forwarded_for_falls_back_to_the_peer_address(client, learner):
    response = fail_login(client, HTTP_X_FORWARDED_FOR="<script>, not-an-ip")

    assert response.status_code == 200
    assert AccessAttempt.objects.get().ip_address == "127.0.0.1"


def test_an_absurdly_long_username_is_refused_and_counted(client, learner):
    response = fail_login(client, username="9" * 400)

    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "9" * 150


def test_a_successful_login_clears_the_failure_count(client, learner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        fail_login(client)
    client.post(LOGIN, {"username": "ada", "password": PASSWORD})
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        fail_login(client)

    client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, learner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client)
    cooled_off = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=cooled_off)

    client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert signed_in(client)


def test_signup_force_login_and_test_login_work_with_throttling(client, learner):
    response = client.post(
        reverse("signup"),
        {"username": "newcomer", "email": "newcomer@example.org", "password1":
         "Quite-long-pass-42", "password2": "Quite-long-pass-42"},
    )
    assert response.status_code == 302 and signed_in(client)

    other = Client()
    other.force_login(learner)
    assert signed_in(other)
    assert Client().login(username="ada", password=PASSWORD)


# Sessions -----------------------------------------------------------------------------------


def test_login_issues_a_new_session_key_and_keeps_the_visitors_data(client, learner):
    session = client.session
    session["answer_drafts"] = {"q": "kept"}
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before

    client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in(client) and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["answer_drafts"] == {"q": "kept"}


def test_logout_deletes_the_session_so_its_cookie_is_worthless(learner):
    client = Client()
    client.post(LOGIN, {"username": "ada", "password": PASSWORD})
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=stolen).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert "Signed in as" not in replay.get("/").content.decode()


def test_logout_needs_a_post(learner_client):
    assert learner_client.get(reverse("logout")).status_code == 405
    assert signed_in(learner_client)


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_an_idle_session_expires(learner_client):
    assert "Signed in as" in learner_client.get("/").content.decode()
    Session.objects.filter(pk=session_row(learner_client).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    page = learner_client.get("/").content.decode()

    assert "Signed in as" not in page


def test_requests_restart_the_idle_clock_with_at_most_one_write_a_minute(learner_client):
    Session.objects.filter(pk=session_row(learner_client).pk).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )

    learner_client.get("/")
    refreshed = session_row(learner_client).expire_date
    learner_client.get("/")

    assert refreshed - timezone.now() > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert session_row(learner_client).expire_date == refreshed
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60


def test_healthz_touches_neither_database_nor_session(learner_client, django_assert_num_queries):
    before = session_row(learner_client).expire_date

    with django_assert_num_queries(0):
        response = learner_client.get("/healthz")

    assert response.status_code == 200 and response.content == b"ok"
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert session_row(learner_client).expire_date == before


# Cookies and headers --------------------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_and_samesite(client, learner):
    login_page = client.get(LOGIN)
    response = client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    for cookie in (login_page.cookies["csrftoken"], response.cookies["sessionid"]):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_csp_forbids_eval_inline_script_and_framing(client):
    response = client.get("/")

    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert '"allowEval": false' in response.content.decode()


def test_csrf_is_enforced_with_a_styled_page(learner):
    client = Client(enforce_csrf_checks=True)

    response = client.post(LOGIN, {"username": "ada", "password": PASSWORD})

    assert response.status_code == 403
    assert "The form had expired or was sent from elsewhere" in response.content.decode()
    assert not signed_in(client)


# Redirects ----------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "  //evil.example",
    "javascript:alert(document.cookie)",
    "http://testserver@evil.example/",
    "data:text/html,<script>alert(1)</script>",
]


def redirect_target(response) -> str:
    assert response.status_code == 302, response.status_code
    return response["Location"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_refuses_to_redirect_off_site(client, learner, target):
    response = client.post(
        LOGIN, {"username": "ada", "password": PASSWORD, "next": target}
    )

    assert redirect_target(response) == "/"
    assert redirect_target(client.get(LOGIN, {"next": target})) == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_signup_refuses_to_redirect_off_site(client, target):
    response = client.post(
        reverse("signup") + "?next=" + target,
        {"username": "newbie", "email": "newbie@example.org", "password1": "Quite-long-pass-42",
         "password2": "Quite-long-pass-42", "next": target},
    )

    assert redirect_target(response) == "/"
    assert redirect_target(client.get(reverse("signup"), {"next": target})) == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_logout_refuses_to_redirect_off_site(learner_client, target):
    response = learner_client.post(reverse("logout") + "?next=" + target, {"next": target})

    assert redirect_target(response) == "/"


def test_redirects_within_the_site_still_work(client, learner):
    response = client.post(
        LOGIN, {"username": "ada", "password": PASSWORD, "next": "/drills/?from=login"}
    )

    assert redirect_target(response) == "/drills/?from=login"


def test_a_hostile_next_is_escaped_on_the_form(client):
    target = '"><script>alert(1)</script>'

    page = client.get(LOGIN, {"next": target}).content.decode()

    assert "<script>alert(1)</script>" not in page


# Security log ---------------------------------------------------------------------------------


def test_refused_requests_are_logged_with_the_user(learner_client, learner, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOG)

    learner_client.get(reverse("grading:queue"))
    learner_client.get("/lessons/someone-elses-thing/")
    Client().get("/lessons/crawler-noise/")

    messages = [r.getMessage() for r in caplog.records if r.name == SECURITY_LOG]
    assert any(
        m.startswith(f"refused GET 403: forbidden user_id={learner.pk}") for m in messages
    ), messages
    assert any(
        m.startswith(f"refused GET 404: not found user_id={learner.pk}")
        and "someone-elses-thing" in m
        for m in messages
    )
    assert not any("crawler-noise" in m for m in messages)


def test_log_lines_cannot_be_forged_through_the_username(client, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOG)

    client.post(LOGIN, {"username": "x\nCRITICAL fake entry", "password": "nope"})

    messages = [r.getMessage() for r in caplog.records if r.name == SECURITY_LOG]
    assert messages and all("\n" not in m for m in messages)


def test_logins_and_logouts_are_audited(client, learner, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOG)

    client.post(LOGIN, {"username": "ada", "password": PASSWORD})
    client.post(reverse("logout"))

    messages = [r.getMessage() for r in caplog.records if r.name == SECURITY_LOG]
    assert any(m.startswith(f"login: user_id={learner.pk} ip=127.0.0.1") for m in messages)
    assert any(m.startswith(f"logout: user_id={learner.pk}") for m in messages)


# Pages carry no script the policy would have to allow ------------------------------------------


def test_no_page_needs_inline_script_or_event_handlers(course, learner, instructor):
    def fill(form):
        return {name: value or "A careful answer." for name, value in form.defaults()}

    sitemap.populate([learner, instructor], fill=fill)
    pages = {}
    for user in (None, learner, instructor):
        client = Client()
        if user:
            client.force_login(user)
        pages.update(sitemap.crawl(client).pages)

    assert len(pages) > 20
    for url, html in pages.items():
        parsed = sitemap.parse(url, html)
        for script in parsed.scripts:
            assert script.get("src") or script.get("type") == "application/json", (url, script)
            if src := script.get("src"):
                assert src.startswith("/static/"), (url, script)
        assert not parsed.handlers, (url, parsed.handlers)


# Free text crossing between learners and instructors ----------------------------------------

PAYLOAD = (
    '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    "[click me](javascript:alert(3)) \"'><b>bold</b>"
)


def test_free_text_is_escaped_wherever_the_other_side_reads_it(course, learner, instructor):
    """Every text field of every form gets a script-carrying value, from the learner (answers,
    drill reasons, workflows, regrade requests) and the instructor (feedback, saved comments);
    then every page either of them can reach must show it inert."""
    def fill(form):
        return {name: value or PAYLOAD for name, value in form.defaults()}

    # The instructor goes twice: grades exist only after the first pass, releases after that.
    sitemap.populate([learner, instructor, instructor, learner], fill=fill)
    pages = {}
    for user in (learner, instructor):
        client = Client()
        client.force_login(user)
        crawled = sitemap.crawl(client).pages
        pages.update({(user.username, url): html for url, html in crawled.items()})

    shown = {who for (who, url), html in pages.items() if "window.pwned=1" in html}
    assert shown == {"ada", "teach"}, "the payload should reach both sides' pages"
    for (who, url), html in pages.items():
        assert "<script>window.pwned" not in html, (who, url)
        parsed = sitemap.parse(url, html)
        assert not parsed.handlers, (who, url, parsed.handlers)
