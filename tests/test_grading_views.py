from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from grading import services
from grading.models import FeedbackSnippet, Grade, GradeChange, RegradeRequest, Submission
from tests.grading_factories import make_attempt, make_drill, make_question, make_submission
from tests.matching import search

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def submission(learner):
    return make_submission(learner, answer="<script>alert('x')</script> The user waits.")


@pytest.fixture
def released(submission, instructor):
    grade = services.save_grade(
        submission=submission, grader=instructor, score=Decimal(6), criteria=["c1"],
        feedback="Name **who** waits.", expected_version=0,
    ).grade
    services.release_grade(grade=grade, by=instructor)
    return submission


def grade_post(version=0, **extra):
    data = {"criteria": ["c1", "c2"], "score": "7", "feedback": "Good start.", "version": version,
            "action": "save"}
    data.update(extra)
    return data


# Permission matrix --------------------------------------------------------------------------


def instructor_urls(submission):
    # Written by the grading instructor ("teach"), who may remove it.
    author = get_user_model().objects.filter(username="teach").first()
    snippet = FeedbackSnippet.objects.create(
        question=submission.question, author=author, text="Shared comment"
    )
    return [
        ("get", reverse("grading:queue"), {}),
        ("get", reverse("grading:grade", args=[submission.pk]), {}),
        ("post", reverse("grading:grade", args=[submission.pk]), grade_post()),
        ("post", reverse("grading:release", args=[submission.pk]), {"version": 1}),
        ("post", reverse("grading:add_snippet", args=[submission.pk]), {"text": "Nice."}),
        ("post", reverse("grading:delete_snippet", args=[submission.pk, snippet.pk]), {}),
        ("post", reverse("grading:release_all"), {"assessment": f"q-{submission.question.slug}"}),
        ("get", reverse("grading:gradebook"), {}),
        ("get", reverse("grading:gradebook_csv"), {}),
        ("get", reverse("grading:statistics"), {}),
        ("get", reverse("grading:submissions_csv"), {}),
        ("post", reverse("grading:claim_next"), {}),
        ("post", reverse("grading:let_go", args=[submission.pk]), {}),
        ("get", reverse("grading:rubric", args=[submission.question.slug]), {}),
        ("post", reverse("grading:grading_options", args=[submission.question.slug]),
         {"anonymous": "off"}),
    ]


def test_anonymous_is_sent_to_log_in_everywhere(client, submission, instructor):
    urls = [*instructor_urls(submission),
            ("get", reverse("grading:my_submissions"), {}),
            ("get", reverse("grading:my_submission", args=[submission.pk]), {}),
            ("post", reverse("grading:request_regrade", args=[submission.pk]),
             {"reason": "x" * 20})]
    for method, url, data in urls:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert not Grade.objects.exists()


def test_anonymous_htmx_request_is_redirected_by_htmx(client, submission):
    response = client.get(reverse("grading:queue"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_a_learner_gets_a_styled_403_on_every_instructor_url(learner_client, submission,
                                                              instructor):
    for method, url, data in instructor_urls(submission):
        response = getattr(learner_client, method)(url, data)
        assert response.status_code == 403, url
        assert b"Grading is open to instructors only" in response.content, url
        assert b"<nav" in response.content  # the site's own page, not a bare error
    assert not Grade.objects.exists()
    assert FeedbackSnippet.objects.count() == 1


def test_a_learner_sees_only_their_own_submissions(submission, other_learner, released):
    other = client_for(other_learner)
    for method, url, data in [
        ("get", reverse("grading:my_submission", args=[submission.pk]), {}),
        ("post", reverse("grading:request_regrade", args=[submission.pk]), {"reason": "x" * 20}),
    ]:
        assert getattr(other, method)(url, data).status_code == 404
    page = other.get(reverse("grading:my_submissions"))
    assert page.status_code == 200
    assert b"alert(" not in page.content and b"Name <strong>who</strong>" not in page.content
    assert not RegradeRequest.objects.exists()


def test_the_owner_reaches_their_pages(learner, submission):
    client = client_for(learner)
    assert client.get(reverse("grading:my_submissions")).status_code == 200
    assert client.get(reverse("grading:my_submission", args=[submission.pk])).status_code == 200


def test_an_instructor_reaches_every_instructor_url(instructor, submission):
    client = client_for(instructor)
    for method, url, data in instructor_urls(submission):
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), (url, response.status_code)
    # An instructor's own "My submissions" never shows someone else's work.
    response = client.get(reverse("grading:my_submission", args=[submission.pk]))
    assert response.status_code == 404


def test_grading_without_release_permission_cannot_release(make_user, submission):
    from django.contrib.auth.models import Permission

    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]
    ))
    client = client_for(grader)
    assert client.post(reverse("grading:grade", args=[submission.pk]), grade_post()).status_code \
        == 302
    response = client.post(reverse("grading:release", args=[submission.pk]), {"version": 1})
    assert response.status_code == 403
    page = client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert 'value="release"' not in page and "may grade but not release" in page
    response = client.post(reverse("grading:grade", args=[submission.pk]),
                           grade_post(version=1, score="9", action="release"))
    assert response.status_code == 403
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.released) == (Decimal(7), False)


