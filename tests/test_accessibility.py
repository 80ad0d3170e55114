"""The main pages pass axe-core with no serious or critical violations.

axe-core (tests/vendor/axe.min.js, from the npm package) is injected into each page after it
has loaded and after the learner or instructor has done what the page is for, so the checks see
feedback and results too, not only the empty forms. Our Content Security Policy would refuse the
injected script, so these contexts bypass it; every other browser test runs under the policy.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from courseware import services
from courseware.models import Lesson, Problem, ProblemInstance, Question
from drills.models import Drill
from tests.conftest import log_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture
def open_page(browser, live_server, live_course):
    contexts = []

    def make(width: int = 1280):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}, bypass_csp=True
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def violations(page) -> list[dict]:
    page.wait_for_load_state("networkidle")
    # Leave no button half-way through its hover transition under the pointer.
    page.mouse.move(0, 0)
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(
                    (n) => `${n.target.join(" ")}: ${(n.failureSummary || "").slice(0, 240)}`
                ),
            }));
        }"""
    )


def assert_accessible(page, what: str) -> None:
    found = [v for v in violations(page) if v["impact"] in BLOCKING]
    assert not found, f"{what} ({page.url}):\n" + "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']} at {v['nodes']}" for v in found
    )
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("width", [1280, 390])
def test_home_and_a_lesson_with_quick_check_feedback(open_page, width):
    page = open_page(width)
    page.goto("/")
    assert_accessible(page, "home, anonymous")

    lesson = Lesson.objects.filter(quick_checks__isnull=False, embed="").in_order().first()
    assert lesson is not None
    page.goto(lesson.get_absolute_url())
    assert_accessible(page, "lesson")
    check = lesson.quick_checks.filter(multiple=False).first()
    assert check is not None
    card = page.locator(f"#check-{check.slug}")
    wrong = check.options.filter(correct=False).first()
    card.locator(f"#check-{check.slug}-{wrong.key}").check()
    card.get_by_role("button", name="Check", exact=True).click()
    expect(card.get_by_text(check.hint)).to_be_visible()
    assert_accessible(page, "lesson with a quick-check hint")
    card.locator(f"#check-{check.slug}-{check.options.get(correct=True).key}").check()
    card.get_by_role("button", name="Check my second try").click()
    expect(card.get_by_text("Right at the second try.")).to_be_visible()
    assert_accessible(page, "lesson with quick-check feedback")


def test_signed_in_home_lesson_and_written_answer(open_page):
    page = open_page()
    log_in(page, "learner")
    page.wait_for_url("/")
    assert_accessible(page, "home, signed in")

    question = Question.objects.filter(kind=Question.Kind.TEXT).first()
    assert question is not None
    page.goto(f"{question.lesson.get_absolute_url()}#question-{question.slug}")
    card = page.locator(f"#question-{question.slug}")
    card.get_by_label("Your answer").fill("The caller needs the answer, so it waits.")
    card.get_by_role("button", name="Submit answer").click()
    expect(card.get_by_role("heading", name="Model answer")).to_be_visible()
    assert_accessible(page, "lesson after a written answer")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_drill_with_its_feedback(open_page, width):
    page = open_page(width)
    log_in(page, "learner")
    page.wait_for_url("/")
    drill = Drill.objects.in_order().first()
    assert drill is not None
    page.goto(drill.get_absolute_url())
    assert_accessible(page, "drill")

    page.locator("button[type=submit]", has_text="Check my answers").click()
    expect(page.locator("#drill-errors")).to_be_visible()
    assert_accessible(page, "drill with missing answers")

    for label in page.locator("label.btn-choice-sync").all():
        label.click()
    for reason in page.locator("select[id^=id_reason-]").all():
        reason.select_option(index=1)
    page.locator("button[type=submit]", has_text="Check my answers").click()
    expect(page.locator(".drill-result")).to_be_visible()
    assert_accessible(page, "drill with feedback")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_own_workflow_builder(open_page, width):
    page = open_page(width)
    log_in(page, "learner")
    page.wait_for_url("/")
    page.goto("/drills/own/")
    assert_accessible(page, "own-workflow builder")

    page.locator("#id_rows-0-caller").fill("Web")
    page.locator("#id_rows-0-callee").fill("Orders")
    page.locator("label[for='id_rows-0-style_0']").click()
    expect(page.locator("#own-design .design-arrow")).to_have_count(1)
    assert_accessible(page, "own-workflow builder with its design drawn")

    page.get_by_role("button", name="Add an interaction").click()
    expect(page.locator("#id_rows-1-caller")).to_be_focused()
    page.locator("#id_rows-1-caller").fill("Orders")
    page.get_by_role("button", name="Hand in for grading").click()
    expect(page.locator("#own-errors")).to_be_visible()
    assert_accessible(page, "own-workflow builder with errors")


