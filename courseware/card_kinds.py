"""Quick checks as review cards: asked again with their options in a new order."""

import random
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import QueryDict

from courseware import cards
from courseware.checks import grade_quick_check, learner_order
from courseware.forms import QuickCheckForm
from courseware.models import QuickCheck, QuickCheckResponse
from courseware.services import QUICK_CHECK_KIND, option_keys

# How many quick checks a final checkpoint asks, drawn from different lessons.
CHECKPOINT_QUICK_CHECKS = 5


class QuickCheckKind(cards.CardKind):
    name = QUICK_CHECK_KIND
    label = "Quick check"
    template = "courseware/_review_quick_check.html"

    def describe(self, refs: Iterable[str]) -> dict[str, cards.ItemInfo]:
        checks = QuickCheck.objects.filter(slug__in=list(refs)).select_related("lesson")
        return {
            check.slug: cards.ItemInfo(
                title=check.prompt, lesson_id=check.lesson_id,
                url=f"{check.lesson.get_absolute_url()}#check-{check.slug}",
            )
            for check in checks
        }

    def first_tries(self, learner_ids: Iterable[int]) -> list[cards.FirstTry]:
        rows = QuickCheckResponse.objects.first_tries().filter(
            learner_id__in=list(learner_ids)
        ).values_list("learner_id", "quick_check__slug", "correct")
        return [cards.FirstTry(learner_id=lid, ref=slug, correct=ok) for lid, slug, ok in rows]

    def _load(self, ref: str, learner, variant: str) -> tuple[QuickCheck, list]:
        check = QuickCheck.objects.prefetch_related("options").filter(slug=ref).first()
        if check is None:
            raise cards.ItemGone(ref)
        # Not the lesson's order: a learner who remembers where the answer was learns nothing.
        options = learner_order(check.options.all(), seed=f"{learner.pk}:{variant}", slug=ref)
        return check, options

    def question(self, ref: str, *, learner, variant: str) -> dict[str, Any]:
        check, options = self._load(ref, learner, variant)
        form = QuickCheckForm(quick_check=check, options=options)
        return {"check": check, "options": options, "check_form": form}

    def check(self, ref: str, data: QueryDict, *, learner,
              variant: str) -> cards.Checked | cards.NotGraded:
        check, options = self._load(ref, learner, variant)
        form = QuickCheckForm(data, quick_check=check, options=options)
        if not form.is_valid():
            if form.tampered:
                raise cards.BadAnswer(" ".join(str(error) for error in form.errors["choice"]))
            return cards.NotGraded({"check": check, "options": options, "check_form": form})
        result = grade_quick_check(option_keys(options), form.cleaned_data["choice"])
        return cards.Checked(answer={"selected": sorted(result.selected)}, correct=result.correct)

    def feedback(self, ref: str, answer: Mapping[str, Any], *, learner,
                 variant: str) -> dict[str, Any]:
        check, options = self._load(ref, learner, variant)
        selected = {str(key) for key in answer.get("selected", [])}
        return {"check": check, "result": grade_quick_check(option_keys(options), selected)}

    def checkpoint_items(self, *, learner, rng: random.Random) -> list[str]:
        by_lesson: dict[int, list[str]] = {}
        for slug, lesson_id in QuickCheck.objects.values_list("slug", "lesson_id"):
            by_lesson.setdefault(lesson_id, []).append(slug)
        lessons = sorted(by_lesson)
        rng.shuffle(lessons)
        return [rng.choice(sorted(by_lesson[lesson])) for lesson in
                lessons[:CHECKPOINT_QUICK_CHECKS]]
