import random

import pytest
from django.urls import reverse

from courseware import checkpoint, services
from courseware.models import Checkpoint, CheckpointAnswer, Problem, QuickCheck, ReviewCard
from drills.models import Attempt, Drill, Interaction

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_a_checkpoint_mixes_checks_and_problems_then_one_undone_drill(learner, course):
    done = Drill.objects.order_by("pk")[0]
    Attempt.objects.create(drill=done, learner=learner, score=0, total=1, critical_sync_hops=0,
                           key_critical_sync_hops=0)
    items = checkpoint.compose(learner=learner, rng=random.Random(5))
    kinds = [item["kind"] for item in items]
    assert kinds.count("quick-check") == 5 and kinds.count("problem") == 2
    checks = QuickCheck.objects.filter(slug__in=[i["ref"] for i in items if i["kind"] ==
                                                 "quick-check"])
    assert len({check.lesson_id for check in checks}) == 5
    drill_items = [int(i["ref"]) for i in items if i["kind"] == "drill-interaction"]
    assert kinds[-len(drill_items):] == ["drill-interaction"] * len(drill_items)
    drills = set(Interaction.objects.filter(pk__in=drill_items).values_list("drill", flat=True))
    assert len(drills) == 1 and done.pk not in drills
    assert drill_items == list(Interaction.objects.filter(drill__in=drills)
                               .order_by("order", "pk").values_list("pk", flat=True))


def right_data(learner, own: Checkpoint, position: int, *, right: bool) -> dict:
    item = own.items[position]
    if item["kind"] == "quick-check":
        check = QuickCheck.objects.get(slug=item["ref"])
        keys = check.options.filter(correct=right).values_list("key", flat=True)
        return {"choice": list(keys) if right else [keys[0]]}
    if item["kind"] == "problem":
        problem = Problem.objects.get(slug=item["ref"])
        instance = services.current_instance(learner=learner, problem=problem)
        problem_type = problem.problem_type
        assert problem_type is not None
        truth = problem_type.answer(instance.params)
        return {"instance": instance.pk, "answer": repr(truth if right else truth * 5 + 11)}
    interaction = Interaction.objects.get(pk=int(item["ref"]))
    choice = "async" if interaction.answer == "async" else "sync"
    if not right:
        if interaction.answer == "either":
            choice = "sync"
        else:
            choice = "sync" if choice == "async" else "async"
    return {"choice": choice}


def item_url(own: Checkpoint, position: int) -> str:
    return reverse("courseware:answer_checkpoint", args=[own.pk, position])


def test_a_checkpoint_needs_a_login_and_is_the_learners_own(client, learner, other_learner,
                                                            course):
    assert client.get(reverse("courseware:checkpoint")).status_code == 302
    assert client.post(reverse("courseware:start_checkpoint")).status_code == 302
    own, _ = services.start_checkpoint(learner=learner)
    assert client.get(own.get_absolute_url()).status_code == 302
    client.force_login(other_learner)
    assert client.get(own.get_absolute_url()).status_code == 404
    assert client.post(item_url(own, 0), right_data(learner, own, 0, right=True)).status_code == 404
    assert not CheckpointAnswer.objects.exists()


def test_starting_twice_gives_the_same_open_checkpoint(learner_client, learner, course):
    first = learner_client.post(reverse("courseware:start_checkpoint"))
    second = learner_client.post(reverse("courseware:start_checkpoint"))
    assert first["Location"] == second["Location"]
    assert Checkpoint.objects.filter(learner=learner).count() == 1
    page = learner_client.get(reverse("courseware:checkpoint")).content.decode()
    assert "Continue your checkpoint (0 of" in page


def test_a_whole_checkpoint_tells_the_learner_where_they_stand(learner_client, learner, course):
    learner_client.post(reverse("courseware:start_checkpoint"))
    own = Checkpoint.objects.get(learner=learner)
    missed = {0, len(own.items) - 1}
    for position in range(len(own.items)):
        page = learner_client.get(own.get_absolute_url())
        assert f"Question {position + 1} of {len(own.items)}" in page.content.decode()
        data = right_data(learner, own, position, right=position not in missed)
        response = learner_client.post(item_url(own, position), data)
        assert response.status_code == 200, response.content.decode()[:500]
    own.refresh_from_db()
    assert own.finished_at is not None
    result = learner_client.get(own.get_absolute_url()).content.decode()
    total = len(own.items)
    assert f"You got {total - 2} of {total} right" in result
    assert "What to review" in result and "Your mastery" in result
    cards = set(ReviewCard.objects.filter(learner=learner).values_list("kind", "ref"))
    assert cards == {(own.items[p]["kind"], own.items[p]["ref"]) for p in missed}


def test_questions_are_answered_in_order_and_once(learner_client, learner, course):
    own, _ = services.start_checkpoint(learner=learner)
    learner_client.get(own.get_absolute_url())
    ahead = learner_client.post(item_url(own, 1), right_data(learner, own, 1, right=True))
    assert ahead.status_code == 400
    assert learner_client.post(item_url(own, 999), {}).status_code == 404
    data = right_data(learner, own, 0, right=False)
    learner_client.post(item_url(own, 0), data)
    again = learner_client.post(item_url(own, 0), right_data(learner, own, 0, right=True),
                                headers=HTMX)
    assert again.status_code == 200 and "Not right" in again.content.decode()
    assert CheckpointAnswer.objects.get().correct is False


def test_a_tampered_checkpoint_answer_is_a_400(learner_client, learner, course):
    own, _ = services.start_checkpoint(learner=learner)
    learner_client.get(own.get_absolute_url())
    response = learner_client.post(item_url(own, 0), {"choice": ["nope"], "instance": "x"})
    assert response.status_code == 400
    assert not CheckpointAnswer.objects.exists()


def test_the_progress_bar_counts_an_item_once_it_is_graded(learner_client, learner, course):
    own, _ = services.start_checkpoint(learner=learner)
    asked = learner_client.get(own.get_absolute_url()).content.decode()
    assert 'aria-valuenow="0"' in asked
    graded = learner_client.post(item_url(own, 0), right_data(learner, own, 0, right=True),
                                 headers=HTMX).content.decode()
    assert 'aria-valuenow="1"' in graded
