import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def charts_drawn(page, count: int = 4) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('#outage-results .js-plotly-plot').length === {count}"
    )


def test_break_inventory_and_read_the_backlog_drain(page, screenshot):
    page.goto("/simulator/outage/?service=Payments")
    charts_drawn(page)
    queue = page.locator("#outage-queue-reading")
    expect(queue).to_contain_text("has no queue")

    page.get_by_label("Service that fails").select_option("Inventory")

    expect(queue).to_contain_text("backlog reaches 6,000 events, drains in 120 s")
    charts_drawn(page)
    depth = page.evaluate("Array.from(document.getElementById('outage-queue').data[1].y)")
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
