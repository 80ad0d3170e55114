"""Grades released at a set time by a task: exactly what was scheduled, once, or held back."""

import io
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from grading import services
from grading.models import Grade, GradeChange, ScheduledRelease
from grading.tasks import release_scheduled
from tests.grading_factories import make_question, make_submission

DUMMY = "django_tasks.backends.dummy.DummyBackend"
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
DATABASE = "django_tasks_db.DatabaseBackend"


@pytest.fixture
def backend(settings):
    """Use a given task backend for one test (changing TASKS resets the task connections)."""

    def use(path: str):
        settings.TASKS = {"default": {"BACKEND": path, "QUEUES": ["default"]}}
        return default_task_backend

    return use


def draft(learner, grader, score="6"):
    return services.save_grade(
        submission=make_submission(learner, make_question()), grader=grader,
        score=Decimal(score), criteria=[], feedback="Good.", expected_version=0,
    ).grade


def later(**kwargs):
    return timezone.now() + timedelta(**kwargs)


@pytest.mark.django_db
def test_scheduling_enqueues_one_deferred_task_for_the_batch(backend, learner, other_learner,
                                                             instructor):
    dummy = backend(DUMMY)
    grades = [draft(learner, instructor), draft(other_learner, instructor)]
    when = later(hours=2)
    report = services.schedule_releases(
        listed={g.pk: g.version for g in grades}, release_at=when, by=instructor
    )
    assert len(report.scheduled) == 2 and not report.changed
    [result] = dummy.results
    assert result.task.run_after == when
    assert result.args == [str(report.scheduled[0].batch)]
    assert {row.task_id for row in report.scheduled} == {str(result.id)}
    assert not Grade.objects.filter(released=True).exists()


@pytest.mark.django_db
def test_the_task_releases_what_was_scheduled_once_and_is_safe_to_run_again(
    backend, learner, instructor
):
    backend(DUMMY)
    grade = draft(learner, instructor)
    report = services.schedule_releases(listed={grade.pk: grade.version},
                                        release_at=later(seconds=-1), by=instructor)
    batch = str(report.scheduled[0].batch)
    assert release_scheduled.call(batch) == {"released": [grade.pk], "skipped": [],
                                             "not_due": []}
    assert release_scheduled.call(batch) == {"released": [], "skipped": [], "not_due": []}
    grade.refresh_from_db()
    assert grade.released and grade.submission.status == "returned"
    [change] = grade.changes.filter(action=GradeChange.Action.RELEASED)
    assert change.changed_by == instructor and "scheduled" in change.reason
    row = ScheduledRelease.objects.get()
    assert (row.outcome, row.finished_at is not None) == ("released", True)


@pytest.mark.django_db
def test_a_grade_changed_after_scheduling_is_held_back_and_reported(backend, learner,
                                                                    other_learner, instructor):
    backend(DUMMY)
    kept, changed = draft(learner, instructor), draft(other_learner, instructor)
    report = services.schedule_releases(
        listed={kept.pk: kept.version, changed.pk: changed.version},
        release_at=later(seconds=-1), by=instructor,
    )
    services.save_grade(submission=changed.submission, grader=instructor, score=Decimal(2),
                        criteria=[], feedback="Looked again.", expected_version=changed.version)
    outcome = release_scheduled.call(str(report.scheduled[0].batch))
    assert outcome["released"] == [kept.pk] and outcome["skipped"] == [changed.pk]
    changed.refresh_from_db()
    assert not changed.released and changed.score == 2
    row = ScheduledRelease.objects.get(grade=changed)
    assert row.outcome == "skipped" and "Changed after it was scheduled" in row.note


@pytest.mark.django_db
def test_a_grade_released_by_hand_first_is_not_released_twice(backend, learner, instructor):
    backend(DUMMY)
    grade = draft(learner, instructor)
    report = services.schedule_releases(listed={grade.pk: grade.version},
                                        release_at=later(seconds=-1), by=instructor)
    services.release_grade(grade=grade, by=instructor)
    assert release_scheduled.call(str(report.scheduled[0].batch))["skipped"] == [grade.pk]
    assert grade.changes.filter(action=GradeChange.Action.RELEASED).count() == 1


