"""Drills in a real browser: the learner's whole journey, keyboard use, phones and no-JS."""

import re

import pytest
from playwright.sync_api import expect

from drills import content, grading
from drills.models import Attempt
from grading.models import Submission
from tests.conftest import log_in

pytestmark = pytest.mark.browser

PLACE_ORDER_KEY = {
    "orders-payments": "sync", "orders-inventory": "async", "orders-fulfillment": "async",
    "fulfillment-courier": "sync", "fulfillment-payments": "async", "orders-email": "async",
    "orders-analytics": "async",
}
PHONE = {"width": 390, "height": 844}


def key_reason(slug: str, key: str, variant: str = "") -> int:
    entry = content.get_drill(slug, variant)
    return next(i.deciding_question for i in entry.interactions if i.key == key)


def choose(page, key: str, choice: str, reason: int | None = None, *, slug: str = "",
           variant: str = "") -> None:
    """Mark one interaction: its style and the reason (the key's own unless given)."""
    row = page.locator(f"#row-{key}")
    row.locator(f"label[for='id_choice-{key}_{0 if choice == 'sync' else 1}']").click()
    if slug:
        if reason is None:
            reason = key_reason(slug, key, variant)
        row.locator(f"#id_reason-{key}").select_option(str(reason))
        technique = row.locator(f"#id_technique-{key}")
        if technique.count():
            technique.select_option(grading.DEFAULT_TECHNIQUES[choice][0])


def expected(slug: str, styles: dict[str, str], reasons: dict[str, int] | None = None,
             variant: str = "") -> grading.DrillResult:
    """What the drill's own key makes of these answers, with the key's reasons unless given."""
    entry = content.get_drill(slug, variant)
    answers = {
        i.key: grading.Answer(
            styles[i.key], reason=(reasons or {}).get(i.key, i.deciding_question),
            technique=grading.DEFAULT_TECHNIQUES[styles[i.key]][0]
            if entry.drill.techniques else None)
        for i in entry.interactions
    }
    return grading.grade(entry.key, answers)


def heading(result: grading.DrillResult) -> str:
    if result.all_correct:
        return f"Full marks: {result.total} of {result.total} points."
    return f"You scored {result.score} of {result.total} points."


