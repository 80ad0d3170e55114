"""What a learner has done in the course, gathered in a fixed number of queries."""

from dataclasses import dataclass, field

from courseware import content, handins
from courseware.models import (
    Lesson,
    LessonProgress,
    Problem,
    ProblemAnswer,
    Question,
    QuickCheckResponse,
)


@dataclass
class CourseProgress:
    lessons: list[Lesson]
    completed: set[int] = field(default_factory=set)
    answered_questions: int = 0
    quick_checks_total: int = 0
    quick_checks_correct: int = 0
    problems_total: int = 0
    problems_correct: int = 0
    resume: Lesson | None = None

    @property
    def lessons_done(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / len(self.lessons)) if self.lessons else 0

    def is_done(self, lesson: Lesson) -> bool:
        return lesson.pk in self.completed


def course_progress(user) -> CourseProgress:
    lessons = content.lessons_in_order()
    progress = CourseProgress(
        lessons=lessons, quick_checks_total=content.quick_check_count(),
        problems_total=Problem.objects.count(),
    )
    if not user.is_authenticated:
        return progress
    rows = list(
        LessonProgress.objects.filter(learner=user).values(
            "lesson_id", "completed_at", "last_visited_at"
        )
    )
    progress.completed = {row["lesson_id"] for row in rows if row["completed_at"]}
    if handins.is_open():
        progress.answered_questions = handins.desk().answered(learner=user, model=Question)
    # A quick check counts as right when the learner's first try was right.
    progress.quick_checks_correct = (
        QuickCheckResponse.objects.filter(learner=user, correct=True).first_tries().count()
    )
    # A problem counts as right when the learner's first answer to it, on any numbers, was.
    progress.problems_correct = (
        ProblemAnswer.objects.filter(learner=user, correct=True).first_tries().count()
    )
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
