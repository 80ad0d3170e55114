"""Drill interactions as review cards: one interaction asked again inside its workflow.

A card is keyed on the interaction's id, and its answer is graded by drills.grading, the same
rules that grade a whole attempt.
"""

import random
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Min
from django.http import QueryDict

from courseware import cards
from drills import grading
from drills.models import Attempt, AttemptAnswer, Drill, Interaction

INTERACTION_KIND = "drill-interaction"


def _ids(refs: Iterable[str]) -> list[int]:
    return [int(ref) for ref in refs if ref.isdigit()]


def _questions(interaction: Interaction) -> tuple[int, ...]:
    number = interaction.deciding_question
    return (number,) if number in grading.QUESTIONS else ()


class InteractionKind(cards.CardKind):
    name = INTERACTION_KIND
    label = "Drill interaction"
    template = "drills/_review_interaction.html"
    asked_together = True

    def describe(self, refs: Iterable[str]) -> dict[str, cards.ItemInfo]:
        found = Interaction.objects.filter(pk__in=_ids(refs)).select_related("drill")
        return {
            str(interaction.pk): cards.ItemInfo(
                title=f"{interaction.drill.title}: {interaction.caller} → {interaction.callee}",
                lesson_id=interaction.drill.lesson_id,
                questions=_questions(interaction),
                url=interaction.drill.get_absolute_url(),
            )
            for interaction in found
        }

    def first_tries(self, learner_ids: Iterable[int]) -> list[cards.FirstTry]:
        # A learner's first try at an interaction is their answer in their first attempt at
        # its drill; attempts are numbered in the order they were stored.
        firsts = (
            Attempt.objects.filter(learner_id__in=list(learner_ids))
            .values("learner_id", "drill_id").annotate(first=Min("pk")).values("first")
        )
        rows = AttemptAnswer.objects.filter(attempt_id__in=firsts).values_list(
            "attempt__learner_id", "interaction_id", "correct"
        )
        return [cards.FirstTry(learner_id=lid, ref=str(iid), correct=ok) for lid, iid, ok in rows]

    def _load(self, ref: str) -> tuple[Interaction, list[Interaction]]:
        interaction = (
            Interaction.objects.select_related("drill", "after").filter(pk__in=_ids([ref]))
            .first()
        )
        if interaction is None:
            raise cards.ItemGone(ref)
        workflow = list(
            interaction.drill.interactions.select_related("after").order_by("order", "pk")
        )
        return interaction, workflow

    def _context(self, ref: str) -> dict[str, Any]:
        interaction, workflow = self._load(ref)
        return {
            "interaction": interaction,
            "drill": interaction.drill,
            "workflow": workflow,
            "numbers": {other.pk: n for n, other in enumerate(workflow, start=1)},
            "choices": grading.CHOICES,
        }

    def question(self, ref: str, *, learner, variant: str) -> dict[str, Any]:
        return self._context(ref)

    def check(self, ref: str, data: QueryDict, *, learner,
              variant: str) -> cards.Checked | cards.NotGraded:
        context = self._context(ref)
        choice = data.get("choice", "")
        if not choice:
            return cards.NotGraded({**context, "error": "Choose sync or async before checking."})
        if choice not in grading.CHOICES:
            raise cards.BadAnswer(f"{choice[:40]!r} is neither sync nor async.")
        return cards.Checked(answer={"choice": choice},
                             correct=self._verdict(context["interaction"], choice).correct)

    def _verdict(self, interaction: Interaction, choice: str) -> grading.Verdict:
        # Graded alone, so the hop it follows is not part of the answer.
        item = grading.KeyItem(**{**interaction.key_item().__dict__, "after": None})
        return grading.grade([item], {item.key: grading.Answer(choice)}).verdicts[0]

    def feedback(self, ref: str, answer: Mapping[str, Any], *, learner,
                 variant: str) -> dict[str, Any]:
        context = self._context(ref)
        choice = str(answer.get("choice", ""))
        if choice not in grading.CHOICES:
            raise cards.ItemGone(ref)
        return {**context, "verdict": self._verdict(context["interaction"], choice)}

    def checkpoint_items(self, *, learner, rng: random.Random) -> list[str]:
        """Every interaction of one drill the learner has not attempted (any drill if none)."""
        drills = list(Drill.objects.filter(interactions__isnull=False).distinct()
                      .order_by("pk").values_list("pk", flat=True))
        done = set(Attempt.objects.filter(learner=learner).values_list("drill_id", flat=True))
        fresh = [pk for pk in drills if pk not in done] or drills
        if not fresh:
            return []
        chosen = rng.choice(fresh)
        return [str(pk) for pk in Interaction.objects.filter(drill_id=chosen)
                .order_by("order", "pk").values_list("pk", flat=True)]
