import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from courseware.models import Lesson

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Small simulations keep the browser tests quick; the numbers are still exact where checked.
QUICK = "samples=20000"
INVALID = re.compile(r"\bis-invalid\b")


def charts_drawn(page, count: int = 4) -> None:
    # A function, not an expression: Playwright evals an expression again at every poll, and
    # the site's Content Security Policy refuses eval once the first check has come back false.
    page.wait_for_function(
        f"() => document.querySelectorAll('#simulator-results .js-plotly-plot').length === {count}"
    )


def trace_y(page, chart: str, name_start: str) -> list[float]:
    return page.evaluate(
        """([chart, name]) => document.getElementById(chart).data
               .find((trace) => trace.name.startsWith(name)).y""",
        [chart, name_start],
    )


def serious_accessibility_problems(page) -> list[str]:
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_changing_an_input_redraws_the_charts(page, screenshot):
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)
    before = trace_y(page, "chart-failure", "Exact")
    reading = page.locator("#chart-failure-reading")
    expect(reading).to_contain_text("each failing 1.00% of the time")

    page.get_by_label("Failure (p)").fill("0.05")

    expect(reading).to_contain_text("each failing 5.00% of the time")
    charts_drawn(page)
    after = trace_y(page, "chart-failure", "Exact")
    assert after != before
    assert after[4] == pytest.approx(1 - 0.95**5)
    assert "failure=0.05" in page.url
    expect(page.get_by_label("Failure (p)")).to_be_focused()
    screenshot(page, "simulator-desktop")
    assert serious_accessibility_problems(page) == []
    assert page.js_errors == []


def test_bad_input_shows_an_inline_error_then_recovers(page):
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)
    median = page.get_by_label("Median (ms)")

    median.fill("500")

    expect(page.locator("#id_median_ms_error")).to_contain_text("below the p99")
    expect(median).to_have_class(INVALID)
    expect(median).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").filter(has_text="need fixing")).to_be_visible()

    median.fill("10")

    expect(page.locator("#id_median_ms_error")).to_be_empty()
    expect(median).not_to_have_class(INVALID)
    charts_drawn(page)
    assert page.js_errors == []


def test_presets_swap_in_a_whole_scenario(page):
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)

    page.get_by_role("link", name="2,000 servers × 0.01%").click()

    expect(page.get_by_label("Servers (M)")).to_have_value("2000")
    expect(page.locator("#chart-fanout-reading")).to_contain_text("is slow 18.1% of the time")
    charts_drawn(page)
    assert "servers=2000" in page.url
    expect(page.get_by_role("link", name="2,000 servers × 0.01%")).to_have_attribute(
        "aria-current", "true"
    )

    page.get_by_label("Hops (N)").fill("8")
    expect(page.locator("#chart-failure-reading")).to_contain_text("A chain of 8 sync hops")
    assert "hops=8" in page.get_by_role("link", name="The Tail at Scale").get_attribute("href")
    assert page.js_errors == []


def test_drill_link_marks_the_learners_chain(page):
    page.goto(f"/simulator/?hops=4&from_drill=place-an-order&{QUICK}")
    charts_drawn(page)
    expect(page.get_by_role("note")).to_contain_text(
        "Your drill answer had 4 sync hops on the critical path."
    )
    label = page.evaluate("document.getElementById('chart-latency').layout.annotations[0].text")
    assert label == "Your drill: N = 4"
    assert page.js_errors == []


def test_fits_a_phone(page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot .main-svg')].map((s) => s.clientWidth)"
    )
    assert widths and max(widths) <= 390
    screenshot(page, "simulator-phone")
    assert page.js_errors == []


def test_works_without_javascript(browser, live_server, live_course):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/simulator/?{QUICK}")
    page.get_by_label("Hops (N)").fill("7")
    page.get_by_role("button", name="Update the charts").click()
    expect(page.locator("#chart-failure-reading")).to_contain_text("A chain of 7 sync hops")
    assert "hops=7" in page.url
    expect(page.locator("#simulator-results table").first).to_be_attached()
    context.close()


