"""The seam through which the course hands a learner's work in to be graded.

Courseware and drills collect work (answers to check-yourself questions, a learner's own
workflow, drill attempts that an instructor reviews) but sit below the app that grades it, so
they never name it. That app registers a desk when it starts; work is handed in through the
desk, and what the learner may see of it comes back as plain receipts. Without a desk nothing
can be handed in, and the pages say so instead of failing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db.models import Model


class DeskClosed(Exception):
    """No app that grades work is installed, so nothing can be handed in."""


@dataclass(frozen=True)
class Receipt:
    """What a learner sees of one piece of work they handed in."""

    pk: int
    answer: str
    payload: dict[str, Any]
    # In the learner's words: "Awaiting grading", "Graded" or "Regrade requested".
    status: str
    # Where the learner follows it: feedback, grade, regrade requests.
    url: str
    created_at: datetime
    # The released score, None until an instructor releases a grade.
    score: Decimal | None = None
    max_score: Decimal | None = None
    # Released and not opened by the learner yet.
    new: bool = False


class Desk(Protocol):
    def hand_in(self, *, learner: Any, item: Model, answer: str = "",
                payload: dict[str, Any] | None = None,
                token: uuid.UUID | None = None) -> tuple[Receipt, bool]:
        """Hand work on ``item`` in; returns (receipt, created).

        ``item`` is a question, whose ``answer`` (and structured ``payload``) is the work, or
        a drill attempt, which carries its own answers. The same token always gives back the
        first hand-in, however many requests race.
        """

    def latest(self, *, learner: Any, items: Sequence[Model]) -> dict[int, Receipt]:
        """The learner's newest hand-in for each item that has one, by the item's id."""

    def recent(self, *, learner: Any, item: Model, limit: int) -> list[Receipt]:
        """The learner's newest hand-ins for one item, newest first."""

    def answered(self, *, learner: Any, model: type[Model]) -> int:
        """How many different items of this kind the learner has handed work in for."""


_desk: Desk | None = None


def register(desk: Desk) -> None:
    """Called once by the grading app when it starts."""
    global _desk
    _desk = desk


def desk() -> Desk:
    if _desk is None:
        raise DeskClosed(
            "Handing work in is not available on this site: no grading is set up. "
            "Your text is still on the page."
        )
    return _desk


def is_open() -> bool:
    return _desk is not None
