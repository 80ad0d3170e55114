"""What the tool does when grading changes a grade: grading sends no word to it, the tool
listens to the history grading keeps (every change leaves a GradeChange)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from grading.models import GradeChange
from lti import passback

log = logging.getLogger(__name__)


def grade_changed(sender: type[GradeChange], instance: GradeChange, created: bool,
                  **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        grade = instance.grade
        if grade.released:
            try:
                # A savepoint: whatever goes wrong here, the grade change itself stands.
                with transaction.atomic():
                    passback.queue_posts(grade=grade)
            except Exception:
                log.exception("Could not queue the passback of grade %s", grade.pk)
