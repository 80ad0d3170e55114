"""Each worker's copy of the course's lessons with their questions and quick checks
(see config/copies.py for how long a copy lives)."""

from dataclasses import dataclass

from django.http import Http404

from config import copies
from courseware.models import Lesson, Question, QuickCheck


@dataclass(frozen=True)
class CachedLesson:
    lesson: Lesson
    questions: tuple[Question, ...]
    # Each with its options read already.
    quick_checks: tuple[QuickCheck, ...]


def lessons_in_order() -> list[Lesson]:
    """Every lesson of the course, with its module, in reading order."""
    return copies.kept("lessons-in-order", lambda: list(Lesson.objects.in_order()))


def quick_check_count() -> int:
    return copies.kept("quick-check-count", QuickCheck.objects.count)


def _read_lesson(slug: str) -> CachedLesson:
    lesson = Lesson.objects.select_related("module__course").filter(slug=slug).first()
    if lesson is None:
        raise Http404("No such lesson")
    return CachedLesson(
        lesson=lesson,
        questions=tuple(lesson.questions.all()),
        quick_checks=tuple(lesson.quick_checks.prefetch_related("options")),
    )


def get_lesson(slug: str) -> CachedLesson:
    """The lesson with this slug, its questions and its quick checks; 404 if none."""
    return copies.kept(f"lesson:{slug}", lambda: _read_lesson(slug))
