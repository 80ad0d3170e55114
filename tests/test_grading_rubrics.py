"""Stable rubrics: criteria keep their ids, grades keep the rubric they were given on, and an edit
in the grading workspace asks what happens to the existing grades and is recorded either way."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from courseware.models import Question
from courseware.rubrics import with_ids
from grading import services
from grading.models import Grade, GradeChange, RubricChange
from tests.grading_factories import make_question, make_submission
from tests.matching import search

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def grade(submission, grader, *, score, criteria, release=False):
    saved = services.save_grade(submission=submission, grader=grader, score=Decimal(score),
                                criteria=criteria, feedback="", expected_version=0).grade
    return services.release_grade(grade=saved, by=grader) if release else saved


def rows(question: Question, *, extra=(), remove=()) -> dict:
    """The rubric form as posted, for the question's criteria plus ``extra`` new rows."""
    criteria = list(question.rubric)
    data = {"form-TOTAL_FORMS": str(len(criteria) + len(extra)),
            "form-INITIAL_FORMS": str(len(criteria)), "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "digest": services.rubric_digest(criteria), "max_score": str(question.max_score)}
    for n, c in enumerate(criteria):
        data |= {f"form-{n}-id": c["id"], f"form-{n}-label": c["label"],
                 f"form-{n}-points": str(c["points"]), f"form-{n}-ORDER": str(n + 1)}
        if c["id"] in remove:
            data[f"form-{n}-DELETE"] = "on"
    for m, (label, points, order) in enumerate(extra, start=len(criteria)):
        data |= {f"form-{m}-id": "", f"form-{m}-label": label, f"form-{m}-points": str(points),
                 f"form-{m}-ORDER": str(order)}
    return data


def learner_rubric(client, submission) -> list[tuple[str, bool]]:
    page = client.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    block = search(r'<ul class="list-unstyled small rubric-result">(.*?)</ul>', page,
                   re.S).group(1)
    items = block.split("<li")[1:]
    return [(search(r'<span class="flex-grow-1">([^<]*)<', item).group(1).strip(),
             "✓" in item) for item in items]


@pytest.fixture
def instructor_client(instructor):
    return client_for(instructor)


def test_criteria_get_ids_that_positions_never_decide():
    question = make_question()
    assert [c["id"] for c in question.rubric] == ["c1", "c2", "c3"]
    # A criterion added at the top (as the admin's JSON would) takes a new id; the rest keep theirs.
    question.rubric = [{"label": "Counts the hops", "points": 2}, *question.rubric]
    question.save()
    assert [c["id"] for c in question.rubric] == ["c4", "c1", "c2", "c3"]


def test_a_reloaded_file_keeps_ids_by_label():
    stored = [{"id": "c1", "label": "A", "points": 1}, {"id": "c2", "label": "B", "points": 1}]
    from_file = [{"label": "New", "points": 1}, {"label": "B", "points": 2},
                 {"label": "A", "points": 1}]
    assert [c["id"] for c in with_ids(from_file, stored)] == ["c3", "c2", "c1"]


def test_adding_a_criterion_at_the_top_leaves_a_released_grade_as_graded(
        instructor, instructor_client, learner):
    question = make_question()
    submission = make_submission(learner, question)
    grade(submission, instructor, score=7, criteria=["c1", "c3"], release=True)
    learner_view = client_for(learner)
    before = learner_rubric(learner_view, submission)
    assert before == [("Names the caller waiting for the answer", True),
                      ("Says what happens when the callee is down", False),
                      ("Picks async for the bookkeeping step", True)]

    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]), {
        **rows(question, extra=[("States the timeout budget", 2, 0)]),
        "existing": "keep", "reason": "Timeouts matter too.",
    })
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.rubric[0]["label"] == "States the timeout budget"
    assert learner_rubric(learner_view, submission) == before
    saved = Grade.objects.get(submission=submission)
    assert (saved.score, saved.criteria_met) == (Decimal(7), ["c1", "c3"])
    change = RubricChange.objects.get(question=question)
    assert (change.applied, change.grades_changed, change.changed_by) == (False, 0, instructor)
    assert change.summary() == ["Added “States the timeout budget” (2 pts)"]
    # The grade's own history says the rubric moved on without it.
    page = instructor_client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert "this grade kept the rubric it was given on" in page
    assert "Added “States the timeout budget” (2 pts)" in page

    # A new grade uses the new rubric, by id.
    newer = grade(make_submission(instructor, question), instructor, score=2,
                  criteria=[question.rubric[0]["id"]])
    assert newer.labels(newer.criteria_met) == ["States the timeout budget"]


