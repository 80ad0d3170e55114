"""Handing work in for grading through the seam that courseware and drills share, the registries
that let apps add to the course's pages, and the move of hand-ins into the grading app."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from courseware import embeds, handins, slots
from courseware.loader import ContentError, read_embed
from courseware.models import Lesson, Question
from courseware.services import submit_answer
from grading.models import Submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(course):
    return Question.objects.exclude(kind=Question.Kind.WORKFLOW).first()


def answer_url(question):
    return reverse("courseware:answer_question", args=[question.slug])


# The hand-in seam ------------------------------------------------------------------------------


def test_an_answer_handed_in_becomes_a_submission_awaiting_grading(learner, question):
    receipt, created = submit_answer(learner=learner, question=question, answer="Because.")
    submission = Submission.objects.get(pk=receipt.pk)
    assert created and submission.question == question and submission.learner == learner
    assert submission.status == Submission.Status.AWAITING
    assert receipt.status == "Awaiting grading"
    assert receipt.url == reverse("grading:my_submission", args=[submission.pk])
    assert receipt.score is None


def test_the_same_token_hands_in_once(learner, question):
    token = uuid.uuid4()
    first, created = submit_answer(learner=learner, question=question, answer="A", token=token)
    again, created_again = submit_answer(learner=learner, question=question, answer="A",
                                         token=token)
    assert created and not created_again and first.pk == again.pk
    assert Submission.objects.count() == 1


def test_a_repeated_answer_post_stores_one_submission(learner_client, question):
    token = str(uuid.uuid4())
    for _ in range(3):
        response = learner_client.post(answer_url(question), {"answer": "Once.", "token": token})
        assert response.status_code == 302
    assert Submission.objects.filter(question=question).count() == 1


def test_an_answer_without_a_token_is_still_handed_in(learner_client, question):
    response = learner_client.post(answer_url(question), {"answer": "No token here."})
    assert response.status_code == 302
    assert Submission.objects.filter(answer="No token here.").count() == 1


def test_a_damaged_token_is_a_form_error_and_nothing_is_stored(learner_client, question):
    response = learner_client.post(answer_url(question), {"answer": "Hi", "token": "not-a-uuid"})
    assert response.status_code == 422
    assert Submission.objects.count() == 0


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_racing_submits_of_one_form_store_one_submission(learner, question):
    token = uuid.uuid4()
    start = threading.Barrier(8)

    def submit(_):
        start.wait()
        try:
            return submit_answer(learner=learner, question=question, answer="Race", token=token)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(8)))
    assert Submission.objects.count() == 1
    assert sum(created for _, created in results) == 1
    assert {receipt.pk for receipt, _ in results} == {Submission.objects.get().pk}


def test_the_lesson_shows_the_learners_latest_hand_in(learner_client, learner, question):
    submit_answer(learner=learner, question=question, answer="My first go.")
    page = learner_client.get(question.lesson.get_absolute_url()).content.decode()
    assert "My first go." in page and "Awaiting grading" in page


def test_without_a_desk_an_answer_is_kept_with_a_message(learner_client, question, monkeypatch):
    monkeypatch.setattr(handins, "_desk", None)
    response = learner_client.post(answer_url(question), {"answer": "Keep me."})
    assert response.status_code == 422
    assert "Keep me." in response.content.decode()
    assert "not available" in response.content.decode()
    assert Submission.objects.count() == 0


# Embeds and slots -----------------------------------------------------------------------------


def test_a_lesson_embed_must_be_a_registered_one(course):
    lesson = Lesson.objects.get(embed="simulator")
    lesson.embed = "os"
    with pytest.raises(ValidationError) as error:
        lesson.full_clean()
    assert "embed" in error.value.message_dict


def test_a_lesson_file_naming_an_unknown_embed_is_refused(tmp_path):
    with pytest.raises(ContentError, match="not an interactive part"):
        read_embed(tmp_path / "01-x.md", {"embed": "os.path"})
    assert read_embed(tmp_path / "01-x.md", {"embed": "simulator"}) == "simulator"


def test_a_stale_embed_in_the_database_shows_the_lesson_without_it(client, course):
    lesson = Lesson.objects.get(embed="simulator")
    Lesson.objects.filter(pk=lesson.pk).update(embed="removed-app")
    response = client.get(lesson.get_absolute_url())
    assert response.status_code == 200
    assert lesson.title in response.content.decode()


def test_the_simulator_embed_is_drawn_into_its_lesson(client, course):
    lesson = Lesson.objects.get(embed="simulator")
    assert embeds.get("simulator") is not None
    assert 'id="simulator"' in client.get(lesson.get_absolute_url()).content.decode()


def test_apps_above_courseware_fill_its_slots():
    assert "drills/_practice_card.html" in slots.templates("lesson-end")
    assert "simulator/_home_actions.html" in slots.templates("home-actions")
    assert "grading/_home_grades.html" in slots.templates("home-progress")
    assert slots.templates("no-such-slot") == []


def test_load_course_runs_every_registered_loader(course):
    from courseware import loader
    from drills import loader as drills_loader

    assert loader.registered()[:2] == [loader, drills_loader]


def test_load_course_reports_a_bad_file_from_any_loader(course, monkeypatch):
    from drills import loader as drills_loader

    def broken(root=None):
        raise ContentError("drills/content/x.yaml", "no title")

    monkeypatch.setattr(drills_loader, "read_content", broken)
    with pytest.raises(CommandError, match="Nothing was changed.*x.yaml: no title"):
        call_command("load_course")


# The move of submissions from courseware to grading --------------------------------------------


@pytest.fixture
def no_statement_timeout():
    """Migrating the whole schema back and forth is no page view: on a busy machine one of its
    statements may outlast the limit that keeps pages fast, and a cancelled one would leave this
    worker's database half migrated for every later test."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_statement_timeout")
def test_moving_submissions_to_grading_keeps_every_row_and_id():
    before = [("courseware", "0003_content_source"), ("grading", "0001_initial"),
              ("drills", "0002_attempt_learner_best")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old-timer")
    course_ = old.get_model("courseware", "Course").objects.create(slug="c", title="C")
    module = old.get_model("courseware", "Module").objects.create(course=course_, slug="m",
                                                                  title="M")
    lesson = old.get_model("courseware", "Lesson").objects.create(
        module=module, slug="l", title="L", body_markdown="x"
    )
    question = old.get_model("courseware", "Question").objects.create(lesson=lesson, slug="q",
                                                                      prompt="Q?")
    OldSubmission = old.get_model("courseware", "Submission")
    made = [
        OldSubmission.objects.create(learner=user, question=question, answer=f"answer {n}",
                                     payload={"n": n})
        for n in range(3)
    ]
    OldSubmission.objects.filter(pk=made[0].pk).delete()
    old.get_model("grading", "Grade").objects.create(submission=made[2], score=4)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    new = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
    Submission_ = new.get_model("grading", "Submission")
    kept = list(Submission_.objects.order_by("pk").values_list("pk", "answer", "payload"))
    assert kept == [(made[1].pk, "answer 1", {"n": 1}), (made[2].pk, "answer 2", {"n": 2})]
    assert new.get_model("grading", "Grade").objects.get().submission_id == made[2].pk
    later = Submission_.objects.create(learner_id=user.pk, question_id=question.pk, answer="new")
    assert later.pk > made[2].pk
    assert "courseware_submission" not in connection.introspection.table_names()
