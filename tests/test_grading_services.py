from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from grading import services
from grading.assessments import for_submission
from grading.models import Grade, GradeChange, RegradeRequest, Submission
from tests.grading_factories import make_attempt, make_drill, make_question, make_submission

pytestmark = pytest.mark.django_db


def save(submission, grader, *, score="7", version=0, feedback="Good.", criteria=("c1",), **kw):
    return services.save_grade(
        submission=submission,
        grader=grader,
        score=Decimal(score),
        criteria=list(criteria),
        feedback=feedback,
        expected_version=version,
        **kw,
    )


# Saving, versions and the audit trail ---------------------------------------------------------


def test_first_save_creates_a_draft_and_an_audit_entry(learner, instructor):
    submission = make_submission(learner)
    result = save(submission, instructor, feedback="Mostly **right**.")
    grade = result.grade
    assert result.created
    assert (grade.score, grade.criteria_met, grade.version) == (Decimal("7"), ["c1"], 1)
    assert grade.feedback_html == "<p>Mostly <strong>right</strong>.</p>"
    assert not grade.released
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    change = grade.changes.get()
    assert change.action == GradeChange.Action.CREATED
    assert (change.changed_by, change.old_score, change.new_score) == (instructor, None, 7)


def test_feedback_html_is_sanitised(learner, instructor):
    submission = make_submission(learner)
    grade = save(
        submission, instructor,
        feedback='<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>',
    ).grade
    assert "<script" not in grade.feedback_html
    assert "javascript:" not in grade.feedback_html
    assert "onerror" not in grade.feedback_html


def test_each_edit_bumps_the_version_and_records_old_and_new(learner, instructor):
    submission = make_submission(learner)
    save(submission, instructor, score="5", feedback="First.")
    grade = save(submission, instructor, score="8", feedback="Second.", version=1).grade
    assert grade.version == 2
    change = grade.changes.order_by("-pk").first()
    assert change.action == GradeChange.Action.EDITED
    assert (change.old_score, change.new_score) == (5, 8)
    assert (change.old_feedback, change.new_feedback) == ("First.", "Second.")


def test_stale_version_is_refused_and_nothing_is_overwritten(learner, instructor, make_user):
    other = make_user("second-grader", instructor=True)
    submission = make_submission(learner)
    save(submission, instructor, score="5", feedback="From the first grader.")
    # Both opened version 1; the first save wins, the second is refused.
    save(submission, other, score="9", feedback="From the second grader.", version=1)
    with pytest.raises(services.GradeConflict) as caught:
        save(submission, instructor, score="2", feedback="Late edit.", version=1)
    assert caught.value.current.score == 9
    assert "second-grader" in str(caught.value)
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.version) == (Decimal(9), 2)
    assert grade.feedback_markdown == "From the second grader."
    assert grade.changes.count() == 2


def test_two_first_grades_conflict_too(learner, instructor, make_user):
    other = make_user("second-grader", instructor=True)
    submission = make_submission(learner)
    save(submission, instructor)
    with pytest.raises(services.GradeConflict):
        save(submission, other, version=0)


def test_score_outside_the_range_is_refused_by_the_service(learner, instructor):
    submission = make_submission(learner)
    for score in ("-1", "10.5"):
        with pytest.raises(services.GradingError):
            save(submission, instructor, score=score)
    assert not Grade.objects.exists()


# Release ----------------------------------------------------------------------------------


def test_release_returns_the_submission_and_is_audited(learner, instructor):
    submission = make_submission(learner)
    grade = save(submission, instructor).grade
    services.release_grade(grade=grade, by=instructor, expected_version=1)
    grade.refresh_from_db()
    submission.refresh_from_db()
    assert grade.released and grade.released_at and grade.seen_at is None
    assert submission.status == Submission.Status.RETURNED
    assert grade.changes.filter(action=GradeChange.Action.RELEASED).count() == 1
    assert submission.released_grade == grade


def test_release_of_a_changed_grade_is_refused(learner, instructor):
    submission = make_submission(learner)
    grade = save(submission, instructor).grade
    save(submission, instructor, score="3", version=1)
    with pytest.raises(services.GradeConflict):
        services.release_grade(grade=grade, by=instructor, expected_version=1)
    assert not Grade.objects.get(pk=grade.pk).released


def test_released_grade_cannot_change_outside_a_regrade(learner, instructor):
    submission = make_submission(learner)
    grade = save(submission, instructor).grade
    grade = services.release_grade(grade=grade, by=instructor)
    with pytest.raises(services.GradeLocked, match="regrade request"):
        save(submission, instructor, score="1", version=grade.version)
    assert Grade.objects.get(pk=grade.pk).score == 7


