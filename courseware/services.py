import uuid

from django.db import transaction
from django.utils import timezone

from courseware import handins
from courseware.checks import OptionKey, QuickCheckResult, grade_quick_check
from courseware.models import Lesson, LessonProgress, Question, QuickCheck, QuickCheckResponse


def submit_answer(*, learner, question: Question, answer: str, payload: dict | None = None,
                  token: uuid.UUID | None = None) -> tuple[handins.Receipt, bool]:
    """Hand a written answer in for grading; returns (receipt, created)."""
    return handins.desk().hand_in(
        learner=learner, item=question, answer=answer, payload=payload, token=token
    )


def option_keys(quick_check: QuickCheck) -> list[OptionKey]:
    return [
        OptionKey(text=o.text, correct=o.correct, feedback=o.feedback)
        for o in quick_check.options.all()
    ]


def check_quick_check(*, learner, quick_check: QuickCheck, selected: set[int]) -> QuickCheckResult:
    """Grade a quick check; a signed-in learner's response is kept for their progress."""
    result = grade_quick_check(option_keys(quick_check), selected)
    if learner is not None and learner.is_authenticated:
        QuickCheckResponse.objects.create(
            learner=learner,
            quick_check=quick_check,
            selected=sorted(selected),
            correct=result.correct,
        )
    return result


def record_visit(*, learner, lesson: Lesson) -> None:
    # Every visit after the first is one UPDATE, without reading the row first.
    visited = LessonProgress.objects.filter(learner=learner, lesson=lesson)
    if not visited.update(last_visited_at=timezone.now()):
        LessonProgress.objects.get_or_create(learner=learner, lesson=lesson)


@transaction.atomic
def mark_complete(*, learner, lesson: Lesson) -> LessonProgress:
    progress, _ = LessonProgress.objects.select_for_update().get_or_create(
        learner=learner, lesson=lesson
    )
    if progress.completed_at is None:
        progress.completed_at = timezone.now()
        progress.save()
    return progress
