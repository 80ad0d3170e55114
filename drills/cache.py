"""Each worker's copy of the drills it has served, with their interactions and answer keys.

Every drill page and every submission needs a drill with its interactions, and grading needs
their answer key; they change only when an instructor edits a drill or the course is reloaded.
So a worker keeps what it read for DRILL_CACHE_SECONDS. A save or delete in the same process
clears the copy at once; other processes see the change when their copy runs out. Off (0) in
development, so authors see their edits at once.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404

from drills import grading
from drills.models import Drill, Interaction


@dataclass(frozen=True)
class CachedDrill:
    drill: Drill
    interactions: tuple[Interaction, ...]
    key: tuple[grading.KeyItem, ...]
    loaded_at: float


_drills: dict[str, CachedDrill] = {}
_order: list[tuple[float, list[Drill]]] = []


def clear(**kwargs) -> None:
    """Forget every copy; connected to the save and delete signals of what is kept here."""
    _drills.clear()
    _order.clear()


def _fresh(loaded_at: float) -> bool:
    return time.monotonic() - loaded_at < settings.DRILL_CACHE_SECONDS


def get_drill(slug: str) -> CachedDrill:
    """The drill with this slug, its interactions in order and its answer key; 404 if none."""
    entry = _drills.get(slug)
    if entry is not None and _fresh(entry.loaded_at):
        return entry
    drill = Drill.objects.select_related("lesson").filter(slug=slug).first()
    if drill is None:
        raise Http404("No such drill")
    interactions = tuple(drill.interactions.select_related("after").order_by("order", "pk"))
    entry = CachedDrill(
        drill=drill,
        interactions=interactions,
        key=tuple(interaction.key_item() for interaction in interactions),
        loaded_at=time.monotonic(),
    )
    if settings.DRILL_CACHE_SECONDS > 0:
        _drills[slug] = entry
    return entry


def drills_in_order() -> list[Drill]:
    """Every drill (slug, title and difficulty only) in catalogue order."""
    if _order and _fresh(_order[0][0]):
        return _order[0][1]
    drills = list(Drill.objects.in_order().only("slug", "title", "difficulty"))
    if settings.DRILL_CACHE_SECONDS > 0:
        _order[:] = [(time.monotonic(), drills)]
    return drills
