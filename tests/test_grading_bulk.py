"""Bulk actions do exactly what their confirmation showed."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from grading import services
from grading.models import Grade
from grading.views import shorten
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db

TITLE = ("Should the checkout wait for the payment provider's answer before it shows the "
         "confirmation page to the customer?")


def draft(submission, grader, score=5):
    return services.save_grade(submission=submission, grader=grader, score=Decimal(score),
                               criteria=[], feedback="", expected_version=0).grade


def listed_on(page) -> list[str]:
    return [g.split('"')[0] for g in page.content.decode().split('name="grade" value="')[1:]]


def test_release_all_releases_exactly_what_it_listed(instructor_client, instructor, make_user):
    question = make_question(prompt=TITLE)
    people = [make_user(f"p{i}") for i in range(4)]
    grades = [draft(make_submission(person, question), instructor) for person in people[:3]]
    make_submission(people[3], question)  # handed in, not graded
    make_submission(people[0], question)  # another ungraded hand-in
    url = reverse("grading:release_all")
    key = f"q-{question.slug}"
    confirm = instructor_client.get(url, {"assessment": key})
    assert "2 answers to this question are not graded yet" in confirm.content.decode()
    listed = listed_on(confirm)
    assert sorted(listed) == sorted(f"{g.pk}:{g.version}" for g in grades)
    # Meanwhile a colleague edits one listed draft and saves a new one.
    changed = services.save_grade(
        submission=grades[1].submission, grader=instructor, score=Decimal(2), criteria=[],
        feedback="", expected_version=grades[1].version,
    ).grade
    late = draft(make_submission(make_user("late"), question), instructor)
    response = instructor_client.post(url, {"assessment": key, "confirm": "yes",
                                            "grade": listed})
    assert response.status_code == 302
    released = set(Grade.objects.released().values_list("pk", flat=True))
    assert released == {grades[0].pk, grades[2].pk}
    assert not Grade.objects.get(pk=changed.pk).released
    assert not Grade.objects.get(pk=late.pk).released
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts[0] == (
        "Released 2 grades of “Should the checkout wait for the payment provider's answer…”."
    )
    assert "changed after you confirmed: p1" in texts[1]
    assert "1 draft saved after you confirmed was not released." in texts[2]


def test_release_all_with_a_damaged_list_is_a_400(instructor_client, instructor, learner):
    question = make_question()
    grade = draft(make_submission(learner, question), instructor)
    url = reverse("grading:release_all")
    for bad in ("abc", f"{grade.pk}", f"{grade.pk}:x"):
        response = instructor_client.post(url, {"assessment": f"q-{question.slug}",
                                                "confirm": "yes", "grade": [bad]})
        assert response.status_code == 400
        assert "damaged" in response.content.decode()
    assert not Grade.objects.get(pk=grade.pk).released


@pytest.mark.parametrize("text, expected", [
    ("Short title", "Short title"),
    (TITLE, "Should the checkout wait for the payment provider's answer…"),
    ("x" * 80, "x" * 59 + "…"),
])
def test_shorten_cuts_between_words(text, expected):
    assert shorten(text) == expected
    assert len(shorten(text)) <= 60


# Apply to identical submissions -------------------------------------------------------------


def test_apply_to_identical_keeps_a_colleagues_draft_unless_asked(make_user, instructor):
    from django.test import Client

    from tests.grading_factories import make_attempt, make_drill

    colleague = make_user("colleague", instructor=True)
    drill = make_drill()
    mine, theirs, fresh, out = (
        make_attempt(drill, make_user(f"twin{i}")).submission for i in range(4)
    )
    draft(theirs, colleague, score=1)
    services.release_grade(grade=draft(out, colleague, score=2), by=colleague)
    client = Client()
    client.force_login(instructor)
    url = reverse("grading:grade", args=[mine.pk])
    page = client.get(url).content.decode()
    assert "Also replace the draft other graders saved: colleague for twin1" in page
    assert "draft by colleague" in page
    response = client.post(url, {"score": "3", "feedback": "Mine.", "version": "0",
                                 "action": "save", "apply_to_group": "on"}, follow=True)
    html = response.content.decode()
    assert "Drafts by other graders were kept: colleague for twin1." in html
    assert "1 already released were left alone." in html
    assert Grade.objects.get(submission=theirs).score == 1
    assert Grade.objects.get(submission=fresh).score == 3
    assert Grade.objects.get(submission=out).score == 2
    # Asked explicitly, the colleague's draft is replaced and the history says whose it was.
    client.post(url, {"score": "3", "feedback": "Mine.", "version": "1", "action": "save",
                      "apply_to_group": "on", "replace_others": "on"})
    replaced = Grade.objects.get(submission=theirs)
    assert (replaced.score, replaced.graded_by) == (3, instructor)
    assert "replaced colleague's draft" in replaced.changes.order_by("-pk").first().reason
    assert Grade.objects.get(submission=out).score == 2