@pytest.mark.django_db
def test_a_task_run_early_releases_nothing(backend, learner, instructor):
    backend(DUMMY)
    grade = draft(learner, instructor)
    report = services.schedule_releases(listed={grade.pk: grade.version},
                                        release_at=later(hours=1), by=instructor)
    assert release_scheduled.call(str(report.scheduled[0].batch))["not_due"] == [grade.pk]
    grade.refresh_from_db()
    assert not grade.released
    assert ScheduledRelease.objects.pending().count() == 1


@pytest.mark.django_db
def test_only_listed_drafts_at_the_versions_seen_are_scheduled(backend, learner, other_learner,
                                                               instructor):
    backend(DUMMY)
    seen, moved = draft(learner, instructor), draft(other_learner, instructor)
    report = services.schedule_releases(
        listed={seen.pk: seen.version, moved.pk: moved.version - 1, 999_999: 1},
        release_at=later(hours=1), by=instructor,
    )
    assert [row.grade_id for row in report.scheduled] == [seen.pk]
    assert report.changed == [moved] and report.gone == 1


@pytest.mark.django_db
def test_scheduling_again_replaces_the_earlier_schedule(backend, learner, instructor):
    backend(DUMMY)
    grade = draft(learner, instructor)
    services.schedule_releases(listed={grade.pk: grade.version}, release_at=later(hours=1),
                               by=instructor)
    report = services.schedule_releases(listed={grade.pk: grade.version},
                                        release_at=later(hours=2), by=instructor)
    assert report.replaced == 1
    assert ScheduledRelease.objects.pending().get().release_at == report.scheduled[0].release_at
    assert ScheduledRelease.objects.filter(outcome="cancelled").count() == 1


@pytest.mark.django_db
def test_cancelling_keeps_the_draft(backend, learner, instructor):
    backend(DUMMY)
    grade = draft(learner, instructor)
    report = services.schedule_releases(listed={grade.pk: grade.version},
                                        release_at=later(seconds=-1), by=instructor)
    assert services.cancel_scheduled_release(scheduled=report.scheduled[0], by=instructor)
    assert not services.cancel_scheduled_release(scheduled=report.scheduled[0], by=instructor)
    release_scheduled.call(str(report.scheduled[0].batch))
    grade.refresh_from_db()
    assert not grade.released


@pytest.mark.django_db
def test_the_immediate_backend_runs_the_task_at_once_but_releases_only_what_is_due(
    backend, learner, other_learner, instructor
):
    backend(IMMEDIATE)
    future, due = draft(learner, instructor), draft(other_learner, instructor)
    services.schedule_releases(listed={future.pk: future.version}, release_at=later(hours=1),
                               by=instructor)
    services.schedule_releases(listed={due.pk: due.version}, release_at=later(seconds=-1),
                               by=instructor)
    future.refresh_from_db()
    due.refresh_from_db()
    assert (future.released, due.released) == (False, True)


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_releases_the_batch_once_its_time_has_come(backend, learner,
                                                                       instructor):
    from django_tasks_db.models import DBTaskResult

    backend(DATABASE)
    grade = draft(learner, instructor)
    when = later(seconds=2)
    services.schedule_releases(listed={grade.pk: grade.version}, release_at=when, by=instructor)
    assert DBTaskResult.objects.get().run_after == when

    def work() -> None:
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay",
                     "--interval", "0", stdout=io.StringIO(), stderr=io.StringIO())

    work()  # too early: the worker does not take the task yet
    grade.refresh_from_db()
    assert not grade.released
    time.sleep(max(0.0, (when - timezone.now()).total_seconds()) + 0.2)
    work()
    grade.refresh_from_db()
    assert grade.released
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert ScheduledRelease.objects.get().outcome == "released"


