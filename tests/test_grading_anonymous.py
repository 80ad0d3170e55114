"""Anonymous grading per question: graders see a pseudonym until the grade is released."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from grading import anonymity, services
from grading.models import GradingOptions
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db

NAME = "zelda-writes"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def writer(make_user):
    return make_user(NAME)


def test_names_are_hidden_from_graders_until_release(writer, instructor):
    question = make_question()
    submission = make_submission(writer, question)
    client = client_for(instructor)
    response = client.post(reverse("grading:grading_options", args=[question.slug]),
                           {"anonymous": "on"}, follow=True)
    assert "Graders now see pseudonyms" in response.content.decode()
    alias = anonymity.pseudonym(submission)
    for url in (reverse("grading:queue"), reverse("grading:grade", args=[submission.pk])):
        page = client.get(url).content.decode()
        assert NAME not in page and alias in page
    saved = client.post(reverse("grading:grade", args=[submission.pk]), {
        "score": "6", "feedback": "", "version": 0, "action": "save"}, follow=True)
    assert NAME not in saved.content.decode()
    assert f"Saved {alias}&#x27;s grade as a draft" in saved.content.decode()
    release_page = client.get(reverse("grading:release_all"),
                              {"assessment": f"q-{question.slug}"}).content.decode()
    assert NAME not in release_page and alias in release_page

    services.release_grade(grade=submission.grade, by=instructor)
    page = client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert NAME in page


def test_a_name_search_in_the_queue_finds_no_anonymous_answer_until_release(writer, instructor):
    question, open_question = make_question(), make_question()
    GradingOptions.objects.create(question=question, anonymous=True)
    hidden = make_submission(writer, question)
    shown = make_submission(writer, open_question)
    client = client_for(instructor)
    search = {"learner": NAME, "status": "all"}

    def listed() -> set[str]:
        page = client.get(reverse("grading:queue"), search).content.decode()
        urls = (reverse("grading:grade", args=[hidden.pk]),
                reverse("grading:grade", args=[shown.pk]))
        return {url for url in urls if f'href="{url}' in page}

    assert listed() == {reverse("grading:grade", args=[shown.pk])}
    everyone = client.get(reverse("grading:queue"), {"status": "all"}).content.decode()
    assert reverse("grading:grade", args=[hidden.pk]) in everyone  # still in the queue itself
    result = services.save_grade(submission=hidden, grader=instructor, score=Decimal(5),
                                 criteria=[], feedback="", expected_version=0)
    services.release_grade(grade=result.grade, by=instructor)
    assert len(listed()) == 2


def test_without_anonymous_grading_names_are_shown(writer, instructor):
    submission = make_submission(writer)
    page = client_for(instructor).get(
        reverse("grading:grade", args=[submission.pk])).content.decode()
    assert NAME in page and anonymity.pseudonym(submission) not in page


def test_a_pseudonym_is_stable_per_question_and_differs_across_questions(writer):
    first, again = (make_submission(writer, q) for q in [make_question()] * 2)
    other = make_submission(writer, make_question())
    assert anonymity.pseudonym(first) == anonymity.pseudonym(again)
    assert anonymity.pseudonym(first) != anonymity.pseudonym(other)


def test_turning_it_off_again_and_bad_input(writer, instructor):
    question = make_question()
    url = reverse("grading:grading_options", args=[question.slug])
    client = client_for(instructor)
    client.post(url, {"anonymous": "on"})
    client.post(url, {"anonymous": "off"})
    assert GradingOptions.objects.get(question=question).anonymous is False
    bad = client.post(url, {"anonymous": "maybe"})
    assert bad.status_code == 400 and "on or off" in bad.content.decode()
    assert client.post(reverse("grading:grading_options", args=["nope"]),
                       {"anonymous": "on"}).status_code == 404


def test_anonymous_grading_permission_matrix(client, learner, make_user, instructor):
    question = make_question()
    url = reverse("grading:grading_options", args=[question.slug])
    assert client.post(url, {"anonymous": "on"}).status_code == 302
    assert client_for(learner).post(url, {"anonymous": "on"}).status_code == 403
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]))
    # Seeing names is exactly what a grader must not switch on for themselves.
    assert client_for(grader).post(url, {"anonymous": "off"}).status_code == 403
    assert not GradingOptions.objects.exists()
    assert client_for(instructor).post(url, {"anonymous": "on"}).status_code == 302
    assert GradingOptions.objects.get(question=question).changed_by == instructor


def test_a_correction_permission_matrix(client, learner, make_user, instructor):
    """Correcting a released grade: anonymous, learner, grader without release, instructor."""
    submission = make_submission(learner)
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(5),
                                criteria=[], feedback="", expected_version=0).grade
    grade = services.release_grade(grade=grade, by=instructor)
    url = reverse("grading:correct", args=[submission.pk])
    data = {"score": "7", "feedback": "", "version": grade.version,
            "reason": "I missed your second paragraph."}
    assert client.post(url, data).status_code == 302
    assert client_for(learner).post(url, data).status_code == 403
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]))
    assert client_for(grader).post(url, data).status_code == 403
    grade.refresh_from_db()
    assert grade.score == 5
    assert client_for(instructor).post(url, data).status_code == 302
    grade.refresh_from_db()
    assert grade.score == 7


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_gradebook_and_exports_pair_no_name_with_an_anonymous_draft(writer, instructor):
    question = make_question(max_score=10)
    GradingOptions.objects.create(question=question, anonymous=True)
    submission = make_submission(writer, question)
    result = services.save_grade(submission=submission, grader=instructor, score=Decimal("7.5"),
                                 criteria=[], feedback="Hidden draft note", expected_version=0)
    client = client_for(instructor)
    alias = anonymity.pseudonym(submission)
    column = f"question {question.slug} (out of 10)"

    page = client.get(reverse("grading:gradebook")).content.decode()
    assert NAME in page and "7.5" not in page and "cell-hidden" in page
    row = next(r for r in read_csv(client.get(reverse("grading:gradebook_csv")))
               if r["username"] == NAME)
    assert row[column] == "" and row[f"question {question.slug} status"] == (
        "draft hidden until release")
    assert row["total"] == "0" and row["draft grades"] == "1"
    exported = read_csv(client.get(reverse("grading:submissions_csv")))
    assert [(r["username"], r["name"], r["email"], r["score"]) for r in exported] == [
        (alias, "", "", "7.5")]
    assert NAME not in "".join(str(r) for r in exported)

    services.release_grade(grade=result.grade, by=instructor)
    page = client.get(reverse("grading:gradebook")).content.decode()
    assert NAME in page and "7.5" in page and "cell-hidden" not in page
    row = next(r for r in read_csv(client.get(reverse("grading:gradebook_csv")))
               if r["username"] == NAME)
    assert row[column] == "7.5" and row[f"question {question.slug} status"] == "released"
    exported = read_csv(client.get(reverse("grading:submissions_csv")))
    assert [r["username"] for r in exported] == [NAME]


def test_a_gradebook_sorted_by_an_anonymous_column_follows_released_scores_only(
        make_user, instructor):
    question = make_question(max_score=10)
    GradingOptions.objects.create(question=question, anonymous=True)
    low, high = make_user("amy-low"), make_user("bob-high")
    for learner, score in ((low, "2"), (high, "9")):
        services.save_grade(submission=make_submission(learner, question), grader=instructor,
                            score=Decimal(score), criteria=[], feedback="", expected_version=0)
    sort = f"-q-{question.slug}"
    page = client_for(instructor).get(reverse("grading:gradebook"), {"sort": sort})
    text = page.content.decode()
    # Draft scores would put bob first; hidden, both are blank and name order stays.
    assert text.index("amy-low") < text.index("bob-high")
