"""HEAD answers wherever GET does (RFC 9110): same status, same headers, no body.

Every URL pattern of the project is walked from the resolver and asked over a real HTTP server,
because the test client drops HEAD bodies itself and so could not show that the server does.
"""

import http.client
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from courseware.models import Lesson, Problem, Question, QuickCheck
from courseware.services import start_checkpoint
from drills.models import Drill
from tests import sitemap


def hand_in_work(user) -> None:
    """A drill attempt and an own workflow from ``user``, made as a visitor makes them."""
    client = Client()
    client.force_login(user)
    drill = Drill.objects.filter(interactions__isnull=False).distinct().first()
    assert drill is not None
    answers = {f"choice-{i.key}": "sync" for i in drill.interactions.all()}
    answers.update({f"reason-{i.key}": "1" for i in drill.interactions.all()})
    if drill.techniques:
        answers.update({f"technique-{i.key}": "plain-call" for i in drill.interactions.all()})
    client.post(reverse("drills:submit", args=[drill.slug]), {"token": uuid.uuid4(), **answers})
    client.post(reverse("drills:own_hand_in"), {
        "name": "Check in", "token": uuid.uuid4(), "hand_in": "1",
        "rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0",
        "rows-0-caller": "Web", "rows-0-callee": "Bookings", "rows-0-style": "sync",
        "rows-0-justification": "The passenger waits",
    })


def real_kwargs(route: sitemap.Route, user) -> dict:
    """Path parameters naming real objects, so that each page is shown rather than a 404.

    A new route with parameters fails here until it says which object it shows.
    """
    if not route.params:
        return {}
    submission = user.submissions.order_by("pk").first()
    attempt = user.drill_attempts.select_related("drill").order_by("pk").first()
    by_name = {
        "courseware:lesson": lambda: {"slug": first_slug(Lesson.objects.all())},
        "courseware:complete_lesson": lambda: {"slug": first_slug(Lesson.objects.all())},
        "courseware:figure": lambda: {"slug": "two-styles", "name": "request-timeline"},
        "courseware:answer_question": lambda: {"slug": first_slug(Question.objects.all())},
        "courseware:check_quick_check": lambda: {"slug": first_slug(QuickCheck.objects.all())},
        "courseware:answer_problem": lambda: {"slug": first_slug(Problem.objects.all())},
        "courseware:new_problem_numbers": lambda: {"slug": first_slug(Problem.objects.all())},
        "courseware:review_card": lambda: {"pk": user.review_cards.order_by("pk").first().pk},
        "courseware:answer_card": lambda: {"pk": user.review_cards.order_by("pk").first().pk},
        "courseware:checkpoint_item": lambda: {"pk": start_checkpoint(learner=user)[0].pk},
        "courseware:answer_checkpoint": lambda: {
            "pk": start_checkpoint(learner=user)[0].pk, "position": 0,
        },
        "drills:detail": lambda: {"slug": attempt.drill.slug},
        "drills:submit": lambda: {"slug": attempt.drill.slug},
        "drills:design": lambda: {"slug": attempt.drill.slug},
        "drills:history": lambda: {"slug": attempt.drill.slug},
        "drills:attempt": lambda: {"slug": attempt.drill.slug, "pk": attempt.pk},
        "grading:grade": lambda: {"pk": submission.pk},
        "grading:let_go": lambda: {"pk": submission.pk},
        "grading:grading_options": lambda: {"slug": first_slug(Question.objects.all())},
        "grading:release": lambda: {"pk": submission.pk},
        "grading:correct": lambda: {"pk": submission.pk},
        "grading:add_snippet": lambda: {"pk": submission.pk},
        "grading:delete_snippet": lambda: {"pk": submission.pk, "snippet_pk": 1},
        "grading:my_submission": lambda: {"pk": submission.pk},
        "grading:request_regrade": lambda: {"pk": submission.pk},
        "grading:rubric": lambda: {"slug": first_slug(Question.objects.all())},
        # No platform is registered there: the refusal page.
        "lti:login": lambda: {"registration_uuid": uuid.UUID(int=1)},
        "lti:retry_passback": lambda: {"pk": 1},
        "lti:sync_roster": lambda: {"pk": 1},
        "grading:schedule_release": lambda: {"pk": submission.pk},
        "grading:cancel_release": lambda: {"pk": 1},
        "grading:remove_due_date": lambda: {"pk": 1},
        "grading:revoke_extension": lambda: {"pk": 1},
        # A link that is no longer valid: the page that says so.
        "password_reset_confirm": lambda: {"uidb64": "MQ", "token": "expired-link"},
    }
    assert route.name in by_name, f"say which object {route.route} shows"
    return by_name[route.name]()


def first_slug(
    objects: QuerySet[Lesson] | QuerySet[Question] | QuerySet[QuickCheck] | QuerySet[Problem],
) -> str:
    first = objects.first()
    assert first is not None, "the course is loaded"
    return first.slug


def ask(base_url: str, method: str, path: str, session: str | None):
    parts = urlsplit(base_url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"} if session else {}
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_head_answers_like_get_on_every_page(live_server, live_course):
    users = get_user_model().objects
    learner, instructor = users.get(username="learner"), users.get(username="instructor")
    for user in (learner, instructor):
        hand_in_work(user)
    signed_in = Client()
    signed_in.force_login(instructor)
    routes = sitemap.routes()
    compared, shown = 0, set()

    for who, session, user in (("anonymous", None, learner),
                               ("instructor", signed_in.cookies[settings.SESSION_COOKIE_NAME].value,
                                instructor)):
        for route in routes:
            path = reverse(route.name, kwargs=real_kwargs(route, user)) if route.params \
                else route.path
            get_status, get_headers, body = ask(live_server.url, "GET", path, session)
            head_status, head_headers, head_body = ask(live_server.url, "HEAD", path, session)
            where = f"{who} {path}"
            assert head_status == get_status, f"{where}: GET {get_status}, HEAD {head_status}"
            assert head_body == b"", f"{where}: HEAD sent a body"
            assert head_headers.get("Content-Type") == get_headers.get("Content-Type"), where
            if get_status == 200:
                assert body, f"{where}: GET sent no body"
                shown.add((who, route.name))
            compared += 1

    assert compared > 2 * 25
    # The walk reached the pages behind each kind of parameter, not only 302s and 404s.
    for name in ("courseware:lesson", "drills:detail", "drills:attempt", "grading:grade",
                 "grading:my_submission", "grading:gradebook", "simulator:calculator"):
        assert ("instructor", name) in shown, name
    for name in ("courseware:home", "courseware:lesson", "drills:own_workflow", "login"):
        assert ("anonymous", name) in shown, name


@pytest.mark.parametrize("path", ["/drills/own/", "/accounts/signup/", "/accounts/login/"])
def test_a_form_page_answers_head(client, db, path):
    assert client.head(path).status_code == 200


def test_a_post_only_address_still_refuses_head(client, db):
    response = client.head(reverse("courseware:complete_lesson", args=["any"]))
    assert response.status_code == 405 and "HEAD" not in response["Allow"]
