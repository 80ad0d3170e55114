import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from courseware import services
from courseware.checks import learner_order
from courseware.models import QuickCheck, QuickCheckResponse
from courseware.progress import course_progress
from courseware.services import TRIES_SESSION_KEY

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def check(course) -> QuickCheck:
    return QuickCheck.objects.get(slug="slow-worse-than-down")


@pytest.fixture
def multiple_check(course) -> QuickCheck:
    return QuickCheck.objects.get(slug="hybrid-payments-down")


def url(check: QuickCheck) -> str:
    return reverse("courseware:check_quick_check", args=[check.slug])


def right_key(check: QuickCheck) -> str:
    return check.options.get(correct=True).key


def wrong_keys(check: QuickCheck) -> list[str]:
    return [o.key for o in check.options.filter(correct=False)]


def shown_order(client, check: QuickCheck) -> list[str]:
    page = client.get(check.lesson.get_absolute_url()).content.decode()
    return re.findall(rf'name="choice" value="([^"]+)" id="check-{check.slug}-', page)


def card(html: str, check: QuickCheck) -> str:
    """The quick check's card out of a whole lesson page."""
    start = html.index(f'<div class="activity-card" id="check-{check.slug}"')
    return html[start:html.index('<div class="activity-card"', start + 1)]


def tries(learner, check: QuickCheck) -> list[tuple[int, list[str], bool]]:
    return list(
        QuickCheckResponse.objects.filter(learner=learner, quick_check=check)
        .order_by("attempt").values_list("attempt", "selected", "correct")
    )


# Shuffling ---------------------------------------------------------------------------------


def test_a_learner_sees_the_same_order_on_every_visit(learner_client, check):
    first = shown_order(learner_client, check)
    assert sorted(first) == sorted(o.key for o in check.options.all())
    assert shown_order(learner_client, check) == first == shown_order(learner_client, check)


def test_learners_see_different_orders(client, make_user, check):
    orders = set()
    for number in range(12):
        client.force_login(make_user(f"learner{number}"))
        orders.add(tuple(shown_order(client, check)))
    # Twelve learners all drawing one of the 24 orders of four options again and again would
    # happen about once in 10^15 runs if the shuffle were fair; four distinct orders is the bar.
    assert len(orders) >= 4


def test_the_right_option_moves_around_for_each_learner(course, make_user):
    checks = QuickCheck.objects.filter(multiple=False).prefetch_related("options")
    for learner in (make_user("ada"), make_user("grace")):
        positions = [
            [o.correct for o in learner_order(c.options.all(), seed=str(learner.pk),
                                              slug=c.slug)].index(True)
            for c in checks
        ]
        assert len(set(positions)) >= 3
        assert max(positions.count(p) for p in positions) <= len(positions) / 2


def test_visitors_without_an_account_see_a_stable_order(client, check):
    first = shown_order(client, check)
    client.post(url(check), {"choice": wrong_keys(check)[0]})
    assert shown_order(client, check) == first


# First try, hint, second try ---------------------------------------------------------------


