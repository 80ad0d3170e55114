"""Due dates per section, extensions per learner, late marking and the late penalty.

The penalty is applied by the score selector, so the gradebook, its CSV, statistics and the
learner's pages all show the same penalised score.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courseware.models import Course, Section
from courseware.services import enroll
from drills.models import Attempt
from grading import services
from grading.assessments import from_drill, from_question
from grading.deadlines import Policy, apply_penalty, policy_for
from grading.gradebook import gradebook_page
from grading.models import Submission
from grading.scores import DRILL, QUESTION, scores
from grading.statistics import class_statistics
from grading.templatetags.grading_tags import grade_summary
from tests.grading_factories import make_attempt, make_drill, make_question, make_submission

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))


@pytest.fixture
def section(db):
    course = Course.objects.create(slug="deadline-course", title="Course")
    return Section.objects.create(course=course, slug="spring-a", title="Spring A")


@pytest.fixture
def other_section(section):
    return Section.objects.create(course=section.course, slug="spring-b", title="Spring B")


def handed_in(learner, question, at, answer="It should be sync because the user waits."):
    submission = make_submission(learner, question, answer=answer)
    Submission.objects.filter(pk=submission.pk).update(created_at=at)
    submission.refresh_from_db()
    return submission


def grade(submission, grader, score, *, release=True):
    result = services.save_grade(
        submission=submission, grader=grader, score=Decimal(score), criteria=[], feedback="",
        expected_version=0,
    )
    if release:
        services.release_grade(grade=result.grade, by=grader)
    return result.grade


# The rule itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(("late_by", "days", "percent"), [
    (timedelta(0), 0, 0),
    (timedelta(seconds=-1), 0, 0),
    (timedelta(minutes=1), 1, 10),
    (timedelta(hours=24), 1, 10),
    (timedelta(hours=24, seconds=1), 2, 20),
    (timedelta(days=9), 9, 50),  # capped
])
def test_days_late_count_each_part_of_a_day_and_the_penalty_is_capped(late_by, days, percent):
    policy = Policy(due_at=NOW, penalty_per_day=Decimal(10), penalty_cap=Decimal(50))
    assert policy.days_late(NOW + late_by) == days
    assert policy.penalty(NOW + late_by) == percent


def test_penalty_rounds_to_the_cent_and_none_changes_nothing():
    assert apply_penalty(Decimal("7"), Decimal("15")) == Decimal("5.95")
    assert apply_penalty(Decimal("1"), Decimal("33.33")) == Decimal("0.67")
    assert apply_penalty(Decimal("8"), Decimal(0)) == Decimal("8")
    assert apply_penalty(None, Decimal(20)) is None
    assert apply_penalty(Decimal("8"), Decimal(100)) == 0


def test_section_due_date_applies_to_its_learners_only(section, other_section, instructor,
                                                       learner, other_learner):
    question = make_question()
    enroll(section=section, user=learner)
    enroll(section=other_section, user=other_learner)
    services.set_due_date(section=section, assessment=from_question(question), due_at=NOW,
                          penalty_per_day=Decimal(10), by=instructor)
    policy = policy_for(learner_id=learner.pk, question_id=question.pk)
    assert policy is not None and policy.due_at == NOW and not policy.extended
    assert policy_for(learner_id=other_learner.pk, question_id=question.pk) is None


def test_an_extension_replaces_the_section_date_and_keeps_its_policy(section, instructor,
                                                                    learner):
    question = make_question()
    enroll(section=section, user=learner)
    assessment = from_question(question)
    services.set_due_date(section=section, assessment=assessment, due_at=NOW,
                          penalty_per_day=Decimal(10), penalty_cap=Decimal(30), by=instructor)
    services.grant_extension(learner=learner, assessment=assessment,
                             due_at=NOW + timedelta(days=2), reason="Ill", by=instructor)
    policy = policy_for(learner_id=learner.pk, question_id=question.pk)
    assert policy == Policy(due_at=NOW + timedelta(days=2), penalty_per_day=Decimal(10),
                            penalty_cap=Decimal(30), extended=True, section_due_at=NOW)
    # A second grant moves the first rather than adding one.
    services.grant_extension(learner=learner, assessment=assessment,
                             due_at=NOW + timedelta(days=3), by=instructor)
    assert learner.extensions.count() == 1
    assert services.revoke_extension(learner=learner, assessment=assessment)
    assert policy_for(learner_id=learner.pk, question_id=question.pk).due_at == NOW


def test_an_extension_without_a_section_date_marks_lateness_but_costs_nothing(instructor,
                                                                              learner):
    question = make_question()
    services.grant_extension(learner=learner, assessment=from_question(question), due_at=NOW,
                             by=instructor)
    submission = handed_in(learner, question, NOW + timedelta(hours=3))
    grade(submission, instructor, 8)
    cell = scores(learner_ids=[learner.pk])[learner.pk, QUESTION, question.pk]
    assert (cell.score, cell.late, cell.penalty) == (8, True, 0)


def test_setting_a_due_date_twice_moves_it(section, instructor):
    assessment = from_question(make_question())
    services.set_due_date(section=section, assessment=assessment, due_at=NOW, by=instructor)
    due = services.set_due_date(section=section, assessment=assessment,
                                due_at=NOW + timedelta(days=1), by=instructor)
    assert section.due_dates.get() == due
    assert services.remove_due_date(section=section, assessment=assessment)
    assert not services.remove_due_date(section=section, assessment=assessment)


@pytest.mark.parametrize("bad", [Decimal(-1), Decimal("100.5")])
def test_a_penalty_must_be_a_percent(section, instructor, bad):
    assessment = from_question(make_question())
    with pytest.raises(services.GradingError, match="percent"):
        services.set_due_date(section=section, assessment=assessment, due_at=NOW,
                              penalty_per_day=bad, by=instructor)
    with pytest.raises(services.GradingError, match="percent"):
        services.set_due_date(section=section, assessment=assessment, due_at=NOW,
                              penalty_cap=bad, by=instructor)


# One truth: the selector applies the penalty for every reader --------------------------------


@pytest.fixture
def late_class(section, instructor, learner, other_learner):
    """ada hands in two days late (20% off 8 = 6.40); grace on time (8)."""
    question = make_question()
    enroll(section=section, user=learner)
    enroll(section=section, user=other_learner)
    services.set_due_date(section=section, assessment=from_question(question), due_at=NOW,
                          penalty_per_day=Decimal(10), penalty_cap=Decimal(50), by=instructor)
    late = handed_in(learner, question, NOW + timedelta(days=1, hours=2))
    on_time = handed_in(other_learner, question, NOW - timedelta(hours=1))
    grade(late, instructor, 8)
    grade(on_time, instructor, 8)
    return question, late, on_time


def test_gradebook_csv_statistics_and_learner_page_agree_on_the_penalty(
    late_class, learner, instructor_client
):
    question, late, _ = late_class
    found = scores()
    ada = found[learner.pk, QUESTION, question.pk]
    assert (ada.score, ada.late, ada.penalty, ada.marker) == (Decimal("6.40"), True, 20,
                                                             "released")
    _, page = gradebook_page(sort="name", page=1, per_page=50)
    rows = {row.username: row for row in page.object_list}
    assert rows["ada"].cells[0].score == Decimal("6.40")
    assert rows["grace"].cells[0].score == 8 and not rows["grace"].cells[0].late
    header, *csv_rows = read_csv(instructor_client.get(reverse("grading:gradebook_csv")))
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in csv_rows}
    score_column = next(h for h in header if h.startswith("question"))
    assert by_name["ada"][score_column] == "6.4"
    assert by_name["ada"][score_column.split(" (")[0] + " status"] == "released, late -20%"
    assert by_name["grace"][score_column] == "8"
    stats = class_statistics()
    assert sorted(next(s for s in stats.assessments if not s.assessment.is_drill).scores) == [
        Decimal("6.40"), Decimal(8)
    ]
    client = Client()
    client.force_login(learner)
    mine = client.get(reverse("grading:my_submissions"))
    assert mine.context["score"] == Decimal("6.40")
    page = client.get(reverse("grading:my_submission", args=[late.pk]))
    text = page.content.decode()
    assert "late" in text and "20%" in text and "6.4" in text


def test_drafts_are_penalised_for_instructors_and_hidden_from_learners(section, instructor,
                                                                       learner):
    question = make_question()
    enroll(section=section, user=learner)
    services.set_due_date(section=section, assessment=from_question(question), due_at=NOW,
                          penalty_per_day=Decimal(25), by=instructor)
    grade(handed_in(learner, question, NOW + timedelta(hours=1)), instructor, 10, release=False)
    draft = scores()[learner.pk, QUESTION, question.pk]
    assert (draft.score, draft.draft, draft.drafts, draft.late) == (Decimal("7.50"), True, 1, True)
    mine = scores(learner_ids=[learner.pk], released_only=True)[learner.pk, QUESTION, question.pk]
    assert (mine.score, mine.awaiting, mine.drafts) == (None, 1, 0)


def test_awaiting_late_work_is_marked_before_it_is_graded(section, instructor, learner):
    question = make_question()
    enroll(section=section, user=learner)
    services.set_due_date(section=section, assessment=from_question(question), due_at=NOW,
                          penalty_per_day=Decimal(5), by=instructor)
    handed_in(learner, question, NOW + timedelta(days=3))
    cell = scores()[learner.pk, QUESTION, question.pk]
    assert (cell.score, cell.awaiting, cell.late, cell.penalty, cell.marker) == (
        None, 1, True, 15, "awaiting grading"
    )


def test_drill_attempts_are_penalised_by_their_time_and_the_best_counts(section, instructor,
                                                                        learner):
    drill = make_drill(review=False)
    enroll(section=section, user=learner)
    services.set_due_date(section=section, assessment=from_drill(drill), due_at=NOW,
                          penalty_per_day=Decimal(50), by=instructor)
    early = make_attempt(drill, learner, [("async", ""), ("async", ""), ("async", "")])  # 6/9
    late = make_attempt(drill, learner)  # 9/9 but a day late: 4.50
    Attempt.objects.filter(pk=early.pk).update(created_at=NOW - timedelta(hours=1))
    Attempt.objects.filter(pk=late.pk).update(created_at=NOW + timedelta(hours=5))
    cell = scores()[learner.pk, DRILL, drill.pk]
    assert (cell.score, cell.late) == (Decimal(6), False)


def test_a_released_drill_review_is_penalised_too(section, instructor, learner):
    drill = make_drill()
    enroll(section=section, user=learner)
    services.set_due_date(section=section, assessment=from_drill(drill), due_at=NOW,
                          penalty_per_day=Decimal(10), by=instructor)
    attempt = make_attempt(drill, learner)
    Attempt.objects.filter(pk=attempt.pk).update(created_at=NOW + timedelta(hours=5))
    grade(attempt.submission, instructor, 2)
    cell = scores()[learner.pk, DRILL, drill.pk]
    assert (cell.score, cell.late, cell.penalty) == (Decimal("1.80"), True, 10)


def test_on_time_work_reads_the_same_with_or_without_a_due_date(section, instructor, learner,
                                                                other_learner):
    """The row-at-a-time reading agrees with the grouped one when nothing is late."""
    question, drill = make_question(), make_drill()
    for person in (learner, other_learner):
        grade(make_submission(person, question), instructor, 6, release=person == learner)
        make_attempt(drill, person)
        make_attempt(drill, person, [("async", ""), ("async", ""), ("async", "")], submit=False)
    before = scores()
    before_mine = scores(released_only=True, learner_ids=[learner.pk])
    enroll(section=section, user=learner)
    enroll(section=section, user=other_learner)
    for assessment in (from_question(question), from_drill(drill)):
        services.set_due_date(section=section, assessment=assessment,
                              due_at=NOW + timedelta(days=5), penalty_per_day=Decimal(10),
                              by=instructor)
    assert scores() == before
    assert scores(released_only=True, learner_ids=[learner.pk]) == before_mine


def test_the_home_grade_summary_takes_the_penalty_off_too(late_class, learner):
    class Request:
        user = learner

    summary = grade_summary({"request": Request()})
    assert (summary["released"], summary["score"]) == (1, Decimal("6.40"))
