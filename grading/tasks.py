"""Grading work done in the background by the task queue (Django's tasks framework)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django_tasks import default_task_backend, task


@task()
def release_scheduled(batch: str) -> dict[str, list[int]]:
    """Release one batch of scheduled grades; returns the grade ids released, skipped, not due."""
    from grading import services

    outcome = services.run_scheduled_releases(batch=uuid.UUID(batch))
    return {
        "released": outcome.released, "skipped": outcome.skipped, "not_due": outcome.not_due,
    }


def enqueue_release(*, batch: uuid.UUID, release_at: datetime) -> str:
    """Queue the release of a batch for its time; returns the task's id.

    A backend that cannot defer (the immediate one) runs the task now; it then releases only
    what is already due and leaves the rest pending.
    """
    deferred = release_scheduled.using(run_after=release_at) if (
        default_task_backend.supports_defer
    ) else release_scheduled
    return str(deferred.enqueue(str(batch)).id)
