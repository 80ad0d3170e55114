import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.demo import create_demo_accounts
from accounts.roles import ensure_instructor_group
from tests import course_copy
from tests.lti_helpers import platform, registration, tool_urls  # noqa: F401  (LTI fixtures)

# Property tests keep hypothesis's number of examples; on a shared two-core machine, or with a
# worker on each core, a draw may take longer than hypothesis allows by default, which says
# nothing about the code under test. HYPOTHESIS_PROFILE=quick draws fewer while iterating.
hypothesis_settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
hypothesis_settings.register_profile(
    "quick", parent=hypothesis_settings.get_profile("ci"), max_examples=20
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls made by
# tests are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real password hashing costs half a second a time; tests need not prove its strength,
    so neither need they wait for the site-wide cap on how many hashes start a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HASHING_RATE = "10000/s"


@pytest.fixture(autouse=True)
def empty_cache(request):
    """Each test starts with an empty cache: what a transactional test or a server put in the
    cache table is not rolled back, and a test counting simulations must not find them done."""
    uses = set(request.fixturenames)
    if request.node.get_closest_marker("django_db") or uses & {"db", "transactional_db"}:
        request.getfixturevalue("transactional_db" if "transactional_db" in uses else "db")
        cache.clear()


@pytest.fixture(scope="session")
def loaded_course(django_db_setup, django_db_blocker) -> course_copy.CourseCopy | None:
    """The rows of one real ``load_course``, taken once per session (tests/course_copy.py)."""
    with django_db_blocker.unblock():
        return course_copy.take()


@pytest.fixture
def course(db, loaded_course):
    course_copy.load_course(loaded_course)


@pytest.fixture
def make_user(db):
    def make(username: str = "ada", *, instructor: bool = False):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        if instructor:
            user.groups.add(ensure_instructor_group())
        return user

    return make


@pytest.fixture
def learner(make_user):
    return make_user("ada")


@pytest.fixture
def other_learner(make_user):
    return make_user("grace")


@pytest.fixture
def instructor(make_user):
    return make_user("teach", instructor=True)


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


# Browser tests -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}; install Debian's 'chromium' package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def live_course(transactional_db, loaded_course):
    course_copy.load_course(loaded_course)
    create_demo_accounts()


@pytest.fixture
def page(browser, live_server, live_course):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    # Generous for a busy two-core machine running a test worker on each core.
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    page.js_errors = errors
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser, live_server, live_course):
    """A page in a browser with JavaScript switched off, as some learners use the site."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def log_in(page, username: str, password: str = "critical-path") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
