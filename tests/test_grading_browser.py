import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from grading import services
from grading.models import Grade, GradeChange, Submission
from tests.conftest import log_in
from tests.grading_factories import (
    make_attempt,
    make_drill,
    make_lesson,
    make_question,
    make_submission,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def both_widths(page, screenshot, name: str) -> None:
    screenshot(page, f"grading-{name}-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, f"grading-{name}-390")
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def question(live_course):
    lesson = make_lesson("Choosing per interaction")
    return make_question(
        lesson, prompt="The checkout calls payments. Should it wait for the answer? Why?"
    )


@pytest.fixture
def drill_answers(live_course, django_user_model):
    """A few drill attempts, so the class statistics have misconceptions to chart."""
    drill = make_drill(title="Food delivery order")
    for i in range(4):
        person = django_user_model.objects.create_user(f"drill-taker-{i}", password="x" * 12)
        wrong_email = "sync" if i % 2 else "async"
        make_attempt(drill, person, [("async", "Payment can wait"), (wrong_email, "Mail"),
                                     ("async", "Stats are bookkeeping")])
    return drill


def test_instructor_grades_and_releases_and_the_learner_sees_it(
    page, screenshot, question, drill_answers
):
    # The learner answers the question on its lesson page.
    log_in(page, "learner")
    page.goto(f"/lessons/{question.lesson.slug}/")
    card = page.locator(f"#question-{question.slug}")
    card.get_by_label("Your answer").fill(
        "Sync: the shopper waits for <b>the payment</b> before the order is confirmed."
    )
    card.get_by_role("button", name="Submit answer").click()
    expect(card.get_by_text("Awaiting grading")).to_be_visible()
    log_out(page)

    # The instructor finds it in the queue and grades it with the rubric and feedback.
    log_in(page, "instructor")
    page.get_by_role("link", name="Grading").click()
    expect(page.get_by_role("heading", name="Grading queue")).to_be_visible()
    both_widths(page, screenshot, "queue")
    page.locator("#queue-results").get_by_role(
        "link", name=re.compile("Should it wait for the answer")
    ).click()
    expect(page.get_by_role("heading", name="Grade this answer")).to_be_visible()
    # The learner's markup is shown as text, never run or rendered.
    expect(page.locator(".learner-answer")).to_contain_text("<b>the payment</b>")

    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("1")  # keyboard shortcut: first criterion
    page.get_by_label(re.compile("Picks async for the bookkeeping step")).check()
    expect(page.get_by_label(re.compile("Names the caller"))).to_be_checked()
    expect(page.get_by_label("Score (out of 10)")).to_have_value("7")

    page.get_by_label("New saved comment").fill("Say what the user sees while payments is down.")
    page.get_by_role("button", name="Save comment").click()
    snippets = page.locator("#snippets")
    expect(snippets.get_by_text("Say what the user sees while payments is down.")).to_be_visible()
    feedback = page.get_by_label("Feedback for the learner")
    feedback.fill("Right call, and **well argued**.")
    snippets.get_by_role("button", name="Insert").click()
    expect(feedback).to_have_value(
        "Right call, and **well argued**.\n\nSay what the user sees while payments is down."
    )
    both_widths(page, screenshot, "grade-form")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved learner's grade as a draft (7).")).to_be_visible()
    grade = Grade.objects.get(submission__learner__username="learner")
    assert (grade.score, grade.criteria_met, grade.released) == (Decimal(7), ["c1", "c3"], False)

    # Edits made after the draft was saved are saved with the release, not dropped.
    page.get_by_label("Score (out of 10)").fill("7.5")
    feedback.fill("Right call, and **well argued**. Half a point for the fallback.")
    page.get_by_role("button", name="Save and release to learner").click()
    expect(page.get_by_text("Saved and released learner's grade (7.5).")).to_be_visible()
    expect(page.get_by_role("heading", name="Released grade")).to_be_visible()
    both_widths(page, screenshot, "released")
    grade.refresh_from_db()
    assert (grade.score, grade.released) == (Decimal("7.5"), True)
    assert grade.feedback_markdown.endswith("Half a point for the fallback.")
    assert list(GradeChange.objects.filter(grade=grade).values_list("action", flat=True)) == [
        "released", "edited", "created",
    ]

    page.get_by_role("link", name="Grading queue").click()
    page.get_by_role("link", name="Gradebook").click()
    expect(page.get_by_role("heading", name="Gradebook")).to_be_visible()
    both_widths(page, screenshot, "gradebook")
    page.get_by_role("link", name="Statistics").click()
    expect(page.locator(".misconceptions-chart .main-svg").first).to_be_visible()
    expect(page.get_by_role("cell", name="orders → email")).to_be_visible()
    screenshot(page, "grading-statistics-1280")
    # A phone draws the chart at its own width.
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator(".misconceptions-chart .main-svg").first).to_be_visible()
    screenshot(page, "grading-statistics-390")
    page.set_viewport_size(DESKTOP)

    # A drill attempt: the auto-grade, the justifications, and the identical answers.
    page.get_by_role("link", name="Queue").click()
    page.locator("#queue-results").get_by_role("link", name="Food delivery order").first.click()
    expect(page.get_by_text("Automatic score:")).to_be_visible()
    # Identical drill answers are graded once unless the grader unticks it.
    expect(page.get_by_label(re.compile("Also apply this grade to the 1 other submission"))) \
        .to_be_checked()
    both_widths(page, screenshot, "drill")
    log_out(page)

    # The learner sees a badge, then the score, the rubric and the feedback.
    log_in(page, "learner")
    nav_link = page.get_by_role("link", name=re.compile("My submissions"))
    expect(nav_link).to_contain_text("1")
    nav_link.click()
    expect(page.get_by_text("New grade", exact=True)).to_be_visible()
    both_widths(page, screenshot, "my-submissions")
    page.get_by_role("link", name=re.compile("Should it wait for the answer")).click()
    expect(page.locator(".grade-score")).to_contain_text("7.5")
    expect(page.locator(".feedback strong")).to_have_text("well argued")
    expect(page.get_by_text("Half a point for the fallback.")).to_be_visible()
    expect(page.locator(".rubric-result")).to_contain_text("Names the caller waiting")
    both_widths(page, screenshot, "my-submission")
    # Opened, so the navbar badge is gone.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My submissions", exact=True)).to_be_visible()
    assert Grade.objects.get(pk=grade.pk).seen_at is not None
    assert Submission.objects.get(pk=grade.submission_id).status == "returned"
    assert page.js_errors == []


def test_save_and_next_walks_the_queue_with_htmx(page, screenshot, question, django_user_model):
    for name in ("first-learner", "second-learner"):
        person = django_user_model.objects.create_user(name, password="x" * 12)
        make_submission(person, question, answer=f"Answer by {name}")
    log_in(page, "instructor")
    page.goto("/grading/")
    queue = page.locator("#queue-results")
    queue.get_by_role("link", name=re.compile("Should it wait")).first.click()
    expect(page.locator(".learner-answer")).to_have_text("Answer by first-learner")
    page.get_by_label("Score (out of 10)").fill("4")
    page.get_by_label("Score (out of 10)").press("Control+Enter")  # shortcut: save and next
    expect(page.locator(".learner-answer")).to_have_text("Answer by second-learner")
    expect(page.get_by_text("Saved first-learner's grade as a draft (4).")).to_be_visible()
    assert re.search(r"/grading/submissions/\d+/$", page.url)
    page.get_by_label("Score (out of 10)").fill("twelve")
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Enter the score as a number")).to_be_visible()
    screenshot(page, "grading-form-error-1280")
    page.get_by_label("Score (out of 10)").fill("9")
    page.get_by_role("button", name="Save and next").click()
    expect(page).to_have_url(re.compile(r"/grading/\?$"))
    expect(page.get_by_text("Nothing else is waiting in this queue.")).to_be_visible()
    assert sorted(Grade.objects.values_list("score", flat=True)) == [4, 9]
    assert page.js_errors == []


def test_ticking_the_rubric_keeps_a_typed_score(page, question, learner_and_snippet):
    submission = learner_and_snippet
    log_in(page, "instructor")
    page.goto(f"/grading/submissions/{submission.pk}/")
    score = page.get_by_label("Score (out of 10)")
    # The no-JavaScript comment picker gives way to the Insert buttons.
    expect(page.get_by_role("button", name="Insert")).to_be_visible()
    expect(page.get_by_label("Add a saved comment")).to_be_hidden()

    # An empty score follows the rubric, and keeps following it while untouched.
    page.get_by_label(re.compile("Names the caller")).check()
    expect(score).to_have_value("4")
    page.get_by_label(re.compile("Picks async for the bookkeeping step")).check()
    expect(score).to_have_value("7")

    # A typed score is the grader's: ticking shows the rubric total beside it instead.
    score.fill("7.5")
    page.get_by_label(re.compile("Says what happens when the callee is down")).check()
    expect(score).to_have_value("7.5")
    hint = page.locator("[data-rubric-sum]")
    expect(hint).to_contain_text("The ticked criteria add up to 10; your score of 7.5 is kept.")
    page.screenshot(path=str(Path(__file__).parent / "artifacts" / "grading-rubric-hint.png"))
    hint.get_by_role("button", name="Use 10").click()
    expect(score).to_have_value("10")
    expect(hint).to_be_empty()

    page.get_by_label(re.compile("Says what happens when the callee is down")).uncheck()
    expect(score).to_have_value("7")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved learner's grade as a draft (7).")).to_be_visible()
    assert page.js_errors == []


def test_releasing_every_draft_asks_first(page, screenshot, question, django_user_model):
    instructor = django_user_model.objects.get(username="instructor")
    for name, score in (("first-learner", 4), ("second-learner", 9)):
        person = django_user_model.objects.create_user(name, password="x" * 12)
        services.save_grade(submission=make_submission(person, question), grader=instructor,
                            score=Decimal(score), criteria=[], feedback="", expected_version=0)
    log_in(page, "instructor")
    page.goto("/grading/?status=graded")
    page.get_by_role("link", name="Release 2 drafts…").click()
    heading = page.get_by_role("heading", name=re.compile("Release 2 draft grades of"))
    expect(heading).to_be_visible()
    expect(page.get_by_role("cell", name="second-learner")).to_be_visible()
    assert Grade.objects.released().count() == 0
    both_widths(page, screenshot, "release-all")
    page.get_by_role("button", name="Release 2 grades").click()
    expect(page.get_by_text(re.compile("Released 2 grades of"))).to_be_visible()
    assert Grade.objects.released().count() == 2
    assert page.js_errors == []


@pytest.fixture
def learner_and_snippet(question, django_user_model):
    learner = django_user_model.objects.get(username="learner")
    instructor = django_user_model.objects.get(username="instructor")
    submission = make_submission(learner, question, answer="Sync, the shopper waits.")
    services.add_snippet(submission=submission, author=instructor, text="Name the fallback.")
    return submission


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => ["serious", "critical"].includes(v.impact))
            .map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)"""
    )
    return [f"{page.url}: {item}" for item in found]


@pytest.mark.parametrize("width", [1280, 390])
def test_grading_pages_pass_axe(browser, live_server, live_course, question, drill_answers,
                                django_user_model, width):
    learner = django_user_model.objects.get(username="learner")
    instructor = django_user_model.objects.get(username="instructor")
    submission = make_submission(learner, question, answer="<b>Sync</b>, the user waits.")
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(5),
                                criteria=["c1"], feedback="**Good**", expected_version=0).grade
    services.release_grade(grade=grade, by=instructor)
    drill_submission = drill_answers.attempts.first().submission
    found = []
    for username, paths in (
        ("instructor", [
            "/grading/", "/grading/?status=all", f"/grading/submissions/{submission.pk}/",
            f"/grading/submissions/{drill_submission.pk}/", "/grading/gradebook/",
            "/grading/gradebook/statistics/",
        ]),
        ("learner", ["/grading/mine/", f"/grading/mine/{submission.pk}/",
                     question.lesson.get_absolute_url()]),
    ):
        # axe is injected into the page, which our script-src policy would refuse.
        context = browser.new_context(base_url=live_server.url, bypass_csp=True,
                                      viewport={"width": width, "height": 900})
        page = context.new_page()
        log_in(page, username)
        page.wait_for_url("/")
        for path in paths:
            page.goto(path)
            found += serious_violations(page)
        context.close()
    assert found == []


def test_a_refused_save_keeps_the_text_and_a_correction_reaches_the_learner(
    page, screenshot, question, django_user_model
):
    learner = django_user_model.objects.get(username="learner")
    colleague = django_user_model.objects.create_user("colleague", password="x" * 12)
    submission = make_submission(learner, question, answer="Sync, because the shopper waits.")
    log_in(page, "instructor")
    page.goto(f"/grading/submissions/{submission.pk}/")
    expect(page.get_by_role("heading", name="Grade this answer")).to_be_visible()
    # While the page is open, a colleague grades and releases the same answer.
    grade = services.save_grade(
        submission=submission, grader=colleague, score=Decimal(4), criteria=["c1"],
        feedback="Released by a colleague.", expected_version=0,
    ).grade
    services.release_grade(grade=grade, by=colleague)
    paragraph = "A long paragraph about why the payment hop is on the critical path."
    page.get_by_label("Feedback for the learner").fill(paragraph)
    page.locator("#id_score").fill("7")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Not saved: this grade was released meanwhile")) \
        .to_be_visible()
    expect(page.get_by_label("Feedback for the learner")).to_have_value(paragraph)
    expect(page.locator(".conflict-feedback")).to_contain_text("Released by a colleague.")
    screenshot(page, "grading-refused-save-1280")
    assert Grade.objects.get(pk=grade.pk).feedback_markdown == "Released by a colleague."

    # The instructor corrects the released grade openly, with a reason.
    page.goto(f"/grading/submissions/{submission.pk}/")
    page.get_by_text("Correct this grade").click()
    page.locator("#id_correct_score").fill("7")
    page.locator("#id_correct_feedback").fill(paragraph)
    page.locator("#id_correct_reason").fill("Your second paragraph names the waiting caller.")
    page.get_by_role("button", name="Correct and tell learner").click()
    expect(page.get_by_text("Corrected learner's grade; they are told why.")).to_be_visible()
    screenshot(page, "grading-corrected-1280")
    log_out(page)
    log_in(page, "learner")
    page.goto(f"/grading/mine/{submission.pk}/")
    expect(page.locator(".grade-corrected")).to_contain_text("Grade corrected")
    expect(page.locator(".grade-corrected")).to_contain_text("names the waiting caller")
    expect(page.locator(".grade-score")).to_contain_text("7")
    screenshot(page, "grading-learner-sees-correction-1280")
    assert not page.js_errors


def test_a_new_maximum_reaches_released_grades_and_anonymous_drafts_stay_hidden(
        page, screenshot, question, django_user_model):
    learner = django_user_model.objects.get(username="learner")
    instructor = django_user_model.objects.get(username="instructor")
    submission = make_submission(learner, question, answer="Sync: the shopper waits.")
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(10),
                                criteria=["c1", "c2", "c3"], feedback="", expected_version=0)
    services.release_grade(grade=grade.grade, by=instructor)
    writer = django_user_model.objects.create_user("quiet-writer", password="x" * 12)
    services.set_anonymous(question=question, by=instructor, anonymous=True)
    services.save_grade(submission=make_submission(writer, question), grader=instructor,
                        score=Decimal("6.5"), criteria=[], feedback="", expected_version=0)

    log_in(page, "instructor")
    page.goto(f"/grading/rubrics/{question.slug}/")
    page.get_by_label("Maximum score").fill("8")
    page.get_by_label(re.compile("Keep the existing grades")).check()
    page.get_by_label("What changed, and why").fill("The third point is now a bonus.")
    page.get_by_role("button", name="Save the rubric").click()
    expect(page.get_by_text("must be applied to the existing grades")).to_be_visible()
    expect(page.get_by_label("Maximum score")).to_have_value("8")
    page.get_by_label(re.compile("Apply the change")).check()
    page.get_by_role("button", name="Save the rubric").click()
    expect(page.get_by_text(re.compile("Rubric saved and applied"))).to_be_visible()
    expect(page.get_by_text("Maximum score: 10 → 8")).to_be_visible()
    both_widths(page, screenshot, "rubric-maximum")

    page.goto("/grading/gradebook/")
    row = page.get_by_role("row", name=re.compile("quiet-writer"))
    expect(row.get_by_text("hidden", exact=True)).to_be_visible()
    expect(row).not_to_contain_text("6.5")
    both_widths(page, screenshot, "gradebook-anonymous")
    log_out(page)

    log_in(page, "learner")
    page.goto(f"/grading/mine/{submission.pk}/")
    expect(page.locator(".grade-score")).to_have_text(re.compile(r"8\s+out of 8"))
    expect(page.locator(".grade-corrected")).to_contain_text("10 → 8")
    expect(page.locator(".grade-corrected")).to_contain_text("now out of 8 instead of 10")
    screenshot(page, "grading-learner-new-maximum-1280")
    # The refused save answered 422, which the browser reports; nothing else may.
    assert [e for e in page.js_errors if "status of 422" not in e] == []