def test_applying_a_change_recomputes_rubric_scores_and_tells_learners(
        instructor, instructor_client, learner, make_user):
    question = make_question()
    followed = grade(make_submission(learner, question), instructor, score=7,
                     criteria=["c1", "c3"], release=True)
    typed = grade(make_submission(make_user("grace"), question), instructor, score=5,
                  criteria=["c1"])
    data = rows(question, remove=["c3"])
    data["form-0-points"] = "5"
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]), {
        **data, "existing": "apply", "reason": "The bookkeeping point was double counted.",
    }, follow=True)
    page = response.content.decode()
    assert "1 draft and 1 released grade changed" in page
    followed.refresh_from_db()
    typed.refresh_from_db()
    # The released grade followed the rubric: c3 is gone, c1 is now worth 5.
    assert (followed.score, followed.criteria_met, followed.seen_at) == (Decimal(5), ["c1"], None)
    assert [label for _, label, _, _ in followed.criteria_rows()] == [
        "Names the caller waiting for the answer", "Says what happens when the callee is down"]
    # A typed score is the grader's and is kept; only the rubric under it moved.
    assert (typed.score, typed.criteria_met) == (Decimal(5), ["c1"])
    correction = followed.changes.get(action=GradeChange.Action.CORRECTED)
    assert (correction.old_score, correction.new_score) == (Decimal(7), Decimal(5))
    assert "double counted" in correction.reason
    assert typed.changes.filter(action=GradeChange.Action.RUBRIC).exists()
    learner_page = client_for(learner).get(
        reverse("grading:my_submission", args=[followed.submission_id])).content.decode()
    assert "Grade corrected" in learner_page and "double counted" in learner_page
    change = RubricChange.objects.get(question=question)
    assert (change.applied, change.grades_changed) == (True, 2)
    assert "Removed “Picks async for the bookkeeping step”" in change.summary()


def test_the_page_asks_about_existing_grades_and_keeps_typed_rows(
        instructor, instructor_client, learner):
    question = make_question()
    grade(make_submission(learner, question), instructor, score=4, criteria=["c1"])
    url = reverse("grading:rubric", args=[question.slug])
    page = instructor_client.get(url).content.decode()
    assert "What happens to the grades already given?" in page
    assert "1 draft grade and 0 released grades" in page
    response = instructor_client.post(url, {**rows(question, extra=[("Mine", 1, 9)]),
                                            "reason": "More detail."})
    assert response.status_code == 422
    text = response.content.decode()
    assert "Choose whether the change applies to existing grades." in text
    assert 'value="Mine"' in text
    assert not RubricChange.objects.exists()


def test_an_edit_based_on_an_older_rubric_is_refused_with_the_rows_kept(
        instructor, instructor_client):
    question = make_question()
    stale = rows(question, extra=[("My new point", 2, 4)])
    question.rubric = [*question.rubric, {"label": "Colleague's point", "points": 1}]
    question.save()
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]),
                                      {**stale, "reason": "Adding mine."})
    assert response.status_code == 409
    text = response.content.decode()
    assert "Someone changed this rubric" in text and 'value="My new point"' in text
    question.refresh_from_db()
    assert [c["label"] for c in question.rubric][-1] == "Colleague's point"


@pytest.mark.parametrize(("change", "message"), [
    ({"form-0-label": ""}, "Describe what the answer must do"),
    ({"form-0-points": "0"}, "A criterion is worth at least 1 point."),
    ({"form-0-points": "two"}, "Points are a whole number."),
    ({"form-0-DELETE": "on", "form-1-DELETE": "on", "form-2-DELETE": "on"},
     "A rubric needs at least one criterion."),
    ({"form-1-id": "c1"}, "a criterion appears twice"),
    ({"reason": ""}, "Say what changed and why."),
])
def test_bad_rubric_edits_are_form_errors(instructor_client, change, message):
    question = make_question()
    before = list(question.rubric)
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]),
                                      {**rows(question), "reason": "Tidy.", **change})
    assert response.status_code == 422
    assert message in response.content.decode()
    question.refresh_from_db()
    assert question.rubric == before


