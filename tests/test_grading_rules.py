"""Grading rules hold below the views: in the model, the database and the admin."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.demo import create_demo_accounts
from grading import services
from grading.models import Claim, Grade, GradeChange, GradingOptions, RubricChange, Submission
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db

INLINE = {"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
          "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "0"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def submission(learner):
    return make_submission(learner, make_question(max_score=10))


def draft(submission, grader, score=6):
    return services.save_grade(
        submission=submission, grader=grader, score=Decimal(score), criteria=["c1"],
        feedback="Name **who** waits.", expected_version=0,
    ).grade


@pytest.fixture
def staff(db):
    create_demo_accounts()
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="instructor")


def admin_post(grade, **changes):
    data = {"score": str(grade.score), "criteria_met": '["c1"]',
            "feedback_markdown": grade.feedback_markdown, "graded_by": grade.graded_by_id,
            **INLINE}
    if grade.released:
        data["released"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# Model and database -------------------------------------------------------------------------


def test_a_score_above_the_maximum_is_refused_by_the_model_and_the_database(submission,
                                                                            instructor):
    grade = Grade(submission=submission, score=Decimal(999), graded_by=instructor)
    with pytest.raises(ValidationError, match="between 0 and 10"):
        grade.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Grade.objects.create(submission=submission, score=Decimal(999), graded_by=instructor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grade.objects.create(submission=submission, score=Decimal(-1), graded_by=instructor)


def test_the_maximum_is_kept_from_grading_time(submission, instructor):
    grade = draft(submission, instructor, 8)
    assert grade.max_score == 10
    question = submission.question
    question.max_score = 5
    question.save()
    grade.refresh_from_db()
    assert (grade.score, grade.max_score) == (8, 10)


def test_a_released_grade_cannot_be_taken_back_by_a_script(submission, instructor):
    grade = services.release_grade(grade=draft(submission, instructor), by=instructor)
    grade.released = False
    with pytest.raises(ValidationError, match="cannot be taken back"):
        grade.full_clean()
    with pytest.raises(ValidationError, match="cannot be taken back"):
        grade.save()
    assert Grade.objects.get(pk=grade.pk).released
    with pytest.raises(IntegrityError), transaction.atomic():
        Grade.objects.filter(pk=grade.pk).update(released_at=None)


# The admin ----------------------------------------------------------------------------------


def test_the_admin_refuses_a_score_above_the_maximum(submission, instructor, staff):
    grade = draft(submission, instructor)
    url = reverse("admin:grading_grade_change", args=[grade.pk])
    response = client_for(staff).post(url, admin_post(grade, score="999"))
    assert response.status_code == 200
    assert "between 0 and 10" in response.content.decode()
    assert Grade.objects.get(pk=grade.pk).score == 6


def test_the_admin_cannot_untick_released(submission, instructor, staff):
    grade = services.release_grade(grade=draft(submission, instructor), by=instructor)
    url = reverse("admin:grading_grade_change", args=[grade.pk])
    response = client_for(staff).post(url, admin_post(grade, released=None))
    assert response.status_code == 200
    assert "cannot be taken back" in response.content.decode()
    assert Grade.objects.get(pk=grade.pk).released


def test_an_admin_release_is_audited_with_the_release_flag(submission, instructor, staff):
    grade = draft(submission, instructor)
    url = reverse("admin:grading_grade_change", args=[grade.pk])
    response = client_for(staff).post(url, admin_post(grade, released="on"))
    assert response.status_code == 302
    grade.refresh_from_db()
    assert grade.released and grade.released_at is not None
    change = grade.changes.order_by("-pk").first()
    assert (change.action, change.old_released, change.new_released) == ("admin", False, True)
    assert (change.old_score, change.new_score, change.changed_by) == (6, 6, staff)
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.RETURNED


def test_an_admin_change_to_a_released_grade_is_a_correction_with_a_reason(
    submission, instructor, staff, learner
):
    grade = services.release_grade(grade=draft(submission, instructor), by=instructor)
    url = reverse("admin:grading_grade_change", args=[grade.pk])
    refused = client_for(staff).post(url, admin_post(grade, score="9"))
    assert refused.status_code == 200 and "Give the reason" in refused.content.decode()
    assert Grade.objects.get(pk=grade.pk).score == 6
    done = client_for(staff).post(url, admin_post(grade, score="9", reason="Criterion 2 met."))
    assert done.status_code == 302
    change = Grade.objects.get(pk=grade.pk).changes.order_by("-pk").first()
    assert (change.action, change.old_score, change.new_score, change.reason) == (
        GradeChange.Action.CORRECTED, 6, 9, "Criterion 2 met."
    )
    page = client_for(learner).get(reverse("grading:my_submission", args=[submission.pk]))
    html = page.content.decode()
    assert "Grade corrected" in html and "Criterion 2 met." in html


def test_the_admin_shows_hand_ins_read_only(submission, staff):
    client = client_for(staff)
    url = reverse("admin:grading_submission_change", args=[submission.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="answer"' not in html and 'name="learner"' not in html
    assert submission.answer in html
    response = client.post(url, {"answer": "Rewritten.", "learner": staff.pk,
                                 "question": submission.question_id, "status": "graded"})
    assert response.status_code == 403
    assert Submission.objects.get(pk=submission.pk).answer == submission.answer
    assert client.get(reverse("admin:grading_submission_add")).status_code == 403


def test_the_admin_shows_rubric_history_claims_and_grading_options(submission, staff,
                                                                   instructor):
    client = client_for(staff)
    question = submission.question
    services.edit_rubric(question=question, by=instructor, criteria=question.rubric,
                         apply_to_grades=False, reason="Out of twelve now.", max_score=12,
                         expected_digest=services.rubric_digest(question.rubric))
    change = RubricChange.objects.get()
    page = client.get(reverse("admin:grading_rubricchange_change", args=[change.pk]))
    assert page.status_code == 200 and "Maximum score: 10 → 12" in page.content.decode()
    assert client.get(reverse("admin:grading_rubricchange_add")).status_code == 403
    assert client.post(reverse("admin:grading_rubricchange_delete", args=[change.pk]),
                       {"post": "yes"}).status_code == 403

    assert services.claim(submission=submission, grader=instructor)
    claim = Claim.objects.get()
    listing = client.get(reverse("admin:grading_claim_changelist")).content.decode()
    assert instructor.username in listing
    assert client.get(reverse("admin:grading_claim_add")).status_code == 403
    # Freeing a stuck submission is what the admin is for.
    client.post(reverse("admin:grading_claim_delete", args=[claim.pk]), {"post": "yes"})
    assert not Claim.objects.exists()

    added = client.post(reverse("admin:grading_gradingoptions_add"),
                        {"question": question.pk, "anonymous": "on"})
    assert added.status_code == 302
    options = GradingOptions.objects.get()
    assert options.anonymous and options.changed_by == staff


# Correcting a released grade on the grading page -------------------------------------------


def correction(version, **extra):
    data = {"criteria": ["c1", "c2"], "score": "8", "feedback": "Both points are there.",
            "version": version, "reason": "I missed your second paragraph."}
    data.update(extra)
    return data


def test_correcting_a_released_grade_permission_matrix(client, submission, instructor, learner,
                                                       make_user):
    grade = services.release_grade(grade=draft(submission, instructor), by=instructor)
    url = reverse("grading:correct", args=[submission.pk])
    assert client.post(url, correction(grade.version)).status_code == 302  # to log in
    assert client_for(learner).post(url, correction(grade.version)).status_code == 403
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]
    ))
    assert client_for(grader).post(url, correction(grade.version)).status_code == 403
    assert Grade.objects.get(pk=grade.pk).score == 6
    response = client_for(instructor).post(url, correction(grade.version))
    assert response.status_code == 302
    grade.refresh_from_db()
    assert (grade.score, grade.released, grade.seen_at) == (8, True, None)
    change = grade.changes.order_by("-pk").first()
    assert (change.action, change.reason, change.old_score) == (
        "corrected", "I missed your second paragraph.", 6
    )
    page = client_for(learner).get(reverse("grading:my_submission", args=[submission.pk]))
    html = page.content.decode()
    assert "Grade corrected" in html and "I missed your second paragraph." in html
    assert "6 → 8" in html


def test_a_correction_without_a_reason_keeps_the_text(submission, instructor):
    grade = services.release_grade(grade=draft(submission, instructor), by=instructor)
    url = reverse("grading:correct", args=[submission.pk])
    response = client_for(instructor).post(url, correction(grade.version, reason="",
                                                           feedback="Kept words."))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give the learner a reason" in html
    assert re.search(r'<textarea name="feedback"[^>]*>\s*Kept words.</textarea>', html)
    assert Grade.objects.get(pk=grade.pk).score == 6


def test_the_grading_page_offers_the_correction_only_to_those_who_may_release(
    submission, instructor, make_user
):
    services.release_grade(grade=draft(submission, instructor), by=instructor)
    url = reverse("grading:grade", args=[submission.pk])
    assert "Correct this grade" in client_for(instructor).get(url).content.decode()
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]
    ))
    assert "Correct this grade" not in client_for(grader).get(url).content.decode()
