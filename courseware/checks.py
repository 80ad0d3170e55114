"""Grading of quick checks: plain data in, a verdict with per-option feedback out.

A learner gets a first try and, after a wrong one, a hint and a second try; the first try is the
one that counts. Options are identified by their keys, never by where they were shown, because
each learner sees them in an order of their own.
"""

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

MAX_TRIES = 2

T = TypeVar("T")


@dataclass(frozen=True)
class OptionKey:
    key: str
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class OptionVerdict:
    key: str
    text: str
    selected: bool
    correct: bool
    feedback: str

    @property
    def right_call(self) -> bool:
        """The learner treated this option as it should be treated (chosen if and only if right)."""
        return self.selected == self.correct


@dataclass(frozen=True)
class QuickCheckResult:
    correct: bool
    options: list[OptionVerdict]

    @property
    def selected(self) -> set[str]:
        return {verdict.key for verdict in self.options if verdict.selected}


def grade_quick_check(options: Sequence[OptionKey], selected: set[str]) -> QuickCheckResult:
    verdicts = [
        OptionVerdict(
            key=option.key,
            text=option.text,
            selected=option.key in selected,
            correct=option.correct,
            feedback=option.feedback,
        )
        for option in options
    ]
    return QuickCheckResult(correct=all(v.right_call for v in verdicts), options=verdicts)


def learner_order(options: Iterable[T], *, seed: str, slug: str) -> list[T]:
    """The options in the order this learner sees them: shuffled, and the same on every visit."""
    order = list(options)
    random.Random(f"{seed}:{slug}").shuffle(order)
    return order


@dataclass(frozen=True)
class QuickCheckState:
    """Where a learner stands on one quick check, from the tries they have made (oldest first)."""

    tries: tuple[QuickCheckResult, ...] = ()

    @property
    def started(self) -> bool:
        return bool(self.tries)

    @property
    def first_try_correct(self) -> bool:
        return bool(self.tries) and self.tries[0].correct

    @property
    def finished(self) -> bool:
        """Right at the first try, or out of tries: every option's explanation may be shown."""
        return self.first_try_correct or len(self.tries) >= MAX_TRIES

    @property
    def awaiting_second_try(self) -> bool:
        return self.started and not self.finished

    @property
    def last(self) -> QuickCheckResult | None:
        return self.tries[-1] if self.tries else None

    @property
    def next_attempt(self) -> int:
        return len(self.tries) + 1


def state_of(options: Sequence[OptionKey], tries: Sequence[Sequence[str]]) -> QuickCheckState:
    """Grade each stored try (the option keys chosen) against the options as they are now."""
    return QuickCheckState(
        tries=tuple(grade_quick_check(options, set(keys)) for keys in tries[:MAX_TRIES])
    )