def test_learner_completes_a_drill_retries_and_sees_the_history(page, screenshot):
    slug = "place-an-order"
    log_in(page, "learner")
    page.goto("/drills/")
    expect(page.get_by_text("Not started").first).to_be_visible()
    screenshot(page, "drill-catalogue-1280")
    page.get_by_role("link", name="Start Place an order").click()
    expect(page.get_by_role("heading", name="Place an order", level=1)).to_be_visible()
    live = page.locator("#design-live")
    expect(live).to_contain_text("7 not decided yet")

    # The first answer by keyboard alone: the radios are native and grouped per interaction.
    first = page.locator("#row-orders-payments").get_by_role("radio", name=re.compile("^Sync"))
    first.focus()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    # The design is drawn again as each choice is made.
    expect(live).to_contain_text("1 sync hop the user waits behind")
    page.locator("#id_reason-orders-payments").select_option("1")
    styles = {key: "sync" for key in PLACE_ORDER_KEY}
    # A right style with the wrong reason: question 1 does not settle the stock reservation.
    reasons = {"orders-inventory": 1}
    for key in PLACE_ORDER_KEY:
        if key != "orders-payments":
            choose(page, key, "sync", reasons.get(key), slug=slug)
    expect(live).to_contain_text("7 sync hops the user waits behind")
    expect(live.locator(".design-waited:not(.design-entry)")).to_have_count(7)
    page.locator("#id_why-orders-inventory").fill("Never sell what we do not have")
    screenshot(page, "drill-form-1280")
    page.get_by_role("button", name="Check my answers").click()

    first_result = expected(slug, styles, reasons)
    result = page.locator(".drill-result")
    expect(result.get_by_role("heading", name=heading(first_result))).to_be_visible()
    expect(result.locator(".verdict-row")).to_have_count(7)
    expect(result.locator(".verdict-wrong")).to_have_count(5)
    inventory = result.locator("#verdict-orders-inventory")
    expect(inventory).to_contain_text("Not quite: style, reason")
    expect(inventory).to_contain_text("you cited question 1; it is question 3")
    expect(inventory).to_contain_text("Settled by question 3")
    expect(inventory).to_contain_text("Why sync hurts here")
    expect(inventory).to_contain_text("Never sell what we do not have")
    summary = result.locator(".hop-summary")
    expect(summary.locator(".design-figure")).to_have_count(2)
    expect(summary.locator(".design-figure").last).to_contain_text("1 sync hop the user")
    expect(summary.locator(".hop-count").first).to_have_text("7")
    expect(summary).to_contain_text("make Orders → Fulfillment async first")
    expect(summary).to_contain_text("from 7 to 4 sync hops")
    simulator = summary.get_by_role("link", name="Simulate your design's 7 sync hops")
    expect(simulator).to_have_attribute("href", re.compile(r"^/simulator/\?hop-TOTAL_FORMS=7&"))
    # The side card is brought up to date in the same response.
    expect(page.locator("#drill-record")).to_contain_text(
        f"{first_result.score}/{first_result.total}")
    expect(page.locator(".drill-result")).to_be_focused()
    screenshot(page, "drill-result-1280")

    # The key has been seen: trying again changes a constraint, and the stock check flips.
    page.get_by_role("link", name=re.compile("^Try again")).click()
    expect(page.locator(".variant-change")).to_contain_text("This time: A limited-edition drop")
    variant = {**PLACE_ORDER_KEY, "orders-inventory": "sync"}
    for key, choice in variant.items():
        choose(page, key, choice, slug=slug, variant="limited-drop")
    expect(live).to_contain_text("2 sync hops the user waits behind")
    screenshot(page, "drill-variant-1280")
    page.get_by_role("button", name="Check my answers").click()
    second = expected(slug, variant, variant="limited-drop")
    assert second.all_correct
    expect(page.get_by_role("heading", name=heading(second))).to_be_visible()
    expect(page.locator(".verdict-wrong")).to_have_count(0)
    expect(page.locator(".hop-summary")).to_contain_text("Within the limit of 2")

    page.locator(".result-actions").get_by_role("link", name="Your attempts").click()
    expect(page.get_by_text(f"Best score {second.total}/{second.total} from 2 attempts")
           ).to_be_visible()
    rows = page.locator(".attempts-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Best")
    expect(rows.first).to_contain_text("Variant: A limited-edition drop")
    expect(rows.nth(1)).to_contain_text("As written")
    screenshot(page, "drill-history-1280")
    rows.nth(1).get_by_role("link", name=re.compile("Review")).click()
    expect(page.get_by_role("heading", name=heading(first_result))).to_be_visible()
    assert list(Attempt.objects.filter(learner__username="learner").order_by("pk").values_list(
        "variant", flat=True)) == ["", "limited-drop"]
    assert page.js_errors == []


