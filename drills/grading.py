"""Grading of a drill: the answer key and the learner's choices in, a typed verdict out.

Plain Python on purpose: nothing here knows about requests, forms or the database, so the rules
are easy to test and to reuse (the views, the admin and the simulator seam all read the result).

The critical path follows the choices made. An interaction the user's request makes directly is
on it when ``on_critical_path`` says so; one made while handling another interaction (``after``)
is on it only while that other interaction is on it *and* synchronous. Marking a hop async
therefore takes the whole chain behind it off the user's wait, which is the point of question 5.
"""

from __future__ import annotations

import math
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
    # A rule has a name of its own; the five questions are cited by number.
    name: str = ""

    @property
    def label(self) -> str:
        """How feedback cites it: 'question 3', or the rule's name."""
        return self.name or f"question {self.number}"


QUESTIONS: dict[int, DecidingQuestion] = {
    1: DecidingQuestion(
        1, "Does the caller need the reply before it can go on for the user?", SYNC
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

# A call made inside a consumer or background worker, off the user's path, does not lengthen
# the user's chain, so question 1 cannot be asked of it. What decides is the worker's own job:
# when that job needs the reply to go on, a plain call is right. Cited in a drill file as
# ``question: off-path`` and stored as this number.
OFF_PATH = 6
OFF_PATH_SLUG = "off-path"
OFF_PATH_TITLE = "Off the user's path: judge by the worker's own job"
OFF_PATH_RULE = DecidingQuestion(
    OFF_PATH,
    "No user waits for this call. Does the worker's own job need the reply before it can go on?",
    SYNC,
    name="the off-path rule",
)
# Everything a key may cite as what settles an interaction.
REASONS: dict[int, DecidingQuestion] = {**QUESTIONS, OFF_PATH: OFF_PATH_RULE}


@dataclass(frozen=True)
class Technique:
    slug: str
    label: str
    # The styles this technique is a way of doing: a plain call waits, an event does not.
    styles: frozenset[str]


TECHNIQUES: dict[str, Technique] = {
    t.slug: t for t in (
        Technique("plain-call", "Plain call: ask and wait for the reply", frozenset({SYNC})),
        Technique("event", "Publish an event for whoever needs it", frozenset({ASYNC})),
        Technique("command", "Queued command, retried until done", frozenset({ASYNC})),
        Technique("accept-202", "Accept now (202), do the work after", frozenset({ASYNC})),
        Technique("local-copy", "Local copy fed by events", frozenset({ASYNC})),
        Technique("saga-step", "Saga step with a compensation", frozenset({SYNC, ASYNC})),
        Technique("outbox", "Outbox: stored with the change, then published",
                  frozenset({ASYNC})),
    )
}
# What a key means when it names no technique, in a drill that asks for one.
DEFAULT_TECHNIQUES: dict[str, tuple[str, ...]] = {
    SYNC: ("plain-call",),
    ASYNC: ("event",),
    EITHER: ("plain-call", "event"),
}

# Points of each part of an answer, times the interaction's weight. The style counts most; the
# reason and the technique are what make a lucky guess score little.
STYLE_POINTS = 2
REASON_POINTS = 1
TECHNIQUE_POINTS = 1
# A call the user waits behind in the key's design weighs this much; one in the background, 1.
CRITICAL_WEIGHT = 2


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
    # Other reasons that settle it just as well as ``deciding_question``.
    other_questions: tuple[int, ...] = ()
    # The techniques the key accepts; empty when the drill does not ask for one.
    techniques: tuple[str, ...] = ()
    weight: int = 1

    @property
    def label(self) -> str:
        return f"{self.caller} → {self.callee}"

    @property
    def accepted_reasons(self) -> tuple[int, ...]:
        return (self.deciding_question, *self.other_questions)

    @property
    def technique_labels(self) -> tuple[str, ...]:
        return tuple(TECHNIQUES[slug].label for slug in self.techniques if slug in TECHNIQUES)

    @property
    def max_points(self) -> int:
        parts = STYLE_POINTS + REASON_POINTS + (TECHNIQUE_POINTS if self.techniques else 0)
        return self.weight * parts

    @property
    def question(self) -> DecidingQuestion:
        return REASONS[self.deciding_question]

    def accepts(self, choice: str) -> bool:
        return self.answer == EITHER or self.answer == choice


@dataclass(frozen=True)
class Answer:
    choice: str
    justification: str = ""
    # None when the part was not asked: attempts stored before reasons were graded.
    reason: int | None = None
    technique: str | None = None


@dataclass(frozen=True)
class Verdict:
    item: KeyItem
    choice: str
    justification: str
    # Whether this hop sits on the user's critical path in the learner's own design.
    on_critical_path: bool
    style_correct: bool
    # None when that part was not asked.
    reason: int | None = None
    reason_correct: bool | None = None
    technique: str | None = None
    technique_correct: bool | None = None

    @property
    def correct(self) -> bool:
        """Every part that was asked is right."""
        return self.style_correct and self.reason_correct is not False and (
            self.technique_correct is not False
        )

    @property
    def points(self) -> int:
        weight = self.item.weight
        return weight * (
            STYLE_POINTS * self.style_correct
            + REASON_POINTS * bool(self.reason_correct)
            + TECHNIQUE_POINTS * bool(self.technique_correct)
        )

    @property
    def max_points(self) -> int:
        parts = STYLE_POINTS
        parts += REASON_POINTS if self.reason_correct is not None else 0
        parts += TECHNIQUE_POINTS if self.technique_correct is not None else 0
        return self.item.weight * parts

    @property
    def wrong_parts(self) -> tuple[str, ...]:
        """Which parts of the answer were wrong: 'style', 'reason', 'technique'."""
        parts = []
        if not self.style_correct:
            parts.append("style")
        if self.reason_correct is False:
            parts.append("reason")
        if self.technique_correct is False:
            parts.append("technique")
        return tuple(parts)

    @property
    def reason_question(self) -> DecidingQuestion | None:
        return REASONS.get(self.reason) if self.reason is not None else None

    @property
    def technique_label(self) -> str:
        found = TECHNIQUES.get(self.technique or "")
        return found.label if found else ""

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
    # When this change alone leaves the path over the limit: the advice for the design after it.
    then: Advice | None = None

    @property
    def next_steps(self) -> tuple[Advice, ...]:
        """The further changes, in order, that bring the path within the limit."""
        steps: list[Advice] = []
        step = self.then
        while step is not None:
            steps.append(step)
            step = step.then
        return tuple(steps)

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
    # The hops the key makes the user wait for, in workflow order ('either' hops async).
    key_critical_sync_path: tuple[KeyItem, ...] = ()

    @property
    def all_correct(self) -> bool:
        return self.score == self.total

    @property
    def right_count(self) -> int:
        """Interactions with every asked part right."""
        return sum(v.correct for v in self.verdicts)

    @property
    def correctness(self) -> dict[str, bool]:
        """Per interaction key: whether every asked part of its answer was right."""
        return {v.item.key: v.correct for v in self.verdicts}

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


def percent(value: float) -> str:
    """A probability as a percentage with three significant figures: 2.97%, 1.99%, 1.00%.

    One decimal would show 2.97% as 3.0%, right beside the rule of thumb's 3%, and hide the
    very difference between N x p and 1 - (1 - p)^N that the course shows.
    """
    if value <= 0:
        return "0%"
    scaled = 100 * value
    if scaled >= 100:
        return f"{scaled:.0f}%"
    decimals = max(0, 2 - math.floor(math.log10(scaled)))
    return f"{scaled:.{decimals}f}%"


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
        if item.deciding_question not in REASONS:
            raise GradingError(
                f"interaction {item.key!r} names deciding question {item.deciding_question}, "
                f"not one of 1 to 5 or the off-path rule ({OFF_PATH})"
            )
        if item.after is not None and item.after not in seen:
            raise GradingError(
                f"interaction {item.key!r} follows {item.after!r}, which must come before it"
            )
        for number in item.other_questions:
            if number not in REASONS:
                raise GradingError(f"interaction {item.key!r} also accepts unknown reason {number}")
        for slug in item.techniques:
            if slug not in TECHNIQUES:
                raise GradingError(f"interaction {item.key!r} accepts unknown technique {slug!r}")
        if item.weight < 1:
            raise GradingError(f"interaction {item.key!r} has weight {item.weight}, below 1")
        seen.add(item.key)


def default_weights(items: Sequence[KeyItem]) -> dict[str, int]:
    """Per key: CRITICAL_WEIGHT for a call the user may wait behind in the key's design, else 1."""
    may_wait = critical_path(items, key_choices(items, SYNC))
    return {item.key: CRITICAL_WEIGHT if item.key in may_wait else 1 for item in items}


def total_points(items: Sequence[KeyItem]) -> int:
    """The most a fully answered attempt can score."""
    return sum(item.max_points for item in items)


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


def check_reasons_fit_place(items: Sequence[KeyItem]) -> list[str]:
    """Why the reasons the key cites contradict where each interaction sits, one line each.

    Question 1 (and question 5, which counts the user's hops) speaks of the user's wait, so it
    cannot settle a call that no user waits for in the key's design: one made after a hop the
    key makes async, or one off the critical path. The off-path rule is the reverse: it cannot
    settle a call the user does wait for. A call behind an 'either' hop may be either, so both
    are allowed there.
    """
    may_wait = critical_path(items, key_choices(items, SYNC))
    must_wait = critical_path(items, key_choices(items, ASYNC))
    by_key = {item.key: item for item in items}
    problems = []
    for item in items:
        if item.deciding_question in (1, 5) and item.key not in may_wait:
            if item.after is None:
                place = "it is off the critical path"
            else:
                place = f"it is made while handling {item.after!r}"
                parent = by_key.get(item.after)
                if parent is not None and parent.answer == ASYNC:
                    place += ", which is async in the key"
                else:
                    place += ", which is off the user's path"
            problems.append(
                f"interaction {item.key!r}: question {item.deciding_question} is about the "
                f"user's wait, but no user waits for this call ({place}); cite what the "
                f"worker's own job needs ('question: {OFF_PATH_SLUG}') or another question"
            )
        elif item.deciding_question == OFF_PATH and item.key in must_wait:
            problems.append(
                f"interaction {item.key!r}: the off-path rule is for calls no user waits for, "
                "but the user's request waits for this one in the key's design; cite one of "
                "the five questions"
            )
    return problems


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
        if answer.reason is not None and answer.reason not in REASONS:
            raise GradingError(f"{answer.reason!r} for {key!r} is not one of the reasons")
    by_key = {item.key: item for item in items}
    for key, answer in answers.items():
        offered = by_key[key].techniques
        if answer.technique is not None and offered and answer.technique not in TECHNIQUES:
            raise GradingError(f"{answer.technique!r} for {key!r} is not a technique")

    choices = {key: answer.choice for key, answer in answers.items()}
    on_path = critical_path(items, choices)
    verdicts = tuple(judge(item, answers[item.key], item.key in on_path) for item in items)
    hops = count_critical_sync_hops(items, choices)
    return DrillResult(
        verdicts=verdicts,
        score=sum(v.points for v in verdicts),
        total=sum(v.max_points for v in verdicts),
        critical_sync_hops=hops,
        key_critical_sync_hops=count_critical_sync_hops(items, key_choices(items, ASYNC)),
        key_max_critical_sync_hops=count_critical_sync_hops(items, key_choices(items, SYNC)),
        advice=advise(items, choices) if hops > MAX_SYNC_HOPS else None,
        key_critical_sync_path=sync_path(items, key_choices(items, ASYNC)),
    )


def sync_path(items: Sequence[KeyItem], choices: Mapping[str, str]) -> tuple[KeyItem, ...]:
    """The sync hops the user waits behind in a design, in workflow order."""
    on_path = critical_path(items, choices)
    return tuple(i for i in items if i.key in on_path and choices.get(i.key) == SYNC)


def judge(item: KeyItem, answer: Answer, on_path: bool) -> Verdict:
    """One interaction's verdict, part by part.

    A technique is right when the key accepts it and it is a way of doing the chosen style:
    'publish an event' under a sync choice is wrong even where the key would take either.
    """
    technique_correct = None
    if item.techniques and answer.technique is not None:
        found = TECHNIQUES.get(answer.technique)
        technique_correct = (
            answer.technique in item.techniques
            and found is not None and answer.choice in found.styles
        )
    return Verdict(
        item=item,
        choice=answer.choice,
        justification=answer.justification,
        on_critical_path=on_path,
        style_correct=item.accepts(answer.choice),
        reason=answer.reason,
        reason_correct=None if answer.reason is None else answer.reason in item.accepted_reasons,
        technique=answer.technique if item.techniques else None,
        technique_correct=technique_correct,
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
    then = None
    if hops_after > MAX_SYNC_HOPS and hops_after < before:
        then = advise(items, {**choices, best.key: ASYNC})
    return Advice(
        item=best, hops_before=before, hops_after=hops_after, also_removes=also, then=then
    )
