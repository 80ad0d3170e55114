import uuid

import pytest
from django.urls import reverse

from courseware import mastery
from courseware.models import QuickCheck, ReviewCard
from drills.models import Drill

pytestmark = pytest.mark.django_db


@pytest.fixture
def check(course) -> QuickCheck:
    return QuickCheck.objects.get(slug="slow-worse-than-down")


@pytest.fixture
def drill(course) -> Drill:
    return Drill.objects.get(slug="place-an-order")


def answer_check(client, check: QuickCheck, *, right: bool):
    key = check.options.filter(correct=right).values_list("key", flat=True)[0]
    return client.post(reverse("courseware:check_quick_check", args=[check.slug]),
                       {"choice": [key]})


def attempt(client, drill: Drill, wrong: set[str]):
    data = {"token": str(uuid.uuid4())}
    for interaction in drill.interactions.all():
        right = "async" if interaction.answer == "async" else "sync"
        flipped = "sync" if right == "async" else "async"
        data[f"choice-{interaction.key}"] = flipped if interaction.key in wrong else right
        # Each interaction is answered with the question that settles it, as the key cites it.
        data[f"reason-{interaction.key}"] = str(interaction.deciding_question)
    return client.post(reverse("drills:submit", args=[drill.slug]), data)


def review(client, card: ReviewCard, data: dict):
    return client.post(reverse("courseware:answer_card", args=[card.pk]),
                       {"token": str(uuid.uuid4()), **data})


def test_nothing_answered_is_no_mastery(learner):
    figures = mastery.learner_mastery(learner)
    assert figures.overall.total == 0 and figures.overall.percent is None


def test_a_first_try_counts_and_a_later_review_replaces_it(learner_client, learner, check):
    answer_check(learner_client, check, right=False)
    answer_check(learner_client, check, right=True)  # the second try does not count
    figures = mastery.learner_mastery(learner)
    assert figures.by_lesson[check.lesson_id].right == 0
    assert figures.by_lesson[check.lesson_id].total == 1
    card = ReviewCard.objects.get(learner=learner)
    right = check.options.get(correct=True).key
    review(learner_client, card, {"choice": [right]})
    figures = mastery.learner_mastery(learner)
    assert (figures.by_lesson[check.lesson_id].right, figures.overall.total) == (1, 1)
    # A lapse in a later review counts against it again.
    wrong = check.options.filter(correct=False).values_list("key", flat=True)[0]
    review(learner_client, card, {"choice": [wrong]})
    assert mastery.learner_mastery(learner).overall.right == 0


def test_drill_interactions_count_per_deciding_question_from_the_first_attempt(
        learner_client, learner, drill):
    interactions = list(drill.interactions.all())
    missed = interactions[1]
    attempt(learner_client, drill, {missed.key})
    attempt(learner_client, drill, set())  # later attempts do not change first tries
    figures = mastery.learner_mastery(learner)
    question = missed.deciding_question
    settled_by = [i for i in interactions if i.deciding_question == question]
    assert figures.by_question[question].total == len(settled_by)
    assert figures.by_question[question].right == len(settled_by) - 1
    assert figures.by_lesson[drill.lesson_id].total == len(interactions)
    # The off-path rule is not one of the five questions.
    assert set(figures.by_question) <= {1, 2, 3, 4, 5}


def test_other_learners_answers_do_not_count(client, learner, other_learner, check):
    client.force_login(other_learner)
    answer_check(client, check, right=True)
    assert mastery.learner_mastery(learner).overall.total == 0
    class_figures = mastery.mastery_of([learner.pk, other_learner.pk])
    assert (class_figures.overall.right, class_figures.overall.total) == (1, 1)


def test_the_progress_panel_shows_mastery_per_question_and_lesson(learner_client, check, drill):
    answer_check(learner_client, check, right=False)
    page = learner_client.get(reverse("courseware:home")).content.decode()
    assert "Your mastery" in page and mastery.EXPLANATION in page
    assert page.count('data-question="') == 5 and page.count('data-lesson="') == 10
    assert 'data-testid="mastery-overall">0%' in page
    assert "0% <span class=\"fw-normal text-body-secondary\">(0/1)" in page


def test_a_visitor_sees_no_mastery(client, course):
    assert "Your mastery" not in client.get(reverse("courseware:home")).content.decode()


