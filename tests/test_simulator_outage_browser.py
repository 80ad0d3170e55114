import re

import pytest
from playwright.sync_api import expect

from tests.test_simulator_browser import serious_accessibility_problems

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def patient(request):
    """The first render warms plotly and numpy up; give a busy machine time for it."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(30_000)
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


# The figures carry numpy arrays as base64 typed data; this reads one trace's y values back.
DRAWN_Y = """([chart, trace]) => {
    const source = document.getElementById(document.getElementById(chart).dataset.figure);
    const y = JSON.parse(source.textContent).data[trace].y;
    const bytes = Uint8Array.from(atob(y.bdata), (c) => c.charCodeAt(0));
    return Array.from(new Float64Array(bytes.buffer));
}"""


def charts_drawn(page, count: int = 4) -> None:
    # A function, not an expression: Playwright evals an expression again at every poll, and
    # the site's Content Security Policy refuses eval once the first check has come back false.
    page.wait_for_function(
        f"() => document.querySelectorAll('#outage-results .js-plotly-plot').length === {count}"
    )


def test_break_inventory_and_read_the_backlog_drain(page, screenshot):
    page.goto("/simulator/outage/?service=Payments")
    charts_drawn(page)
    queue = page.locator("#outage-queue-reading")
    expect(queue).to_contain_text("has no queue")

    page.get_by_label("Service that fails").select_option("Inventory")

    expect(queue).to_contain_text("backlog reaches 6,000 events, drains in 120 s")
    charts_drawn(page)
    depth = page.evaluate(DRAWN_Y, ["outage-queue", 1])
    assert max(depth) == pytest.approx(6000, abs=60)
    assert "service=Inventory" in page.url

    page.get_by_label("Consumer capacity C (/s)").fill("300")
    expect(queue).to_contain_text("drains in 30 s at C − R = 200 a second")
    expect(page.locator("#outage-lag-reading")).to_contain_text("peaks at 60 s")
    screenshot(page, "outage-desktop")

    page.get_by_label("Consumer capacity C (/s)").fill("0")
    expect(page.locator("#id_capacity_error")).to_contain_text("more than 0")
    capacity = page.get_by_label("Consumer capacity C (/s)")
    expect(capacity).to_have_class(re.compile(r"\bis-invalid\b"))
    page.get_by_label("Consumer capacity C (/s)").fill("150")
    expect(queue).to_contain_text("drains in 120 s")
    expect(page.locator("#id_capacity_error")).to_be_empty()
    charts_drawn(page)
    assert serious_accessibility_problems(page) == []
    assert page.js_errors == []


def test_switching_to_a_drill_updates_the_services(page):
    page.goto("/simulator/outage/")
    charts_drawn(page)
    page.get_by_label("Workflow").select_option("reset-password")
    expect(page.locator("#outage-results [role=note]")).to_contain_text("Inventory is not part of")
    options = page.locator("#id_service option").all_inner_texts()
    assert "Inventory" not in options and options
    charts_drawn(page)
    assert page.js_errors == []


def test_lab_fits_a_phone(page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/simulator/outage/")
    charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "outage-phone")
    assert page.js_errors == []


def test_lab_without_javascript(browser, live_server, live_course):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/simulator/outage/")
    page.get_by_label("Arrival rate R (/s)").fill("50")
    page.get_by_role("button", name="Run the lab").click()
    expect(page.locator("#outage-queue-reading")).to_contain_text("backlog reaches 3,000 events")
    assert "rate=50" in page.url
    context.close()


def test_phone_views_of_the_lab_and_the_hop_simulator(page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/simulator/outage/")
    charts_drawn(page)
    screenshot(page, "outage-phone-top", full_page=False)
    page.locator("#outage-queue").scroll_into_view_if_needed()
    screenshot(page, "outage-phone-queue", full_page=False)
    page.goto("/simulator/?samples=20000")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 5")
    page.locator("#chart-latency").scroll_into_view_if_needed()
    dock = page.locator(".simulator-dock")
    expect(dock).to_be_in_viewport()
    screenshot(page, "simulator-phone-dock", full_page=False)
    page.locator("#path").scroll_into_view_if_needed()
    screenshot(page, "simulator-phone-path", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.js_errors == []


def typed(page, field, value: str) -> None:
    """Type a value and wait for the redraw it sets off, so the next one does not cancel it."""
    with page.expect_response(lambda response: "/simulator/path/" in response.url):
        field.fill(value)


def test_hop_simulator_redraws_the_histogram(page, screenshot):
    page.goto("/simulator/?samples=20000")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 5")
    reading = page.locator("#chart-histogram-reading")
    expect(reading).to_contain_text("against 450 ms by the sum of p99s")
    for index in range(3):
        typed(page, page.get_by_label(f"Hop {index + 1}: p", exact=True), "0")
    typed(page, page.get_by_label("Slow together (c)"), "1")
    expect(reading).to_contain_text("the sum rule is the truth")
    typed(page, page.get_by_label("Hop 2: Timeout in ms"), "40")
    expect(reading).to_contain_text("move the p99 off it")
    typed(page, page.get_by_label("Hop 2: Retries"), "2")
    expect(reading).to_contain_text("Retries make Inventory see")
    page.get_by_role("button", name="Add a hop").click()
    expect(page.get_by_label("Hop 4: Name")).to_have_value("Hop 4")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 5")
    page.locator("#path").scroll_into_view_if_needed()
    screenshot(page, "simulator-path-desktop", full_page=False)
    assert page.js_errors == []


def test_a_learner_breaks_their_own_workflow_from_the_builder(page, screenshot):
    page.goto("/drills/own/")
    for index, (callee, style) in enumerate((("Bookings", 0), ("Mailer", 1))):
        if index:
            page.get_by_role("button", name="Add an interaction").click()
        page.locator(f"#id_rows-{index}-caller").fill("Gateway")
        page.locator(f"#id_rows-{index}-callee").fill(callee)
        page.locator(f"label[for='id_rows-{index}-style_{style}']").click()
        page.locator(f"#id_rows-{index}-justification").fill("A reason.")
    link = page.get_by_role("link", name="Break this design in the outage lab")
    expect(link).to_have_attribute("href", re.compile("Mailer"))
    link.click()
    expect(page.get_by_label("Workflow")).to_have_value("own")
    # The form answers a change only once htmx has started; the drawn charts say the page has.
    charts_drawn(page)
    with page.expect_response(lambda response: "/simulator/outage" in response.url):
        page.get_by_label("Service that fails").select_option("Mailer")
    failed = page.locator("#outage-failed-reading")
    expect(failed).to_contain_text("your design fails none")
    expect(failed).to_contain_text("the all-synchronous design fails 6,000 requests")
    charts_drawn(page)
    screenshot(page, "outage-own-workflow")
    assert page.js_errors == []
