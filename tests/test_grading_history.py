"""A grade's history: one entry per action, with what changed, who, and whose grade it replaced."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from grading import services
from grading.models import Grade
from tests.grading_factories import make_submission

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_save_and_release_of_an_unchanged_grade_writes_no_empty_edit(learner, instructor):
    submission = make_submission(learner)
    url = reverse("grading:grade", args=[submission.pk])
    form = {"criteria": ["c1"], "score": "4", "feedback": "Fine.", "action": "save"}
    client_for(instructor).post(url, {**form, "version": "0"})
    client_for(instructor).post(url, {**form, "version": "1", "action": "release"})
    grade = Grade.objects.get(submission=submission)
    assert [c.action for c in grade.changes.all()] == ["released", "created"]


def test_history_shows_criteria_old_feedback_and_a_replaced_colleague(learner, make_user):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    submission = make_submission(learner)
    services.save_grade(submission=submission, grader=first, score=Decimal(4), criteria=["c1"],
                        feedback="Their words.", expected_version=0)
    services.save_grade(submission=submission, grader=second, score=Decimal(7),
                        criteria=["c1", "c3"], feedback="My words.", expected_version=1)
    edit = Grade.objects.get(submission=submission).changes.first()
    assert (edit.action, edit.reason) == ("edited", "Replaced first's grade")
    html = client_for(second).get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert "+ Picks async for the bookkeeping step" in html
    assert "Before: Their words." in html and "After: My words." in html
    assert "Replaced first&#x27;s grade" in html
    assert "Score 4 → 7" in html
