"""One reading of every score: gradebook, CSV, statistics and the learner's pages agree."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from grading import services
from grading.gradebook import gradebook_page
from grading.models import Submission
from grading.scores import scores
from grading.statistics import class_statistics
from tests.grading_factories import make_attempt, make_drill, make_question, make_submission

pytestmark = pytest.mark.django_db

WRONG = [("async", ""), ("sync", ""), ("sync", "")]  # 0 of 3 right


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))


def grade(submission, grader, score, *, release=False):
    result = services.save_grade(
        submission=submission, grader=grader, score=Decimal(score), criteria=[], feedback="",
        expected_version=0,
    )
    if release:
        services.release_grade(grade=result.grade, by=grader)
    return result.grade


def row_for(username):
    _, page = gradebook_page(sort="name", page=1, per_page=100)
    return next(row for row in page.object_list if row.username == username)


def test_a_released_drill_review_overrides_the_automatic_score_everywhere(
    learner, instructor, instructor_client
):
    drill = make_drill()
    attempt = make_attempt(drill, learner)  # 3 of 3, marked automatically
    grade(attempt.submission, instructor, 0, release=True)  # the instructor says 0
    assert row_for("ada").cells[0].score == 0
    header, row = read_csv(instructor_client.get(reverse("grading:gradebook_csv")))
    assert row[header.index(next(h for h in header if h.startswith("drill")))] == "0"
    stats = class_statistics()
    assert next(s for s in stats.assessments if s.assessment.is_drill).scores == [0]
    client = Client()
    client.force_login(learner)
    page = client.get(reverse("grading:my_submissions"))
    assert (page.context["score"], page.context["max_score"]) == (0, 9)


def test_an_ungraded_attempt_keeps_its_automatic_score_beside_a_graded_one(learner, instructor):
    drill = make_drill()
    graded = make_attempt(drill, learner)
    grade(graded.submission, instructor, 1, release=True)
    make_attempt(drill, learner, [("sync", ""), ("async", ""), ("sync", "")], submit=False)  # 6
    assert row_for("ada").cells[0].score == 6


def test_awaiting_and_draft_counts_include_drill_reviews(learner, other_learner, instructor,
                                                        instructor_client):
    drill = make_drill()
    make_attempt(drill, learner)  # handed in for review, not graded
    drafted = make_attempt(drill, other_learner, WRONG)
    grade(drafted.submission, instructor, 2)  # a draft above the automatic 0
    ada, grace = row_for("ada"), row_for("grace")
    assert (ada.awaiting, ada.drafts, ada.cells[0].draft) == (1, 0, False)
    assert (grace.awaiting, grace.drafts, grace.cells[0].draft) == (0, 1, True)
    assert grace.cells[0].score == 2
    header, *rows = read_csv(instructor_client.get(reverse("grading:gradebook_csv")))
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert (by_name["ada"]["awaiting grading"], by_name["ada"]["draft grades"]) == ("1", "0")
    assert (by_name["grace"]["awaiting grading"], by_name["grace"]["draft grades"]) == ("0", "1")


def test_the_learner_view_of_scores_hides_drafts(learner, instructor):
    question = make_question()
    grade(make_submission(learner, question), instructor, 7)
    drill = make_drill()
    grade(make_attempt(drill, learner, WRONG).submission, instructor, 3)
    mine = scores(learner_ids=[learner.pk], released_only=True)
    assert mine[learner.pk, "q", question.pk].score is None
    assert mine[learner.pk, "q", question.pk].awaiting == 1
    assert mine[learner.pk, "d", drill.pk].score == 0  # the automatic mark until release
    theirs = scores(learner_ids=[learner.pk])
    assert theirs[learner.pk, "q", question.pk].score == 7
    assert theirs[learner.pk, "d", drill.pk].score == 3


# Statistics ---------------------------------------------------------------------------------


def test_statistics_count_only_learners(learner, instructor):
    question = make_question()
    grade(make_submission(learner, question), instructor, 4)
    grade(make_submission(instructor, question), instructor, 10)  # an instructor trying it out
    drill = make_drill()
    make_attempt(drill, instructor)
    stats = class_statistics()
    entry = next(s for s in stats.assessments if s.assessment.pk == question.pk)
    assert (entry.submissions, entry.learners, entry.graded, entry.mean) == (1, 1, 1, 4)
    assert next(s for s in stats.assessments if s.assessment.is_drill).submissions == 0
    assert Submission.objects.count() == 3


def test_misconceptions_count_each_learners_first_attempt(make_user, instructor_client):
    drill = make_drill(review=False)
    keen, steady = make_user("keen"), make_user("steady")
    make_attempt(drill, steady, [("sync", ""), ("async", ""), ("async", "")])  # all right
    make_attempt(drill, keen, [("sync", ""), ("async", ""), ("async", "")])  # right first time
    for _ in range(5):  # then retries with the payments hop wrong
        make_attempt(drill, keen, [("async", ""), ("async", ""), ("async", "")])
    first = instructor_client.get(reverse("grading:statistics"))
    assert first.context["stats"].misconceptions == []
    assert "Counting each learner’s first attempt" in first.content.decode()
    every = instructor_client.get(reverse("grading:statistics"), {"attempts": "all"})
    (top,) = every.context["stats"].misconceptions
    assert (top.label, top.wrong, top.answers) == ("checkout → payments", 5, 7)
    assert "Counting every attempt" in every.content.decode()
    bad = instructor_client.get(reverse("grading:statistics"), {"attempts": "most"})
    assert bad.status_code == 400 and "first" in bad.content.decode()
