"""The final checkpoint: which items it asks, and what its answers say about the learner.

Every registered card kind offers items (quick checks from different lessons, problems with new
numbers, the interactions of one drill the learner has not done); the drill comes last and in
its own order, since its interactions are read as one workflow.
"""

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from courseware import cards
from courseware.mastery import Figure
from courseware.models import Checkpoint, CheckpointAnswer


def compose(*, learner, rng: random.Random | None = None) -> list[dict[str, str]]:
    rng = rng or random.Random(secrets.randbits(64))
    mixed: list[dict[str, str]] = []
    blocks: list[dict[str, str]] = []
    for kind in cards.kinds():
        refs = kind.checkpoint_items(learner=learner, rng=rng)
        target = blocks if kind.asked_together else mixed
        target.extend({"kind": kind.name, "ref": ref} for ref in refs)
    rng.shuffle(mixed)
    return mixed + blocks


@dataclass(frozen=True)
class Missed:
    kind: cards.CardKind
    info: cards.ItemInfo


@dataclass
class Standing:
    """What a finished (or partly answered) checkpoint says."""

    score: Figure = field(default_factory=Figure)
    by_lesson: defaultdict[int, Figure] = field(default_factory=lambda: defaultdict(Figure))
    by_question: defaultdict[int, Figure] = field(default_factory=lambda: defaultdict(Figure))
    missed: list[Missed] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        percent = self.score.percent or 0
        if percent >= 85:
            return "You can make the call on workflows you have not seen. Keep your review going."
        if percent >= 60:
            return ("You are most of the way there. Work through the items below in your "
                    "review, then take the checkpoint again.")
        return ("Not there yet. Go back to the lessons named below, review the items you "
                "missed, and take the checkpoint again in a day or two.")


def standing(checkpoint: Checkpoint, answers: list[CheckpointAnswer]) -> Standing:
    result = Standing()
    by_kind: defaultdict[str, set[str]] = defaultdict(set)
    for item in checkpoint.items:
        by_kind[item["kind"]].add(item["ref"])
    infos: dict[str, dict[str, cards.ItemInfo]] = {}
    for name, refs in by_kind.items():
        kind = cards.get(name)
        infos[name] = kind.describe(refs) if kind is not None else {}
    for answer in answers:
        if answer.position >= len(checkpoint.items):
            continue
        item = checkpoint.items[answer.position]
        kind, info = cards.get(item["kind"]), infos[item["kind"]].get(item["ref"])
        result.score.add(answer.correct)
        if kind is None or info is None:
            continue
        if info.lesson_id is not None:
            result.by_lesson[info.lesson_id].add(answer.correct)
        for number in info.questions:
            result.by_question[number].add(answer.correct)
        if not answer.correct:
            result.missed.append(Missed(kind=kind, info=info))
    return result
