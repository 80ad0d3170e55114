"""Readers of the course's lessons with their questions and quick checks, for the pages.

What they read is the same for every learner, so it is kept in the shared cache under the
content version (courseware/versioning.py): a page reads the version and one cached entry instead
of querying lessons, questions and options, and an edit is seen by every app server at once
because it gives the content a new version.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.http import Http404

from courseware.models import Lesson, Problem, Question, QuickCheck
from courseware.versioning import CONTENT_TIMEOUT, content_key, content_version, read_through


@dataclass(frozen=True)
class Outline:
    """The course's lessons in reading order, and how many quick checks and problems it has."""

    lessons: list[Lesson]
    quick_check_count: int
    problem_count: int


@dataclass(frozen=True)
class LessonContent:
    # The content version read before the content: the key of the page's cached parts.
    version: str
    lesson: Lesson
    questions: tuple[Question, ...]
    # Each with its options read already.
    quick_checks: tuple[QuickCheck, ...]
    outline: Outline
    problems: tuple[Problem, ...] = ()


def _read_outline() -> Outline:
    return Outline(lessons=list(Lesson.objects.in_order()),
                   quick_check_count=QuickCheck.objects.count(),
                   problem_count=Problem.objects.count())


def outline(version: str | None = None) -> Outline:
    """Every lesson of the course, with its module, in reading order."""
    return read_through("outline", _read_outline, version=version)


Read = tuple[Lesson, tuple[Question, ...], tuple[QuickCheck, ...], tuple[Problem, ...]]


def _read_lesson(slug: str) -> Read | None:
    # The page shows the body rendered when it was saved, never its source.
    lesson = (
        Lesson.objects.select_related("module__course").defer("body_markdown")
        .filter(slug=slug).first()
    )
    if lesson is None:
        return None
    return (
        lesson, tuple(lesson.questions.filter(retired=False)),
        tuple(lesson.quick_checks.prefetch_related("options")),
        # Only those whose type is registered: a type whose app is gone cannot draw numbers.
        tuple(p for p in lesson.problems.all() if p.problem_type is not None),
    )


def get_lesson(slug: str) -> LessonContent:
    """The lesson with this slug, its questions, quick checks and problems; 404 if none."""
    version = content_version()
    keys = {"outline": content_key("outline", version),
            "lesson": content_key(f"lesson:{slug}", version)}
    found = cache.get_many(keys.values())
    course = found.get(keys["outline"])
    if course is None:
        course = _read_outline()
        cache.set(keys["outline"], course, CONTENT_TIMEOUT)
    read = found.get(keys["lesson"])
    if read is None:
        # An unknown slug is not kept: anyone may ask for any slug.
        read = _read_lesson(slug)
        if read is None:
            raise Http404("No such lesson")
        cache.set(keys["lesson"], read, CONTENT_TIMEOUT)
    lesson, questions, quick_checks, problems = read
    return LessonContent(version=version, lesson=lesson, questions=questions,
                         quick_checks=quick_checks, outline=course, problems=problems)
