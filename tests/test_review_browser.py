"""A learner misses a quick check and a problem, finds both on the Review page, answers them
and sees their mastery move; with JavaScript and without it."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from courseware import services
from courseware.models import Problem, QuickCheck, ReviewCard
from tests.conftest import log_in

pytestmark = pytest.mark.browser


def exact(problem: Problem) -> float:
    learner = get_user_model().objects.get(username="learner")
    instance = services.current_instance(learner=learner, problem=problem)
    problem_type = problem.problem_type
    assert problem_type is not None
    return problem_type.answer(instance.params)


def journey(page, screenshot, name: str) -> None:
    check = QuickCheck.objects.get(slug="slow-worse-than-down")
    problem = Problem.objects.get(slug="check-chain-failure")
    wrong = check.options.filter(correct=False)[0]
    right = check.options.get(correct=True)
    log_in(page, "learner")

    page.goto(check.lesson.get_absolute_url())
    card = page.locator(f"#check-{check.slug}")
    card.get_by_label(wrong.text).check()
    card.get_by_role("button", name="Check").click()
    expect(page.locator(f"#check-{check.slug}").get_by_text("Hint:")).to_be_visible()

    page.goto(problem.lesson.get_absolute_url())
    card = page.locator(f"#problem-{problem.slug}")
    card.get_by_label("Your answer").fill(f"{exact(problem) * 3 + 5:.3f}")
    card.get_by_role("button", name="Check my answer").click()
    expect(page.locator(f"#problem-{problem.slug}").get_by_text("Not right.", exact=False)
           .first).to_be_visible()

    page.goto("/")
    expect(page.get_by_test_id("mastery-overall")).to_have_text("0%")
    nav = page.get_by_role("navigation", name="Main")
    if page.viewport_size and page.viewport_size["width"] < 768:
        page.locator(".navbar-toggler").click()
    expect(nav.get_by_test_id("review-due")).to_contain_text("2")
    nav.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Due now")).to_contain_text("2")
    screenshot(page, f"review-deck-{name}")

    page.get_by_role("link", name="Review the first card").click()
    for _ in range(2):
        if page.get_by_label("Your answer").count():
            page.get_by_label("Your answer").fill(repr(exact(problem)))
            page.get_by_role("button", name="Check my answer").click()
        else:
            page.get_by_label(right.text).check()
            page.get_by_role("button", name="Check").click()
        expect(page.get_by_text("Reviewed: right.")).to_be_visible()
        screenshot(page, f"review-answered-{name}-{_}")
        if _ == 0:
            page.get_by_role("link", name="Next card").click()

    assert ReviewCard.objects.filter(reviews=1).count() == 2
    page.goto("/")
    expect(page.get_by_test_id("mastery-overall")).to_have_text("100%")
    expect(page.locator('[data-testid="review-due"]')).to_have_count(0)
    page.locator("#mastery").scroll_into_view_if_needed()
    screenshot(page, f"review-mastery-{name}")


@pytest.mark.parametrize("width", [1280, 390])
def test_missed_items_come_back_in_review_and_mastery_moves(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey(page, screenshot, f"js-{width}")
    assert page.js_errors == []


def test_review_works_without_javascript(nojs_page, screenshot):
    journey(nojs_page, screenshot, "nojs")
    assert nojs_page.js_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_a_drill_interaction_comes_back_inside_its_workflow(page, screenshot, width):
    from drills.models import Drill

    page.set_viewport_size({"width": width, "height": 900})
    drill = Drill.objects.get(slug="place-an-order")
    missed = drill.interactions.get(key="orders-inventory")
    log_in(page, "learner")
    page.goto(drill.get_absolute_url())
    for interaction in drill.interactions.all():
        choice = "sync" if interaction.pk == missed.pk or interaction.answer == "sync" else "async"
        row = page.locator(f"#row-{interaction.key}")
        row.locator(f"label.btn-choice-{choice}").click()
        row.locator(f"#id_reason-{interaction.key}").select_option(
            str(interaction.deciding_question))
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_role("heading", name="Interaction by interaction")).to_be_visible()

    page.goto("/review/")
    page.get_by_role("link", name="Review the first card").click()
    expect(page.locator('[aria-current="step"]')).to_contain_text(missed.exchange)
    screenshot(page, f"review-drill-question-{width}")
    page.locator("label.btn-choice-async").click()
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("Reviewed: right.")).to_be_visible()
    expect(page.get_by_text("Settled by question", exact=False)).to_be_visible()
    screenshot(page, f"review-drill-answered-{width}")

    page.goto("/checkpoint/")
    page.get_by_role("button", name="Start the checkpoint").click()
    expect(page.get_by_text("Question 1 of", exact=False).first).to_be_visible()
    screenshot(page, f"checkpoint-first-question-{width}")
    assert page.js_errors == []