def test_a_right_first_try_explains_every_option(learner_client, learner, check):
    response = learner_client.post(url(check), {"choice": right_key(check)}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="activity-card" id="check-{check.slug}"')
    assert "<html" not in html and "<form" not in html
    assert "Right at the first try." in html
    for option in check.options.all():
        assert option.feedback.replace("'", "&#x27;") in html
    assert "Your answer, and the right one." in html
    assert tries(learner, check) == [(1, [right_key(check)], True)]


def test_a_wrong_first_try_gives_the_hint_not_the_answer(learner_client, learner, check):
    wrong = wrong_keys(check)[0]
    html = learner_client.post(url(check), {"choice": wrong}, headers=HTMX).content.decode()
    assert "Not quite. You have one more try." in html
    assert check.hint.replace("'", "&#x27;") in html
    right = check.options.get(correct=True)
    assert right.feedback.replace("'", "&#x27;") not in html
    assert "right answer" not in html.lower()
    assert "Check my second try" in html
    # The first try is still chosen, so the learner sees what they picked.
    assert re.search(rf'value="{wrong}" id="check-{check.slug}-{wrong}"\s+checked', html)
    assert tries(learner, check) == [(1, [wrong], False)]


def test_the_second_try_is_graded_and_then_every_option_is_explained(learner_client, learner,
                                                                      check):
    learner_client.post(url(check), {"choice": wrong_keys(check)[0]}, headers=HTMX)
    response = learner_client.post(url(check), {"choice": right_key(check)}, headers=HTMX)
    html = response.content.decode()
    assert "Right at the second try." in html
    assert "Your first try is the one that counts" in html
    assert "Your first try: not right." in html
    for option in check.options.all():
        assert option.feedback.replace("'", "&#x27;") in html
    assert [t[0] for t in tries(learner, check)] == [1, 2]
    assert [t[2] for t in tries(learner, check)] == [False, True]


def test_two_wrong_tries_show_the_right_answer_and_why(learner_client, check):
    first, second = wrong_keys(check)[:2]
    learner_client.post(url(check), {"choice": first}, headers=HTMX)
    html = learner_client.post(url(check), {"choice": second}, headers=HTMX).content.decode()
    assert "Not right after two tries." in html
    assert html.count("Your answer: not right.") == 1
    assert html.count("Your first try: not right.") == 1
    assert html.count("The right answer.") == 1
    # A single-choice check never speaks of options left out.
    assert "left it out" not in html


def test_a_multiple_choice_check_names_what_was_left_out(learner_client, multiple_check):
    right = [o.key for o in multiple_check.options.filter(correct=True)]
    for _ in range(2):
        html = learner_client.post(
            url(multiple_check), {"choice": right[:1]}, headers=HTMX
        ).content.decode()
    assert "Not right after two tries." in html
    assert html.count("Applies, but you left it out.") == len(right) - 1
    assert html.count("Applies, and you chose it.") == 1
    assert "Does not apply, and you left it out." in html


def test_every_right_option_is_needed_on_a_multiple_choice_check(learner_client, learner,
                                                                 multiple_check):
    right = sorted(o.key for o in multiple_check.options.filter(correct=True))
    html = learner_client.post(
        url(multiple_check), {"choice": right}, headers=HTMX
    ).content.decode()
    assert "Right at the first try." in html
    assert tries(learner, multiple_check) == [(1, right, True)]


def test_the_first_try_is_what_counts(learner_client, learner, check, multiple_check):
    learner_client.post(url(check), {"choice": wrong_keys(check)[0]})
    learner_client.post(url(check), {"choice": right_key(check)})
    assert course_progress(learner).quick_checks_correct == 0
    right = [o.key for o in multiple_check.options.filter(correct=True)]
    learner_client.post(url(multiple_check), {"choice": right})
    assert course_progress(learner).quick_checks_correct == 1
    home = learner_client.get(reverse("courseware:home")).content.decode()
    assert f"1 / {QuickCheck.objects.count()}" in home


def test_a_finished_check_takes_no_more_tries(learner_client, learner, check):
    learner_client.post(url(check), {"choice": right_key(check)})
    response = learner_client.post(url(check), {"choice": wrong_keys(check)[0]}, headers=HTMX)
    html = response.content.decode()
    assert "Right at the first try." in html
    assert "You have finished this check already" in html
    assert tries(learner, check) == [(1, [right_key(check)], True)]


def test_a_try_that_arrives_twice_at_once_is_stored_once(learner, check, monkeypatch):
    options = services.option_keys(check.options.all())
    QuickCheckResponse.objects.create(learner=learner, quick_check=check, attempt=1,
                                      selected=[right_key(check)], correct=True)
    # As if the other request had not yet stored its try when this one looked.
    real, looked = services.quick_check_tries, []

    def stale_first_look(**kwargs):
        looked.append(True)
        return {} if len(looked) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "quick_check_tries", stale_first_look)
    state, kept = services.answer_quick_check(
        learner=learner, session=SessionBase(), quick_check=check, options=options,
        selected={wrong_keys(check)[0]},
    )
    assert not kept and state.first_try_correct
    assert tries(learner, check) == [(1, [right_key(check)], True)]


# Coming back -------------------------------------------------------------------------------


