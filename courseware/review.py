"""Spaced review scheduling with FSRS: plain data in, a card's next state and due date out.

The only module that talks to the ``fsrs`` package. A card's state is stored as the package's
own dictionary (``Card.to_dict()``), so it can be read back with ``Card.from_dict()`` whatever
version wrote it. A right answer rates the card Good and a wrong one Again: learners are not
asked to grade their own recall, since each card is graded against its key.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler

# One short step before a card graduates, and one after a lapse: a missed idea comes back the
# same sitting, then at the intervals FSRS works out. Fuzzing spreads a large deck's reviews
# over neighbouring days; a course's handful of cards gains nothing from it, and without it a
# learner's schedule can be explained and checked.
SCHEDULER = Scheduler(
    learning_steps=(timedelta(minutes=10),),
    relearning_steps=(timedelta(minutes=10),),
    enable_fuzzing=False,
)


@dataclass(frozen=True)
class Reviewed:
    state: dict[str, Any]
    due: datetime
    rating: int
    log: dict[str, Any]


def new_card(*, card_id: int, now: datetime) -> dict[str, Any]:
    """The state of a card never reviewed, due at ``now`` (an aware UTC datetime)."""
    return dict(Card(card_id=card_id, due=now).to_dict())


def review(state: dict[str, Any], *, correct: bool, now: datetime) -> Reviewed:
    """Grade a card: Good when the answer was right, Again when it was wrong."""
    card = Card.from_dict(state)  # type: ignore[arg-type]
    rating = Rating.Good if correct else Rating.Again
    card, log = SCHEDULER.review_card(card, rating, review_datetime=now)
    return Reviewed(state=dict(card.to_dict()), due=card.due, rating=int(rating),
                    log=dict(log.to_dict()))


def due(state: dict[str, Any]) -> datetime:
    return Card.from_dict(state).due  # type: ignore[arg-type]


def rating_label(rating: int) -> str:
    return Rating(rating).name
