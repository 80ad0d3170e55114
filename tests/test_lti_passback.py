"""Grades back to the platform: queued with the release, sent by the task worker, retried,
dead-lettered and retried by an instructor; the learner's grade never depends on it."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from lti_tool.models import LtiContext, LtiLineItem, LtiUser

from grading import services as grading
from grading.models import Grade
from lti import passback
from lti.models import ScorePost
from tests.grading_factories import make_question, make_submission
from tests.lti_helpers import launch
from tests.lti_platform import LTI, SCORE_TYPE

# The worker closes its database connection between tasks, as a long-lived process must; so
# what it reads is committed first, as it is in production.
pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    """Process every task that is due, as `manage.py db_worker` does, then stop."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def fast_retries(settings):
    settings.LTI_PASSBACK_BACKOFF_SECONDS = 0
    settings.LTI_PASSBACK_ATTEMPTS = 3


@pytest.fixture
def question(db):
    return make_question(max_score=10)


@pytest.fixture
def lms_learner(client, tool_urls, platform, question):
    """A learner who opened the question from the platform's graded assignment."""
    lineitem = platform.lineitem_url("item-1")
    response = launch(client, tool_urls, platform, claims=lambda c: {
        **c, LTI + "custom": {"target": f"question:{question.slug}"},
        **platform.ags_claim(lineitem),
    })
    assert response.status_code == 302
    client.logout()
    return LtiUser.objects.get(sub="learner-1").auth_user


def release(submission, instructor, score: str = "7") -> Grade:
    result = grading.save_and_release(
        submission=submission, grader=instructor, score=Decimal(score), criteria=["c1", "c2"],
        feedback="Good reasoning.", expected_version=0,
    )
    return result.grade


def test_the_launch_records_the_line_item_of_the_graded_assignment(lms_learner, question,
                                                                    platform):
    item = LtiLineItem.objects.get()
    assert item.url == platform.lineitem_url("item-1")
    assert item.resource_id == f"q-{question.slug}" and item.maximum_score == 10


