"""The workflows the outage lab can break: the worked example's checkout and every drill.

A drill is run in two designs: every interaction synchronous, and the answer key's own design
(an interaction the key leaves to a condition is taken as asynchronous, the key's usual
resolution). In each design a service is waited on by the user when some call to it is
synchronous and on the critical path; otherwise a queue stands between it and the user.
"""

from django.http import Http404

from drills import content, grading
from simulator import outage

CHECKOUT = "checkout"


def choices() -> list[tuple[str, str]]:
    """(slug, title) of every workflow, the worked example first."""
    drills = [(drill.slug, f"Drill: {drill.title}") for drill in content.catalogue()]
    return [(CHECKOUT, outage.worked_example().title), *drills]


def get(slug: str) -> outage.Workflow | None:
    """The workflow with this slug, or None when there is none."""
    if slug == CHECKOUT:
        return outage.worked_example()
    try:
        drill = content.get_drill(slug)
    except Http404:
        return None
    return from_key(slug, drill.drill.title, drill.key)


def from_key(slug: str, title: str, key: tuple[grading.KeyItem, ...]) -> outage.Workflow:
    services = tuple(dict.fromkeys(item.callee for item in key))
    everything_sync = {item.key: grading.SYNC for item in key}
    designs = (
        _design("All synchronous", key, everything_sync),
        _design("The answer key's design", key, grading.key_choices(key)),
    )
    entry = key[0].caller if key else ""
    return outage.Workflow(slug, f"Drill: {title}", entry, services, designs)


def _design(name: str, key: tuple[grading.KeyItem, ...], choices: dict[str, str]) -> outage.Design:
    on_path = grading.critical_path(key, choices)
    waits_on = frozenset(
        item.callee for item in key if item.key in on_path and choices[item.key] == grading.SYNC
    )
    uses_broker = any(choice == grading.ASYNC for choice in choices.values())
    return outage.Design(name, waits_on, uses_broker)
