"""Two graders split a queue by claims; one corrects a released grade and the learner is told."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.roles import ensure_instructor_group
from grading import services
from grading.models import Claim, Grade
from tests.conftest import log_in
from tests.grading_factories import make_lesson, make_question, make_submission

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def class_queue(live_course):
    User = get_user_model()
    colleague = User.objects.create_user("colleague", password="critical-path")
    colleague.groups.add(ensure_instructor_group())
    question = make_question(make_lesson("Splitting the queue"),
                             prompt="Should the checkout wait for the payment answer? Why?")
    learner = User.objects.get(username="learner")
    people = [learner, *(User.objects.create_user(f"pupil{n}", password="x" * 12)
                         for n in range(3))]
    return question, [make_submission(person, question, answer=f"Answer of {person.username}.")
                      for person in people]


def test_two_graders_split_the_queue_and_a_correction_reaches_the_learner(
        browser, live_server, page, screenshot, class_queue):
    question, submissions = class_queue
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    other.set_default_timeout(30_000)
    second = other.new_page()
    try:
        log_in(page, "instructor")
        log_in(second, "colleague")
        page.goto("/grading/")
        second.goto("/grading/")
        page.get_by_role("button", name="Claim the next free one").click()
        second.get_by_role("button", name="Claim the next free one").click()
        expect(page.get_by_text("Answer of learner.")).to_be_visible()
        expect(second.get_by_text("Answer of pupil0.")).to_be_visible()
        expect(second.locator(".claim-note")).to_contain_text("you hold it until")

        # The colleague sees who holds what.
        second.goto("/grading/")
        expect(second.locator(".held-badge").first).to_be_visible()
        expect(second.get_by_text("Held by instructor until")).to_be_visible()
        screenshot(second, "grading-split-queue-1280")
        second.set_viewport_size(PHONE)
        screenshot(second, "grading-split-queue-390")
        second.set_viewport_size({"width": 1280, "height": 900})

        # The instructor's "Save and next" skips the colleague's submission.
        page.get_by_label("Score (out of 10)").fill("6")
        page.get_by_label("Feedback for the learner").fill("Say who waits for the answer.")
        page.get_by_role("button", name="Save and release to learner").click()
        expect(page.locator(".grade-status")).to_contain_text("Released")
        page.goto(f"/grading/submissions/{submissions[1].pk}/")
        expect(page.locator(".claim-note")).to_contain_text("Held by colleague")
        page.goto(f"/grading/submissions/{submissions[2].pk}/")
        page.get_by_label("Score (out of 10)").fill("4")
        page.get_by_role("button", name="Save and next").click()
        expect(page.get_by_text("Answer of pupil2.")).to_be_visible()
        holders = {c.submission_id: c.grader.username for c in Claim.objects.all()}
        assert holders == {submissions[1].pk: "colleague", submissions[3].pk: "instructor"}

        # The instructor corrects the released grade, with a reason.
        page.goto(f"/grading/submissions/{submissions[0].pk}/")
        page.get_by_text("Correct this grade").click()
        page.locator("#id_correct_score").fill("8")
        page.locator("#id_correct_reason").fill("I missed that you named the waiting shopper.")
        page.get_by_role("button", name="Correct and tell learner").click()
        expect(page.get_by_text("Corrected learner's grade")).to_be_visible()
        grade = Grade.objects.get(submission=submissions[0])
        assert (grade.score, grade.released) == (Decimal(8), True)
    finally:
        other.close()

    page.get_by_role("button", name="Log out").click()
    log_in(page, "learner")
    page.goto(f"/grading/mine/{submissions[0].pk}/")
    correction = page.locator(".grade-corrected")
    expect(correction).to_contain_text("Grade corrected")
    expect(correction).to_contain_text("6 → 8")
    expect(correction).to_contain_text("I missed that you named the waiting shopper.")
    expect(page.locator(".grade-score")).to_contain_text("8")
    screenshot(page, "grading-correction-learner-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, "grading-correction-learner-390")
    assert services.holder(submissions[0]) is None
    assert page.js_errors == []


def test_an_instructor_edits_a_rubric_and_keeps_a_released_grade_as_graded(
        page, screenshot, class_queue):
    question, submissions = class_queue
    instructor = get_user_model().objects.get(username="instructor")
    grade = services.save_grade(submission=submissions[0], grader=instructor, score=Decimal(4),
                                criteria=["c1"], feedback="", expected_version=0).grade
    services.release_grade(grade=grade, by=instructor)
    log_in(page, "instructor")
    page.goto(f"/grading/submissions/{submissions[1].pk}/")
    page.get_by_role("link", name="Edit this question's rubric and grading options").click()
    rows = page.locator(".criterion-row")
    expect(rows).to_have_count(5)
    blank = rows.nth(3)
    blank.get_by_label("Criterion").fill("States a timeout for the payment call")
    blank.get_by_label("Points").fill("2")
    blank.get_by_label("Position").fill("0")
    page.get_by_role("button", name="Save the rubric").click()
    asked = page.get_by_text("Choose whether the change applies to existing grades.")
    expect(asked).to_be_visible()
    page.get_by_label("Keep the existing grades as they were graded").check()
    page.get_by_label("What changed, and why").fill("Timeouts belong in a good answer.")
    page.get_by_role("button", name="Save the rubric").click()
    expect(page.get_by_text("Existing grades keep the rubric they were given on.")).to_be_visible()
    expect(page.locator(".rubric-history")).to_contain_text(
        "Added “States a timeout for the payment call” (2 pts)")
    expect(page.locator(".criterion-row").first.get_by_label("Criterion")).to_have_value(
        "States a timeout for the payment call")
    screenshot(page, "grading-rubric-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, "grading-rubric-390")
    grade.refresh_from_db()
    assert grade.labels(grade.criteria_met) == ["Names the caller waiting for the answer"]
    # The refused first save answered 422, as a form with errors should; nothing else failed.
    assert [e for e in page.js_errors if "status of 422" not in e] == []
