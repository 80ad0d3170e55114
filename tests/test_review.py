import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from courseware import review, services
from courseware.models import QuickCheck, ReviewCard, ReviewRecord
from drills.card_kinds import INTERACTION_KIND
from drills.models import Drill, Interaction

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# Scheduling -------------------------------------------------------------------------------


def gaps(answers: list[bool]) -> list[timedelta]:
    """The gap FSRS leaves after each answer, answering each time the card falls due."""
    state = review.new_card(card_id=1, now=START)
    now, result = START, []
    for correct in answers:
        graded = review.review(state, correct=correct, now=now)
        result.append(graded.due - now)
        state, now = graded.state, graded.due
    return result


def test_a_new_card_is_due_at_once():
    assert review.due(review.new_card(card_id=7, now=START)) == START


def test_each_right_answer_pushes_the_card_further_out():
    found = gaps([True] * 5)
    assert found == sorted(found) and len(set(found)) == 5
    assert found[-1] > timedelta(days=20)


def test_a_lapse_brings_the_card_back_sooner_and_the_next_gaps_are_shorter():
    steady = gaps([True] * 5)
    lapsed = gaps([True] * 4 + [False, True])
    assert lapsed[4] < steady[3] and lapsed[4] <= timedelta(minutes=10)
    # The card comes back, but its memory is weaker than before the lapse.
    assert lapsed[5] < steady[4]


def test_ratings_follow_correctness_and_the_state_is_the_packages_own_dict():
    state = review.new_card(card_id=3, now=START)
    good = review.review(state, correct=True, now=START)
    again = review.review(good.state, correct=False, now=good.due)
    assert review.rating_label(good.rating) == "Good"
    assert review.rating_label(again.rating) == "Again"
    assert set(good.state) == {"card_id", "state", "step", "stability", "difficulty", "due",
                               "last_review"}
    assert good.log["rating"] == good.rating and good.log["card_id"] == 3


# Cards made from misses -------------------------------------------------------------------


@pytest.fixture
def check(course) -> QuickCheck:
    return QuickCheck.objects.get(slug="slow-worse-than-down")


def wrong_key(check: QuickCheck) -> str:
    return check.options.filter(correct=False).values_list("key", flat=True)[0]


def right_key(check: QuickCheck) -> str:
    return check.options.get(correct=True).key


def answer(client, check: QuickCheck, key: str):
    return client.post(reverse("courseware:check_quick_check", args=[check.slug]),
                       {"choice": [key]})


def test_a_wrong_first_try_puts_the_quick_check_in_review(learner_client, learner, check):
    answer(learner_client, check, wrong_key(check))
    card = ReviewCard.objects.get(learner=learner)
    assert (card.kind, card.ref, card.reviews) == ("quick-check", check.slug, 0)
    assert card.due <= timezone.now() and card.state["card_id"] == card.pk
    # The second try, right or wrong, adds nothing.
    answer(learner_client, check, right_key(check))
    assert ReviewCard.objects.filter(learner=learner).count() == 1


def test_a_right_first_try_makes_no_card(learner_client, learner, check):
    answer(learner_client, check, right_key(check))
    answer(learner_client, check, wrong_key(check))
    assert not ReviewCard.objects.exists()


def test_a_visitors_misses_make_no_card(client, check):
    answer(client, check, wrong_key(check))
    assert not ReviewCard.objects.exists()


@pytest.fixture
def drill(course) -> Drill:
    return Drill.objects.get(slug="place-an-order")


def attempt(client, drill: Drill, wrong: set[str]):
    data = {"token": str(uuid.uuid4())}
    for interaction in drill.interactions.all():
        right = "async" if interaction.answer == "async" else "sync"
        flipped = "sync" if right == "async" else "async"
        data[f"choice-{interaction.key}"] = flipped if interaction.key in wrong else right
        # Each interaction is answered with the question that settles it, as the key cites it.
        data[f"reason-{interaction.key}"] = str(interaction.deciding_question)
    return client.post(reverse("drills:submit", args=[drill.slug]), data)


