"""E-mails on grading events: queued as tasks with the change, sent by the worker through
Django's e-mail backend, each kind switched off by its own setting."""

from __future__ import annotations

import io
import smtplib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from grading import services as grading
from notifications.models import Preferences
from tests.grading_factories import make_question, make_submission

# The worker closes its database connection between tasks, as a long-lived process must; so
# what it reads is committed first, as it is in production.
pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def learner(make_user):
    user = make_user("ada")
    user.email, user.first_name = "ada@example.org", "Ada"
    user.save()
    return user


@pytest.fixture
def instructor(make_user):
    user = make_user("teach", instructor=True)
    user.email = "teach@example.org"
    user.save()
    return user


@pytest.fixture
def released(learner, instructor):
    submission = make_submission(learner, make_question(max_score=10))
    grade = grading.save_and_release(
        submission=submission, grader=instructor, score=Decimal("7"), criteria=["c1"],
        feedback="Clear.", expected_version=0,
    ).grade
    return grade


def test_a_release_mails_the_learner_through_the_queue(released):
    # Queued with the release, not sent inside it.
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(
        task_path="notifications.tasks.send_notification").count() == 1
    run_worker()
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject.startswith("Your grade is ready")
    assert "7 out of 10" in message.body
    assert reverse("grading:my_submission", args=[released.submission.pk]) in message.body
    assert reverse("notifications:preferences") in message.body


def test_a_correction_mails_the_learner_with_the_reason(released, instructor):
    run_worker()
    grading.correct_grade(grade=released, by=instructor, score=Decimal("9"), criteria=["c1", "c2"],
                          feedback="On a second look.", reason="I missed your second point.",
                          expected_version=released.version)
    run_worker()
    corrected = mail.outbox[-1]
    assert corrected.subject.startswith("Your grade was corrected")
    assert "now 9 out of 10 (it was 7)" in corrected.body
    assert "I missed your second point." in corrected.body


def test_a_regrade_request_mails_instructors_and_its_answer_mails_the_learner(
        released, learner, instructor, make_user):
    run_worker()
    mail.outbox.clear()
    quiet = make_user("quiet", instructor=True)
    quiet.email = "quiet@example.org"
    quiet.save()
    Preferences.objects.create(user=quiet, regrade_requested=False)
    grading.request_regrade(submission=released.submission, learner=learner,
                            reason="I did name the caller.")
    run_worker()
    [asked] = mail.outbox
    assert asked.to == ["teach@example.org"]
    assert "I did name the caller." in asked.body
    assert reverse("grading:grade", args=[released.submission.pk]) in asked.body

    mail.outbox.clear()
    grading.save_grade(submission=released.submission, grader=instructor, score=Decimal("8"),
                       criteria=["c1", "c2"], feedback="Yes, you did.",
                       expected_version=released.version, regrade_answer="You did; +1.",
                       resolve_regrade=True)
    run_worker()
    [answered] = mail.outbox
    assert answered.to == ["ada@example.org"]
    assert answered.subject.startswith("Your regrade request was answered")
    assert "You did; +1." in answered.body


def test_a_setting_turned_off_sends_nothing_even_if_already_queued(learner, instructor):
    submission = make_submission(learner, make_question())
    grading.save_and_release(submission=submission, grader=instructor, score=Decimal("5"),
                             criteria=[], feedback="", expected_version=0)
    Preferences.objects.create(user=learner, grade_released=False)
    run_worker()
    assert mail.outbox == []


def test_an_account_without_an_address_gets_nothing(make_user, instructor):
    nobody = make_user("noaddress")
    grading.save_and_release(submission=make_submission(nobody, make_question()),
                             grader=instructor, score=Decimal("5"), criteria=[], feedback="",
                             expected_version=0)
    run_worker()
    assert mail.outbox == []


def test_a_draft_mails_nobody(learner, instructor):
    grading.save_grade(submission=make_submission(learner, make_question()), grader=instructor,
                       score=Decimal("5"), criteria=[], feedback="", expected_version=0)
    run_worker()
    assert mail.outbox == []


def test_the_settings_page(learner, instructor):
    url = reverse("notifications:preferences")
    anonymous = Client()
    assert anonymous.get(url).status_code == 302
    client = Client()
    client.force_login(learner)
    page = client.get(url)
    assert page.status_code == 200
    # A learner is never asked about regrade requests of others.
    assert "regrade_requested" not in page.context["form"].fields
    response = client.post(url, {"grade_corrected": "on", "regrade_answered": "on"})
    assert response.status_code == 302
    saved = Preferences.objects.get(user=learner)
    assert (saved.grade_released, saved.grade_corrected, saved.regrade_answered) == (
        False, True, True)
    staff = Client()
    staff.force_login(instructor)
    assert "regrade_requested" in staff.get(url).context["form"].fields


class FlakyBackend(BaseEmailBackend):
    """A mail server that refuses the first ``failures`` messages, then delivers."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    settings.NOTIFICATION_BACKOFF_SECONDS = 0
    settings.NOTIFICATION_ATTEMPTS = 3
    return FlakyBackend


def test_a_mail_server_that_refuses_is_tried_again_until_it_delivers(learner, instructor,
                                                                     flaky_mail):
    flaky_mail.failures = 2
    submission = make_submission(learner, make_question(max_score=10))
    grading.save_and_release(submission=submission, grader=instructor, score=Decimal("7"),
                             criteria=[], feedback="", expected_version=0)
    run_worker()  # the retries are due at once here, so one batch runs all three tries
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    tries = DBTaskResult.objects.filter(task_path="notifications.tasks.send_notification")
    assert sorted(t.return_value for t in tries) == [False, False, True]


def test_a_mail_server_that_never_delivers_is_given_up_after_the_last_try(
        learner, instructor, flaky_mail, caplog):
    flaky_mail.failures = 10
    submission = make_submission(learner, make_question(max_score=10))
    grade = grading.save_and_release(submission=submission, grader=instructor,
                                     score=Decimal("7"), criteria=[], feedback="",
                                     expected_version=0).grade
    run_worker()
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(
        task_path="notifications.tasks.send_notification").count() == 3
    assert "Gave up on a grade_released e-mail" in caplog.text
    grade.refresh_from_db()
    assert grade.released  # the grade never depends on the mail
