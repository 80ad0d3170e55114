"""Grading is told nothing; these listen to the records it keeps."""

from __future__ import annotations

from typing import Any

from grading.models import GradeChange, RegradeRequest
from notifications import services

BY_ACTION: dict[str, str] = {
    GradeChange.Action.RELEASED: services.GRADE_RELEASED,
    GradeChange.Action.CORRECTED: services.GRADE_CORRECTED,
    GradeChange.Action.REGRADED: services.REGRADE_ANSWERED,
}


def grade_changed(sender: type[GradeChange], instance: GradeChange, created: bool,
                  **kwargs: Any) -> None:
    kind = BY_ACTION.get(instance.action) if created and not kwargs.get("raw") else None
    if kind is None:
        return
    learner = instance.grade.submission.learner
    if services.wants(learner, kind):
        services.queue(kind, recipient_id=learner.pk, object_id=instance.pk)


def regrade_requested(sender: type[RegradeRequest], instance: RegradeRequest, created: bool,
                      **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    for instructor in services.instructors():
        if services.wants(instructor, services.REGRADE_REQUESTED):
            services.queue(services.REGRADE_REQUESTED, recipient_id=instructor.pk,
                           object_id=instance.pk)
