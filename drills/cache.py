"""Each worker's copy of the drills it has served, with their interactions and answer keys
(see config/copies.py for how long a copy lives)."""

from dataclasses import dataclass

from django.http import Http404

from config import copies
from drills import grading
from drills.models import Drill, Interaction


@dataclass(frozen=True)
class CachedDrill:
    drill: Drill
    interactions: tuple[Interaction, ...]
    key: tuple[grading.KeyItem, ...]


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
    return copies.kept(f"drill:{slug}", lambda: _read_drill(slug))


def catalogue() -> list[Drill]:
    """Every drill in catalogue order, with its lesson and its interaction count."""
    return copies.kept(
        "drill-catalogue",
        lambda: list(Drill.objects.in_order().with_interaction_count().select_related("lesson")),
    )


def drills_for_lesson(lesson_id: int) -> list[Drill]:
    """The drills that practise a lesson, in catalogue order, with their interaction counts."""
    return [drill for drill in catalogue() if drill.lesson_id == lesson_id]
