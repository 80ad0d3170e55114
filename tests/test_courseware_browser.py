import re

import pytest
from playwright.sync_api import expect

from courseware.models import QuickCheck, QuickCheckResponse
from grading.models import Submission
from tests.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser


def screenshot_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


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
    # The lesson's problems have answer fields too; this is the written answer's.
    textarea = page.locator("textarea[name=answer]").first
    expect(textarea).to_have_value("Each sync hop adds its own chance of failure.")
    page.get_by_role("button", name="Submit answer").first.click()

    expect(page.get_by_role("heading", name="Model answer").first).to_be_visible()
    expect(page.get_by_role("heading", name="Key points").first).to_be_visible()
    expect(page.get_by_text("Each sync hop adds its own chance of failure.")).to_be_visible()
    screenshot(page, "check-yourself-answered")
    assert Submission.objects.filter(learner__username="newcomer").count() == 1
    assert page.js_errors == []


def answer(card, check: QuickCheck, key: str, button: str = "Check") -> None:
    card.locator(f"#check-{check.slug}-{key}").check()
    card.get_by_role("button", name=button, exact=True).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_missed_quick_check_gives_a_hint_then_a_second_try(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "learner")
    check = QuickCheck.objects.get(slug="async-await-is-sync")
    wrong = check.options.filter(correct=False).first()
    assert wrong is not None
    right = check.options.get(correct=True)
    page.goto(check.lesson.get_absolute_url())
    card = page.locator(f"#check-{check.slug}")
    answer(card, check, wrong.key)
    expect(card.get_by_text("Not quite. You have one more try.")).to_be_visible()
    expect(card.get_by_text(check.hint)).to_be_visible()
    expect(card.locator(f"#check-{check.slug}-{wrong.key}")).to_be_checked()
    expect(card.get_by_text(right.feedback)).to_have_count(0)
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshot_dir() / f"quick-check-hint-{width}.png"))

    answer(card, check, right.key, "Check my second try")
    expect(card.get_by_text("Right at the second try.")).to_be_visible()
    for option in check.options.all():
        expect(card.get_by_text(option.feedback)).to_be_visible()
    card.screenshot(path=str(screenshot_dir() / f"quick-check-explained-{width}.png"))
    tries = QuickCheckResponse.objects.filter(learner__username="learner", quick_check=check)
    assert list(tries.order_by("attempt").values_list("attempt", "correct")) == [
        (1, False), (2, True)
    ]

    # Coming back shows the result, not a blank form.
    page.reload()
    expect(page.locator(f"#check-{check.slug}").get_by_text("Right at the second try.")
           ).to_be_visible()
    if width == 390:
        screenshot(page, "lesson-phone")
        page.get_by_role("button", name="Show navigation").click()
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Drills")).to_be_visible()
    assert page.js_errors == []


def test_quick_checks_work_without_javascript(browser, live_server, live_course):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    check = QuickCheck.objects.get(slug="costs-of-async")
    right = [o.key for o in check.options.filter(correct=True)]
    page.goto(check.lesson.get_absolute_url())
    card = page.locator(f"#check-{check.slug}")
    card.locator(f"#check-{check.slug}-{right[0]}").check()
    card.get_by_role("button", name="Check", exact=True).click()
    card = page.locator(f"#check-{check.slug}")
    expect(card.get_by_text(check.hint)).to_be_visible()
    for key in right[1:]:
        card.locator(f"#check-{check.slug}-{key}").check()
    card.get_by_role("button", name="Check my second try").click()
    card = page.locator(f"#check-{check.slug}")
    expect(card.get_by_text("Right at the second try.")).to_be_visible()
    context.close()


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