def test_a_learner_who_comes_back_sees_their_earlier_result(learner_client, check):
    learner_client.post(url(check), {"choice": right_key(check)})
    learner_client.logout()
    learner_client.force_login(QuickCheckResponse.objects.get().learner)
    html = card(learner_client.get(check.lesson.get_absolute_url()).content.decode(), check)
    assert "Right at the first try." in html and "<form" not in html


def test_a_learner_who_comes_back_between_tries_gets_the_hint_and_second_try(learner_client,
                                                                              check):
    learner_client.post(url(check), {"choice": wrong_keys(check)[0]})
    html = card(learner_client.get(check.lesson.get_absolute_url()).content.decode(), check)
    assert check.hint.replace("'", "&#x27;") in html and "Check my second try" in html


# Without JavaScript ------------------------------------------------------------------------


def test_the_whole_flow_works_as_plain_posts(learner_client, learner, check):
    lesson_url = check.lesson.get_absolute_url()
    response = learner_client.post(url(check), {"choice": wrong_keys(check)[0]})
    assert response.status_code == 302
    assert response["Location"] == f"{lesson_url}#check-{check.slug}"
    html = card(learner_client.get(lesson_url).content.decode(), check)
    assert "Not quite." in html and "Check my second try" in html
    response = learner_client.post(url(check), {"choice": right_key(check)})
    assert response.status_code == 302
    html = card(learner_client.get(lesson_url).content.decode(), check)
    assert "Right at the second try." in html
    assert len(tries(learner, check)) == 2


def test_visitors_without_an_account_get_the_same_flow_in_their_session(client, check):
    lesson_url = check.lesson.get_absolute_url()
    client.post(url(check), {"choice": wrong_keys(check)[0]})
    html = card(client.get(lesson_url).content.decode(), check)
    assert check.hint.replace("'", "&#x27;") in html
    client.post(url(check), {"choice": right_key(check)})
    html = card(client.get(lesson_url).content.decode(), check)
    assert "Right at the second try." in html
    assert client.session[TRIES_SESSION_KEY] == {
        check.slug: [[wrong_keys(check)[0]], [right_key(check)]]
    }
    assert not QuickCheckResponse.objects.exists()


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"choice": "no-such-option"}, "That option is not part of this question."),
        ({"choice": "0"}, "That option is not part of this question."),
        ("two", "Choose one option only."),
    ],
)
def test_a_tampered_option_is_refused_with_the_reason(learner_client, check, data, reason):
    if data == "two":
        data = {"choice": [right_key(check), wrong_keys(check)[0]]}
    response = learner_client.post(url(check), data, headers=HTMX)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == reason
    page = learner_client.post(url(check), data)
    assert page.status_code == 400
    assert b"<html" in page.content and reason.encode() in page.content
    assert not QuickCheckResponse.objects.exists()


def test_no_choice_is_a_form_error(learner_client, check):
    response = learner_client.post(url(check), {}, headers=HTMX)
    assert response.status_code == 200
    assert "Choose an option before checking." in response.content.decode()
    page = learner_client.post(url(check), {})
    assert page.status_code == 422 and b"Choose an option before checking." in page.content
    assert not QuickCheckResponse.objects.exists()


def test_an_unknown_quick_check_is_a_404(learner_client, course):
    response = learner_client.post(reverse("courseware:check_quick_check", args=["nope"]),
                                   {"choice": "a"})
    assert response.status_code == 404


# Responses stored before options had keys --------------------------------------------------


def test_the_migration_turns_stored_indexes_into_keys_and_numbers_the_tries(learner, check):
    migration = import_module("courseware.migrations.0006_quickcheck_tries")
    options = list(check.options.all())
    for number, option in enumerate(options):
        option.key = f"old-{number}"
        option.save()
    QuickCheckResponse.objects.create(learner=learner, quick_check=check, attempt=1,
                                      selected=[2], correct=False)
    QuickCheckResponse.objects.create(learner=learner, quick_check=check, attempt=5,
                                      selected=[0, 99], correct=False)
    migration.keys_and_tries(apps, None)
    assert [o.key for o in check.options.all()] == [
        f"option-{n + 1}" for n in range(len(options))
    ]
    assert tries(learner, check) == [(1, ["option-3"], False), (2, ["option-1"], False)]