# Queue ------------------------------------------------------------------------------------


def test_queue_lists_awaiting_oldest_first_with_counts(instructor_client, learner, other_learner):
    question = make_question(prompt="Which hop should be async?")
    older = make_submission(learner, question)
    newer = make_submission(other_learner, question)
    done = make_submission(learner, question)
    done.status = Submission.Status.RETURNED
    done.save()
    response = instructor_client.get(reverse("grading:queue"))
    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert listed == [older, newer]
    count = next(c for c in response.context["counts"] if c.assessment.pk == question.pk)
    assert (count.awaiting, count.graded, count.returned) == (2, 0, 1)
    assert b"Which hop should be async?" in response.content
    assert b"handed in <time" in response.content and b"just now</time>" in response.content


def test_ago_says_just_now_under_a_minute():
    from datetime import timedelta

    from django.utils import timezone

    from grading.templatetags.grading_tags import ago

    now = timezone.now()
    assert ago(now - timedelta(seconds=59), now) == "just now"
    assert ago(now - timedelta(minutes=1), now) == "1\xa0minute ago"
    assert ago(now - timedelta(hours=3, minutes=5), now) == "3\xa0hours, 5\xa0minutes ago"
    assert ago(None) == ""


def test_queue_cards_show_the_drill_auto_score(instructor_client, learner):
    drill = make_drill(title="Checkout drill")
    make_attempt(drill, learner, [("sync", "Waits"), ("sync", "Mail"), ("async", "Stats")])
    html = instructor_client.get(reverse("grading:queue")).content.decode()
    assert "Auto-scored 6 / 9" in html


def test_queue_filters_by_status_learner_and_question(instructor_client, learner, other_learner):
    first, second = make_question(), make_question()
    mine = make_submission(learner, first)
    theirs = make_submission(other_learner, second)
    url = reverse("grading:queue")

    def listed(**params):
        return list(instructor_client.get(url, params).context["page"].object_list)

    assert listed(learner=learner.username) == [mine]
    assert listed(assessment=f"q-{second.slug}") == [theirs]
    assert listed(assessment=f"l-{first.lesson.slug}") == [mine]
    assert listed(status="graded") == []
    assert listed(status="all") == [mine, theirs]