def box_top(locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "not laid out"
    return box["y"]


def test_a_drill_works_on_a_phone(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/drills/request-a-ride/")
    screenshot(page, "drill-form-390", full_page=False)
    screenshot(page, "drill-form-full-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The choices come before the drawing of the design, which follows the form.
    first_choice = page.locator(".interaction-list .btn-choice").first
    drawing = page.locator("#design-live")
    assert box_top(first_choice) < box_top(drawing)
    assert box_top(page.get_by_role("button", name="Check my answers")) < box_top(drawing)
    drawing.scroll_into_view_if_needed()
    screenshot(page, "drill-design-390", full_page=False)
    for key in ["rides-payments", "rides-fraud", "rides-dispatch", "dispatch-locations",
                "dispatch-offer", "dispatch-rider-push", "rides-marketplace"]:
        choose(page, key, "sync", slug="request-a-ride")
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("This attempt was not saved.")).to_be_visible()
    expect(page.locator(".advice")).to_contain_text("make Rides → Dispatch async first")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "drill-result-390")
    screenshot(page, "drill-result-top-390", full_page=False)
    page.locator(".hop-summary").scroll_into_view_if_needed()
    screenshot(page, "drill-hops-390", full_page=False)
    assert Attempt.objects.count() == 0
    assert page.js_errors == []


def document_top(locator) -> float:
    return locator.evaluate("el => el.getBoundingClientRect().top + window.scrollY")


def test_the_help_column_keeps_its_place_after_an_htmx_submit(page, screenshot):
    log_in(page, "learner")
    page.goto("/drills/search-catalogue/")
    aside = page.locator("aside.drill-aside .sticky-aside")
    title = page.get_by_role("heading", name="Search the catalogue", level=1)
    before = document_top(aside)
    assert abs(before - document_top(title)) < 80
    for key in ["bff-search", "bff-pricing", "pricing-profile", "bff-inventory",
                "bff-query-analytics"]:
        choose(page, key, "sync", slug="search-catalogue")
    page.get_by_role("button", name="Check my answers").click()
    first = expected("search-catalogue", {key: "sync" for key in [
        "bff-search", "bff-pricing", "pricing-profile", "bff-inventory", "bff-query-analytics"]})
    expect(page.locator(".drill-result")).to_be_focused()
    # The feedback was scrolled into view, yet the help column still starts beside the title.
    assert page.evaluate("window.scrollY") > 300
    assert abs(document_top(aside) - before) < 2
    expect(page.locator("#drill-record")).to_contain_text(f"{first.score}/{first.total}")
    advice = page.locator(".advice")
    expect(advice).to_contain_text("make Pricing → Customer profile async first")
    expect(advice).to_contain_text("next make Storefront BFF → Inventory async (4 to 3)")
    expect(page.locator(".failure-note")).to_contain_text("5 hops would fail 4.90% of requests")
    screenshot(page, "drill-result-htmx-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, "drill-result-htmx-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.js_errors == []


def test_on_a_phone_the_five_questions_come_before_the_form(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/drills/reset-password/")
    questions = page.locator(".five-questions")
    scenario = page.get_by_role("heading", name="The scenario")
    form = page.get_by_role("heading", name="Mark each interaction")
    button = page.get_by_role("button", name="Check my answers")
    assert document_top(scenario) < document_top(questions) < document_top(form)
    assert document_top(questions) < document_top(button)
    expect(page.locator(".off-path-rule")).to_contain_text("judge by the worker's own job")
    questions.scroll_into_view_if_needed()
    screenshot(page, "drill-questions-390", full_page=False)


def test_unanswered_rows_are_named_and_can_be_fixed(page):
    page.goto("/drills/reset-password/")
    choose(page, "auth-rate-limit", "sync", slug="reset-password")
    page.get_by_role("button", name="Check my answers").click()
    errors = page.locator("#drill-errors")
    expect(errors).to_contain_text("4 interactions still need an answer")
    expect(errors).to_be_focused()
    expect(page.locator("#row-auth-rate-limit").get_by_role("radio", name=re.compile("^Sync"))
           ).to_be_checked()
    for key, choice in [("auth-token-store", "sync"), ("auth-email", "async"),
                        ("email-provider", "sync"), ("auth-audit", "async")]:
        choose(page, key, choice, slug="reset-password")
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_role("heading", name=re.compile("^Full marks"))).to_be_visible()
    assert page.js_errors == []


def test_a_drill_works_without_javascript(browser, live_server, live_course, screenshot):
    slug = "upload-photo"
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, "learner")
    page.goto(f"/drills/{slug}/")
    choose(page, "photos-storage", "sync", slug=slug)
    # Without JavaScript the design is drawn on request, with the choices kept.
    page.get_by_role("button", name="Draw my design").click()
    expect(page.locator("#design-live")).to_contain_text("1 sync hop the user waits behind")
    expect(page.locator("#id_choice-photos-storage_0")).to_be_checked()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator("#drill-errors")).to_contain_text("5 interactions still need an answer")
    styles = {"photos-storage": "sync", "photos-thumbnails": "async",
              "thumbnails-storage": "sync", "photos-labels": "async", "photos-usage": "sync",
              "photos-album-notify": "async"}
    # The storage total is bookkeeping: marked sync here, and with the wrong reason.
    reasons = {"photos-usage": 1}
    for key, choice in styles.items():
        choose(page, key, choice, reasons.get(key), slug=slug)
    page.get_by_role("button", name="Check my answers").click()
    expect(page).to_have_url(re.compile(r"/drills/upload-photo/attempts/\d+/$"))
    first = expected(slug, styles, reasons)
    expect(page.get_by_role("heading", name=heading(first))).to_be_visible()
    expect(page.locator("#verdict-photos-usage")).to_contain_text("Not quite: style, reason")
    expect(page.locator(".design-figure")).to_have_count(2)
    assert Attempt.objects.get().score == first.score
    screenshot(page, "drill-nojs-result-1280")

    # The key was seen, so the retry is the variant, graded by its own key.
    page.get_by_role("link", name=re.compile("^Try again")).click()
    expect(page.locator(".variant-change")).to_contain_text("A school's photo gallery")
    variant = {**styles, "photos-usage": "async", "photos-labels": "sync"}
    for key, choice in variant.items():
        choose(page, key, choice, slug=slug, variant="school-gallery")
    page.get_by_role("button", name="Check my answers").click()
    second = expected(slug, variant, variant="school-gallery")
    assert second.all_correct
    expect(page.get_by_role("heading", name=heading(second))).to_be_visible()
    assert list(Attempt.objects.order_by("pk").values_list("variant", flat=True)) == [
        "", "school-gallery"]
    screenshot(page, "drill-nojs-variant-1280")
    context.close()