def test_an_unknown_criterion_id_is_refused(instructor_client):
    question = make_question()
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]),
                                      {**rows(question), "form-0-id": "c99", "reason": "x"})
    assert response.status_code == 409
    assert "does not have" in response.content.decode()


def test_a_removed_criterion_id_is_never_handed_out_again(instructor, learner):
    question = make_question()
    grade(make_submission(learner, question), instructor, score=3, criteria=["c3"])
    services.edit_rubric(question=question, by=instructor, apply_to_grades=False, reason="a",
                         criteria=[{"id": "c1", "label": "A", "points": 4},
                                   {"id": "c2", "label": "B", "points": 3}],
                         expected_digest=services.rubric_digest(question.rubric))
    question.refresh_from_db()
    services.edit_rubric(question=question, by=instructor, apply_to_grades=False, reason="b",
                         criteria=[*question.rubric, {"id": None, "label": "C", "points": 3}],
                         expected_digest=services.rubric_digest(question.rubric))
    question.refresh_from_db()
    assert [c["id"] for c in question.rubric] == ["c1", "c2", "c4"]


def test_rubric_page_permissions(client, learner, make_user, instructor):
    question = make_question()
    url = reverse("grading:rubric", args=[question.slug])
    assert client.get(url).status_code == 302
    assert client_for(learner).get(url).status_code == 403
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]))
    # Editing a rubric can change released grades, so it needs the right to release.
    assert client_for(grader).get(url).status_code == 403
    assert client_for(grader).post(url, rows(question)).status_code == 403
    assert client_for(instructor).get(url).status_code == 200
    assert client_for(instructor).head(url).status_code == 200
    assert client_for(instructor).get(
        reverse("grading:rubric", args=["no-such-question"])).status_code == 404