def test_each_interaction_marked_wrongly_becomes_a_card(learner_client, learner, drill):
    attempt(learner_client, drill, {"orders-inventory", "orders-email"})
    refs = set(ReviewCard.objects.filter(learner=learner, kind=INTERACTION_KIND)
               .values_list("ref", flat=True))
    wanted = Interaction.objects.filter(drill=drill, key__in=["orders-inventory", "orders-email"])
    assert refs == {str(pk) for pk in wanted.values_list("pk", flat=True)}
    # Missing one again in a later attempt keeps the card and its schedule.
    attempt(learner_client, drill, {"orders-email"})
    assert ReviewCard.objects.filter(learner=learner).count() == 2


def test_a_perfect_attempt_makes_no_card(learner_client, drill):
    attempt(learner_client, drill, set())
    assert not ReviewCard.objects.exists()


# The Review page --------------------------------------------------------------------------


@pytest.fixture
def check_card(learner, check) -> ReviewCard:
    return services.add_review_card(learner=learner, kind="quick-check", ref=check.slug)[0]


@pytest.fixture
def drill_card(learner, drill) -> ReviewCard:
    interaction = Interaction.objects.get(drill=drill, key="orders-inventory")
    return services.add_review_card(learner=learner, kind=INTERACTION_KIND,
                                    ref=str(interaction.pk))[0]


def answer_url(card: ReviewCard) -> str:
    return reverse("courseware:answer_card", args=[card.pk])


