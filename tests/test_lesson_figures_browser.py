"""Lesson figures in a browser: moved with JavaScript (htmx redraws only the drawing) and
without it (the plain GET form reloads the lesson at the figure), at desktop and phone width."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in
from tests.test_drills_browser import PLACE_ORDER_KEY, choose

pytestmark = pytest.mark.browser

FIGURES = {
    "two-styles": ["request-timeline"],
    "why-it-matters": ["worker-pool"],
    "worked-example": ["checkout-styles"],
    "misconceptions": ["complexity-moves"],
    "latency-math": ["failure-vs-hops", "p99-sum-rule", "latency-histogram", "fanout-tail"],
}


def test_a_slider_in_lesson_8_redraws_its_figure(page, screenshot):
    page.goto("/lessons/latency-math/")
    figure = page.locator("#fig-failure-vs-hops")
    reading = figure.locator(".figure-reading")
    expect(reading).to_contain_text("With N = 5 and p = 1.00%, the request fails 4.90%")
    before = figure.locator("polyline").first.get_attribute("points")
    slider = figure.get_by_label("Hops, N")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    expect(reading).to_contain_text("With N = 10 and p = 1.00%, the request fails 9.56%")
    # Only the drawing was swapped: the slider kept its place and its focus.
    expect(slider).to_be_focused()
    assert figure.locator("polyline").first.get_attribute("points") != before
    assert page.url.endswith("/lessons/latency-math/")
    assert not page.js_errors
    screenshot(page, "figure-failure-vs-hops", full_page=False)


def test_a_figure_moves_without_javascript(browser, live_server, live_course):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/lessons/why-it-matters/")
    figure = page.locator("#fig-worker-pool")
    expect(figure.locator(".figure-reading")).to_contain_text("50 busy workers of 200")
    figure.get_by_label("Inventory's latency (ms)").fill("2000")
    figure.get_by_role("button", name="Redraw").click()
    assert "pool-downstream_ms=2000" in page.url and page.url.endswith("#fig-worker-pool")
    figure = page.locator("#fig-worker-pool")
    expect(figure.locator(".figure-reading")).to_contain_text("Orders needs 2,030 workers")
    expect(figure.get_by_text("full").first).to_be_visible()
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_figure_fits_or_says_it_scrolls(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    for slug, names in FIGURES.items():
        page.goto(f"/lessons/{slug}/")
        for name in names:
            figure = page.locator(f"#fig-{name}")
            figure.scroll_into_view_if_needed()
            box = figure.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
            screenshot_path = screenshot(page, f"figure-{name}-{width}", full_page=False)
            assert screenshot_path.exists()
            figure.screenshot(path=str(screenshot_path))
            for scroller in figure.locator(".figure-scroll").all():
                wide = scroller.evaluate("(el) => el.scrollWidth > el.clientWidth + 1")
                if wide:
                    assert scroller.get_attribute("tabindex") == "0"
                    assert "scrolls sideways" in (scroller.get_attribute("aria-label") or "")
                    expect(figure.locator(".scroll-hint")).to_be_visible()
    assert not page.js_errors


# The reading of the lab's first chart: requests the user saw fail, per design.
LAB_FAILED = "#outage-failed-reading"


def test_break_your_design_from_a_graded_drill(page, screenshot):
    page.set_default_timeout(30_000)
    log_in(page, "learner")
    page.goto("/drills/place-an-order/")
    # The learner keeps Inventory on the critical path, where the key has it behind a queue.
    for key, choice in {**PLACE_ORDER_KEY, "orders-inventory": "sync"}.items():
        choose(page, key, choice, slug="place-an-order")
    page.get_by_role("button", name="Check my answers").click()
    result = page.locator(".drill-result")
    link = result.get_by_role("link", name="Break your design in the outage lab")
    link.click()
    expect(page).to_have_url(re.compile(r"/simulator/outage/\?workflow=place-an-order&design="))
    assert "orders-inventory%3As" in page.url
    failed = page.locator(LAB_FAILED)
    expect(failed).to_contain_text("your design fails 6,000 requests", timeout=20_000)
    expect(failed).to_contain_text("the answer key's design fails none")
    screenshot(page, "lab-from-drill", full_page=False)

    page.get_by_label("Lasting T (s)").fill("30")
    expect(failed).to_contain_text("your design fails 3,000 requests", timeout=20_000)
    # The learner's design is carried along as the lab redraws.
    assert "design=" in page.url and "orders-inventory%3As" in page.url
    assert not page.js_errors


def test_static_diagrams_scroll_on_a_phone_and_say_so(page, screenshot):
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 390, "height": 844})
    for slug in ("worked-example", "choreography-orchestration"):
        page.goto(f"/lessons/{slug}/")
        scrollers = page.locator(".diagram-scroll")
        assert scrollers.count() >= 1
        for scroller in scrollers.all():
            scroller.scroll_into_view_if_needed()
            assert scroller.evaluate("(el) => el.scrollWidth > el.clientWidth")
            assert scroller.get_attribute("tabindex") == "0"
            assert "scrolls sideways" in (scroller.get_attribute("aria-label") or "")
            hint = scroller.locator("xpath=preceding-sibling::p[contains(@class,'scroll-hint')]")
            expect(hint).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, f"diagram-{slug}-390", full_page=False)
