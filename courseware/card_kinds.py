"""Quick checks and problems as review cards: a quick check is asked again with its options
in a new order, a problem with new numbers."""

import random
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import QueryDict

from courseware import cards, problems, services
from courseware.checks import grade_quick_check, learner_order
from courseware.forms import ProblemAnswerForm, QuickCheckForm
from courseware.models import (
    Problem,
    ProblemAnswer,
    ProblemInstance,
    QuickCheck,
    QuickCheckResponse,
)
from courseware.services import QUICK_CHECK_KIND, option_keys

PROBLEM_KIND = "problem"
# How many problems a final checkpoint asks, each with new numbers.
CHECKPOINT_PROBLEMS = 2

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
                questions=(check.deciding_question,) if check.deciding_question else (),
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


class ProblemKind(cards.CardKind):
    name = PROBLEM_KIND
    label = "Problem"
    template = "courseware/_review_problem.html"

    def describe(self, refs: Iterable[str]) -> dict[str, cards.ItemInfo]:
        found = Problem.objects.filter(slug__in=list(refs)).select_related("lesson")
        infos = {}
        for problem in found:
            problem_type = problem.problem_type
            if problem_type is None:
                continue
            infos[problem.slug] = cards.ItemInfo(
                title=f"{problem_type.label}, with new numbers", lesson_id=problem.lesson_id,
                url=f"{problem.lesson.get_absolute_url()}#problem-{problem.slug}",
            )
        return infos

    def first_tries(self, learner_ids: Iterable[int]) -> list[cards.FirstTry]:
        rows = ProblemAnswer.objects.first_tries().filter(
            learner_id__in=list(learner_ids)
        ).values_list("learner_id", "problem__slug", "correct")
        return [cards.FirstTry(learner_id=lid, ref=slug, correct=ok) for lid, slug, ok in rows]

    def _load(self, ref: str) -> tuple[Problem, problems.ProblemType]:
        problem = Problem.objects.select_related("lesson").filter(slug=ref).first()
        problem_type = problem.problem_type if problem is not None else None
        if problem is None or problem_type is None:
            raise cards.ItemGone(ref)
        return problem, problem_type

    def _context(self, problem: Problem, problem_type: problems.ProblemType,
                 instance: ProblemInstance, **extra) -> dict[str, Any]:
        params = problem_type.generate(instance.seed)
        return {
            "problem": problem, "type": problem_type, "instance": instance,
            "prompt": problem_type.prompt(params), "tolerance": problem_type.tolerance_text(),
            "links": problem_type.links(params), **extra,
        }

    def question(self, ref: str, *, learner, variant: str) -> dict[str, Any]:
        problem, problem_type = self._load(ref)
        instance = services.current_instance(learner=learner, problem=problem)
        # Numbers already answered are drawn afresh; unanswered ones stay, so a reload shows
        # the same numbers.
        if _answered(instance):
            instance = services.new_instance(learner=learner, problem=problem)
        form = ProblemAnswerForm(initial={"instance": instance.pk}, unit=problem_type.unit)
        return self._context(problem, problem_type, instance, form=form)

    def check(self, ref: str, data: QueryDict, *, learner,
              variant: str) -> cards.Checked | cards.NotGraded:
        problem, problem_type = self._load(ref)
        form = ProblemAnswerForm(data, unit=problem_type.unit)
        if not form.is_valid():
            if form.tampered:
                raise cards.BadAnswer("The form did not say which numbers you answered.")
            instance = ProblemInstance.objects.filter(
                pk=data.get("instance", ""), learner=learner, problem=problem
            ).first() if str(data.get("instance", "")).isdigit() else None
            if instance is None:
                raise cards.BadAnswer(
                    "These are not your numbers for this problem: answer the numbers shown to you."
                )
            return cards.NotGraded(self._context(problem, problem_type, instance, form=form))
        try:
            outcome = services.answer_problem(
                learner=learner, problem=problem, instance_id=form.cleaned_data["instance"],
                value=form.cleaned_data["answer"], require_current=False,
            )
        except services.ProblemRefused as exc:
            raise cards.BadAnswer(str(exc)) from exc
        return cards.Checked(
            answer={"instance": outcome.answer.instance_id, "value": outcome.answer.value},
            correct=outcome.verdict.correct,
        )

    def feedback(self, ref: str, answer: Mapping[str, Any], *, learner,
                 variant: str) -> dict[str, Any]:
        problem, problem_type = self._load(ref)
        instance_id = answer.get("instance")
        instance = ProblemInstance.objects.filter(
            pk=int(instance_id) if isinstance(instance_id, int) else 0, learner=learner,
            problem=problem,
        ).first()
        if instance is None:
            raise cards.ItemGone(ref)
        params = problem_type.generate(instance.seed)
        verdict = problem_type.grade(params, float(answer.get("value", "nan")))
        return self._context(
            problem, problem_type, instance, verdict=verdict,
            solution=problem_type.solution(params),
            shown={name: problems.number(getattr(verdict, name), 5)
                   for name in ("given", "truth", "low", "high")},
        )

    def checkpoint_items(self, *, learner, rng: random.Random) -> list[str]:
        slugs = sorted(Problem.objects.values_list("slug", flat=True))
        return rng.sample(slugs, min(CHECKPOINT_PROBLEMS, len(slugs)))


def _answered(instance: ProblemInstance) -> bool:
    try:
        return instance.answer is not None
    except ObjectDoesNotExist:
        return False


def review_missed_problem(sender, *, learner, problem: Problem, **kwargs) -> None:
    """A problem whose first try was wrong comes back in review, with new numbers."""
    services.add_review_card(learner=learner, kind=PROBLEM_KIND, ref=problem.slug)