# The pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_from_the_grading_page_by_role(backend, client, learner, instructor, make_user):
    backend(DUMMY)
    grade = draft(learner, instructor)
    url = reverse("grading:schedule_release", args=[grade.submission_id])
    data = {"version": grade.version, "release_at": later(days=1).strftime("%Y-%m-%dT%H:%M")}
    assert client.post(url, data).status_code == 302  # to log in
    client.force_login(learner)
    assert client.post(url, data).status_code == 403
    grader = make_user("marker")
    grader.user_permissions.add(*_perms("grade_submission", "view_all_submissions"))
    client.force_login(grader)
    assert client.post(url, data).status_code == 403  # may grade, not release
    assert not ScheduledRelease.objects.exists()
    client.force_login(instructor)
    response = client.post(url, data)
    assert response.status_code == 302
    assert ScheduledRelease.objects.pending().get().grade == grade
    page = client.get(reverse("grading:grade", args=[grade.submission_id]))
    assert "Release set for" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "status", "text"), [
    ({"version": "x", "release_at": "2099-01-01T10:00"}, 400, "incomplete"),
    ({"version": "1", "release_at": "2001-01-01T10:00"}, 422, "in the future"),
    ({"version": "1", "release_at": "next tuesday"}, 422, "YYYY-MM-DD"),
    ({"version": "7", "release_at": "2099-01-01T10:00"}, 409, "changed or was released"),
])
def test_bad_schedules_are_refused_with_a_reason(backend, instructor_client, learner, instructor,
                                                 data, status, text):
    backend(DUMMY)
    grade = draft(learner, instructor)
    response = instructor_client.post(
        reverse("grading:schedule_release", args=[grade.submission_id]), data
    )
    assert response.status_code == status
    assert text in response.content.decode()
    assert not ScheduledRelease.objects.exists()


@pytest.mark.django_db
def test_bulk_schedule_from_the_release_all_confirmation(backend, instructor_client, learner,
                                                         other_learner, instructor):
    backend(DUMMY)
    question = make_question()
    grades = [
        services.save_grade(submission=make_submission(person, question), grader=instructor,
                            score=Decimal(5), criteria=[], feedback="", expected_version=0).grade
        for person in (learner, other_learner)
    ]
    key = f"q-{question.slug}"
    confirm = instructor_client.get(reverse("grading:release_all"), {"assessment": key})
    assert "Or release them at a set time" in confirm.content.decode()
    # One draft changes between the confirmation and the click.
    services.save_grade(submission=grades[1].submission, grader=instructor, score=Decimal(1),
                        criteria=[], feedback="", expected_version=grades[1].version)
    response = instructor_client.post(reverse("grading:schedule_release_all"), {
        "assessment": key, "release_at": later(days=1).strftime("%Y-%m-%dT%H:%M"),
        "grade": [f"{g.pk}:{g.version}" for g in grades],
    }, follow=True)
    assert [row.grade for row in ScheduledRelease.objects.pending()] == [grades[0]]
    text = response.content.decode()
    assert "1 grade of" in text and "Not scheduled" in text and other_learner.username in text
    assert response.request["PATH_INFO"] == reverse("grading:scheduled_releases")


@pytest.mark.django_db
def test_bulk_schedule_bad_input(backend, instructor_client):
    backend(DUMMY)
    url = reverse("grading:schedule_release_all")
    assert instructor_client.post(url, {"assessment": "q-nothing"}).status_code == 400
    question = make_question()
    damaged = instructor_client.post(url, {"assessment": f"q-{question.slug}",
                                           "release_at": "2099-01-01T10:00", "grade": "1:x"})
    assert damaged.status_code == 400


@pytest.mark.django_db
def test_scheduled_page_lists_pending_and_done_with_reasons(backend, instructor_client, learner,
                                                            other_learner, instructor):
    backend(DUMMY)
    kept, changed = draft(learner, instructor), draft(other_learner, instructor)
    report = services.schedule_releases(
        listed={kept.pk: kept.version, changed.pk: changed.version},
        release_at=later(seconds=-1), by=instructor,
    )
    services.save_grade(submission=changed.submission, grader=instructor, score=Decimal(1),
                        criteria=[], feedback="", expected_version=changed.version)
    release_scheduled.call(str(report.scheduled[0].batch))
    page = instructor_client.get(reverse("grading:scheduled_releases"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Released" in text and "Skipped" in text and "Changed after it was scheduled" in text


def _perms(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="grading", codename__in=codenames)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="row locks between connections need PostgreSQL",
)
def test_two_workers_running_one_batch_at_once_release_each_grade_once(backend, learner,
                                                                       other_learner,
                                                                       instructor):
    backend(DUMMY)
    grades = [draft(learner, instructor), draft(other_learner, instructor)]
    report = services.schedule_releases(listed={g.pk: g.version for g in grades},
                                        release_at=later(seconds=-1), by=instructor)
    batch = report.scheduled[0].batch
    start = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(services.run_scheduled_releases(batch=batch))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    released = sorted(pk for outcome in outcomes for pk in outcome.released)
    assert released == sorted(g.pk for g in grades)
    assert GradeChange.objects.filter(action=GradeChange.Action.RELEASED).count() == 2