def test_own_workflow_is_built_with_htmx_and_handed_in(page, screenshot):
    log_in(page, "learner")
    page.goto("/drills/own/")
    page.get_by_label("Name your workflow").fill("Check in for a flight")

    def fill_row(index, caller, callee, style, why, after=""):
        page.locator(f"#id_rows-{index}-caller").fill(caller)
        page.locator(f"#id_rows-{index}-callee").fill(callee)
        page.locator(f"label[for='id_rows-{index}-style_{0 if style == 'sync' else 1}']").click()
        page.locator(f"#id_rows-{index}-justification").fill(why)
        if after:
            page.locator(f"#id_rows-{index}-after").fill(after)
            # A text or number box reports its change when the cursor leaves it.
            page.keyboard.press("Tab")

    design = page.locator("#own-design")
    expect(design).to_contain_text("Name the two services of an interaction")
    fill_row(0, "Check-in", "Bookings", "sync", "Must find the booking")
    counter = page.locator("#hop-count")
    expect(counter).to_contain_text("1 sync hop on the critical path")
    # The drawing follows each change, from the rows' structure alone.
    expect(design.locator(".design-waited:not(.design-entry)")).to_have_count(1)
    expect(design).to_contain_text("The user waits behind 1 sync call: 1. Check-in → Bookings.")
    page.get_by_role("button", name="Add an interaction").click()
    expect(page.locator("#id_rows-1-caller")).to_be_focused()
    expect(page.locator("#id_rows-TOTAL_FORMS")).to_have_value("2")
    expect(page.locator("#own-add")).to_contain_text("2 of at most 20")
    fill_row(1, "Check-in", "Seats", "sync", "The passenger picks a seat")
    page.get_by_role("button", name="Add an interaction").click()
    fill_row(2, "Check-in", "Loyalty", "sync", "Show the status on the pass")
    expect(counter).to_contain_text("3 sync hops on the critical path")
    expect(counter).to_contain_text("more than 2")
    page.get_by_role("button", name="Add an interaction").click()
    fill_row(3, "Check-in", "Analytics", "async", "Bookkeeping")
    expect(design.locator(".design-arrow")).to_have_count(4)
    expect(design.locator(".design-async")).to_have_count(1)
    expect(design).to_contain_text("no made-up latency or failure figures")
    expect(page.locator("#id_rows-0-caller")).to_have_value("Check-in")
    screenshot(page, "drill-own-1280")
    # Beside the form on a wide screen: the drawing starts level with the builder.
    assert box_top(design) < box_top(page.get_by_role("button", name="Hand in for grading"))
    assert design.bounding_box()["x"] > page.locator("#own-form").bounding_box()["x"] + 400

    # A cycle cannot be drawn; the drawing says which rows to fix, and comes back once fixed.
    fill_row(3, "Check-in", "Analytics", "async", "Bookkeeping", after="4")
    expect(design).to_contain_text("cannot be drawn until this is fixed")
    expect(design).to_contain_text("Interaction 4 is made while handling itself")
    expect(design.locator("svg")).to_have_count(0)
    expect(counter).to_contain_text("not counted until the rows named")
    screenshot(page, "drill-own-cycle-1280", full_page=False)
    design.get_by_role("link", name=re.compile("^Interaction 4 is made")).click()
    expect(page.locator("#id_rows-3-after")).to_be_focused()
    page.locator("#id_rows-3-after").fill("")
    page.locator("#id_rows-3-justification").focus()
    expect(design.locator(".design-arrow")).to_have_count(4)

    page.get_by_role("button", name="Hand in for grading").click()
    errors = page.locator("#own-errors")
    expect(errors).to_be_visible()
    expect(page.locator("#id_proposal_error")).to_contain_text("Your workflow has 3 sync hops")
    errors.get_by_role("link", name=re.compile("^Which hop to make async")).click()
    expect(page.get_by_label("Which hop would you make async, and why?")).to_be_focused()
    page.get_by_label("Which hop would you make async, and why?").fill(
        "Loyalty: the status can be added to the pass a moment later.")
    page.get_by_role("button", name="Remove interaction 4").click()
    expect(page.locator("#id_rows-3-caller")).to_have_count(0)
    expect(page.locator("#id_rows-2-callee")).to_have_value("Loyalty")
    expect(page.locator("#id_rows-TOTAL_FORMS")).to_have_value("3")
    page.get_by_role("button", name="Hand in for grading").click()

    expect(page.get_by_text("Your workflow was handed in.")).to_be_visible()
    expect(page.locator("#your-workflows")).to_contain_text("Check in for a flight")
    submission = Submission.objects.get(learner__username="learner", question__slug="own-workflow")
    assert submission.status == Submission.Status.AWAITING
    assert submission.payload["critical_sync_hops"] == 3
    assert len(submission.payload["rows"]) == 3
    assert submission.payload["proposal"].startswith("Loyalty")
    page.set_viewport_size(PHONE)
    page.goto("/drills/own/")
    page.get_by_role("button", name="Add an interaction").click()
    expect(page.locator("#id_rows-1-caller")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "drill-own-390")
    assert page.js_errors == []


