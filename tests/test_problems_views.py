"""Problems on lesson pages: permissions, htmx and plain forms, bad input, races, first tries."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.urls import reverse

from courseware import services, signals
from courseware.models import Problem, ProblemAnswer, ProblemInstance
from courseware.progress import course_progress

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def problem(course) -> Problem:
    return Problem.objects.get(slug="chain-failure-numbers")


def answer_url(problem: Problem) -> str:
    return reverse("courseware:answer_problem", args=[problem.slug])


def new_url(problem: Problem) -> str:
    return reverse("courseware:new_problem_numbers", args=[problem.slug])


def truth(instance: ProblemInstance) -> float:
    problem_type = instance.problem.problem_type
    assert problem_type is not None
    return problem_type.answer(instance.params)


def card(html: str, problem: Problem) -> str:
    start = html.index(f'<div class="activity-card" id="problem-{problem.slug}"')
    end = html.find('<div class="activity-card"', start + 1)
    return html[start:end if end > 0 else None]


def current(learner, problem: Problem) -> ProblemInstance:
    instance = ProblemInstance.objects.of(learner, problem).current()
    assert instance is not None
    return instance


def test_every_problem_sits_on_a_lesson_and_the_arithmetic_questions_became_problems(course):
    placed = dict(Problem.objects.values_list("slug", "lesson__slug"))
    assert placed["chain-failure-numbers"] == "latency-math"
    assert placed["p99-sum-overstatement"] == "latency-math"
    assert {"check-chain-failure", "check-fan-out"} <= {
        slug for slug, lesson in placed.items() if lesson == "check-yourself"
    }
    assert len(set(Problem.objects.values_list("kind", flat=True))) >= 6


def test_a_visitor_sees_example_numbers_and_is_asked_to_log_in(client, problem):
    page = client.get(problem.lesson.get_absolute_url()).content.decode()
    shown = card(page, problem)
    assert "Log in</a> to answer with numbers drawn for you" in shown
    assert 'name="answer"' not in shown
    assert ProblemInstance.objects.count() == 0


def test_a_visitor_who_answers_is_sent_to_log_in_and_nothing_is_stored(client, problem):
    response = client.post(answer_url(problem), {"instance": 1, "answer": "4"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    response = client.post(answer_url(problem), {"instance": 1, "answer": "4"}, headers=HTMX)
    assert reverse("login") in response["HX-Redirect"]
    response = client.post(new_url(problem), {"after": 1})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert ProblemAnswer.objects.count() == ProblemInstance.objects.count() == 0


def test_another_learner_cannot_answer_my_numbers(client, learner, other_learner, problem):
    mine = services.current_instance(learner=learner, problem=problem)
    client.force_login(other_learner)
    response = client.post(answer_url(problem), {"instance": mine.pk, "answer": truth(mine)})
    assert response.status_code == 400
    assert "not your numbers" in response.content.decode()
    response = client.post(
        answer_url(problem), {"instance": mine.pk, "answer": truth(mine)}, headers=HTMX
    )
    assert response.status_code == 400 and "not your numbers" in response.content.decode()
    assert not ProblemAnswer.objects.exists()


def test_numbers_of_another_problem_are_refused(learner_client, learner, problem):
    other = Problem.objects.get(slug="fan-out-numbers")
    theirs = services.current_instance(learner=learner, problem=other)
    response = learner_client.post(answer_url(problem), {"instance": theirs.pk, "answer": "5"})
    assert response.status_code == 400
    assert not ProblemAnswer.objects.exists()


def test_a_learner_gets_numbers_of_their_own_that_stay_on_reload(
    client, learner, other_learner, problem
):
    client.force_login(learner)
    first = card(client.get(problem.lesson.get_absolute_url()).content.decode(), problem)
    mine = current(learner, problem)
    again = card(client.get(problem.lesson.get_absolute_url()).content.decode(), problem)
    prompt = problem.problem_type.prompt(mine.params)
    assert prompt in first and prompt in again and f'value="{mine.pk}"' in again
    assert ProblemInstance.objects.of(learner, problem).count() == 1
    assert ProblemInstance.objects.filter(learner=learner).count() == Problem.objects.filter(
        lesson=problem.lesson
    ).count()
    client.force_login(other_learner)
    client.get(problem.lesson.get_absolute_url())
    assert current(other_learner, problem).seed != mine.seed


def test_a_right_answer_without_javascript_shows_the_worked_solution(
    learner_client, learner, problem
):
    learner_client.get(problem.lesson.get_absolute_url())
    instance = current(learner, problem)
    response = learner_client.post(
        answer_url(problem), {"instance": instance.pk, "answer": f"{truth(instance):.4f}"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#problem-{problem.slug}")
    stored = ProblemAnswer.objects.get()
    assert stored.correct and stored.first_try and stored.instance == instance
    shown = card(learner_client.get(response["Location"]).content.decode(), problem)
    assert "Right." in shown and "Worked solution with your numbers" in shown
    assert "N · p" in shown
    assert "the one that counts: <span class=\"fw-semibold\">right" in shown
    assert course_progress(learner).problems_correct == 1
    home = learner_client.get(reverse("courseware:home")).content.decode()
    assert "Problems right at the first try" in home
    assert f"1 / {Problem.objects.count()}</dd>" in home


def test_htmx_gets_only_the_problems_card(learner_client, learner, problem):
    instance = services.current_instance(learner=learner, problem=problem)
    response = learner_client.post(
        answer_url(problem), {"instance": instance.pk, "answer": truth(instance) * 2},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="activity-card" id="problem-{problem.slug}"')
    assert "<html" not in html and "Not right." in html
    assert not ProblemAnswer.objects.get().correct


NOT_NUMBERS = [
    ("abc", "is not a number"), ("nan", "finite"), ("inf", "finite"), ("-inf", "finite"),
    ("1e999", "too large"), ("", "Type a number"), ("4,9", "point for decimals"),
]


def test_an_answer_that_is_not_a_finite_number_is_refused(learner_client, learner, problem):
    # One course load for every case: loading it is what makes these tests slow.
    instance = services.current_instance(learner=learner, problem=problem)
    for htmx in (False, True):
        for typed, reason in NOT_NUMBERS:
            response = learner_client.post(
                answer_url(problem), {"instance": instance.pk, "answer": typed},
                headers=HTMX if htmx else {},
            )
            # htmx swaps only a 200; without it the page comes back as a 422.
            assert response.status_code == (200 if htmx else 422), typed
            shown = card(response.content.decode(), problem)
            assert reason in shown and 'role="alert"' in shown, typed
    assert not ProblemAnswer.objects.exists()


def test_a_tampered_instance_is_a_400_with_a_reason(learner_client, learner, problem):
    services.current_instance(learner=learner, problem=problem)
    for data in ({"answer": "4"}, {"instance": "x", "answer": "4"},
                 {"instance": "0", "answer": "4"}, {"instance": "999999", "answer": "4"}):
        for headers in ({}, HTMX):
            response = learner_client.post(answer_url(problem), data, headers=headers)
            assert response.status_code == 400 and response.content, data
    assert not ProblemAnswer.objects.exists()


def test_numbers_replaced_since_are_refused_with_409(learner_client, learner, problem):
    old = services.current_instance(learner=learner, problem=problem)
    learner_client.post(new_url(problem), {"after": old.number})
    response = learner_client.post(answer_url(problem), {"instance": old.pk, "answer": truth(old)})
    assert response.status_code == 409
    assert "new numbers since" in card(response.content.decode(), problem)
    assert not ProblemAnswer.objects.exists()


def test_the_same_answer_sent_twice_is_stored_once(learner_client, learner, problem):
    instance = services.current_instance(learner=learner, problem=problem)
    data = {"instance": instance.pk, "answer": truth(instance) * 3}
    learner_client.post(answer_url(problem), data, headers=HTMX)
    again = learner_client.post(
        answer_url(problem), {**data, "answer": truth(instance)}, headers=HTMX
    )
    assert ProblemAnswer.objects.count() == 1
    assert not ProblemAnswer.objects.get().correct
    assert "answered these numbers already" in again.content.decode()


def test_new_numbers_are_drawn_once_per_click_and_keep_the_first_try(
    learner_client, learner, problem
):
    first = services.current_instance(learner=learner, problem=problem)
    learner_client.post(answer_url(problem), {"instance": first.pk, "answer": truth(first) * 3})
    learner_client.post(new_url(problem), {"after": first.number})
    response = learner_client.post(new_url(problem), {"after": first.number}, headers=HTMX)
    assert ProblemInstance.objects.of(learner, problem).count() == 2
    second = current(learner, problem)
    assert f'value="{second.pk}"' in response.content.decode()
    learner_client.post(answer_url(problem), {"instance": second.pk, "answer": truth(second)})
    answers = list(ProblemAnswer.objects.order_by("created_at").values_list("correct", "first_try"))
    assert answers == [(False, True), (True, False)]
    counted = services.counted_answers(learner=learner, problems_=[problem])
    assert not counted[problem.pk].correct
    assert course_progress(learner).problems_correct == 0
    shown = card(learner_client.get(problem.lesson.get_absolute_url()).content.decode(), problem)
    assert "Right." in shown
    assert 'the one that counts: <span class="fw-semibold">not right' in shown


def test_new_numbers_with_a_tampered_form_are_a_400(learner_client, learner, problem):
    services.current_instance(learner=learner, problem=problem)
    for data in ({}, {"after": "x"}, {"after": "0"}):
        assert learner_client.post(new_url(problem), data).status_code == 400, data
    assert ProblemInstance.objects.count() == 1


def test_an_unknown_problem_is_a_404(learner_client):
    assert learner_client.post(
        reverse("courseware:answer_problem", args=["no-such"]), {}
    ).status_code == 404


def test_a_wrong_first_try_sends_problem_missed_once(
    learner, problem, django_capture_on_commit_callbacks
):
    missed, answered = [], []

    def on_missed(**kwargs):
        missed.append(kwargs)

    def on_answered(**kwargs):
        answered.append(kwargs)

    signals.problem_missed.connect(on_missed)
    signals.problem_answered.connect(on_answered)
    try:
        first = services.current_instance(learner=learner, problem=problem)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.answer_problem(
                learner=learner, problem=problem, instance_id=first.pk, value=truth(first) * 3
            )
        assert not outcome.verdict.correct and outcome.created
        second = services.new_instance(learner=learner, problem=problem)
        with django_capture_on_commit_callbacks(execute=True):
            services.answer_problem(
                learner=learner, problem=problem, instance_id=second.pk, value=truth(second) * 3
            )
    finally:
        signals.problem_missed.disconnect(on_missed)
        signals.problem_answered.disconnect(on_answered)
    assert len(missed) == 1 and missed[0]["instance"] == first and missed[0]["first_try"]
    assert [a["first_try"] for a in answered] == [True, False]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_racing_answers_and_new_number_requests_store_once(learner, problem):
    instance = services.current_instance(learner=learner, problem=problem)
    start = threading.Barrier(6)

    def answer(_):
        start.wait()
        try:
            return services.answer_problem(
                learner=learner, problem=problem, instance_id=instance.pk, value=truth(instance)
            ).created
        finally:
            connection.close()

    def draw(_):
        start.wait()
        try:
            return services.new_instance(learner=learner, problem=problem, after=1).number
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(answer, range(6)))
        drawn = list(pool.map(draw, range(6)))
    assert sum(created) == 1
    assert list(ProblemAnswer.objects.values_list("first_try", "correct")) == [(True, True)]
    assert set(drawn) == {2}
    assert ProblemInstance.objects.of(learner, problem).count() == 2


def test_instructors_edit_problems_in_the_admin_and_learners_cannot(
    client, learner, instructor, problem
):
    url = reverse("admin:courseware_problem_change", args=[problem.pk])
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(learner)
    assert client.get(url).status_code == 302
    # An instructor account is staff, so it may use the admin, with the group's permissions.
    instructor.is_staff = True
    instructor.save()
    client.force_login(instructor)
    assert client.get(url).status_code == 200
