"""A due date per section, an extension, a late hand-in with its penalty, a release at a set time.

The release is set from the grading page for a few seconds ahead and sent out by the real
database task worker once that time has passed.
"""

import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from courseware.models import Course, Section
from courseware.services import enroll
from grading import services
from grading.assessments import from_question
from grading.models import Grade, ScheduledRelease
from tests.conftest import log_in
from tests.grading_factories import make_lesson, make_question, make_submission
from tests.test_accessibility import assert_accessible, open_page  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def both_widths(page, screenshot, name: str) -> None:
    screenshot(page, f"deadlines-{name}-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, f"deadlines-{name}-390")
    page.set_viewport_size(DESKTOP)


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def local(when, seconds: bool = False) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M:%S" if seconds else
                                             "%Y-%m-%dT%H:%M")


@pytest.fixture
def spring(live_course, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default"]}}
    course = Course.objects.first()
    section = Section.objects.create(course=course, slug="spring-a", title="Spring A")
    learner = get_user_model().objects.get(username="learner")
    kim = get_user_model().objects.create_user("kim", password="x" * 12)
    for person in (learner, kim):
        enroll(section=section, user=person)
    question = make_question(make_lesson("Choosing per interaction"),
                             prompt="The checkout calls payments. Should it wait? Why?")
    return section, question, kim


def test_due_date_extension_late_penalty_and_a_scheduled_release(page, screenshot, spring):
    section, question, kim = spring
    # The instructor sets the due date nearly two days back, and gives kim more time.
    log_in(page, "instructor")
    page.goto("/grading/deadlines/")
    form = page.locator("form.due-date-form")
    form.get_by_label("Section").select_option("spring-a")
    form.get_by_label("Question or drill").select_option(f"q-{question.slug}")
    form.get_by_label("Due").fill(local(timezone.now() - timedelta(days=2, minutes=-10)))
    form.get_by_label("Late penalty per day (%)").fill("10")
    form.get_by_label("Most a late hand-in can lose (%)").fill("50")
    form.get_by_role("button", name="Save due date").click()
    expect(page.get_by_text("is due for Spring A")).to_be_visible()
    extension = page.locator("form.extension-form")
    extension.get_by_label("Learner (username)").fill("kim")
    extension.get_by_label("Question or drill").select_option(f"q-{question.slug}")
    extension.get_by_label("New due date").fill(local(timezone.now() + timedelta(days=3)))
    extension.get_by_label("Reason (for instructors)").fill("Away for a family event")
    extension.get_by_role("button", name="Grant extension").click()
    expect(page.get_by_text("kim now has until")).to_be_visible()
    expect(page.locator("table.due-dates")).to_contain_text("10% a day, at most 50%")
    both_widths(page, screenshot, "page")
    log_out(page)

    # The learner hands in now, two days late; kim hands in within the extension.
    log_in(page, "learner")
    page.goto(f"/lessons/{question.lesson.slug}/")
    card = page.locator(f"#question-{question.slug}")
    card.get_by_label("Your answer").fill("Sync: the shopper waits for the payment answer.")
    card.get_by_role("button", name="Submit answer").click()
    expect(card.get_by_text("Awaiting grading")).to_be_visible()
    log_out(page)
    make_submission(kim, question, answer="Sync, because the shopper is waiting.")

    # The instructor sees the late hand-in in the section's queue, with its penalty.
    log_in(page, "instructor")
    page.goto("/grading/?section=spring-a")
    late_item = page.locator(".queue-item", has_text="learner")
    expect(late_item.locator(".queue-late")).to_have_text("Late −20%")
    expect(page.locator(".queue-item", has_text="kim").locator(".queue-late")).to_have_count(0)
    both_widths(page, screenshot, "queue")
    late_item.get_by_role("link", name=re.compile("Should it wait")).click()
    expect(page.locator(".lateness")).to_contain_text("Late penalty: 20% off")
    page.get_by_label(re.compile(r"Score \(out of 10\)")).fill("8")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved learner's grade as a draft")).to_be_visible()
    expect(page.locator(".lateness")).to_contain_text("8 counts as 6.4")

    # It is set to go out a few seconds from now, exactly as it stands.
    release_at = timezone.now() + timedelta(seconds=6)
    schedule = page.locator("#schedule")
    schedule.get_by_label("Release at").fill(local(release_at, seconds=True))
    schedule.get_by_role("button", name="Schedule release").click()
    expect(page.get_by_text("grade will be released on")).to_be_visible()
    expect(page.locator(".scheduled-release")).to_contain_text("Release set for")
    both_widths(page, screenshot, "scheduled")
    grade = Grade.objects.get(submission__learner__username="learner")
    assert not grade.released

    # The worker takes the task only once its time has come, then releases that grade.
    time.sleep(max(0.0, (release_at - timezone.now()).total_seconds()) + 0.5)
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0",
                 stdout=io.StringIO(), stderr=io.StringIO())
    grade.refresh_from_db()
    assert grade.released
    assert ScheduledRelease.objects.get().outcome == "released"
    page.goto("/grading/scheduled/")
    expect(page.locator("tr.scheduled-released")).to_contain_text("Released")
    page.goto("/grading/gradebook/?section=spring-a")
    expect(page.locator(".section-roster")).to_contain_text("kim")
    expect(page.locator("table.gradebook")).to_contain_text("6.4")
    both_widths(page, screenshot, "gradebook")
    log_out(page)

    # The learner sees the grade, marked late, with what the penalty took.
    log_in(page, "learner")
    page.goto("/grading/mine/")
    expect(page.get_by_text("Late −20%")).to_be_visible()
    page.get_by_role("link", name=re.compile("Should it wait")).click()
    expect(page.locator(".lateness")).to_contain_text("handed in 1 d 23 h late")
    expect(page.locator(".counted-score")).to_contain_text("Counts as 6.4")
    both_widths(page, screenshot, "learner")
    assert page.js_errors == []


def test_deadline_pages_pass_axe(open_page, spring):  # noqa: F811 (the fixture imported above)
    section, question, kim = spring
    instructor = get_user_model().objects.get(username="instructor")
    assessment = from_question(question)
    services.set_due_date(section=section, assessment=assessment,
                          due_at=timezone.now() - timedelta(days=1), by=instructor)
    services.grant_extension(learner=kim, assessment=assessment,
                             due_at=timezone.now() + timedelta(days=1), by=instructor)
    learner = get_user_model().objects.get(username="learner")
    submission = make_submission(learner, question)
    result = services.save_grade(submission=submission, grader=instructor, score=Decimal(5),
                                 criteria=[], feedback="", expected_version=0)
    services.schedule_releases(listed={result.grade.pk: result.grade.version},
                               release_at=timezone.now() + timedelta(days=1), by=instructor)
    for width in (1280, 390):
        page = open_page(width)
        log_in(page, "instructor")
        page.wait_for_url("/")
        for url, what in (("/grading/deadlines/", "deadlines"),
                          ("/grading/scheduled/", "scheduled releases"),
                          ("/grading/gradebook/?section=spring-a", "gradebook of a section"),
                          (f"/grading/submissions/{submission.pk}/", "late submission"),
                          ("/grading/?section=spring-a", "queue of a section")):
            page.goto(url)
            assert_accessible(page, f"{what} at {width}")
