"""Readers of the course's lessons with their questions and quick checks, for the pages."""

from dataclasses import dataclass

from django.http import Http404

from courseware.models import Lesson, Problem, Question, QuickCheck
from courseware.versioning import content_version


@dataclass(frozen=True)
class LessonContent:
    # The content version read before the content: the key of the page's cached fragments.
    version: str
    lesson: Lesson
    questions: tuple[Question, ...]
    # Each with its options read already.
    quick_checks: tuple[QuickCheck, ...]
    # Only those whose type is registered: a type whose app is gone cannot draw numbers.
    problems: tuple[Problem, ...] = ()


def lessons_in_order() -> list[Lesson]:
    """Every lesson of the course, with its module, in reading order."""
    return list(Lesson.objects.in_order())


def quick_check_count() -> int:
    return QuickCheck.objects.count()


def get_lesson(slug: str) -> LessonContent:
    """The lesson with this slug, its questions and its quick checks; 404 if none."""
    version = content_version()
    # The page shows the body rendered when it was saved, never its source.
    lesson = (
        Lesson.objects.select_related("module__course").defer("body_markdown")
        .filter(slug=slug).first()
    )
    if lesson is None:
        raise Http404("No such lesson")
    return LessonContent(
        version=version,
        lesson=lesson,
        questions=tuple(lesson.questions.all()),
        quick_checks=tuple(lesson.quick_checks.prefetch_related("options")),
        problems=tuple(p for p in lesson.problems.all() if p.problem_type is not None),
    )
