"""Each worker's copy of the drills it has served, with their interactions and answer keys.

Every drill page and every submission needs a drill with its interactions, and grading needs
their answer key; they change only when an instructor edits a drill or the course is reloaded.
So a worker keeps what it read for DRILL_CACHE_SECONDS. A save or delete in the same process
clears the copy at once; other processes see the change when their copy runs out. Off (0) in
development, so authors see their edits at once.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.http import Http404

from drills import grading
from drills.models import Drill, Interaction

T = TypeVar("T")


@dataclass(frozen=True)
class CachedDrill:
    drill: Drill
    interactions: tuple[Interaction, ...]
    key: tuple[grading.KeyItem, ...]


# What was read, by name, with the time it was read.
_copies: dict[str, tuple[float, object]] = {}


def clear(**kwargs) -> None:
    """Forget every copy; connected to the save and delete signals of what is kept here."""
    _copies.clear()


def _kept(name: str, read: Callable[[], T]) -> T:
    now = time.monotonic()
    copy = _copies.get(name)
    if copy is not None and now - copy[0] < settings.DRILL_CACHE_SECONDS:
        return copy[1]
    value = read()
    if settings.DRILL_CACHE_SECONDS > 0:
        _copies[name] = (now, value)
    return value


def _read_drill(slug: str) -> CachedDrill:
    drill = Drill.objects.select_related("lesson").filter(slug=slug).first()
    if drill is None:
        raise Http404("No such drill")
    interactions = tuple(drill.interactions.select_related("after").order_by("order", "pk"))
    return CachedDrill(
        drill=drill, interactions=interactions, key=tuple(drill.answer_key(interactions))
    )


def get_drill(slug: str) -> CachedDrill:
    """The drill with this slug, its interactions in order and its answer key; 404 if none."""
    return _kept(f"drill:{slug}", lambda: _read_drill(slug))


def drills_in_order() -> list[Drill]:
    """Every drill (slug, title and difficulty only) in catalogue order."""
    return _kept(
        "in-order", lambda: list(Drill.objects.in_order().only("slug", "title", "difficulty"))
    )