def test_the_grading_page_links_to_the_rubric_and_marks_an_older_one(
        instructor, instructor_client, learner):
    question = make_question()
    submission = make_submission(learner, question)
    grade(submission, instructor, score=4, criteria=["c1"])
    page = instructor_client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert reverse("grading:rubric", args=[question.slug]) in page
    assert "earlier version of the rubric" not in page
    question.rubric = [*question.rubric, {"label": "Later point", "points": 1}]
    question.save()
    page = instructor_client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert "earlier version of the rubric" in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_positions_into_ids_keeping_each_grades_meaning(make_user):
    executor = MigrationExecutor(connection)
    before = [("courseware", "0008_problems_with_own_numbers"),
              ("grading", "0005_due_dates_extensions_scheduled_releases")]
    after = [("courseware", "0009_rubric_criterion_ids"),
             ("grading", "0006_rubric_criterion_ids")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Course, Module, Lesson = (
        old.get_model("courseware", name) for name in ("Course", "Module", "Lesson")
    )
    OldQuestion = old.get_model("courseware", "Question")
    User = old.get_model("auth", "User")
    course = Course.objects.create(slug="c", title="C")
    module = Module.objects.create(course=course, slug="m", title="M", order=1)
    lesson = Lesson.objects.create(module=module, slug="l", title="L", order=1)
    question = OldQuestion.objects.create(
        lesson=lesson, slug="q", prompt="Why?", max_score=10,
        rubric=[{"label": "First", "points": 4}, {"label": "Second", "points": 3},
                {"label": "Third", "points": 3}],
    )
    person = User.objects.create(username="old-learner")
    submission = old.get_model("grading", "Submission").objects.create(
        learner=person, question=question, answer="Because.")
    grade = old.get_model("grading", "Grade").objects.create(
        submission=submission, score=7, max_score=10, criteria_met=[0, 2])
    old.get_model("grading", "GradeChange").objects.create(
        grade=grade, action="edited", old_criteria=[0], new_criteria=[0, 2, 7])

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    migrated = new.get_model("grading", "Grade").objects.get(pk=grade.pk)
    assert migrated.criteria_met == ["c1", "c3"]
    assert migrated.rubric == [{"id": "c1", "label": "First", "points": "4"},
                               {"id": "c2", "label": "Second", "points": "3"},
                               {"id": "c3", "label": "Third", "points": "3"}]
    change = new.get_model("grading", "GradeChange").objects.get(grade_id=grade.pk)
    assert (change.old_criteria, change.new_criteria) == (["c1"], ["c1", "c3"])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # Seen through today's code, the grade still means what it meant.
    assert Grade.objects.get(pk=grade.pk).labels(["c1", "c3"]) == ["First", "Third"]


def test_a_new_maximum_is_applied_to_every_grade_and_recorded(instructor, instructor_client,
                                                               make_user):
    question = make_question()  # out of 10: criteria of 4, 3 and 3 points
    full = grade(make_submission(make_user("full"), question), instructor, score=10,
                 criteria=["c1", "c2", "c3"], release=True)
    typed = grade(make_submission(make_user("typed"), question), instructor, score=5,
                  criteria=["c1"])
    url = reverse("grading:rubric", args=[question.slug])
    response = instructor_client.post(url, {**rows(question), "max_score": "8",
                                            "existing": "apply", "reason": "Shorter task."},
                                      follow=True)
    assert "1 draft and 1 released grade changed" in response.content.decode()
    question.refresh_from_db()
    assert question.max_score == 8
    full.refresh_from_db()
    typed.refresh_from_db()
    # The rubric's total is capped at the new maximum; a typed score within it is kept.
    assert (full.score, full.max_score) == (Decimal(8), Decimal(8))
    assert (typed.score, typed.max_score) == (Decimal(5), Decimal(8))
    change = RubricChange.objects.get()
    assert (change.old_max_score, change.new_max_score) == (10, 8)
    assert "Maximum score: 10 → 8" in change.summary()
    audit = full.changes.order_by("-pk").first()
    assert audit.action == "corrected" and "now out of 8 instead of 10" in audit.reason
    gradebook = instructor_client.get(reverse("grading:gradebook")).content.decode()
    assert "(out of 8)" in gradebook


def test_a_new_maximum_cannot_leave_existing_grades_out_of_the_old_one(
        instructor, instructor_client, learner):
    question = make_question()
    kept = grade(make_submission(learner, question), instructor, score=9,
                 criteria=["c1"])
    response = instructor_client.post(
        reverse("grading:rubric", args=[question.slug]),
        {**rows(question), "max_score": "12", "existing": "keep", "reason": "Bigger."})
    assert response.status_code == 422
    text = response.content.decode()
    assert "must be applied to the existing grades" in text and 'value="12"' in text
    question.refresh_from_db()
    kept.refresh_from_db()
    assert question.max_score == 10 and kept.max_score == 10
    assert not RubricChange.objects.exists()
    with pytest.raises(services.GradingError, match="keep the maximum at 10"):
        services.edit_rubric(question=question, by=instructor, criteria=question.rubric,
                             apply_to_grades=False, reason="x", max_score=12,
                             expected_digest=services.rubric_digest(question.rubric))


@pytest.mark.parametrize(("value", "message"), [
    ("0", "greater than or equal to 1"),
    ("many", "Enter a whole number."),
    ("", "Give the question&#x27;s maximum score."),
    ("5000", "less than or equal to 1000"),
])
def test_a_bad_maximum_is_a_form_error(instructor_client, value, message):
    question = make_question()
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]),
                                      {**rows(question), "max_score": value, "reason": "x"})
    assert response.status_code == 422
    assert message in response.content.decode()
    question.refresh_from_db()
    assert question.max_score == 10


def test_without_grades_the_maximum_just_changes(instructor_client):
    question = make_question()
    response = instructor_client.post(reverse("grading:rubric", args=[question.slug]),
                                      {**rows(question), "max_score": "20", "reason": "More."})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.max_score == 20
    page = instructor_client.get(reverse("grading:rubric", args=[question.slug])).content
    assert b'name="max_score" value="20"' in page