def test_on_a_phone_the_builder_shows_the_rows_before_the_drawing(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/drills/own/")
    page.get_by_label("Name your workflow").fill("Order a pizza")
    page.locator("#id_rows-0-caller").fill("App")
    page.locator("#id_rows-0-callee").fill("Orders")
    page.locator("label[for='id_rows-0-style_0']").click()
    design = page.locator("#own-design")
    expect(design.locator(".design-arrow")).to_have_count(1)
    first_control = page.locator("#id_rows-0-caller")
    assert box_top(first_control) < box_top(design)
    assert box_top(page.get_by_role("button", name="Hand in for grading")) < box_top(design)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "drill-own-rows-390", full_page=False)
    design.scroll_into_view_if_needed()
    screenshot(page, "drill-own-design-390", full_page=False)
    screenshot(page, "drill-own-full-390")
    assert page.js_errors == []


def test_own_workflow_works_without_javascript(browser, live_server, live_course, screenshot):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport=PHONE)
    page = context.new_page()
    log_in(page, "learner")
    page.goto("/drills/own/")
    page.get_by_label("Name your workflow").fill("Order a pizza")
    page.locator("#id_rows-0-caller").fill("App")
    page.locator("#id_rows-0-callee").fill("Orders")
    page.get_by_role("button", name="Add an interaction").click()
    # The page comes back at the row just added, with the first row as it was typed.
    expect(page).to_have_url(re.compile(r"/drills/own/rows/add/#row-1$"))
    expect(page.locator("#id_rows-1-caller")).to_be_in_viewport()
    expect(page.locator("#id_rows-0-callee")).to_have_value("Orders")
    screenshot(page, "drill-own-nojs-added-390", full_page=False)
    page.locator("#id_rows-1-caller").fill("Orders")
    page.locator("#id_rows-1-callee").fill("Kitchen")
    page.get_by_role("button", name="Remove interaction 1").click()
    expect(page.locator("#id_rows-1-caller")).to_have_count(0)
    expect(page.locator("#id_rows-0-callee")).to_have_value("Kitchen")
    page.locator("label[for='id_rows-0-style_1']").click()
    page.locator("#id_rows-0-justification").fill("The kitchen can pick it up a moment later")
    # Without JavaScript the drawing is made on request, and the page opens at it.
    page.get_by_role("button", name="Draw my design").click()
    expect(page).to_have_url(re.compile(r"/drills/own/preview/#own-design-heading$"))
    expect(page.locator("#own-design")).to_contain_text("Orders → Kitchen")
    expect(page.locator("#own-design-heading")).to_be_in_viewport()
    expect(page.locator("#id_rows-0-callee")).to_have_value("Kitchen")
    screenshot(page, "drill-own-nojs-drawn-390", full_page=False)
    page.get_by_role("button", name="Hand in for grading").click()
    expect(page.get_by_text("Your workflow was handed in.")).to_be_visible()
    rows = Submission.objects.get(learner__username="learner").payload["rows"]
    assert [(r["caller"], r["callee"], r["style"]) for r in rows] == [
        ("Orders", "Kitchen", "async")]
    context.close()


