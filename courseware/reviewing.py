"""A learner's review deck: which cards are due, which come later, each named by its kind."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from courseware import cards
from courseware.models import ReviewCard


@dataclass(frozen=True)
class Entry:
    card: ReviewCard
    kind: cards.CardKind
    info: cards.ItemInfo


@dataclass
class Deck:
    due: list[Entry] = field(default_factory=list)
    later: list[Entry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.due) + len(self.later)


def due_count(user, now: datetime | None = None) -> int:
    """How many of the learner's cards are due; what the navigation shows."""
    return ReviewCard.objects.for_learner(user).due_by(now or timezone.now()).count()


def entries(card_list: list[ReviewCard]) -> list[Entry]:
    """The cards whose kind and item still exist, each with what its kind says of the item."""
    by_kind: defaultdict[str, list[ReviewCard]] = defaultdict(list)
    for card in card_list:
        by_kind[card.kind].append(card)
    known: dict[int, Entry] = {}
    for name, group in by_kind.items():
        kind = cards.get(name)
        if kind is None:
            continue
        infos = kind.describe(card.ref for card in group)
        for card in group:
            if card.ref in infos:
                known[card.pk] = Entry(card=card, kind=kind, info=infos[card.ref])
    return [known[card.pk] for card in card_list if card.pk in known]


def deck(user, now: datetime | None = None) -> Deck:
    now = now or timezone.now()
    listed = entries(list(ReviewCard.objects.for_learner(user).order_by("due", "pk")))
    result = Deck()
    for entry in listed:
        (result.due if entry.card.due <= now else result.later).append(entry)
    return result


def next_due(user, *, after: ReviewCard | None = None, now: datetime | None = None) -> Entry | None:
    """The card to review next: the longest overdue one, other than ``after``."""
    cards_due = ReviewCard.objects.for_learner(user).due_by(now or timezone.now())
    if after is not None:
        cards_due = cards_due.exclude(pk=after.pk)
    found = entries(list(cards_due.order_by("due", "pk")[:20]))
    return found[0] if found else None
