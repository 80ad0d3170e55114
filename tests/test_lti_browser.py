"""A launch in a real browser, inside the stand-in platform's iframe."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from lti_tool.models import Key
from playwright.sync_api import expect

from tests.lti_platform import LTI, Platform, PlatformServer

pytestmark = pytest.mark.browser


@pytest.fixture
def same_site_platform():
    """A platform on the same site as the test server (both "localhost", other ports), as
    a browser sees an LMS and a tool on HTTPS with SameSite=None cookies."""
    server = PlatformServer(Platform(), name="localhost")
    yield server.platform
    server.close()


def register(platform, live_server):
    out = io.StringIO()
    call_command(
        "lti_add_platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
        "--deployment-id", platform.deployment_id, "--auth-url", platform.auth_url,
        "--token-url", platform.token_url, "--keyset-url", platform.keyset_url,
        "--tool-url", live_server.url, stdout=out,
    )
    urls = json.loads(out.getvalue())
    platform.tool_jwks = Key.objects.as_jwks()
    platform.tool_login_url = urls["login_url"]
    platform.tool_launch_url = urls["launch_url"]
    platform.launch_claims = {LTI + "custom": {"target": "lesson:two-styles"}}
    return platform


@pytest.fixture
def framed(same_site_platform, live_server, live_course):
    return register(same_site_platform, live_server)


@pytest.fixture
def cross_site(platform, live_server, live_course):
    return register(platform, live_server)


def test_a_learner_opens_the_lesson_inside_the_platform_frame(page, framed, screenshot):
    page.goto(f"{framed.base_url}/course")
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("heading", level=1)).to_contain_text("The two styles")
    # Signed in inside the frame, and the session holds: a link followed in the frame works.
    expect(frame.locator("form[action$='/logout/'] button")).to_have_count(1)
    frame.get_by_role("link", name="Drills").first.click()
    expect(frame.locator("form[action$='/logout/'] button")).to_have_count(1)
    screenshot(page, "lti-framed-lesson")
    assert page.js_errors == []


def test_a_site_page_refuses_a_frame_by_another_site(page, live_server, framed, browser):
    # The platform is allowed only for LTI sessions; any other framing is refused.
    other = browser.new_context()
    framing = other.new_page()
    framing.set_content(f'<iframe id="x" src="{live_server.url}/"></iframe>')
    framing.wait_for_timeout(500)
    frame = framing.frame(url=f"{live_server.url}/")
    assert frame is None or frame.locator("h1").count() == 0
    other.close()


def test_a_browser_that_drops_the_frame_cookie_sees_the_way_out_not_a_loop(page, cross_site,
                                                                           screenshot):
    # Over plain HTTP, across sites, the browser withholds the login's cookie from the launch.
    page.goto(f"{cross_site.base_url}/course")
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("heading", level=1)).to_contain_text("kept this page")
    link = frame.get_by_role("link", name="Open Critical Path in a new window")
    expect(link).to_have_attribute("target", "_blank")
    page.wait_for_timeout(1000)
    # Still the same page: nothing sent the frame round again.
    expect(frame.get_by_role("heading", level=1)).to_contain_text("kept this page")
    screenshot(page, "lti-framed-cookies")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_new_window_finishes_the_launch_and_fits_a_phone(page, cross_site, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{cross_site.base_url}/course")
    link = page.frame_locator("#tool").get_by_role("link",
                                                    name="Open Critical Path in a new window")
    with page.context.expect_page() as opened:
        link.click()
    window = opened.value
    # A window of its own keeps the login's cookie: the launch completes there.
    expect(window.get_by_role("heading", level=1)).to_contain_text("The two styles")
    expect(window.locator("form[action$='/logout/'] button")).to_have_count(1)
    window.set_viewport_size({"width": 390, "height": 844})
    assert fits(window)
    screenshot(window, "lti-new-window-lesson-390", full_page=False)
    assert page.js_errors == []


def test_a_refused_launch_is_a_styled_page_that_fits_a_phone(page, live_server, cross_site,
                                                            screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    login = cross_site.tool_login_url
    response = page.goto(f"{login}?iss=https://evil.example&login_hint=x")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("issuer this platform was not registered with")).to_be_visible()
    assert fits(page)
    screenshot(page, "lti-refused-390")
