"""The tool's background work, on Django's tasks framework (see lti.passback)."""

from __future__ import annotations

from django_tasks import task

from lti import passback, roster


@task()
def post_score(post_id: int, generation: int) -> str:
    return passback.attempt(post_id, generation)


@task()
def sync_roster(context_id: int) -> int:
    return roster.sync(context_id)
