"""Grading of a drill: the answer key and the learner's choices in, a typed verdict out.

Plain Python on purpose: nothing here knows about requests, forms or the database, so the rules
are easy to test and to reuse (the views, the admin and the simulator seam all read the result).

The critical path follows the choices made. An interaction the user's request makes directly is
on it when ``on_critical_path`` says so; one made while handling another interaction (``after``)
is on it only while that other interaction is on it *and* synchronous. Marking a hop async
therefore takes the whole chain behind it off the user's wait, which is the point of question 5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SYNC = "sync"
ASYNC = "async"
EITHER = "either"
CHOICES = (SYNC, ASYNC)
KEY_ANSWERS = (SYNC, ASYNC, EITHER)

# More sync hops than this on the user's critical path is the signal to break the chain.
MAX_SYNC_HOPS = 2
# A round figure for one hop's failure rate, used to show what each extra hop costs.
HOP_FAILURE_RATE = 0.01


@dataclass(frozen=True)
class DecidingQuestion:
    number: int
    text: str
    points_to: str


QUESTIONS: dict[int, DecidingQuestion] = {
    1: DecidingQuestion(
        1, "Does the caller need the reply before it can go on with its work for the user?", SYNC
    ),
    2: DecidingQuestion(2, "Does the same fact have to reach several consumers?", ASYNC),
    3: DecidingQuestion(
        3, "Could the callee be unavailable for a minute and the user's flow still work?", ASYNC
    ),
    4: DecidingQuestion(
        4, "Is it internal record-keeping: analytics, audit, a copy kept for reading?", ASYNC
    ),
    5: DecidingQuestion(
        5,
        "Would a sync call here put more than two sync hops on the user's critical path?",
        ASYNC,
    ),
}


class GradingError(ValueError):
    """The answers do not fit the key: an unknown interaction, a missing one or a bad choice."""


@dataclass(frozen=True)
class KeyItem:
    key: str
    caller: str
    callee: str
    exchange: str
    on_critical_path: bool
    answer: str
    rationale: str
    deciding_question: int
    wrong_answer_why: str = ""
    condition: str = ""
    after: str | None = None

    @property
    def label(self) -> str:
        return f"{self.caller} → {self.callee}"

    @property
    def question(self) -> DecidingQuestion:
        return QUESTIONS[self.deciding_question]

    def accepts(self, choice: str) -> bool:
        return self.answer == EITHER or self.answer == choice


@dataclass(frozen=True)
class Answer:
    choice: str
    justification: str = ""


@dataclass(frozen=True)
class Verdict:
    item: KeyItem
    choice: str
    justification: str
    correct: bool
    # Whether this hop sits on the user's critical path in the learner's own design.
    on_critical_path: bool

    @property
    def counts_as_hop(self) -> bool:
        return self.on_critical_path and self.choice == SYNC

    @property
    def either(self) -> bool:
        return self.item.answer == EITHER


@dataclass(frozen=True)
class Advice:
    """The hop to make async first, and what that would do to the learner's critical path."""

    item: KeyItem
    hops_before: int
    hops_after: int
    # Hops made while handling this one, which leave the critical path with it.
    also_removes: tuple[KeyItem, ...] = ()

    @property
    def reason(self) -> str:
        if self.item.answer == EITHER:
            return f"It may be sync only when this holds: {self.item.condition}"
        return self.item.rationale


@dataclass(frozen=True)
class DrillResult:
    verdicts: tuple[Verdict, ...]
    score: int
    total: int
    critical_sync_hops: int
    key_critical_sync_hops: int
    # The key's count when every 'either' hop is kept sync.
    key_max_critical_sync_hops: int
    advice: Advice | None

    @property
    def all_correct(self) -> bool:
        return self.score == self.total

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.total) if self.total else 0

    @property
    def over_limit(self) -> bool:
        return self.critical_sync_hops > MAX_SYNC_HOPS

    @property
    def critical_sync_path(self) -> tuple[KeyItem, ...]:
        """The hops the learner made the user wait for, in workflow order."""
        return tuple(v.item for v in self.verdicts if v.counts_as_hop)

    @property
    def failure_rate(self) -> float:
        return chain_failure_rate(self.critical_sync_hops)

    @property
    def key_failure_rate(self) -> float:
        return chain_failure_rate(self.key_critical_sync_hops)


def chain_failure_rate(hops: int, hop_failure: float = HOP_FAILURE_RATE) -> float:
    """Chance that at least one of ``hops`` independent sync hops fails: 1 - (1 - p)^N."""
    return 1 - (1 - hop_failure) ** hops