def test_calculator_inside_the_lesson(page, screenshot):
    lesson = Lesson.objects.filter(embed="simulator").first()
    if lesson is None:
        pytest.skip("no lesson embeds the simulator yet")
    url = lesson.get_absolute_url()
    page.goto(f"{url}?{QUICK}")
    charts_drawn(page)
    calculator = page.locator("#simulator")
    expect(calculator.get_by_role("heading", name="Try it: the latency calculator")).to_be_visible()
    before = trace_y(page, "chart-latency", "Simulated p99")

    calculator.get_by_label("Hops (N)").fill("3")

    expect(page.locator("#chart-failure-reading")).to_contain_text("A chain of 3 sync hops")
    charts_drawn(page)
    assert trace_y(page, "chart-latency", "Simulated p99") == pytest.approx(before)
    shapes = page.evaluate("document.getElementById('chart-latency').layout.shapes")
    assert shapes[0]["x0"] == 3
    assert url in page.url and "hops=3" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(lesson.title)
    screenshot(page, "simulator-lesson-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "simulator-lesson-phone")
    assert page.js_errors == []


def test_availability_drives_p_and_keeps_the_two_in_step(page, screenshot):
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)
    availability = page.get_by_label("Availability (%)")
    failure = page.get_by_label("Failure (p)")
    expect(availability).to_have_value("99")

    availability.fill("99.9")

    expect(failure).to_have_value("0.001")
    expect(page.get_by_role("radio", name="Availability %")).to_be_checked()
    reading = page.locator("#chart-failure-reading")
    expect(reading).to_contain_text("each failing 0.100% of the time")
    charts_drawn(page)
    assert "p_as=availability" in page.url and "availability=99.9" in page.url

    failure.fill("0.02")

    expect(availability).to_have_value("98")
    expect(page.get_by_role("radio", name="Failure chance p")).to_be_checked()
    expect(reading).to_contain_text("each failing 2.00% of the time")

    availability.fill("120")
    expect(page.locator("#id_availability_error")).to_contain_text("from 0 to 100")
    expect(availability).to_have_class(INVALID)
    expect(failure).to_have_value("")
    expect(failure).not_to_have_class(INVALID)
    screenshot(page, "simulator-availability-error")
    assert page.js_errors == []


def test_preset_while_an_input_is_wrong_keeps_the_others(page, screenshot):
    page.goto(f"/simulator/?{QUICK}")
    charts_drawn(page)
    page.get_by_label("Median (ms)").fill("30")
    expect(page.locator("#chart-failure-reading")).to_be_visible()
    page.get_by_label("Slow chance (q)").fill("2")
    expect(page.locator("#id_slow_error")).not_to_be_empty()

    page.get_by_role("link", name="Checkout, all sync").click()

    expect(page.get_by_label("Hops (N)")).to_have_value("3")
    expect(page.get_by_label("Median (ms)")).to_have_value("20")
    expect(page.get_by_label("p99 (ms)")).to_have_value("100")
    expect(page.get_by_label("Slow chance (q)")).to_have_value("0.01")
    charts_drawn(page)
    chain = page.get_by_role("group", name="Chain presets")
    expect(chain.locator("[aria-current]")).to_have_count(1)
    expect(chain.get_by_role("link", name="Checkout, all sync")).to_have_attribute(
        "aria-current", "true"
    )

    page.get_by_role("link", name="The Tail at Scale").click()
    expect(page.get_by_label("Hops (N)")).to_have_value("3")  # the chain stays as it was
    charts_drawn(page)
    screenshot(page, "simulator-presets-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "simulator-presets-phone")
    assert page.js_errors == []


def test_drill_note_leads_back_to_the_drill(page, screenshot):
    from drills.models import Drill

    drill = Drill.objects.create(slug="shop", title="Buy a thing", domain="Retail",
                                 summary="s", scenario="s")
    page.goto(f"/simulator/?hops=2&from_drill=shop&{QUICK}")
    charts_drawn(page)
    screenshot(page, "simulator-from-drill")
    page.get_by_role("link", name="Back to the drill “Buy a thing”").click()
    expect(page).to_have_url(re.compile(re.escape(drill.get_absolute_url()) + "$"))
