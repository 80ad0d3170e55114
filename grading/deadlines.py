"""Due dates, extensions and what a late hand-in costs, without HTTP.

A learner's due date for a question or drill is their own extension if they have one, else their
section's due date. The late policy (the daily penalty and its cap) is the section's; with no
section due date an extension alone marks lateness but costs nothing. Work is late by the day or
part of a day after the due date it was handed in: a minute late is one day late.

The score selector (grading.scores) applies the penalty, so every page and export agrees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from courseware.models import SectionMembership
from grading.models import DueDate, Extension

QUESTION = "q"
DRILL = "d"
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

Key = tuple[int, str, int]  # (learner id, QUESTION or DRILL, question or drill id)


@dataclass(frozen=True, slots=True)
class Policy:
    """The due date that applies to one learner on one question or drill."""

    due_at: datetime
    penalty_per_day: Decimal = Decimal(0)
    penalty_cap: Decimal = HUNDRED
    # The due date is the learner's own extension; section_due_at is what it replaced.
    extended: bool = False
    section_due_at: datetime | None = None

    def days_late(self, handed_in: datetime) -> int:
        if handed_in <= self.due_at:
            return 0
        return math.ceil((handed_in - self.due_at) / timedelta(days=1))

    def penalty(self, handed_in: datetime) -> Decimal:
        """The percent of the score taken for work handed in at ``handed_in``."""
        return min(self.penalty_cap, self.penalty_per_day * self.days_late(handed_in))

    def lateness(self, handed_in: datetime) -> Lateness:
        return Lateness(policy=self, handed_in=handed_in)


@dataclass(frozen=True, slots=True)
class Lateness:
    """One hand-in measured against its due date, as shown to learners and graders."""

    policy: Policy
    handed_in: datetime

    @property
    def late(self) -> bool:
        return self.handed_in > self.policy.due_at

    @property
    def late_by(self) -> timedelta:
        return max(self.handed_in - self.policy.due_at, timedelta(0))

    @property
    def days_late(self) -> int:
        return self.policy.days_late(self.handed_in)

    @property
    def penalty(self) -> Decimal:
        return self.policy.penalty(self.handed_in)

    def apply(self, score: Decimal | None) -> Decimal | None:
        return apply_penalty(score, self.penalty)

    @property
    def late_by_text(self) -> str:
        minutes = int(self.late_by.total_seconds() // 60)
        days, rest = divmod(minutes, 60 * 24)
        hours, minutes = divmod(rest, 60)
        parts = [f"{days} d"] if days else []
        if hours:
            parts.append(f"{hours} h")
        if minutes and not days:
            parts.append(f"{minutes} min")
        return " ".join(parts) or "under a minute"


def apply_penalty(score: Decimal | None, percent: Decimal) -> Decimal | None:
    """The score after taking ``percent`` of it, to the cent, never below 0."""
    if score is None or not percent:
        return score
    kept = Decimal(score) * (HUNDRED - percent) / HUNDRED
    return max(kept.quantize(CENT, rounding=ROUND_HALF_UP), Decimal(0))


def assessments_with_dates() -> tuple[set[int], set[int]]:
    """The question ids and drill ids that have any due date or extension, in one query."""
    pairs = (
        DueDate.objects.order_by().values_list("question_id", "drill_id")
        .union(Extension.objects.order_by().values_list("question_id", "drill_id"))
    )
    questions = {question_id for question_id, _ in pairs if question_id is not None}
    drills = {drill_id for question_id, drill_id in pairs if question_id is None and drill_id}
    return questions, drills


def policies(*, learner_ids: Iterable[int] | None = None, questions: Iterable[int] = (),
             drills: Iterable[int] = ()) -> dict[Key, Policy]:
    """The due date of every learner on every given question and drill that has one.

    Three queries whatever the number of learners: due dates, the members of their sections,
    and extensions.
    """
    questions, drills = list(questions), list(drills)
    if not questions and not drills:
        return {}
    learner_filter = list(learner_ids) if learner_ids is not None else None
    dates = list(
        DueDate.objects.filter(question_id__in=questions)
        | DueDate.objects.filter(drill_id__in=drills)
    )
    section_dates: dict[int, list[DueDate]] = {}
    for date in dates:
        section_dates.setdefault(date.section_id, []).append(date)
    members = SectionMembership.objects.filter(
        role=SectionMembership.Role.LEARNER, section_id__in=list(section_dates)
    )
    extensions = Extension.objects.filter(question_id__in=questions) | Extension.objects.filter(
        drill_id__in=drills
    )
    if learner_filter is not None:
        members = members.filter(user_id__in=learner_filter)
        extensions = extensions.filter(learner_id__in=learner_filter)

    found: dict[Key, Policy] = {}
    for user_id, section_id in members.order_by().values_list("user_id", "section_id"):
        for date in section_dates.get(section_id, ()):
            key = _key(user_id, date.question_id, date.drill_id)
            # A learner is in one section per course; of two courses' dates the earlier holds.
            if key not in found or date.due_at < found[key].due_at:
                found[key] = Policy(
                    due_at=date.due_at, penalty_per_day=date.penalty_per_day,
                    penalty_cap=date.penalty_cap,
                )
    for extension in extensions:
        key = _key(extension.learner_id, extension.question_id, extension.drill_id)
        section = found.get(key)
        found[key] = Policy(
            due_at=extension.due_at,
            penalty_per_day=section.penalty_per_day if section else Decimal(0),
            penalty_cap=section.penalty_cap if section else HUNDRED,
            extended=True,
            section_due_at=section.due_at if section else None,
        )
    return found


def _key(learner_id: int, question_id: int | None, drill_id: int | None) -> Key:
    if question_id is not None:
        return (learner_id, QUESTION, question_id)
    assert drill_id is not None, "a due date or extension names a question or a drill"
    return (learner_id, DRILL, drill_id)


def policy_for(*, learner_id: int, question_id: int | None = None,
               drill_id: int | None = None) -> Policy | None:
    """One learner's due date on one question or drill, or None when there is none."""
    found = policies(
        learner_ids=[learner_id],
        questions=[question_id] if question_id is not None else [],
        drills=[drill_id] if drill_id is not None else [],
    )
    return found.get(_key(learner_id, question_id, drill_id))


def handed_in_at(submission) -> datetime:
    """When the work was handed in: a drill review counts from the attempt itself."""
    if submission.attempt_id:
        return submission.drill_attempt.created_at
    return submission.created_at


def lateness_of(submissions: Iterable) -> dict[int, Lateness]:
    """Each submission that has a due date, measured against it, by submission id."""
    submissions = list(submissions)
    questions = {s.question_id for s in submissions if s.question_id}
    drills = {s.drill_attempt.drill_id for s in submissions if s.attempt_id}
    rules = policies(
        learner_ids={s.learner_id for s in submissions}, questions=questions, drills=drills
    )
    found: dict[int, Lateness] = {}
    for submission in submissions:
        key = _key(
            submission.learner_id, submission.question_id,
            None if submission.question_id else submission.drill_attempt.drill_id,
        )
        policy = rules.get(key)
        if policy is not None:
            found[submission.pk] = policy.lateness(handed_in_at(submission))
    return found
