"""A learner answers a problem with their own numbers and asks for new ones, with and without
JavaScript."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from courseware.models import Problem, ProblemAnswer, ProblemInstance
from tests.conftest import log_in

pytestmark = pytest.mark.browser


def numbers(problem: Problem) -> ProblemInstance:
    learner = get_user_model().objects.get(username="learner")
    instance = ProblemInstance.objects.of(learner, problem).current()
    assert instance is not None
    return instance


def exact(instance: ProblemInstance) -> float:
    problem_type = instance.problem.problem_type
    assert problem_type is not None
    return problem_type.answer(instance.params)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_learner_answers_a_problem_then_asks_for_new_numbers(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    problem = Problem.objects.get(slug="check-chain-failure")
    log_in(page, "learner")
    page.goto(problem.lesson.get_absolute_url())
    card = page.locator(f"#problem-{problem.slug}")
    first = numbers(problem)
    expect(card.get_by_text(problem.problem_type.prompt(first.params))).to_be_visible()
    expect(card.get_by_text("within 1% of the exact value")).to_be_visible()

    card.get_by_label("Your answer").fill("a lot")
    card.get_by_role("button", name="Check my answer").click()
    expect(card.get_by_text("is not a number")).to_be_visible()
    card.get_by_label("Your answer").fill(f"{exact(first):.3f}")
    card.get_by_role("button", name="Check my answer").click()
    expect(card.get_by_text("Right.", exact=False).first).to_be_visible()
    expect(card.get_by_role("heading", name="Worked solution with your numbers")).to_be_visible()
    expect(card.get_by_text("The shortcut N · p gives", exact=False)).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, f"problem-answered-{width}", full_page=False)

    card.get_by_role("button", name="New numbers").click()
    expect(card.get_by_label("Your answer")).to_be_visible()
    second = numbers(problem)
    assert second.number == 2
    expect(card.get_by_text(problem.problem_type.prompt(second.params))).to_be_visible()
    card.get_by_label("Your answer").fill(f"{exact(second) * 2:.3f}")
    card.get_by_role("button", name="Check my answer").click()
    expect(card.get_by_text("Not right.", exact=False)).to_be_visible()
    expect(card.get_by_text("the one that counts: right", exact=False)).to_be_visible()
    screenshot(page, f"problem-missed-{width}", full_page=False)
    assert list(ProblemAnswer.objects.order_by("created_at").values_list(
        "correct", "first_try"
    )) == [(True, True), (False, False)]
    assert page.js_errors == []


def test_problems_work_without_javascript(browser, live_server, live_course, screenshot):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    # The lesson runs the calculator's default scenario the first time it is drawn.
    context.set_default_timeout(90_000)
    page = context.new_page()
    problem = Problem.objects.get(slug="p99-sum-overstatement")
    log_in(page, "learner")
    page.goto(problem.lesson.get_absolute_url())
    card = page.locator(f"#problem-{problem.slug}")
    first = numbers(problem)
    card.get_by_label("Your answer").fill(f"{exact(first):.1f}")
    card.get_by_role("button", name="Check my answer").click()
    card = page.locator(f"#problem-{problem.slug}")
    expect(card.get_by_text("Right.", exact=False).first).to_be_visible()
    expect(card.get_by_text("The calculator's chain of", exact=False)).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, "problem-p99-without-javascript", full_page=False)
    card.get_by_role("button", name="New numbers").click()
    card = page.locator(f"#problem-{problem.slug}")
    expect(card.get_by_label("Your answer")).to_be_visible()
    assert numbers(problem).number == 2
    context.close()