def check_key(items: Sequence[KeyItem]) -> None:
    """Raise GradingError when the key itself is inconsistent."""
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            raise GradingError(f"interaction {item.key!r} appears twice")
        if item.answer not in KEY_ANSWERS:
            raise GradingError(f"interaction {item.key!r} has unknown answer {item.answer!r}")
        if item.deciding_question not in QUESTIONS:
            raise GradingError(
                f"interaction {item.key!r} names deciding question {item.deciding_question}, "
                "not one of 1 to 5"
            )
        if item.after is not None and item.after not in seen:
            raise GradingError(
                f"interaction {item.key!r} follows {item.after!r}, which must come before it"
            )
        seen.add(item.key)


def critical_path(items: Sequence[KeyItem], choices: Mapping[str, str]) -> set[str]:
    """Keys of the interactions the user waits behind, given a sync/async choice for each."""
    on_path: set[str] = set()
    for item in items:
        if item.after is None:
            if item.on_critical_path:
                on_path.add(item.key)
        elif item.after in on_path and choices.get(item.after) == SYNC:
            on_path.add(item.key)
    return on_path


def count_critical_sync_hops(items: Sequence[KeyItem], choices: Mapping[str, str]) -> int:
    on_path = critical_path(items, choices)
    return sum(1 for item in items if item.key in on_path and choices.get(item.key) == SYNC)


def key_choices(items: Sequence[KeyItem], either: str = ASYNC) -> dict[str, str]:
    """The key's own design, with each 'either' hop resolved to ``either``."""
    return {item.key: either if item.answer == EITHER else item.answer for item in items}


def grade(items: Sequence[KeyItem], answers: Mapping[str, Answer]) -> DrillResult:
    check_key(items)
    keys = {item.key for item in items}
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise GradingError(f"not part of this drill: {', '.join(unknown)}")
    missing = [item.key for item in items if item.key not in answers]
    if missing:
        raise GradingError(f"no answer for: {', '.join(missing)}")
    for key, answer in answers.items():
        if answer.choice not in CHOICES:
            raise GradingError(f"{answer.choice!r} for {key!r} is neither sync nor async")

    choices = {key: answer.choice for key, answer in answers.items()}
    on_path = critical_path(items, choices)
    verdicts = tuple(
        Verdict(
            item=item,
            choice=answers[item.key].choice,
            justification=answers[item.key].justification,
            correct=item.accepts(answers[item.key].choice),
            on_critical_path=item.key in on_path,
        )
        for item in items
    )
    hops = count_critical_sync_hops(items, choices)
    return DrillResult(
        verdicts=verdicts,
        score=sum(v.correct for v in verdicts),
        total=len(verdicts),
        critical_sync_hops=hops,
        key_critical_sync_hops=count_critical_sync_hops(items, key_choices(items, ASYNC)),
        key_max_critical_sync_hops=count_critical_sync_hops(items, key_choices(items, SYNC)),
        advice=advise(items, choices) if hops > MAX_SYNC_HOPS else None,
    )


def advise(items: Sequence[KeyItem], choices: Mapping[str, str]) -> Advice | None:
    """Pick the one hop that is best made async first.

    Candidates are the learner's sync hops on the critical path that the key lets go async.
    Hops the key marks async come before 'either' hops; among those, the ones settled by
    question 5 (the chain breakers) come first, then the one that removes the most hops.
    """
    before = count_critical_sync_hops(items, choices)
    on_path = critical_path(items, choices)
    sync_on_path = [i for i in items if i.key in on_path and choices.get(i.key) == SYNC]
    if not sync_on_path:
        return None

    def after_change(item: KeyItem) -> tuple[int, set[str]]:
        changed = {**choices, item.key: ASYNC}
        return count_critical_sync_hops(items, changed), critical_path(items, changed)

    candidates = [i for i in sync_on_path if i.answer != SYNC] or sync_on_path[-1:]
    order = {item.key: index for index, item in enumerate(items)}

    def rank(item: KeyItem) -> tuple:
        hops, _ = after_change(item)
        return (item.answer != ASYNC, item.deciding_question != 5, hops, order[item.key])

    best = min(candidates, key=rank)
    hops_after, path_after = after_change(best)
    also = tuple(
        i for i in sync_on_path if i.key != best.key and i.key not in path_after
    )
    return Advice(item=best, hops_before=before, hops_after=hops_after, also_removes=also)
