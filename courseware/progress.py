"""What a learner has done in the course, gathered in a fixed number of queries."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from courseware import content, handins
from courseware.models import (
    Lesson,
    LessonProgress,
    ProblemAnswer,
    Question,
    QuickCheckResponse,
)


@dataclass
class CourseProgress:
    lessons: list[Lesson]
    completed: set[int] = field(default_factory=set)
    quick_checks_total: int = 0
    problems_total: int = 0
    resume: Lesson | None = None
    # Signed in, or None; the counts below are read only by the pages that show them.
    learner: Any = None

    @cached_property
    def answered_questions(self) -> int:
        if self.learner is None or not handins.is_open():
            return 0
        return handins.desk().answered(learner=self.learner, model=Question)

    @cached_property
    def quick_checks_correct(self) -> int:
        # A quick check counts as right when the learner's first try was right.
        if self.learner is None:
            return 0
        return (QuickCheckResponse.objects.filter(learner=self.learner, correct=True)
                .first_tries().count())

    @cached_property
    def problems_correct(self) -> int:
        # A problem counts as right when the learner's first answer to it, on any numbers, was.
        if self.learner is None:
            return 0
        return (ProblemAnswer.objects.filter(learner=self.learner, correct=True)
                .first_tries().count())

    @property
    def lessons_done(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / len(self.lessons)) if self.lessons else 0

    def is_done(self, lesson: Lesson) -> bool:
        return lesson.pk in self.completed


def course_progress(user, outline: content.Outline | None = None) -> CourseProgress:
    outline = outline or content.outline()
    lessons = outline.lessons
    progress = CourseProgress(lessons=lessons, quick_checks_total=outline.quick_check_count,
                              problems_total=outline.problem_count)
    if not user.is_authenticated:
        return progress
    rows = list(
        LessonProgress.objects.filter(learner=user).values(
            "lesson_id", "completed_at", "last_visited_at"
        )
    )
    progress.completed = {row["lesson_id"] for row in rows if row["completed_at"]}
    progress.learner = user
    if rows:
        last = max(rows, key=lambda row: row["last_visited_at"])
        by_id = {lesson.pk: lesson for lesson in lessons}
        progress.resume = by_id.get(last["lesson_id"])
        if progress.resume and progress.is_done(progress.resume):
            later = [
                lesson for lesson in lessons[lessons.index(progress.resume) + 1:]
                if not progress.is_done(lesson)
            ]
            progress.resume = later[0] if later else progress.resume
    return progress
