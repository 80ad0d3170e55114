"""Readers of the drills with their interactions and answer keys, for the pages."""

from dataclasses import dataclass

from django.http import Http404

from courseware.versioning import content_version, read_through
from drills import grading
from drills.models import Drill, Interaction


@dataclass(frozen=True)
class DrillContent:
    # The content version read before the content: the key of the page's cached fragments.
    version: str
    drill: Drill
    interactions: tuple[Interaction, ...]
    key: tuple[grading.KeyItem, ...]


# Each reader goes through the shared cache under the content version (courseware/versioning.py):
# drills are the same for every learner, and any edit gives them a new version.


def _read_drill(slug: str, version: str) -> DrillContent | None:
    drill = Drill.objects.select_related("lesson").filter(slug=slug).first()
    if drill is None:
        return None
    interactions = tuple(drill.interactions.select_related("after").order_by("order", "pk"))
    return DrillContent(
        version=version, drill=drill, interactions=interactions,
        key=tuple(drill.answer_key(interactions)),
    )


def get_drill(slug: str) -> DrillContent:
    """The drill with this slug, its interactions in order and its answer key; 404 if none."""
    version = content_version()
    entry = read_through(f"drill:{slug}", lambda: _read_drill(slug, version), version=version)
    if entry is None:
        raise Http404("No such drill")
    return entry


def catalogue(version: str | None = None) -> list[Drill]:
    """Every drill in catalogue order, with its lesson and its interaction count."""
    return read_through("drills", lambda: list(
        Drill.objects.in_order().with_interaction_count().select_related("lesson")
    ), version=version)


def drills_for_lesson(lesson_id: int, version: str | None = None) -> list[Drill]:
    """The drills that practise a lesson, in catalogue order, with their interaction counts."""
    return [drill for drill in catalogue(version) if drill.lesson_id == lesson_id]


def next_drill(drill: Drill) -> Drill | None:
    """The drill after this one in catalogue order, if any."""
    ordered = catalogue()
    position = next((i for i, other in enumerate(ordered) if other.pk == drill.pk), -1)
    return ordered[position + 1] if 0 <= position < len(ordered) - 1 else None
