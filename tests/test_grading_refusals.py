"""Every refused save gives the grader their own text back, beside the grade that won."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from grading.models import Grade
from tests.grading_factories import make_submission

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PARAGRAPH = "A new paragraph about the retry budget that took me ten minutes."


def kept(html: str) -> bool:
    """The grader's paragraph is back inside the feedback box."""
    pattern = r'<textarea name="feedback"[^>]*>\s*' + re.escape(PARAGRAPH) + "</textarea>"
    return re.search(pattern, html) is not None


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(version, **extra):
    data = {"criteria": ["c1"], "score": "4", "feedback": PARAGRAPH, "version": version,
            "action": "save"}
    data.update(extra)
    return data


@pytest.fixture
def submission(learner):
    return make_submission(learner)


def test_a_save_on_a_grade_released_meanwhile_keeps_the_text(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, post(0, feedback="Draft by first."))
    # Both have version 1 open; "first" saves and releases, "second" then saves from the old page.
    client_for(first).post(url, post(1, feedback="Released by first.", action="release"))
    response = client_for(second).post(url, post(1))
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: this grade was released meanwhile" in html
    assert "<p>Released by first.</p>" in html  # the newer grade
    assert kept(html)  # the grader's own text, in the form
    assert 'value="4"' in html
    grade = Grade.objects.get(submission=submission)
    assert (grade.feedback_markdown, grade.released) == ("Released by first.", True)


def test_released_meanwhile_over_htmx_keeps_the_text_in_the_panel(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, post(0, action="release", feedback="Out."))
    response = client_for(second).post(url, post(0), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "released meanwhile" in html and kept(html)


def test_a_grader_without_release_permission_keeps_the_text(make_user, submission):
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]
    ))
    url = reverse("grading:grade", args=[submission.pk])
    response = client_for(grader).post(url, post(0, action="release"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "may grade but not release" in html
    assert kept(html)
    assert 'value="save"' in html  # and they can save it as a draft from here
    assert not Grade.objects.filter(submission=submission).exists()


def test_a_stale_save_keeps_the_text_beside_the_newer_draft(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, post(0, feedback="First."))
    response = client_for(second).post(url, post(0))
    html = response.content.decode()
    assert response.status_code == 409
    assert "someone changed this grade first" in html and "<p>First.</p>" in html
    assert kept(html) and 'name="version" value="1"' in html
