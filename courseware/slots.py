"""Named places in the course's pages where apps built on top of it add parts of their own.

The drills app adds its practice card to the end of each lesson and a link to the workflow
builder to workflow questions; grading adds a learner's grades to the progress panel. The
course pages name only the slot, never the app that fills it.
"""

from collections import defaultdict

_slots: defaultdict[str, list[str]] = defaultdict(list)


def fill(slot: str, template: str) -> None:
    """Called by an app's ready(): ``template`` is drawn, with the page's context, in ``slot``."""
    if template not in _slots[slot]:
        _slots[slot].append(template)


def templates(slot: str) -> list[str]:
    return list(_slots.get(slot, ()))
