"""Exports fit for import: who each row is, a distinct marker per state, refused bad filters."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from grading import services
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")[1:]
    return list(csv.DictReader(io.StringIO(body)))


def test_csvs_name_each_learner_and_mark_each_state(instructor_client, instructor, make_user):
    question = make_question()
    people = {}
    for username in ("absent", "waiting", "drafted", "done"):
        person = make_user(username)
        person.first_name, person.last_name = username.title(), "Learner"
        person.email = f"{username}@example.org"
        person.save()
        people[username] = person
    make_submission(people["waiting"], question)
    for username, release in (("drafted", False), ("done", True)):
        grade = services.save_grade(
            submission=make_submission(people[username], question), grader=instructor,
            score=Decimal(5), criteria=[], feedback="", expected_version=0,
        ).grade
        if release:
            services.release_grade(grade=grade, by=instructor)
    rows = {r["username"]: r for r in read_csv(
        instructor_client.get(reverse("grading:gradebook_csv"))
    )}
    status = f"question {question.slug} status"
    assert {name: rows[name][status] for name in rows} == {
        "absent": "not handed in", "waiting": "awaiting grading", "drafted": "draft",
        "done": "released",
    }
    assert (rows["done"]["name"], rows["done"]["email"]) == ("Done Learner", "done@example.org")
    submissions = {r["username"]: r for r in read_csv(
        instructor_client.get(reverse("grading:submissions_csv"))
    )}
    assert {name: r["grade status"] for name, r in submissions.items()} == {
        "waiting": "awaiting grading", "drafted": "draft", "done": "released",
    }
    assert submissions["waiting"]["email"] == "waiting@example.org"
    assert submissions["waiting"]["name"] == "Waiting Learner"


@pytest.mark.parametrize("query, reason", [
    ({"learner": "nobody"}, "No learner is called “nobody”."),
    ({"status": "lost"}, "is not a status"),
    ({"assessment": "q-missing"}, "does not exist"),
    ({"lerner": "ada"}, "Unknown filter: lerner."),
])
def test_a_bad_export_filter_is_a_400(instructor_client, learner, query, reason):
    make_submission(learner)
    response = instructor_client.get(reverse("grading:submissions_csv"), query)
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_a_good_filter_still_exports(instructor_client, learner, other_learner):
    make_submission(learner)
    make_submission(other_learner)
    rows = read_csv(instructor_client.get(reverse("grading:submissions_csv"),
                                          {"learner": "ada"}))
    assert [r["username"] for r in rows] == ["ada"]
