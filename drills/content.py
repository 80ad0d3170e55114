"""Readers of the drills with their interactions and answer keys, for the pages."""

import copy
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
    # '' for the drill as written, else the slug of the variant these interactions belong to.
    variant: str = ""
    variant_title: str = ""
    variant_change: str = ""


class UnknownVariant(ValueError):
    """A variant slug that this drill does not have."""


# Each reader goes through the shared cache under the content version (courseware/versioning.py):
# drills are the same for every learner, and any edit gives them a new version.


def _read_drill(slug: str, version: str, variant: str) -> DrillContent | None:
    drill = Drill.objects.select_related("lesson").filter(slug=slug).first()
    if drill is None:
        return None
    interactions = tuple(drill.interactions.select_related("after").order_by("order", "pk"))
    title = change = ""
    if variant:
        found = drill.variant(variant)
        if found is None:
            raise UnknownVariant(f"This drill has no variant {variant[:40]!r}.")
        interactions = apply_variant(interactions, found.get("interactions") or {})
        title, change = str(found.get("title", "")), str(found.get("change", ""))
    return DrillContent(
        version=version, drill=drill, interactions=interactions,
        key=tuple(drill.answer_key(interactions)), variant=variant, variant_title=title,
        variant_change=change,
    )


def apply_variant(interactions: tuple[Interaction, ...],
                  changes: dict[str, dict]) -> tuple[Interaction, ...]:
    """Unsaved copies of the interactions with a variant's changes; the originals stay as read."""
    changed = []
    for interaction in interactions:
        fields = changes.get(interaction.key)
        if fields:
            interaction = copy.copy(interaction)
            for name, value in fields.items():
                setattr(interaction, name, value)
        changed.append(interaction)
    return tuple(changed)


def get_drill(slug: str, variant: str = "") -> DrillContent:
    """The drill with this slug, its interactions in order and its answer key; 404 if none.

    With a variant, the interactions are copies carrying that variant's changes, so the form,
    the key and the feedback all read one consistent version. Raises UnknownVariant for a
    variant the drill does not have.
    """
    version = content_version()
    entry = read_through(f"drill:{slug}:{variant}", lambda: _read_drill(slug, version, variant),
                         version=version)
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
    # Kept per lesson, so that each lesson page reads its own few drills, not the catalogue.
    return read_through(f"drills:lesson:{lesson_id}", lambda: [
        drill for drill in catalogue(version) if drill.lesson_id == lesson_id
    ], version=version)


def next_drill(drill: Drill) -> Drill | None:
    """The drill after this one in catalogue order, if any."""
    ordered = catalogue()
    position = next((i for i, other in enumerate(ordered) if other.pk == drill.pk), -1)
    return ordered[position + 1] if 0 <= position < len(ordered) - 1 else None


def next_variant(drill: Drill, seen: list[str]) -> str:
    """The version of the drill to serve, given the versions whose key the learner has seen,
    oldest first.

    Before any attempt: the drill as written. After: a variant not seen yet, so that a retry
    asks for judgement on a changed constraint rather than the key just read; once every
    variant is seen, the one after the latest, round the list.
    """
    slugs = drill.variant_slugs
    if not seen or len(slugs) == 1:
        return ""
    unseen = [slug for slug in slugs if slug not in seen]
    if unseen:
        return unseen[0]
    latest = seen[-1] if seen[-1] in slugs else ""
    return slugs[(slugs.index(latest) + 1) % len(slugs)]