def test_instructors_see_the_classs_mastery_per_question_from_learners_only(
        client, make_user, drill, instructor):
    interactions = list(drill.interactions.all())
    missed = interactions[0]
    question = missed.deciding_question
    settled = sum(1 for i in interactions if i.deciding_question == question)
    for name, wrong in (("ann", {missed.key}), ("bob", set())):
        client.force_login(make_user(name))
        attempt(client, drill, wrong)
    # An instructor trying the drill out is not part of the class.
    client.force_login(instructor)
    attempt(client, drill, {i.key for i in interactions})
    assert client.get(reverse("grading:statistics")).status_code == 200
    page = client.get(reverse("grading:statistics")).content.decode()
    assert "mastery per deciding question" in page
    row = page[page.index(f'<tr data-question="{question}">'):]
    row = row[:row.index("</tr>")]
    cells = [cell.split(">")[-1] for cell in row.split("</td>")[1:5]]
    right, total = 2 * settled - 1, 2 * settled
    assert cells == ["2", str(right), str(total), f"{round(100 * right / total)}%"]


def test_a_learner_cannot_see_the_class_statistics(learner_client, course):
    assert learner_client.get(reverse("grading:statistics")).status_code in (302, 403)


# Quick checks that name the deciding question they practise ---------------------------------


def by_question(learner) -> dict[int, tuple[int, int]]:
    return {number: (figure.right, figure.total)
            for number, figure in mastery.learner_mastery(learner).by_question.items()}


def test_first_tries_at_tagged_quick_checks_move_their_questions_mastery(
        learner_client, learner, course):
    hops = QuickCheck.objects.get(slug="count-the-hops")
    chain = QuickCheck.objects.get(slug="chain-of-three")
    assert hops.deciding_question == chain.deciding_question == 5
    answer_check(learner_client, hops, right=True)
    assert by_question(learner) == {5: (1, 1)}
    answer_check(learner_client, chain, right=False)
    answer_check(learner_client, chain, right=True)  # the second try does not count
    assert by_question(learner) == {5: (1, 2)}
    assert mastery.learner_mastery(learner).by_question[5].percent == 50
    # The lessons count as before.
    figures = mastery.learner_mastery(learner)
    assert figures.by_lesson[chain.lesson_id].total == 1
    assert figures.by_lesson[hops.lesson_id].total == 1


def test_a_review_of_a_tagged_quick_check_counts_for_its_question(learner_client, learner,
                                                                  course):
    check = QuickCheck.objects.get(slug="reset-email-question")
    assert check.deciding_question == 3
    answer_check(learner_client, check, right=False)
    assert by_question(learner) == {3: (0, 1)}
    card = ReviewCard.objects.get(learner=learner, ref=check.slug)
    review(learner_client, card, {"choice": [check.options.get(correct=True).key]})
    assert by_question(learner) == {3: (1, 1)}


def test_an_untagged_quick_check_counts_for_its_lesson_and_no_question(learner_client, learner,
                                                                        check):
    assert check.deciding_question is None
    answer_check(learner_client, check, right=False)
    figures = mastery.learner_mastery(learner)
    assert figures.by_question == {}
    assert (figures.by_lesson[check.lesson_id].total, figures.overall.total) == (1, 1)


def test_the_progress_panel_shows_a_tagged_checks_question(learner_client, course):
    check = QuickCheck.objects.get(slug="audit-must-not-be-lost")
    answer_check(learner_client, check, right=True)
    page = learner_client.get(reverse("courseware:home")).content.decode()
    row = page[page.index('data-question="4"'):]
    row = row[:row.index("</li>")]
    assert "100%" in row and "(1/1)" in row
    other = page[page.index('data-question="1"'):]
    assert "not met yet" in other[:other.index("</li>")]


def test_a_checkpoint_answer_on_a_tagged_check_counts_for_its_question(learner, course):
    from courseware import checkpoint
    from courseware.models import Checkpoint, CheckpointAnswer

    own = Checkpoint.objects.create(
        learner=learner, items=[{"kind": "quick-check", "ref": "comment-spam-score"}]
    )
    answer = CheckpointAnswer.objects.create(checkpoint=own, position=0, correct=False,
                                             answer={"selected": ["async-q4"]})
    assert checkpoint.standing(own, [answer]).by_question[1].total == 1
    assert by_question(learner) == {1: (0, 1)}
