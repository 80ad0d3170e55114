"""The kinds of item a learner can miss and review, each registered by the app that owns it.

Courseware keeps the review cards, their schedule and the mastery figures; it knows a card only
by its kind's name and the kind's own reference for the item (a quick check's slug, a drill
interaction's id, ...). The app that owns the items draws them, grades them and says which
lesson and which deciding questions each one practises. Quick checks register here; drills
register drill interactions; any app above may register a kind of its own.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict


@dataclass(frozen=True)
class ItemInfo:
    """What the course needs to know of one item to file it: where it is taught and what for."""

    title: str
    lesson_id: int | None
    # The deciding questions (1 to 5) this item practises, if any.
    questions: tuple[int, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class FirstTry:
    learner_id: int
    ref: str
    correct: bool


@dataclass(frozen=True)
class Checked:
    """An answer graded by its kind: what was answered, kept as JSON, and whether it was right."""

    answer: dict[str, Any]
    correct: bool


@dataclass
class NotGraded:
    """An answer that cannot be graded yet (nothing chosen): the form again, with its errors."""

    context: dict[str, Any] = field(default_factory=dict)


class BadAnswer(ValueError):
    """Something the item's own form cannot send (an unknown option, numbers not the
    learner's): answered with a 400 and the reason, and nothing is stored."""


class CardKind(abc.ABC):
    #: Stored with each card; never change it once cards exist.
    name: str
    #: What the learner reads: "Quick check", "Drill interaction".
    label: str
    #: Draws one item, with ``item`` (the kind's context), ``mode`` ("question" or "feedback"),
    #: ``action`` (where the form posts) and ``token``.
    template: str
    #: A checkpoint asks this kind's items together and in their own order, after the others
    #: (a drill's interactions, read as one workflow).
    asked_together: bool = False

    @abc.abstractmethod
    def describe(self, refs: Iterable[str]) -> dict[str, ItemInfo]:
        """Each of these items that still exists, by reference."""

    @abc.abstractmethod
    def first_tries(self, learner_ids: Iterable[int]) -> list[FirstTry]:
        """Every first try these learners made at items of this kind."""

    @abc.abstractmethod
    def question(self, ref: str, *, learner, variant: str) -> dict[str, Any]:
        """The context to ask the item. ``variant`` seeds what changes between showings (the
        order of options, the numbers): the same variant shows the same thing."""

    @abc.abstractmethod
    def check(self, ref: str, data: QueryDict, *, learner, variant: str) -> Checked | NotGraded:
        """Grade what was posted; raises BadAnswer for what the form cannot send."""

    @abc.abstractmethod
    def feedback(self, ref: str, answer: Mapping[str, Any], *, learner,
                 variant: str) -> dict[str, Any]:
        """The context to show a graded answer with the reasons."""

    def checkpoint_items(self, *, learner, rng: random.Random) -> list[str]:
        """Items of this kind for a final checkpoint, drawn with ``rng``; none by default."""
        return []


class ItemGone(LookupError):
    """The item a card or checkpoint names is no longer part of the course."""


_kinds: dict[str, CardKind] = {}
# The deciding questions' wording, given by the app that defines them.
_questions: dict[int, str] = {}


def register(kind: CardKind) -> None:
    """Called by an app's ready()."""
    _kinds[kind.name] = kind


def get(name: str) -> CardKind | None:
    return _kinds.get(name)


def kinds() -> list[CardKind]:
    return list(_kinds.values())


def name_questions(questions: Mapping[int, str]) -> None:
    """Called by the app that defines the deciding questions, so mastery can name them."""
    _questions.update(questions)


def questions() -> dict[int, str]:
    return dict(sorted(_questions.items()))