def test_lesson_pages_point_to_their_drills(page, screenshot):
    page.goto("/lessons/worked-example/")
    card = page.locator(".practice-card")
    expect(card).to_contain_text("Practise this")
    card.scroll_into_view_if_needed()
    screenshot(page, "drill-lesson-card-1280", full_page=False)
    card.get_by_role("link", name="Place an order").click()
    expect(page).to_have_url(re.compile("/drills/place-an-order/$"))
    expect(page.get_by_role("link", name=re.compile("worked", re.I))).to_be_visible()
    assert page.js_errors == []


def test_anonymous_answers_survive_logging_in_and_zero_hops_read_well(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/drills/place-an-order/")
    expect(page.locator("#row-orders-analytics")).to_contain_text(
        "if you make it sync, the user waits for it")
    for key in PLACE_ORDER_KEY:
        choose(page, key, "async", slug="place-an-order")
    page.get_by_role("button", name="Check my answers").click()
    summary = page.locator(".hop-summary")
    expect(summary).to_contain_text("no downstream service can fail")
    expect(summary.get_by_role("link", name=re.compile("Simulate your design"))).to_have_count(0)
    summary.scroll_into_view_if_needed()
    screenshot(page, "drill-zero-hops-390", full_page=False)
    page.get_by_text("This attempt was not saved.").locator("..").get_by_role(
        "link", name="Log in").click()
    page.get_by_label("Username").fill("learner")
    page.get_by_label("Password").fill("critical-path")
    page.get_by_role("button", name=re.compile("Log in")).click()
    expect(page).to_have_url(re.compile("/drills/place-an-order/$"))
    expect(page.get_by_text("Your answers from before you logged in are filled in")).to_be_visible()
    expect(page.locator("#id_choice-orders-payments_1")).to_be_checked()
    expect(page.locator("#id_reason-orders-payments")).to_have_value("1")
    page.get_by_role("button", name="Check my answers").click()
    result = expected("place-an-order", {key: "async" for key in PLACE_ORDER_KEY})
    expect(page.get_by_role("heading", name=heading(result))).to_be_visible()
    assert Attempt.objects.get().critical_sync_hops == 0
    assert page.js_errors == []


def test_an_empty_own_workflow_keeps_a_row_and_links_each_error(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/drills/own/")
    page.get_by_role("button", name="Hand in for grading").click()
    errors = page.locator("#own-errors")
    expect(errors).to_be_visible()
    expect(errors).to_be_in_viewport()
    screenshot(page, "drill-own-empty-390", full_page=False)
    errors.get_by_role("link", name=re.compile("Add at least one interaction")).click()
    expect(page.locator("#id_rows-0-caller")).to_be_focused()
    screenshot(page, "drill-own-empty-row-390", full_page=False)
    assert page.js_errors == []
