"""The tool's background work, on Django's tasks framework (see lti.passback)."""

from __future__ import annotations

from django_tasks import task

from lti import line_items, passback, roster


@task()
def post_score(post_id: int, generation: int) -> str:
    return passback.attempt(post_id, generation)


@task()
def sync_roster(context_id: int, attempt: int = 1) -> int:
    return roster.sync(context_id, attempt)


@task()
def find_line_item(context_id: int, grade_id: int, attempt: int) -> str:
    return line_items.find(context_id, grade_id, attempt)
