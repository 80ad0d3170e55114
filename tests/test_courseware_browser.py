import re

import pytest
from playwright.sync_api import expect

from courseware.models import Submission

pytestmark = pytest.mark.browser


def test_newcomer_reads_signs_up_and_answers(page, screenshot):
    page.goto("/")
    expect(page.get_by_role("heading", name="Should this call wait for an answer?")).to_be_visible()
    screenshot(page, "home")

    page.get_by_role("link", name="Start the course").click()
    expect(page).to_have_url(re.compile(r"/lessons/two-styles/$"))
    expect(page.locator(".prose table").first).to_be_visible()
    screenshot(page, "lesson-two-styles")

    page.get_by_role("link", name=re.compile("→")).click()
    expect(page).to_have_url(re.compile(r"/lessons/why-it-matters/$"))

    page.goto("/lessons/check-yourself/")
    submit = page.get_by_role("button", name="Submit answer")
    card = page.locator(".activity-card", has=submit).first
    card.get_by_label("Your answer").fill("Each sync hop adds its own chance of failure.")
    card.get_by_role("button", name="Submit answer").click()

    # Anonymous: sent to log in, then on to sign up, and back to the question with the text kept.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("E-mail address").fill("newcomer@example.org")
    page.locator("#id_password1").fill("a-strong-pass-9876")
    page.locator("#id_password2").fill("a-strong-pass-9876")
    screenshot(page, "signup")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/lessons/check-yourself/#question-"))
    textarea = page.get_by_label("Your answer").first
    expect(textarea).to_have_value("Each sync hop adds its own chance of failure.")
    page.get_by_role("button", name="Submit answer").first.click()

    expect(page.get_by_role("heading", name="Model answer").first).to_be_visible()
    expect(page.get_by_role("heading", name="Key points").first).to_be_visible()
    expect(page.get_by_text("Each sync hop adds its own chance of failure.")).to_be_visible()
    screenshot(page, "check-yourself-answered")
    assert Submission.objects.filter(learner__username="newcomer").count() == 1
    assert page.js_errors == []


def test_quick_check_feedback_and_phone_layout(page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/lessons/two-styles/")
    card = page.locator(".activity-card[id^=check-]").first
    card.locator("input[name=choice]").first.check()
    card.get_by_role("button", name="Check").click()
    verdict = page.locator(".activity-card[id^=check-] [role=status] > p").first
    expect(verdict).to_have_text(re.compile(r"^\s*(Right|Not quite)\.\s*$"))
    screenshot(page, "lesson-phone")
    page.get_by_role("button", name="Show navigation").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Drills")).to_be_visible()
    assert page.js_errors == []


def test_latency_lesson_and_error_pages(page, screenshot):
    page.goto("/lessons/worked-example/")
    expect(page.locator(".prose figure img").first).to_be_visible()
    screenshot(page, "lesson-worked-example")
    response = page.goto("/lessons/missing/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    screenshot(page, "not-found", full_page=False)


def test_an_expired_form_says_so_instead_of_doing_nothing(page):
    page.goto("/lessons/two-styles/")
    page.context.clear_cookies()
    card = page.locator(".activity-card[id^=check-]").first
    card.locator("input[name=choice]").first.check()
    card.get_by_role("button", name="Check").click()
    expect(card.get_by_role("alert")).to_contain_text("This form has expired")


def test_phone_menu_opens_without_javascript(browser, live_server, live_course, screenshot):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto("/lessons/two-styles/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Drills")).to_be_hidden()
    page.get_by_role("button", name="Show navigation").click()
    expect(nav.get_by_role("link", name="Drills")).to_be_visible()
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    screenshot(page, "nav-phone-no-js", full_page=False)
    context.close()
