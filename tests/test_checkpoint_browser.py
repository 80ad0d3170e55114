"""A learner takes the whole final checkpoint, some answers right and some wrong, and sees where
they stand and what to review; with JavaScript and without it."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from courseware.models import Checkpoint, Problem, ProblemInstance, QuickCheck
from drills.models import Interaction
from tests.conftest import log_in

pytestmark = pytest.mark.browser


def learner():
    return get_user_model().objects.get(username="learner")


def answer_quick_check(card, slug: str, *, right: bool) -> None:
    check = QuickCheck.objects.get(slug=slug)
    options = check.options.filter(correct=right)
    for option in options if right else options[:1]:
        card.get_by_label(option.text, exact=True).check()
    card.get_by_role("button", name="Check", exact=True).click()


def answer_problem(card, slug: str, *, right: bool) -> None:
    problem = Problem.objects.get(slug=slug)
    problem_type = problem.problem_type
    assert problem_type is not None
    # The numbers shown are the newest set drawn for the learner when the item was asked.
    instance = ProblemInstance.objects.of(learner(), problem).current()
    assert instance is not None
    truth = problem_type.answer(instance.params)
    card.get_by_label("Your answer").fill(repr(truth) if right else f"{truth * 5 + 11:.4f}")
    card.get_by_role("button", name="Check my answer").click()


def answer_interaction(card, ref: str, *, right: bool) -> None:
    interaction = Interaction.objects.get(pk=int(ref))
    choice = "async" if interaction.answer == "async" else "sync"
    if not right:
        choice = "sync" if choice == "async" else "async"
    card.locator(f"label.btn-choice-{choice}").click()
    card.get_by_role("button", name="Check", exact=True).click()


ANSWER = {
    "quick-check": answer_quick_check,
    "problem": answer_problem,
    "drill-interaction": answer_interaction,
}


def to_miss(items: list[dict]) -> set[int]:
    """One item of each kind, each one that has a wrong answer to give."""
    missed: dict[str, int] = {}
    for position, item in enumerate(items):
        if item["kind"] in missed:
            continue
        if item["kind"] == "drill-interaction":
            if Interaction.objects.get(pk=int(item["ref"])).answer == "either":
                continue
        missed[item["kind"]] = position
    return set(missed.values())


def journey(page, screenshot, name: str) -> None:
    log_in(page, "learner")
    page.get_by_role("link", name="Final checkpoint").click()
    expect(page.get_by_role("heading", name="Final checkpoint")).to_be_visible()
    page.get_by_role("button", name="Start the checkpoint").click()

    own = Checkpoint.objects.get(learner=learner(), finished_at__isnull=True)
    items, total = own.items, len(own.items)
    missed = to_miss(items)
    assert len(missed) == 3, items
    for position, item in enumerate(items):
        card = page.locator("#checkpoint-card")
        expect(card.get_by_text(f"Question {position + 1} of {total}", exact=False)).to_be_visible()
        if position == 0:
            screenshot(page, f"checkpoint-question-{name}")
        right = position not in missed
        ANSWER[item["kind"]](card, item["ref"], right=right)
        verdict = page.locator("#checkpoint-card [role=status]")
        expect(verdict).to_contain_text(
            "Right." if right else "Not right. It is in your review now.")
        if not right and item["kind"] == "problem":
            screenshot(page, f"checkpoint-missed-problem-{name}")
        last = position + 1 == total
        verdict.get_by_role("link", name="See where you stand" if last else "Next question").click()

    expect(page.get_by_role("heading", name="Where you stand")).to_be_visible()
    expect(page.get_by_test_id("checkpoint-score")).to_have_text(
        f"You got {total - 3} of {total} right ({round(100 * (total - 3) / total)}%)."
    )
    expect(page.get_by_role("heading", name="This checkpoint by deciding question")).to_be_visible()
    expect(page.get_by_role("heading", name="Lessons to go back to")).to_be_visible()
    review = page.get_by_role("list", name="Items to review")
    expect(review.get_by_role("listitem")).to_have_count(3)
    for label in ("Quick check", "Problem", "Drill interaction"):
        expect(review.get_by_text(label, exact=False)).to_have_count(1)
    # Each missed item leads to where it is taught.
    expect(review.get_by_role("link")).to_have_count(3)
    expect(page.get_by_role("heading", name="Your mastery")).to_be_visible()
    screenshot(page, f"checkpoint-result-{name}")

    page.get_by_role("link", name="Go to your review").click()
    expect(page.get_by_role("heading", name="Due now")).to_contain_text("3")
    own.refresh_from_db()
    assert own.finished_at is not None and own.answers.count() == total


@pytest.mark.parametrize("width", [1280, 390])
def test_a_learner_takes_the_whole_checkpoint_and_sees_what_to_review(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey(page, screenshot, f"js-{width}")
    assert page.js_errors == []


def test_the_whole_checkpoint_works_without_javascript(nojs_page, screenshot):
    journey(nojs_page, screenshot, "nojs")
    assert nojs_page.js_errors == []