def test_release_all_releases_only_that_questions_drafts(learner, other_learner, instructor):
    question, elsewhere = make_question(), make_question()
    first = save(make_submission(learner, question), instructor).grade
    second = save(make_submission(other_learner, question), instructor).grade
    untouched = save(make_submission(learner, elsewhere), instructor).grade
    listed = {g.pk: g.version for g in (first, second, untouched)}
    report = services.release_all(assessment=for_submission(first.submission), by=instructor,
                                  listed=listed)
    # A grade of another question in the list is not this question's to release.
    assert (len(report.released), report.gone, report.changed) == (2, 1, [])
    assert Grade.objects.get(pk=first.pk).released and Grade.objects.get(pk=second.pk).released
    assert not Grade.objects.get(pk=untouched.pk).released


# Regrades ---------------------------------------------------------------------------------


def released_submission(learner, instructor, score="6"):
    submission = make_submission(learner)
    grade = save(submission, instructor, score=score).grade
    services.release_grade(grade=grade, by=instructor)
    return submission


def test_regrade_request_puts_the_submission_back_in_the_queue(learner, instructor):
    submission = released_submission(learner, instructor)
    request = services.request_regrade(
        submission=submission, learner=learner, reason="I did name the caller, line 2."
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.AWAITING
    assert submission in Submission.objects.awaiting_grading()
    assert request.score_before == 6 and request.is_open
    # The learner keeps seeing the released grade while they wait.
    assert submission.released_grade is not None


def test_regrade_needs_a_released_grade_and_only_one_open_request(learner, instructor):
    submission = make_submission(learner)
    with pytest.raises(services.GradingError, match="released"):
        services.request_regrade(submission=submission, learner=learner, reason="Please look.")
    submission = released_submission(learner, instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Please look.")
    with pytest.raises(services.GradingError, match="already"):
        services.request_regrade(submission=submission, learner=learner, reason="Again please.")


def test_answering_a_regrade_changes_the_grade_and_records_the_answer(learner, instructor):
    submission = released_submission(learner, instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Line 2 names it.")
    grade = Grade.objects.get(submission=submission)
    with pytest.raises(services.GradingError, match="answer"):
        save(submission, instructor, score="9", version=grade.version, resolve_regrade=True)
    save(submission, instructor, score="9", version=grade.version,
         regrade_answer="You are right, it is there.", resolve_regrade=True)
    grade.refresh_from_db()
    submission.refresh_from_db()
    request = RegradeRequest.objects.get(submission=submission)
    assert (grade.score, grade.released, grade.seen_at) == (Decimal(9), True, None)
    assert submission.status == Submission.Status.RETURNED
    assert request.answer == "You are right, it is there."
    assert (request.answered_by, request.score_before, request.score_after) == (
        instructor, Decimal(6), Decimal(9),
    )
    assert request.resolved_at is not None
    change = grade.changes.get(action=GradeChange.Action.REGRADED)
    assert (change.old_score, change.new_score, change.reason) == (
        Decimal(6), Decimal(9), request.answer,
    )


def test_a_learner_cannot_ask_for_someone_elses_regrade(learner, other_learner, instructor):
    submission = released_submission(learner, instructor)
    with pytest.raises(services.GradingError):
        services.request_regrade(submission=submission, learner=other_learner, reason="Mine?")


# Drill submissions and identical answers --------------------------------------------------


def test_reviewed_drill_attempt_becomes_a_submission(learner):
    drill = make_drill(review=True)
    attempt = make_attempt(drill, learner, [("sync", "User waits"), ("sync", "x"), ("async", "")])
    submission = Submission.objects.get(attempt=attempt)
    assert submission.question is None and submission.learner == learner
    assert submission.status == Submission.Status.AWAITING
    assert "checkout → payments: sync — User waits" in submission.answer
    assert submission.payload["score"] == 6
    assert len(submission.fingerprint) == 64
    # Recording it again does not hand it in twice.
    assert services.submit_attempt_for_review(attempt=attempt) == submission
    assert Submission.objects.awaiting_grading().count() == 1


def test_unreviewed_drill_attempt_is_not_handed_in(learner):
    attempt = make_attempt(make_drill(review=False), learner)
    assert services.submit_attempt_for_review(attempt=attempt) is None
    assert not Submission.objects.exists()


def test_fingerprint_ignores_case_and_spacing_but_not_content():
    base = services.answers_fingerprint(1, [("a", "sync", "The user  waits."), ("b", "async", "")])
    same = services.answers_fingerprint(1, [("b", "async", ""), ("a", "sync", "the user waits")])
    other_choice = services.answers_fingerprint(1, [("a", "async", "The user waits."),
                                                    ("b", "async", "")])
    other_words = services.answers_fingerprint(1, [("a", "sync", "Nobody waits."),
                                                   ("b", "async", "")])
    other_drill = services.answers_fingerprint(2, [("a", "sync", "The user waits."),
                                                   ("b", "async", "")])
    assert base == same
    assert len({base, other_choice, other_words, other_drill}) == 4


def test_a_group_grade_lands_on_every_identical_submission(make_user, instructor):
    drill = make_drill()
    answers = [("sync", "User waits."), ("async", "Email can wait"), ("async", "Stats")]
    learners = [make_user(f"twin{i}") for i in range(3)]
    attempts = [make_attempt(drill, person, answers) for person in learners]
    different = make_attempt(drill, make_user("loner"), [("async", "no"), *answers[1:]])
    first, *others = [a.submission for a in attempts]
    assert {s.pk for s in services.identical_submissions(first)} == {s.pk for s in others}

    result = save(first, instructor, score="2", criteria=["checkout-payments", "orders-email"],
                  feedback="Check the email hop.",
                  apply_to_group=True)
    assert len(result.group_updated) == 2
    for submission in others:
        grade = Grade.objects.get(submission=submission)
        assert (grade.score, grade.criteria_met, grade.feedback_markdown) == (
            Decimal(2), ["checkout-payments", "orders-email"], "Check the email hop.",
        )
        assert grade.changes.get().action == GradeChange.Action.GROUP
        submission.refresh_from_db()
        assert submission.status == Submission.Status.GRADED
    assert not Grade.objects.filter(submission=different.submission).exists()

    # Each copy stays editable on its own.
    second = others[0]
    save(second, instructor, score="3", version=1, feedback="Better than the others.")
    assert Grade.objects.get(submission=second).score == 3
    assert Grade.objects.get(submission=first).score == 2


def test_group_grading_leaves_released_grades_alone(make_user, instructor):
    drill = make_drill()
    first, second = (make_attempt(drill, make_user(f"p{i}")).submission for i in range(2))
    grade = save(second, instructor, score="1", criteria=[]).grade
    services.release_grade(grade=grade, by=instructor)
    result = save(first, instructor, score="3", criteria=["orders-email"], apply_to_group=True)
    assert result.group_skipped == 1 and result.group_updated == []
    assert Grade.objects.get(submission=second).score == 1


def test_drill_assessment_has_one_criterion_per_interaction(learner):
    submission = make_attempt(make_drill(), learner).submission
    assessment = for_submission(submission)
    # Each criterion is worth what the drill's own grading gives the interaction.
    assert assessment.is_drill and assessment.max_score == 9
    assert [c.points for c in assessment.rubric] == [3, 3, 3]
    assert [c.label.split(":")[0] for c in assessment.rubric] == [
        "checkout → payments", "orders → email", "orders → analytics",
    ]


def test_a_submission_answers_exactly_one_question_or_drill(learner):
    question = make_question()
    attempt = make_attempt(make_drill(review=False), learner)
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(learner=learner, question=question, attempt=attempt, answer="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(learner=learner, answer="x")


def test_mark_seen_only_counts_released_grades(learner, instructor):
    submission = make_submission(learner)
    grade = save(submission, instructor).grade
    assert Grade.objects.unseen_by(learner).count() == 0
    services.release_grade(grade=grade, by=instructor)
    assert Grade.objects.unseen_by(learner).count() == 1
    services.mark_seen(grade=Grade.objects.get(pk=grade.pk))
    assert Grade.objects.unseen_by(learner).count() == 0


def test_recording_a_drill_attempt_hands_it_in_when_reviewed(learner):
    import uuid

    from drills import grading as drill_grading
    from drills import services as drill_services

    for review, expected in ((True, 1), (False, 0)):
        drill = make_drill(review=review)
        interactions = list(drill.interactions.all())
        result = drill_grading.grade(
            drill.answer_key(interactions),
            {i.key: drill_grading.Answer(choice=i.answer, justification="Why not") for i in
             interactions},
        )
        attempt, created = drill_services.record_attempt(
            learner=learner, drill=drill, interactions=interactions, result=result,
            token=uuid.uuid4(),
        )
        assert created
        assert Submission.objects.filter(attempt=attempt).count() == expected
