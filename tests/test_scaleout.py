"""Two app servers, one PostgreSQL database: a learner may hit either and sees one state.

Nothing may live in a single process: sessions, the cache (and the idempotency tokens in it) and
the login-failure counts are all in the database, so a load balancer can send each request to
any server.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import global_settings
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.roles import ensure_instructor_group
from courseware.models import Course, Lesson, Module, Question
from courseware.services import submit_answer
from drills.models import Attempt, Drill, Interaction
from grading.models import Grade, Submission
from tests.appserver import Client, gunicorn, production_env

PASSWORD = "a-long-scaleout-password-57"
# The two servers are started once per module: on one worker.
pytestmark = pytest.mark.xdist_group("scaleout")


@pytest.fixture(scope="module")
def database_url(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        vendor, params = connection.vendor, connection.settings_dict
    if vendor != "postgresql":
        pytest.skip(
            "two app servers need one shared PostgreSQL database; this runs in the PostgreSQL "
            "pass (DATABASE_URL=postgres://…)"
        )
    user = params["USER"] or "postgres"
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


@pytest.fixture(scope="module")
def servers(database_url):
    """Two gunicorns, as two machines behind a load balancer; each test brings its own data."""
    # The lockout is the subject here, not the site-wide cap on password hashes a second.
    env = production_env(database_url, DJANGO_HASHING_RATE="1000/s")
    with gunicorn(env) as first, gunicorn(env) as second:
        yield first, second


@pytest.fixture
def lesson(transactional_db) -> Lesson:
    course = Course.objects.create(slug="scale", title="Scale course")
    module = Module.objects.create(course=course, slug="scale-module", title="Basics", order=1)
    lesson = Lesson.objects.create(
        module=module, slug="scale-lesson", title="Hops", order=1, body_markdown="Some *text*."
    )
    Question.objects.create(
        lesson=lesson, slug="scale-question", order=1, prompt="Why hand off?",
        model_answer_markdown="Because the caller need not wait.",
        rubric=[{"label": "Says who waits", "points": 6}, {"label": "Names a risk", "points": 4}],
    )
    drill = Drill.objects.create(
        slug="scale-drill", title="Checkout", domain="Shop", summary="Place an order.",
        scenario="A shopper pays for an order.",
    )
    for order, (caller, callee, answer) in enumerate(
        [("Checkout", "Payments", "sync"), ("Orders", "Email", "async")], start=1
    ):
        Interaction.objects.create(
            drill=drill, key=f"step-{order}", order=order, caller=caller, callee=callee,
            exchange="asks", answer=answer, rationale="because", deciding_question=1,
            wrong_answer_why="it hurts",
        )
    return lesson


@pytest.fixture(autouse=True)
def people(servers, lesson, settings):
    # The servers check passwords with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    users = get_user_model().objects
    users.create_user("ada", password=PASSWORD)
    for name in ("teach", "tutor"):
        users.create_user(name, password=PASSWORD).groups.add(ensure_instructor_group())


def test_a_learner_moves_between_two_servers_and_sees_one_state(servers):
    first, second = servers
    on_first, on_second = Client(first), Client(second)

    on_first.log_in("ada", PASSWORD)
    # The same browser, now routed to the other server.
    on_second.cookies = on_first.cookies
    lesson_page = "/lessons/scale-lesson/"
    answered = on_second.post_form(
        lesson_page, "/questions/scale-question/answer/", {"answer": "So the order is fast."}
    )
    completed = on_first.post_form(lesson_page, "/lessons/scale-lesson/complete/", {})

    assert answered.status == completed.status == 302
    for client in (on_first, on_second):
        page = client.get(lesson_page).text
        assert "Signed in as <strong>ada</strong>" in page
        assert "So the order is fast." in page
        assert "Lesson done" in page
    assert Submission.objects.filter(learner__username="ada").count() == 1

    on_second.post_form(lesson_page, "/accounts/logout/", {})

    assert "Signed in as" not in on_first.get(lesson_page).text


def test_a_login_lockout_on_one_server_holds_on_the_other(servers):
    first, second = servers
    for _ in range(5):
        response = Client(first).post_form(
            "/accounts/login/", "/accounts/login/", {"username": "ada", "password": "wrong"}
        )

    refused = Client(second).post_form(
        "/accounts/login/", "/accounts/login/", {"username": "ada", "password": PASSWORD}
    )

    assert response.status == refused.status == 429


def at_once(*calls):
    """Runs the calls in parallel threads, released together, and returns their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_one_drill_form_sent_to_both_servers_at_once_is_stored_once(servers):
    first, second = servers
    on_first = Client(first)
    on_first.log_in("ada", PASSWORD)
    on_second = Client(second, cookies=on_first.cookies)
    page = on_first.get("/drills/scale-drill/")
    form = {
        "csrfmiddlewaretoken": page.form_token(),
        "token": str(uuid.uuid4()),
        "choice-step-1": "sync",
        "choice-step-2": "sync",
        "reason-step-1": "1",
        "reason-step-2": "1",
    }

    responses = at_once(
        lambda: on_first.post("/drills/scale-drill/submit/", form),
        lambda: on_second.post("/drills/scale-drill/submit/", form),
    )

    assert [r.status for r in responses] == [302, 302]
    attempt = Attempt.objects.get(learner__username="ada")
    assert {r.header("Location") for r in responses} == {attempt.get_absolute_url()}
    assert str(attempt.token) == form["token"]
    # Step 2's style is wrong and its reason right: 3 + 1 of 2 × 3 points.
    assert "You scored 4 of 6 points." in on_second.get(attempt.get_absolute_url()).text