def test_release_queues_the_score_and_the_worker_posts_it(lms_learner, question, instructor,
                                                          platform):
    grade = release(make_submission(lms_learner, question), instructor)
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.PENDING
    # Nothing went out while releasing: the request only queued the work.
    assert platform.scores == [] and platform.token_requests == []
    assert DBTaskResult.objects.filter(task_path="lti.tasks.post_score").count() == 1

    run_worker()

    post.refresh_from_db()
    assert post.status == ScorePost.Status.SENT and post.sent_score == Decimal("7")
    [score] = platform.scores
    assert score.path == "/course-101/lineitems/item-1/scores"
    assert score.headers["Content-Type"] == SCORE_TYPE
    body = dict(score.body)
    assert body.pop("timestamp")
    assert body == {"userId": "learner-1", "scoreGiven": 7.0, "scoreMaximum": 10.0,
                    "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
    [token_request] = platform.token_requests
    assert token_request["grant_type"] == "client_credentials"
    assert "lti-ags/scope/score" in token_request["scope"]
    header = jwt.get_unverified_header(token_request["client_assertion"])
    assert header["kid"] in {k["kid"] for k in platform.tool_jwks["keys"]}
    assert Grade.objects.get(pk=grade.pk).released


def test_a_correction_sends_the_corrected_score(lms_learner, question, instructor, platform):
    grade = release(make_submission(lms_learner, question), instructor)
    run_worker()
    grading.correct_grade(grade=grade, by=instructor, score=Decimal("9"),
                          criteria=["c1", "c2", "c3"],
                          feedback="Better on a second look.", reason="Missed a point.",
                          expected_version=grade.version)
    run_worker()
    assert [s.body["scoreGiven"] for s in platform.scores] == [7.0, 9.0]
    assert ScorePost.objects.get().sent_score == Decimal("9")


def test_a_draft_sends_nothing(lms_learner, question, instructor, platform):
    grading.save_grade(submission=make_submission(lms_learner, question), grader=instructor,
                       score=Decimal(5), criteria=[], feedback="", expected_version=0)
    run_worker()
    assert not ScorePost.objects.exists() and platform.scores == []


def test_a_learner_from_no_platform_has_nothing_sent(learner, question, instructor, platform,
                                                     tool_urls):
    release(make_submission(learner, question), instructor)
    assert not ScorePost.objects.exists()


def test_a_failing_platform_is_retried_then_dead_lettered_then_retried_from_the_page(
        lms_learner, question, instructor, instructor_client, platform, fast_retries):
    grade = release(make_submission(lms_learner, question), instructor)
    platform.fail(503, 100)
    run_worker()
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.DEAD and post.attempts == 3
    assert "token endpoint answered HTTP 503" in post.last_error
    assert platform.scores == []
    # The learner's grade is as released.
    assert Grade.objects.get(pk=grade.pk).released
    assert Grade.objects.get(pk=grade.pk).score == Decimal("7")

    home = instructor_client.get(reverse("courseware:home"))
    assert "1 grade not received by the learning platform" in home.content.decode()
    page = instructor_client.get(reverse("lti:passbacks"))
    assert page.status_code == 200
    assert "token endpoint answered HTTP 503" in page.content.decode()

    platform.fail(0, 0)
    response = instructor_client.post(reverse("lti:retry_passback", args=[post.pk]))
    assert response.status_code == 302
    assert platform.scores == []
    run_worker()
    post.refresh_from_db()
    assert post.status == ScorePost.Status.SENT
    assert [s.body["scoreGiven"] for s in platform.scores] == [7.0]


def test_a_score_endpoint_error_is_named_too(lms_learner, question, instructor, platform,
                                             fast_retries, settings):
    settings.LTI_PASSBACK_ATTEMPTS = 1
    release(make_submission(lms_learner, question), instructor)
    platform.score_status = 422
    run_worker()
    assert len(platform.token_requests) == 1
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.DEAD
    assert "score endpoint answered HTTP 422" in post.last_error


def test_a_platform_that_does_not_answer_in_time_is_given_up_on(lms_learner, question,
                                                                instructor, platform,
                                                                fast_retries, settings):
    settings.LTI_PASSBACK_ATTEMPTS = 1
    settings.LTI_HTTP_TIMEOUT_SECONDS = 0.3
    platform.delay = 1.5
    release(make_submission(lms_learner, question), instructor)
    run_worker()
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.DEAD
    assert "did not answer within 0.3 s" in post.last_error


def test_a_failed_try_waits_longer_each_time(lms_learner, question, instructor, platform,
                                             settings):
    settings.LTI_PASSBACK_BACKOFF_SECONDS = 30
    assert [passback.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    release(make_submission(lms_learner, question), instructor)
    platform.fail(500, 1)
    before = timezone.now()
    run_worker()
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.PENDING and post.attempts == 1
    waiting = DBTaskResult.objects.filter(status="READY").get()
    assert before + timedelta(seconds=29) <= waiting.run_after <= timezone.now() + timedelta(
        seconds=31)
    # Not due yet, so a worker leaves it alone.
    run_worker()
    assert ScorePost.objects.get().attempts == 1


def test_releasing_in_the_browser_never_waits_for_the_platform(
        lms_learner, question, instructor_client, platform):
    platform.delay = 3
    submission = make_submission(lms_learner, question)
    started = time.monotonic()
    response = instructor_client.post(reverse("grading:grade", args=[submission.pk]), {
        "score": "6", "criteria": ["c1"], "feedback": "Fine.", "version": "0",
        "action": "release",
    })
    assert time.monotonic() - started < 2
    assert response.status_code in (200, 302)
    assert Grade.objects.get(submission=submission).released
    assert ScorePost.objects.get().status == ScorePost.Status.PENDING
    assert platform.scores == []


def test_the_passback_page_is_for_instructors(learner_client, instructor, db):
    url = reverse("lti:passbacks")
    assert Client().get(url).status_code == 302
    assert Client().post(reverse("lti:retry_passback", args=[1])).status_code == 302
    assert learner_client.get(url).status_code == 403
    assert learner_client.post(reverse("lti:retry_passback", args=[1])).status_code == 403
    staff = Client()
    staff.force_login(instructor)
    assert staff.get(url).status_code == 200
    assert staff.post(reverse("lti:retry_passback", args=[1])).status_code == 404


def test_retrying_a_post_that_is_not_dead_changes_nothing(lms_learner, question, instructor,
                                                          instructor_client, platform):
    release(make_submission(lms_learner, question), instructor)
    run_worker()
    post = ScorePost.objects.get()
    instructor_client.post(reverse("lti:retry_passback", args=[post.pk]))
    run_worker()
    assert len(platform.scores) == 1


def test_a_stale_task_leaves_the_work_to_the_newer_one(lms_learner, question, instructor,
                                                       platform):
    grade = release(make_submission(lms_learner, question), instructor)
    post = ScorePost.objects.get()
    assert passback.attempt(post.pk, post.generation - 1) == "superseded"
    assert passback.attempt(post.pk, post.generation) == "sent"
    assert Grade.objects.get(pk=grade.pk).released


# Line items no launch has named -------------------------------------------------------------


def reader(client, tool_urls, platform, question, *, manage: bool = True):
    """A learner who only ever opened the lesson from the platform, never the graded link."""
    response = launch(client, tool_urls, platform, claims=lambda c: {
        **c, LTI + "custom": {"target": f"lesson:{question.lesson.slug}"},
        **platform.ags_claim(manage=manage),
    })
    assert response.status_code == 302
    client.logout()
    assert not LtiLineItem.objects.exists()
    return LtiUser.objects.get(sub="learner-1").auth_user


def place(tool_urls, platform, question) -> None:
    """The instructor opens the question's placed link once; the platform sent no line item."""
    response = launch(Client(), tool_urls, platform, sub="teacher-1",
                      roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                      claims=lambda c: {
                          **c, LTI + "custom": {"target": f"question:{question.slug}"},
                          LTI + "resource_link": {"id": "link-2", "title": "Question"},
                          **platform.ags_claim(),
                      })
    assert response.status_code == 302


def test_a_line_item_only_the_platform_knows_is_looked_up_and_scored(
        client, tool_urls, platform, question, instructor):
    learner = reader(client, tool_urls, platform, question)
    platform.add_line_item("column-7", resourceId=f"q-{question.slug}", scoreMaximum=10)
    release(make_submission(learner, question), instructor)
    assert platform.scores == []  # nothing asked during the release itself
    run_worker()
    item = LtiLineItem.objects.get()
    assert item.url == platform.lineitem_url("column-7")
    assert item.resource_id == f"q-{question.slug}"
    [score] = platform.scores
    assert score.path == "/course-101/lineitems/column-7/scores"
    assert score.body["scoreGiven"] == 7.0
    assert ScorePost.objects.get().status == ScorePost.Status.SENT
    assert len(platform.line_items) == 1  # found, not made again


def test_a_placed_activity_without_a_line_item_gets_one_made_for_its_link(
        client, tool_urls, platform, question, instructor):
    learner = reader(client, tool_urls, platform, question)
    place(tool_urls, platform, question)
    release(make_submission(learner, question), instructor)
    run_worker()
    [made] = platform.line_items
    assert made["resourceId"] == f"q-{question.slug}" and made["resourceLinkId"] == "link-2"
    assert made["scoreMaximum"] == 10 and made["tag"] == "critical-path"
    [score] = platform.scores
    assert score.path == urlsplit(made["id"]).path + "/scores"
    assert LtiLineItem.objects.get().resource_link.id_on_platform == "link-2"


@pytest.mark.parametrize("case", ["not placed", "may not manage"])
def test_nothing_is_made_for_an_activity_not_placed_or_without_the_right_to_manage(
        client, tool_urls, platform, question, instructor, case):
    learner = reader(client, tool_urls, platform, question)
    if case == "may not manage":
        place(tool_urls, platform, question)
        LtiContext.objects.update(can_manage_lineitems=False, can_query_lineitems=True)
    release(make_submission(learner, question), instructor)
    run_worker()
    assert platform.line_items == [] and platform.scores == []
    assert not ScorePost.objects.exists()
    [result] = DBTaskResult.objects.filter(task_path="lti.tasks.find_line_item")
    assert result.return_value == "none"


def test_a_failing_line_item_service_is_tried_again_then_given_up(
        client, tool_urls, platform, question, instructor, fast_retries):
    learner = reader(client, tool_urls, platform, question)
    platform.add_line_item("column-7", resourceId=f"q-{question.slug}")
    platform.fail(503, 2)
    release(make_submission(learner, question), instructor)
    for _ in range(3):
        run_worker()
    # Two failures, then the third try found it and the score went out.
    assert [s.path for s in platform.scores] == ["/course-101/lineitems/column-7/scores"]
    results = DBTaskResult.objects.filter(task_path="lti.tasks.find_line_item")
    assert sorted(r.return_value for r in results) == ["found", "retrying", "retrying"]