def test_queue_reports_bad_filters_and_ignores_them(instructor_client, learner):
    mine = make_submission(learner)
    response = instructor_client.get(
        reverse("grading:queue"), {"learner": "nobody", "assessment": "q-missing", "status": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "No learner is called “nobody”" in html
    assert "does not exist" in html
    assert list(response.context["page"].object_list) == [mine]


def test_queue_htmx_filter_returns_only_the_results(instructor_client, learner):
    make_submission(learner)
    response = instructor_client.get(
        reverse("grading:queue"), {"status": "all"}, HTTP_HX_TARGET="queue-results", **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-results"')
    assert "<nav" not in html and "Per question" not in html


def test_queue_marks_regrades_and_identical_drill_answers(instructor_client, make_user,
                                                          instructor, released, learner):
    services.request_regrade(submission=released, learner=learner, reason="Please look again.")
    drill = make_drill(title="Ride hailing")
    for i in range(2):
        make_attempt(drill, make_user(f"twin{i}"))
    response = instructor_client.get(reverse("grading:queue"))
    html = response.content.decode()
    assert "Regrade requested" in html
    assert "2 identical" in html
    assert "Drill review · Retail" in html and "Ride hailing" in html
    regrades = instructor_client.get(reverse("grading:queue"), {"status": "regrade"})
    assert list(regrades.context["page"].object_list) == [released]


# Grading page -----------------------------------------------------------------------------


def test_grading_page_shows_question_rubric_model_answer_and_escaped_answer(
    instructor_client, submission
):
    response = instructor_client.get(reverse("grading:grade", args=[submission.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; The user waits." in html
    assert "<script>alert(" not in html
    assert "Names the caller waiting for the answer (4 pts)" in html
    assert "the <strong>user</strong> needs the answer" in html
    assert "The user waits for it" in html  # key point
    assert 'name="version" value="0"' in html
    assert "grading/grading.js" in html
    assert "plotly" not in html
    assert f"Question · {submission.question.lesson.title}<" in html
    assert "Check yourself · Check yourself" not in html


def test_saving_a_grade_plain_post_redirects_back(instructor_client, submission):
    url = reverse("grading:grade", args=[submission.pk])
    response = instructor_client.post(url, grade_post())
    assert response.status_code == 302 and response["Location"] == url
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.criteria_met, grade.feedback_markdown) == (
        Decimal(7), ["c1", "c2"], "Good start.",
    )
    page = instructor_client.get(url)
    assert "Saved ada&#x27;s grade as a draft (7)." in page.content.decode()
    assert 'name="version" value="1"' in page.content.decode()


def test_empty_score_is_the_sum_of_the_ticked_criteria(instructor_client, submission):
    instructor_client.post(reverse("grading:grade", args=[submission.pk]),
                           grade_post(score="", criteria=["c1", "c3"]))
    assert Grade.objects.get(submission=submission).score == 7


@pytest.mark.parametrize(
    ("score", "criteria", "message"),
    [
        ("eleven", [], "Enter the score as a number"),
        ("11", [], "The score must be between 0 and 10."),
        ("-1", [], "The score cannot be below 0."),
        ("7.125", [], "Use at most two decimal places."),
        ("", [], "Enter a score, or tick the criteria that were met."),
        ("5", ["7"], "That criterion is not part of this rubric."),
    ],
)
def test_bad_scores_are_form_errors(instructor_client, submission, score, criteria, message):
    response = instructor_client.post(
        reverse("grading:grade", args=[submission.pk]),
        grade_post(score=score, criteria=criteria, feedback="Keep this text."),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert "Keep this text." in html
    assert not Grade.objects.exists()


def test_save_and_next_moves_to_the_next_in_the_queue(instructor_client, learner, other_learner):
    question = make_question()
    first = make_submission(learner, question)
    second = make_submission(other_learner, question)
    response = instructor_client.post(
        reverse("grading:grade", args=[first.pk]) + f"?assessment=q-{question.slug}",
        grade_post(action="next"),
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("grading:grade", args=[second.pk]) + f"?assessment=q-{question.slug}"
    )
    last = instructor_client.post(reverse("grading:grade", args=[second.pk]),
                                  grade_post(action="next"))
    assert last["Location"] == reverse("grading:queue") + "?"
    queue = instructor_client.get(last["Location"])
    assert "Nothing else is waiting in this queue." in queue.content.decode()


def test_save_and_next_with_htmx_swaps_in_the_next_submission(instructor_client, learner,
                                                              other_learner):
    question = make_question()
    first = make_submission(learner, question)
    second = make_submission(other_learner, question, answer="Second learner's words")
    response = instructor_client.post(
        reverse("grading:grade", args=[first.pk]), grade_post(action="next"), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="grading-panel"')
    assert "<header class=\"site-header" not in html
    assert "Second learner&#x27;s words" in html
    assert response["HX-Push-Url"] == reverse("grading:grade", args=[second.pk])
    assert "Saved ada&#x27;s grade as a draft" in html
    assert Grade.objects.filter(submission=first).exists()


def test_htmx_save_and_next_at_the_end_goes_back_to_the_queue(instructor_client, submission):
    response = instructor_client.post(
        reverse("grading:grade", args=[submission.pk]), grade_post(action="next"), **HTMX
    )
    assert response["HX-Redirect"] == reverse("grading:queue") + "?"


def test_concurrent_edit_is_refused_and_shows_the_newer_grade(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, grade_post(feedback="First thoughts.", score="5"))
    # Both now edit version 1; "first" saves again, then "second" saves on the stale version.
    client_for(first).post(url, grade_post(version=1, feedback="First, revised.", score="6"))
    response = client_for(second).post(
        url, grade_post(version=1, feedback="Second's careful feedback.", score="9")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: someone changed this grade first" in html
    assert "first saved this grade while you were editing it" in html
    assert "<p>First, revised.</p>" in html  # the newer grade, shown
    assert "Second&#x27;s careful feedback." in html  # and the grader's own text, kept
    assert 'name="version" value="2"' in html
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.feedback_markdown) == (Decimal(6), "First, revised.")
    # Having seen the newer grade, saving again on it goes through.
    again = client_for(second).post(url, grade_post(version=2, feedback="Second wins.", score="9"))
    assert again.status_code == 302
    assert Grade.objects.get(submission=submission).score == 9
    assert GradeChange.objects.filter(grade=grade).count() == 3


def test_concurrent_edit_over_htmx_keeps_the_panel(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, grade_post())
    response = client_for(second).post(url, grade_post(feedback="Mine."), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: someone changed this grade first" in html and "Mine." in html


def test_released_grade_is_read_only_and_a_post_is_refused(instructor_client, released):
    url = reverse("grading:grade", args=[released.pk])
    page = instructor_client.get(url).content.decode()
    # Only the explicit correction form remains; the grading form is gone.
    assert "Released grade" in page and "data-grade-form" not in page
    assert "Correct this grade" in page
    grade = Grade.objects.get(submission=released)
    response = instructor_client.post(url, grade_post(version=grade.version, score="1"))
    assert response.status_code == 409
    assert "changes only through a regrade request" in response.content.decode()
    assert Grade.objects.get(submission=released).score == 6


def test_release_from_the_grading_page(instructor_client, submission):
    url = reverse("grading:grade", args=[submission.pk])
    instructor_client.post(url, grade_post())
    response = instructor_client.post(reverse("grading:release", args=[submission.pk]),
                                      {"version": 1})
    assert response.status_code == 302
    assert Grade.objects.get(submission=submission).released
    assert "Released to ada." in instructor_client.get(url).content.decode()


def test_save_and_release_releases_what_is_in_the_form(instructor_client, submission):
    url = reverse("grading:grade", args=[submission.pk])
    instructor_client.post(url, grade_post(score="5", feedback="Draft words."))
    page = instructor_client.get(url).content.decode()
    assert "Save and release to ada" in page
    # The grader changes score and feedback, then releases without saving the draft first.
    response = instructor_client.post(
        url, grade_post(version=1, score="6", feedback="Final words.", action="release")
    )
    assert response.status_code == 302
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.feedback_markdown, grade.released) == (
        Decimal(6), "Final words.", True,
    )
    assert Submission.objects.get(pk=submission.pk).status == "returned"
    actions = list(GradeChange.objects.filter(grade=grade).values_list("action", flat=True))
    assert actions == ["released", "edited", "created"]
    page = instructor_client.get(response.url).content.decode()
    assert "Saved and released ada&#x27;s grade (6)." in page


def test_save_and_release_of_a_first_grade_over_htmx(instructor_client, submission):
    response = instructor_client.post(
        reverse("grading:grade", args=[submission.pk]), grade_post(action="release"), **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="grading-panel"')
    assert "Released grade" in html and "data-grade-form" not in html
    assert Grade.objects.get(submission=submission).released


def test_save_and_release_with_a_bad_or_stale_form_releases_nothing(make_user, submission):
    first, second = make_user("first", instructor=True), make_user("second", instructor=True)
    url = reverse("grading:grade", args=[submission.pk])
    client_for(first).post(url, grade_post(score="5"))
    bad = client_for(first).post(url, grade_post(version=1, score="eleven", action="release"))
    assert bad.status_code == 422
    assert "Enter the score as a number" in bad.content.decode()
    client_for(first).post(url, grade_post(version=1, score="6"))
    stale = client_for(second).post(url, grade_post(version=1, score="9", action="release"))
    assert stale.status_code == 409
    grade = Grade.objects.get(submission=submission)
    assert (grade.score, grade.released) == (Decimal(6), False)


def test_release_with_a_stale_version_is_refused(instructor_client, submission):
    url = reverse("grading:grade", args=[submission.pk])
    instructor_client.post(url, grade_post())
    instructor_client.post(url, grade_post(version=1, score="3"))
    response = instructor_client.post(reverse("grading:release", args=[submission.pk]),
                                      {"version": 1})
    assert response.status_code == 409
    assert "was not released" in response.content.decode()
    assert not Grade.objects.get(submission=submission).released


def test_release_without_a_grade_is_a_404_and_bad_version_is_reported(instructor_client,
                                                                       submission):
    url = reverse("grading:release", args=[submission.pk])
    assert instructor_client.post(url, {"version": 1}).status_code == 404
    instructor_client.post(reverse("grading:grade", args=[submission.pk]), grade_post())
    response = instructor_client.post(url, {"version": "abc"}, follow=True)
    assert "The release form was incomplete" in response.content.decode()
    assert not Grade.objects.get(submission=submission).released


def test_release_all_for_a_question(instructor_client, instructor, learner, other_learner):
    question = make_question()
    for person in (learner, other_learner):
        services.save_grade(submission=make_submission(person, question), grader=instructor,
                            score=Decimal(5), criteria=[], feedback="", expected_version=0)
    url = reverse("grading:release_all")
    key = f"q-{question.slug}"
    queue = instructor_client.get(reverse("grading:queue")).content.decode()
    assert f'href="{url}?assessment={key}"' in queue
    # First a confirmation page that lists who will see what; nothing is released yet.
    confirm = instructor_client.get(url, {"assessment": key}).content.decode()
    assert "Release 2 draft grades of" in confirm
    assert "ada" in confirm and 'name="confirm" value="yes"' in confirm
    unconfirmed = instructor_client.post(url, {"assessment": key})
    assert unconfirmed.status_code == 200 and b"Release 2 draft grades" in unconfirmed.content
    assert Grade.objects.released().count() == 0
    listed = [f"{g.pk}:{g.version}" for g in Grade.objects.all()]
    response = instructor_client.post(url, {"assessment": key, "confirm": "yes", "grade": listed},
                                      follow=True)
    assert "Released 2 grades" in response.content.decode()
    assert Grade.objects.released().count() == 2
    nothing_left = instructor_client.get(url, {"assessment": key}).content.decode()
    assert "There are no draft grades to release" in nothing_left
    assert instructor_client.get(url, {"assessment": "q-nope"}).status_code == 400
    bad = instructor_client.post(reverse("grading:release_all"), {"assessment": "q-nope"})
    assert bad.status_code == 400
    assert b"does not exist" in bad.content


def test_unknown_submission_is_a_styled_404(instructor_client):
    response = instructor_client.get(reverse("grading:grade", args=[999999]))
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


# Snippets ---------------------------------------------------------------------------------


def test_snippets_are_saved_per_question_and_inserted(instructor_client, submission, learner):
    url = reverse("grading:add_snippet", args=[submission.pk])
    response = instructor_client.post(url, {"text": "Say **who** waits."}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="activity-card" id="snippets"')
    assert 'data-snippet-insert="Say **who** waits."' in html
    snippet = FeedbackSnippet.objects.get()
    assert snippet.question == submission.question
    # Another submission of the same question offers it; one of another question does not.
    same = make_submission(learner, submission.question)
    other = make_submission(learner)
    assert b"Say **who** waits." in instructor_client.get(
        reverse("grading:grade", args=[same.pk])).content
    assert b"Say **who** waits." not in instructor_client.get(
        reverse("grading:grade", args=[other.pk])).content
    # Without JavaScript: choose it in the form and it is appended to the feedback.
    instructor_client.post(reverse("grading:grade", args=[same.pk]),
                           grade_post(feedback="Nearly.", snippet=snippet.pk))
    assert Grade.objects.get(submission=same).feedback_markdown == "Nearly.\n\nSay **who** waits."


def test_empty_snippet_is_a_form_error(instructor_client, submission):
    response = instructor_client.post(reverse("grading:add_snippet", args=[submission.pk]),
                                      {"text": "  "})
    assert response.status_code == 422
    assert "Write the comment you want to save." in response.content.decode()


def test_only_the_author_removes_a_snippet(instructor_client, instructor, submission, make_user):
    mine = FeedbackSnippet.objects.create(question=submission.question, author=instructor,
                                          text="Mine")
    theirs = FeedbackSnippet.objects.create(
        question=submission.question, author=make_user("colleague", instructor=True),
        text="Theirs",
    )
    url = "grading:delete_snippet"
    assert instructor_client.post(reverse(url, args=[submission.pk, theirs.pk])).status_code \
        == 403
    assert instructor_client.post(reverse(url, args=[submission.pk, mine.pk])).status_code == 302
    assert list(FeedbackSnippet.objects.all()) == [theirs]


# Drills on the grading page ---------------------------------------------------------------


def test_drill_submission_page_shows_answers_auto_grade_and_escapes(instructor_client, learner):
    drill = make_drill(title="Checkout drill")
    attempt = make_attempt(
        drill, learner,
        [("async", "<b>bold</b> claim"), ("async", "Email can wait"), ("async", "")],
    )
    response = instructor_client.get(reverse("grading:grade", args=[attempt.submission.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Automatic score: <strong>6 / 9</strong>" in html
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in html
    assert "checkout → payments: right call, justified soundly (3 pts)" in html
    assert "Score (out of 9)" in html


DRILL_KEYS = ["checkout-payments", "orders-email", "orders-analytics"]


def test_group_grading_through_the_form(instructor_client, make_user):
    drill = make_drill()
    subs = [make_attempt(drill, make_user(f"twin{i}")).submission for i in range(3)]
    page = instructor_client.get(reverse("grading:grade", args=[subs[0].pk])).content.decode()
    assert "Also apply this grade to the 2 other submissions with identical answers" in page
    box = search(r'<input[^>]*name="apply_to_group"[^>]*>', page).group()
    # Identical drill answers are graded once by default; unticking grades only this one.
    assert "checked" in box
    # Without the box ticked, only this submission is graded.
    instructor_client.post(reverse("grading:grade", args=[subs[0].pk]),
                           grade_post(score="2", criteria=[]))
    assert Grade.objects.filter(submission__in=subs).count() == 1
    response = instructor_client.post(
        reverse("grading:grade", args=[subs[0].pk]),
        grade_post(version=1, score="3", criteria=DRILL_KEYS, apply_to_group="on"),
        follow=True,
    )
    assert "The same grade went to 2 identical submissions." in response.content.decode()
    assert Grade.objects.filter(submission__in=subs, score=3).count() == 3


# The learner's side -----------------------------------------------------------------------


def test_learner_sees_nothing_of_a_draft(learner, submission, instructor):
    services.save_grade(submission=submission, grader=instructor, score=Decimal(3),
                        criteria=["c2"], feedback="Secret draft note", expected_version=0)
    client = client_for(learner)
    for url in (reverse("grading:my_submissions"),
                reverse("grading:my_submission", args=[submission.pk])):
        html = client.get(url).content.decode()
        assert "Secret draft note" not in html
        assert "Awaiting grading" in html
        assert "Graded" not in html.replace("Graded and returned", "")
    assert Grade.objects.get().seen_at is None


def test_learner_sees_a_released_grade_with_a_new_badge(learner, released):
    client = client_for(learner)
    listing = client.get(reverse("grading:my_submissions")).content.decode()
    assert "New grade" in listing
    assert "My submissions <span class=\"badge" in listing  # the navbar count
    detail = client.get(reverse("grading:my_submission", args=[released.pk])).content.decode()
    assert "Name <strong>who</strong> waits." in detail
    assert '6 <span class="fs-6 text-body-secondary">out of 10</span>' in detail
    assert "Names the caller waiting for the answer" in detail
    assert "&lt;script&gt;" in detail
    assert Grade.objects.get().seen_at is not None
    again = client.get(reverse("grading:my_submissions")).content.decode()
    assert "New grade" not in again


def test_own_workflow_goes_by_its_name_on_the_learners_pages(learner, instructor):
    question = make_question(prompt="Describe a workflow of your own and mark each hop.")
    submission = make_submission(learner, question, answer="Checkout → Payments: sync")
    submission.payload = {"workflow": "Ticket booking", "rows": []}
    submission.save()
    plain = make_submission(learner, question, answer="No payload here.")
    client = client_for(learner)
    listing = client.get(reverse("grading:my_submissions")).content.decode()
    assert "Your workflow: Ticket booking" in listing
    assert listing.count("Describe a workflow of your own") == 1  # only the one without a name
    page = client.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    assert 'aria-current="page">Your workflow: Ticket booking</li>' in page
    assert "Describe a workflow of your own and mark each hop." in page  # the prompt, below
    other = client.get(reverse("grading:my_submission", args=[plain.pk])).content.decode()
    assert 'aria-current="page">Describe a workflow of your own' in other


def test_released_grade_shows_in_the_learners_progress(learner, released):
    html = client_for(learner).get(reverse("courseware:home")).content.decode()
    assert "Graded answers" in html and "6 / 10" in html


def test_regrade_request_flow_through_the_pages(learner, released, instructor_client):
    client = client_for(learner)
    url = reverse("grading:request_regrade", args=[released.pk])
    short = client.post(url, {"reason": "pls"})
    assert short.status_code == 422
    assert "Say a little more" in short.content.decode()
    response = client.post(url, {"reason": "My answer names the caller in line one."})
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "Waiting for an instructor" in detail
    assert "Ask for a regrade" not in detail
    twice = client.post(url, {"reason": "Asking a second time here."})
    assert twice.status_code == 409
    assert "already asked for a regrade" in twice.content.decode()
    assert RegradeRequest.objects.count() == 1

    grading_url = reverse("grading:grade", args=[released.pk])
    page = instructor_client.get(grading_url).content.decode()
    assert "The learner asks for a regrade" in page
    assert "My answer names the caller in line one." in page
    grade = Grade.objects.get(submission=released)
    missing = instructor_client.post(grading_url, grade_post(version=grade.version, score="8",
                                                             action="release"))
    assert missing.status_code == 422
    assert "Answer the learner&#x27;s regrade request before returning" in (
        missing.content.decode())
    done = instructor_client.post(grading_url, grade_post(
        version=grade.version, score="8", regrade_answer="Agreed, two more points.",
        action="release"))
    assert done.status_code == 302
    detail = client.get(reverse("grading:my_submission", args=[released.pk])).content.decode()
    assert "Agreed, two more points." in detail
    assert "score 6 → 8" in detail
    assert '8 <span class="fs-6 text-body-secondary">out of 10</span>' in detail


def test_regrade_before_release_is_refused(learner, submission):
    response = client_for(learner).post(
        reverse("grading:request_regrade", args=[submission.pk]),
        {"reason": "Please grade me soon, thanks."},
    )
    assert response.status_code == 409
    assert "once your grade has been released" in response.content.decode()
    assert not RegradeRequest.objects.exists()


def test_regrade_over_htmx_returns_the_fragment(learner, released):
    client = client_for(learner)
    url = reverse("grading:request_regrade", args=[released.pk])
    bad = client.post(url, {"reason": ""}, **HTMX)
    assert bad.content.decode().lstrip().startswith('<section id="regrade"')
    assert "Give a reason for your request." in bad.content.decode()
    good = client.post(url, {"reason": "Please look at my second line."}, **HTMX)
    assert good["HX-Redirect"] == reverse("grading:my_submission", args=[released.pk])


def test_navbar_shows_my_submissions_only_when_signed_in(client, learner):
    assert b"My submissions" not in client.get(reverse("courseware:home")).content
    client.force_login(learner)
    assert b"My submissions" in client.get(reverse("courseware:home")).content


# The lesson page and the admin ------------------------------------------------------------


def test_lesson_page_shows_the_learner_status_and_released_score(learner, submission,
                                                                 instructor):
    client = client_for(learner)
    url = submission.question.lesson.get_absolute_url()
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(6),
                                criteria=[], feedback="", expected_version=0).grade
    html = client.get(url).content.decode()
    assert "Awaiting grading" in html and "see the feedback" not in html
    services.release_grade(grade=grade, by=instructor)
    html = client.get(url).content.decode()
    assert "Graded <strong>6 / 10</strong>" in html
    assert reverse("grading:my_submission", args=[submission.pk]) in html


def test_admin_edit_of_a_grade_is_audited(released, make_user):
    from accounts.demo import create_demo_accounts

    create_demo_accounts()
    staff = get_user_model().objects.get(username="instructor")
    client = client_for(staff)
    grade = Grade.objects.get(submission=released)
    url = reverse("admin:grading_grade_change", args=[grade.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Grade changes" in page.content or b"grade change" in page.content.lower()
    response = client.post(url, {
        "submission": released.pk, "score": "9", "criteria_met": '["c1", "c2"]',
        "feedback_markdown": "Corrected.", "released": "on", "graded_by": staff.pk,
        "reason": "The second criterion was met after all.",
        "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
        "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    grade.refresh_from_db()
    assert (grade.score, grade.feedback_html, grade.version) == (Decimal(9), "<p>Corrected.</p>", 3)
    change = grade.changes.order_by("-pk").first()
    assert change is not None
    assert (change.action, change.old_score, change.new_score, change.changed_by) == (
        GradeChange.Action.CORRECTED, 6, 9, staff,
    )
    for name in ("feedbacksnippet", "regraderequest", "gradechange"):
        assert client.get(reverse(f"admin:grading_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:grading_submission_changelist")).status_code == 200


def test_missing_or_bad_version_is_reported(instructor_client, submission):
    for version in ("", "abc", "-3"):
        response = instructor_client.post(reverse("grading:grade", args=[submission.pk]),
                                          grade_post(version=version))
        assert response.status_code == 422
        assert "This form is out of date" in response.content.decode()
    assert not Grade.objects.exists()


def test_an_own_workflow_handed_in_under_the_old_tick_shows_the_path_its_rows_give(
        learner, instructor):
    question = make_question(rubric=[])
    rows = [{"caller": "Web", "callee": "Orders", "exchange": "place", "style": "sync",
             "justification": "The user waits.", "after": "", "critical": False}]
    submission = Submission.objects.create(
        learner=learner, question=question,
        answer="Workflow: Shop\n\n1. Web → Orders (place): SYNC, off the critical path",
        payload={"workflow": "Shop", "rows": rows, "proposal": ""},
    )
    client = Client()
    client.force_login(instructor)
    page = client.get(reverse("grading:grade", args=[submission.pk])).content.decode()
    assert "SYNC, on the critical path" in page and "off the critical path" not in page
    client.force_login(learner)
    mine = client.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    assert "SYNC, on the critical path" in mine
