"""What the tool does when grading changes a grade: grading sends no word to it, the tool
listens to the history grading keeps (every change leaves a GradeChange)."""

from __future__ import annotations

from typing import Any

from grading.models import GradeChange
from lti import passback


def grade_changed(sender: type[GradeChange], instance: GradeChange, created: bool,
                  **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        grade = instance.grade
        if grade.released:
            passback.queue_posts(grade=grade)
