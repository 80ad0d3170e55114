"""One counted hand-in per learner and question: new versions supersede, releases close."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from courseware.services import submit_answer
from grading import services
from grading.gradebook import gradebook_page
from grading.models import Grade, Submission
from tests.grading_factories import make_attempt, make_drill, make_question

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hand_in(learner, question, answer):
    receipt, created = submit_answer(learner=learner, question=question, answer=answer,
                                     token=uuid.uuid4())
    return Submission.objects.get(pk=receipt.pk), created


def test_a_new_hand_in_supersedes_the_pending_one(learner, instructor):
    question = make_question()
    first, _ = hand_in(learner, question, "First go.")
    second, created = hand_in(learner, question, "Second, better go.")
    first.refresh_from_db()
    assert created and (first.version, second.version) == (1, 2)
    assert (first.status, second.status) == ("superseded", "awaiting")
    assert list(Submission.objects.counted().filter(question=question)) == [second]
    queue = client_for(instructor).get(reverse("grading:queue"))
    assert list(queue.context["page"].object_list) == [second]
    _, page = gradebook_page(sort="name", page=1, per_page=10)
    (row,) = page.object_list
    assert row.awaiting == 1
    # The grader sees the earlier version beside the one to grade.
    html = client_for(instructor).get(reverse("grading:grade", args=[second.pk])).content.decode()
    assert "this is version 2" in html and "Version 1" in html and "First go." in html


def test_a_draft_on_the_superseded_version_is_kept_and_shown(learner, instructor):
    question = make_question()
    first, _ = hand_in(learner, question, "First go.")
    services.save_grade(submission=first, grader=instructor, score=Decimal(3), criteria=[],
                        feedback="", expected_version=0)
    second, _ = hand_in(learner, question, "Second go.")
    assert Grade.objects.get(submission=first).score == 3
    html = client_for(instructor).get(reverse("grading:grade", args=[second.pk])).content.decode()
    assert "Version 1" in html and "3 draft" in html


def test_a_hand_in_after_release_is_refused_and_the_text_kept(learner, learner_client,
                                                               instructor, course):
    from courseware.models import Question

    question = Question.objects.exclude(kind=Question.Kind.WORKFLOW).first()
    first, _ = hand_in(learner, question, "My answer.")
    grade = services.save_grade(submission=first, grader=instructor, score=Decimal(1),
                                criteria=[], feedback="", expected_version=0).grade
    services.release_grade(grade=grade, by=instructor)
    url = reverse("courseware:answer_question", args=[question.slug])
    response = learner_client.post(url, {"answer": "A copy of the model answer.",
                                         "token": str(uuid.uuid4())})
    assert response.status_code == 422
    html = response.content.decode()
    assert "ask for a regrade" in html and "A copy of the model answer." in html
    assert Submission.objects.filter(question=question).count() == 1


def test_the_same_token_still_hands_in_once(learner):
    question = make_question()
    token = uuid.uuid4()
    one, created_one = submit_answer(learner=learner, question=question, answer="x", token=token)
    two, created_two = submit_answer(learner=learner, question=question, answer="x", token=token)
    assert one.pk == two.pk and (created_one, created_two) == (True, False)
    assert Submission.objects.get().version == 1


def test_a_newer_drill_attempt_supersedes_the_pending_review(learner):
    drill = make_drill()
    first = make_attempt(drill, learner).submission
    second = make_attempt(drill, learner, [("async", ""), ("async", ""), ("async", "")])
    first.refresh_from_db()
    assert first.status == "superseded" and second.submission.version == 2
    assert Submission.objects.awaiting_grading().get() == second.submission