def test_the_simulator_and_its_embed(open_page):
    page = open_page()
    page.goto("/simulator/")
    page.locator(".js-plotly-plot").first.wait_for()
    assert_accessible(page, "simulator")

    lesson = Lesson.objects.exclude(embed="").first()
    assert lesson is not None
    page.goto(lesson.get_absolute_url())
    page.locator(".js-plotly-plot").first.wait_for()
    assert_accessible(page, "lesson with the simulator embedded")


def test_the_grading_pages(open_page, django_user_model):
    learner = django_user_model.objects.get(username="learner")
    question = Question.objects.filter(kind=Question.Kind.TEXT).first()
    assert question is not None
    submission, _ = services.submit_answer(
        learner=learner, question=question,
        answer="Sync, because the user waits for the payment result before the order shows.",
    )
    page = open_page()
    log_in(page, "instructor")
    page.wait_for_url("/")

    page.goto("/grading/")
    assert_accessible(page, "grading queue")
    page.goto(f"/grading/submissions/{submission.pk}/")
    assert_accessible(page, "grading a submission")
    page.goto("/grading/gradebook/")
    assert_accessible(page, "gradebook")


def test_account_and_error_pages(open_page):
    page = open_page()
    for path in ("/accounts/login/", "/accounts/signup/", "/no-such-page/"):
        page.goto(path)
        assert_accessible(page, path)
    page.get_by_role("link", name="Log in", exact=True).click()
    page.get_by_role("button", name="Log in").click()
    assert_accessible(page, "login with errors")


FIGURE_LESSONS = ["two-styles", "why-it-matters", "worked-example", "misconceptions",
                  "latency-math"]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("slug", FIGURE_LESSONS)
def test_each_lesson_with_its_figures(open_page, slug, width):
    page = open_page(width)
    # Lessons 2 and 3 run the outage lab as well; a busy machine needs the time.
    page.set_default_timeout(30_000)
    page.goto(f"/lessons/{slug}/")
    figure = page.locator(".lesson-figure").first
    reading = figure.locator(".figure-reading")
    before = reading.inner_text()
    # Move the figure's first control, so the checks also see a redrawn figure.
    control = figure.locator("input[type=range], input[type=radio]:not(:checked)").first
    if control.get_attribute("type") == "range":
        control.focus()
        control.press("End")
    else:
        control.check()
    expect(reading).not_to_have_text(before)
    for twin in figure.locator("details.figure-twin").all():
        twin.locator("summary").click()
    assert_accessible(page, f"lesson {slug} with its figures")


def test_a_problem_with_its_form_error_and_worked_solution(open_page):
    page = open_page(390)
    log_in(page, "learner")
    page.wait_for_url("/")
    problem = Problem.objects.get(slug="check-fan-out")
    page.goto(f"{problem.lesson.get_absolute_url()}#problem-{problem.slug}")
    card = page.locator(f"#problem-{problem.slug}")
    assert_accessible(page, "lesson with a problem")
    card.get_by_label("Your answer").fill("lots")
    card.get_by_role("button", name="Check my answer").click()
    expect(card.get_by_text("is not a number")).to_be_visible()
    assert_accessible(page, "problem with a form error")
    instance = ProblemInstance.objects.get(problem=problem)
    card.get_by_label("Your answer").fill(f"{problem.problem_type.answer(instance.params):.3f}")
    card.get_by_role("button", name="Check my answer").click()
    expect(card.get_by_role("heading", name="Worked solution with your numbers")).to_be_visible()
    assert_accessible(page, "problem with its worked solution")