def test_two_graders_on_two_servers_saving_at_once_cannot_overwrite_each_other(servers):
    submission, _ = submit_answer(
        learner=get_user_model().objects.get(username="ada"),
        question=Question.objects.get(slug="scale-question"),
        answer="The shopper waits for the payment.",
    )
    url = f"/grading/submissions/{submission.pk}/"
    graders = []
    for base_url, username in zip(servers, ("teach", "tutor"), strict=True):
        grader = Client(base_url)
        grader.log_in(username, PASSWORD)
        graders.append((grader, grader.get(url).form_token()))

    def save(grader, token, score):
        return lambda: grader.post(url, {
            "csrfmiddlewaretoken": token, "version": "0", "score": score,
            "feedback": f"Scored {score} by {grader.base_url}",
        })

    responses = at_once(*(save(grader, token, score)
                          for (grader, token), score in zip(graders, ("6", "9"), strict=True)))

    statuses = sorted(r.status for r in responses)
    assert statuses == [302, 409], statuses
    grade = Grade.objects.get(submission__pk=submission.pk)
    assert grade.version == 1 and grade.changes.count() == 1
    scores = ("6", "9")
    saved = [r.status for r in responses].index(302)
    assert grade.score == int(scores[saved])
    assert grade.feedback_markdown.startswith(f"Scored {scores[saved]} by")
    # The grader who lost the race keeps what they wrote and sees the other grade.
    assert f"Scored {scores[1 - saved]} by" in responses[1 - saved].text


def test_an_admin_edit_on_one_server_is_shown_at_once_by_the_other(servers, lesson):
    first, second = servers
    reader = Client(second)
    # The other server has rendered the lesson and kept its fragments.
    assert "Some <em>text</em>." in reader.get("/lessons/scale-lesson/").text
    assert "Some <em>text</em>." in reader.get("/lessons/scale-lesson/").text
    get_user_model().objects.create_superuser("boss", password=PASSWORD)
    author = Client(first)
    author.log_in("boss", PASSWORD)
    url = f"/admin/courseware/lesson/{lesson.pk}/change/"
    edited = author.post(url, {
        "csrfmiddlewaretoken": author.get(url).form_token(),
        "module": str(lesson.module_id), "slug": lesson.slug, "title": "Hops, rewritten",
        "summary": "", "order": "1", "embed": "", "body_markdown": "Rewritten on *one* server.",
    })

    assert edited.status == 302, edited.text[:2000]
    page = reader.get("/lessons/scale-lesson/").text
    assert "Rewritten on <em>one</em> server." in page and "Hops, rewritten" in page
    assert "Some <em>text</em>." not in page


def test_a_drill_saved_elsewhere_is_shown_at_once_by_both_servers(servers):
    pages = [Client(server) for server in servers]
    for client in pages:
        assert "asks" in client.get("/drills/scale-drill/").text
    # Saved by a process that is neither server, as a management command would.
    interaction = Interaction.objects.get(key="step-2")
    interaction.exchange = "sends the receipt"
    interaction.save()

    for client in pages:
        page = client.get("/drills/scale-drill/").text
        assert "sends the receipt" in page