def test_review_needs_a_login(client, check_card):
    for url in (reverse("courseware:review"), check_card.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(answer_url(check_card), {"choice": ["x"], "token": str(uuid.uuid4())})
    assert response.status_code == 302
    assert not ReviewRecord.objects.exists()


def test_another_learner_can_neither_see_nor_answer_a_card(client, other_learner, check_card,
                                                           check):
    client.force_login(other_learner)
    assert client.get(check_card.get_absolute_url()).status_code == 404
    response = client.post(answer_url(check_card),
                           {"choice": [right_key(check)], "token": str(uuid.uuid4())})
    assert response.status_code == 404
    assert "Review the first card" not in client.get(reverse("courseware:review")).content.decode()
    check_card.refresh_from_db()
    assert check_card.reviews == 0 and not ReviewRecord.objects.exists()


def test_the_review_page_lists_due_cards_and_the_navigation_counts_them(
        learner_client, check_card, drill_card):
    page = learner_client.get(reverse("courseware:review")).content.decode()
    assert "Due now" in page and page.count(check_card.get_absolute_url()) >= 1
    assert drill_card.get_absolute_url() in page and "Place an order" in page
    assert re.search(r'data-testid="review-due">2<', page)


def test_a_quick_check_card_is_reshuffled_for_each_review(learner_client, learner, check_card,
                                                          check):
    def order() -> list[str]:
        page = learner_client.get(check_card.get_absolute_url()).content.decode()
        return re.findall(r'name="choice" value="([^"]+)" id="review-', page)

    first = order()
    assert sorted(first) == sorted(check.options.values_list("key", flat=True))
    assert order() == first  # a reload does not reorder
    seen = {tuple(first)}
    for _ in range(4):
        check_card.reviews += 1
        check_card.save()
        seen.add(tuple(order()))
    assert len(seen) > 1


def test_a_right_answer_reschedules_the_card_later(learner_client, check_card, check):
    token = str(uuid.uuid4())
    response = learner_client.post(answer_url(check_card),
                                   {"choice": [right_key(check)], "token": token})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reviewed: right." in html and "It comes back" in html and "not due yet" not in html
    check_card.refresh_from_db()
    assert check_card.reviews == 1 and check_card.lapses == 0
    assert check_card.due > timezone.now() + timedelta(days=1)
    record = ReviewRecord.objects.get()
    assert record.correct and record.rating == 3 and not record.early
    # The same form sent again stores nothing more.
    again = learner_client.post(answer_url(check_card),
                                {"choice": [wrong_key(check)], "token": token})
    assert again.status_code == 200 and "Reviewed: right." in again.content.decode()
    assert ReviewRecord.objects.count() == 1


def test_a_wrong_answer_brings_the_card_back_soon(learner_client, check_card, check):
    learner_client.post(answer_url(check_card),
                        {"choice": [wrong_key(check)], "token": str(uuid.uuid4())})
    check_card.refresh_from_db()
    assert check_card.lapses == 1
    assert check_card.due <= timezone.now() + timedelta(minutes=10)
    assert ReviewRecord.objects.get().rating == 1


def test_a_card_not_due_can_be_reviewed_and_the_page_says_so(learner_client, check_card, check):
    learner_client.post(answer_url(check_card),
                        {"choice": [right_key(check)], "token": str(uuid.uuid4())})
    check_card.refresh_from_db()
    page = learner_client.get(check_card.get_absolute_url()).content.decode()
    assert "This card is not due yet" in page
    listing = learner_client.get(reverse("courseware:review")).content.decode()
    assert "Coming later" in listing and "Nothing is due" in listing
    assert 'data-testid="review-due"' not in listing
    response = learner_client.post(answer_url(check_card),
                                   {"choice": [right_key(check)], "token": str(uuid.uuid4())})
    assert "You reviewed this card before it was due" in response.content.decode()
    record = ReviewRecord.objects.latest("pk")
    assert record.early and record.correct


def test_a_drill_card_shows_the_workflow_and_grades_with_the_drills_rules(
        learner_client, drill_card, drill):
    page = learner_client.get(drill_card.get_absolute_url()).content.decode()
    for interaction in drill.interactions.all():
        assert escape(interaction.exchange) in page
    assert 'aria-current="step"' in page
    response = learner_client.post(answer_url(drill_card),
                                   {"choice": "async", "token": str(uuid.uuid4())})
    html = response.content.decode()
    assert "Settled by question" in html and "Right" in html
    assert ReviewRecord.objects.get().correct


def test_nothing_chosen_asks_again_and_stores_nothing(learner_client, check_card, drill_card):
    for card in (check_card, drill_card):
        response = learner_client.post(answer_url(card), {"token": str(uuid.uuid4())})
        assert response.status_code == 422
        assert "before checking" in response.content.decode()
    assert not ReviewRecord.objects.exists()


@pytest.mark.parametrize("data", [
    {"choice": ["no-such-option"]},
    {"choice": ["pool-exhausted", "not-worse"]},
    {"choice": ["pool-exhausted"], "token": "not-a-uuid"},
])
def test_a_tampered_quick_check_answer_is_a_400(learner_client, check_card, data):
    data = {"token": str(uuid.uuid4()), **data}
    response = learner_client.post(answer_url(check_card), data)
    assert response.status_code == 400
    assert not ReviewRecord.objects.exists()


def test_a_tampered_drill_answer_is_a_400(learner_client, drill_card):
    response = learner_client.post(answer_url(drill_card),
                                   {"choice": "maybe", "token": str(uuid.uuid4())}, headers=HTMX)
    assert response.status_code == 400 and "neither sync nor async" in response.content.decode()
    assert not ReviewRecord.objects.exists()


def test_a_token_from_another_card_is_refused(learner_client, check_card, drill_card, check):
    token = str(uuid.uuid4())
    learner_client.post(answer_url(check_card), {"choice": [right_key(check)], "token": token})
    response = learner_client.post(answer_url(drill_card), {"choice": "async", "token": token})
    assert response.status_code == 400
    assert ReviewRecord.objects.count() == 1


def test_over_htmx_only_the_card_comes_back(learner_client, check_card, check):
    response = learner_client.post(answer_url(check_card),
                                   {"choice": [right_key(check)], "token": str(uuid.uuid4())},
                                   headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="review-card">') and "<html" not in html


def test_a_card_whose_item_is_gone_is_left_out(learner_client, learner, check_card):
    services.add_review_card(learner=learner, kind="quick-check", ref="no-longer-there")
    services.add_review_card(learner=learner, kind="unknown-kind", ref="1")
    page = learner_client.get(reverse("courseware:review")).content.decode()
    assert page.count('class="list-group-item') == 1
    gone = ReviewCard.objects.get(ref="no-longer-there")
    assert learner_client.get(gone.get_absolute_url()).status_code == 404


# Problems ---------------------------------------------------------------------------------


@pytest.fixture
def problem(course):
    from courseware.models import Problem

    return Problem.objects.get(slug="chain-failure-numbers")


def truth_of(instance) -> float:
    problem_type = instance.problem.problem_type
    return problem_type.answer(instance.params)


def miss_problem(client, learner, problem, django_capture_on_commit_callbacks):

    client.get(problem.lesson.get_absolute_url())
    instance = services.current_instance(learner=learner, problem=problem)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("courseware:answer_problem", args=[problem.slug]),
                    {"instance": instance.pk, "answer": str(truth_of(instance) * 3 + 7)})
    return instance


def test_a_wrong_first_try_at_a_problem_puts_it_in_review(
        learner_client, learner, problem, django_capture_on_commit_callbacks):
    miss_problem(learner_client, learner, problem, django_capture_on_commit_callbacks)
    card = ReviewCard.objects.get(learner=learner)
    assert (card.kind, card.ref) == ("problem", problem.slug)


def test_a_problem_card_asks_with_new_numbers_and_grades_them(
        learner_client, learner, problem, django_capture_on_commit_callbacks):

    missed = miss_problem(learner_client, learner, problem, django_capture_on_commit_callbacks)
    card = ReviewCard.objects.get(learner=learner)
    page = learner_client.get(card.get_absolute_url()).content.decode()
    fresh = services.current_instance(learner=learner, problem=problem)
    assert fresh.pk != missed.pk and f'value="{fresh.pk}"' in page
    # A reload asks the same numbers.
    learner_client.get(card.get_absolute_url())
    assert services.current_instance(learner=learner, problem=problem).pk == fresh.pk
    response = learner_client.post(answer_url(card), {
        "instance": fresh.pk, "answer": repr(truth_of(fresh)), "token": str(uuid.uuid4()),
    })
    html = response.content.decode()
    assert response.status_code == 200 and "Worked solution with these numbers" in html
    assert ReviewRecord.objects.get().correct
    card.refresh_from_db()
    assert card.due > timezone.now() + timedelta(days=1)


@pytest.mark.parametrize("answer", ["nan", "inf", "twelve"])
def test_a_problem_answer_that_is_not_a_number_is_a_form_error(
        learner_client, learner, problem, answer, django_capture_on_commit_callbacks):
    miss_problem(learner_client, learner, problem, django_capture_on_commit_callbacks)
    card = ReviewCard.objects.get(learner=learner)
    learner_client.get(card.get_absolute_url())

    fresh = services.current_instance(learner=learner, problem=problem)
    response = learner_client.post(answer_url(card), {
        "instance": fresh.pk, "answer": answer, "token": str(uuid.uuid4()),
    })
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert not ReviewRecord.objects.exists()


def test_an_answer_to_someone_elses_numbers_is_a_400(
        learner_client, learner, other_learner, problem, django_capture_on_commit_callbacks):
    from courseware.models import ProblemAnswer

    miss_problem(learner_client, learner, problem, django_capture_on_commit_callbacks)
    card = ReviewCard.objects.get(learner=learner)
    theirs = services.current_instance(learner=other_learner, problem=problem)
    response = learner_client.post(answer_url(card), {
        "instance": theirs.pk, "answer": "1", "token": str(uuid.uuid4()),
    })
    assert response.status_code == 400
    assert not ReviewRecord.objects.exists()
    assert not ProblemAnswer.objects.filter(instance=theirs).exists()
