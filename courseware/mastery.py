"""Mastery: how much of what a learner has met they now get right, per lesson and per question.

Each item (a quick check, a problem, a drill interaction) counts once, by the learner's latest
review or checkpoint answer when there is one and otherwise by their first try; mastery is the share
of those items that are right. Items come from every registered card kind, so a kind added by an
app above counts without this module knowing it.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from courseware import cards
from courseware.models import CheckpointAnswer, ReviewRecord

EXPLANATION = (
    "Mastery counts each quick check, problem and drill interaction you have answered once, by "
    "your latest review or checkpoint answer if there is one and otherwise by your first try, "
    "and shows the share of them you got right."
)


@dataclass
class Figure:
    right: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.right / self.total) if self.total else None

    def add(self, correct: bool) -> None:
        self.total += 1
        self.right += int(correct)


@dataclass
class Mastery:
    by_lesson: defaultdict[int, Figure] = field(default_factory=lambda: defaultdict(Figure))
    by_question: defaultdict[int, Figure] = field(default_factory=lambda: defaultdict(Figure))
    overall: Figure = field(default_factory=Figure)


# (learner id, kind name, item reference)
Key = tuple[int, str, str]


def latest_results(learner_ids: Iterable[int]) -> dict[Key, bool]:
    """Whether each item each learner has answered is right now: the latest review, or the
    first try for an item never reviewed."""
    ids = list(learner_ids)
    results: dict[Key, bool] = {}
    for kind in cards.kinds():
        for first in kind.first_tries(ids):
            results[(first.learner_id, kind.name, first.ref)] = first.correct
    later: list[tuple] = [
        (at, (learner_id, kind_name, ref), correct)
        for learner_id, kind_name, ref, correct, at in ReviewRecord.objects.filter(
            card__learner_id__in=ids
        ).values_list("card__learner_id", "card__kind", "card__ref", "correct", "reviewed_at")
    ]
    for learner_id, items, position, correct, at in CheckpointAnswer.objects.filter(
        checkpoint__learner_id__in=ids
    ).values_list("checkpoint__learner_id", "checkpoint__items", "position", "correct",
                  "answered_at"):
        if position < len(items):
            item = items[position]
            later.append((at, (learner_id, item["kind"], item["ref"]), correct))
    for _, key, correct in sorted(later, key=lambda entry: entry[0]):
        results[key] = correct
    return results


def per_learner(learner_ids: Iterable[int]) -> dict[int, Mastery]:
    """Each of these learners' mastery, by learner id (absent: nothing answered yet)."""
    results = latest_results(learner_ids)
    refs: defaultdict[str, set[str]] = defaultdict(set)
    for _, kind_name, ref in results:
        refs[kind_name].add(ref)
    infos: dict[str, dict[str, cards.ItemInfo]] = {}
    for kind_name, wanted in refs.items():
        kind = cards.get(kind_name)
        infos[kind_name] = kind.describe(wanted) if kind is not None else {}
    found: defaultdict[int, Mastery] = defaultdict(Mastery)
    for (learner_id, kind_name, ref), correct in results.items():
        info = infos[kind_name].get(ref)
        if info is None:
            # No longer part of the course: it says nothing about what the learner knows now.
            continue
        mastery = found[learner_id]
        mastery.overall.add(correct)
        if info.lesson_id is not None:
            mastery.by_lesson[info.lesson_id].add(correct)
        for number in info.questions:
            mastery.by_question[number].add(correct)
    return dict(found)


def mastery_of(learner_ids: Iterable[int]) -> Mastery:
    """The learners' mastery pooled over all of them: a class's when given a class."""
    pooled = Mastery()
    for mastery in per_learner(learner_ids).values():
        for target, source in ((pooled.by_lesson, mastery.by_lesson),
                               (pooled.by_question, mastery.by_question)):
            for key, figure in source.items():
                target[key].right += figure.right
                target[key].total += figure.total
        pooled.overall.right += mastery.overall.right
        pooled.overall.total += mastery.overall.total
    return pooled


@dataclass(frozen=True)
class ClassRow:
    """A class's mastery of one deciding question: pooled over the learners who met it."""

    number: int
    label: str
    figure: Figure
    learners: int


def class_question_rows(learner_ids: Iterable[int]) -> list[ClassRow]:
    everyone = per_learner(learner_ids)
    rows = []
    for number, text in cards.questions().items():
        pooled, met = Figure(), 0
        for mastery in everyone.values():
            figure = mastery.by_question.get(number)
            if figure is not None and figure.total:
                met += 1
                pooled.right += figure.right
                pooled.total += figure.total
        rows.append(ClassRow(number=number, label=text, figure=pooled, learners=met))
    return rows


def learner_mastery(user) -> Mastery:
    if not user.is_authenticated:
        return Mastery()
    return mastery_of([user.pk])


@dataclass(frozen=True)
class Row:
    """One line of a mastery table: what it is about, and its figure (empty when unmet)."""

    label: str
    figure: Figure
    number: int = 0
    url: str = ""


def question_rows(mastery: Mastery) -> list[Row]:
    return [
        Row(label=text, figure=mastery.by_question.get(number, Figure()), number=number)
        for number, text in cards.questions().items()
    ]


def lesson_rows(mastery: Mastery, lessons) -> list[Row]:
    return [
        Row(label=lesson.title, figure=mastery.by_lesson.get(lesson.pk, Figure()),
            number=position, url=lesson.get_absolute_url())
        for position, lesson in enumerate(lessons, start=1)
    ]
