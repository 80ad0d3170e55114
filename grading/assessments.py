"""What can be graded: check-yourself questions and drills, seen through one shape.

A question brings its own rubric and maximum. A drill reviewed by an instructor is graded on the
justifications: one criterion per interaction, one point each.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from courseware.models import Question
from drills.models import Drill, Interaction
from grading.models import Submission

QUESTION = "question"
DRILL = "drill"


@dataclass(frozen=True)
class Criterion:
    # Stable: a question's criterion id, a drill interaction's key. Never a position.
    id: str
    label: str
    points: Decimal

    def stored(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "points": f"{self.points.normalize():f}"}


@dataclass(frozen=True)
class Assessment:
    kind: str
    pk: int
    slug: str
    title: str
    max_score: Decimal
    rubric: tuple[Criterion, ...] = ()
    group: str = ""

    @property
    def key(self) -> str:
        """A stable name used in URLs, filters and CSV headers."""
        return f"{'q' if self.kind == QUESTION else 'd'}-{self.slug}"

    @property
    def is_drill(self) -> bool:
        return self.kind == DRILL

    def criteria_points(self, ids: list[str]) -> Decimal:
        chosen = set(ids)
        total = sum((c.points for c in self.rubric if c.id in chosen), Decimal(0))
        return min(total, self.max_score)

    def labels(self, ids: list[str]) -> list[str]:
        chosen = set(ids)
        return [c.label for c in self.rubric if c.id in chosen]

    def known(self, ids: list[str]) -> list[str]:
        """The ids that name criteria of this rubric, in rubric order."""
        chosen = {str(i) for i in ids}
        return [c.id for c in self.rubric if c.id in chosen]

    def snapshot(self) -> list[dict[str, str]]:
        """The rubric as a grade keeps it: what was met is read against this, not today's."""
        return [c.stored() for c in self.rubric]


def from_question(question: Question) -> Assessment:
    rubric = tuple(
        Criterion(id=str(item.get("id") or f"c{number}"), label=str(item.get("label", "")),
                  points=Decimal(item.get("points", 0)))
        for number, item in enumerate(question.rubric or [], start=1)
    )
    return Assessment(
        kind=QUESTION,
        pk=question.pk,
        slug=question.slug,
        title=question.prompt,
        max_score=Decimal(question.max_score),
        rubric=rubric,
        group=question.lesson.title if question.lesson_id else "",
    )


def from_drill(drill: Drill, interactions: list[Interaction] | None = None) -> Assessment:
    interactions = list(drill.interactions.all()) if interactions is None else interactions
    # Worth what the drill's own grading gives the interaction, so a reviewed grade, the
    # automatic score and the gradebook's total all count the same points.
    rubric = tuple(
        Criterion(
            id=item.key,
            label=f"{item.caller} → {item.callee}: right call, justified soundly",
            points=Decimal(item.key_item().max_points),
        )
        for item in interactions
    )
    return Assessment(
        kind=DRILL,
        pk=drill.pk,
        slug=drill.slug,
        title=drill.title,
        max_score=sum((criterion.points for criterion in rubric), Decimal(0)),
        rubric=rubric,
        group=drill.domain,
    )


def for_submission(submission: Submission) -> Assessment:
    if submission.question_id:
        return from_question(submission.answered_question)
    return from_drill(submission.drill_attempt.drill)


def submission_title(submission: Submission, assessment: Assessment) -> str:
    """What the learner calls this piece of work: their own workflow goes by its name."""
    payload = submission.payload if isinstance(submission.payload, dict) else {}
    name = str(payload.get("workflow") or "").strip()
    if submission.question_id and name:
        return f"Your workflow: {name}"
    return assessment.title


def all_assessments() -> list[Assessment]:
    """Every gradable assessment in course order: questions first, then drills."""
    questions = Question.objects.select_related("lesson__module").order_by(
        "lesson__module__order", "lesson__order", "order", "pk"
    )
    drills = Drill.objects.in_order().prefetch_related("interactions")
    return [from_question(question) for question in questions] + [
        from_drill(drill, list(drill.interactions.all())) for drill in drills
    ]


@dataclass(frozen=True)
class DrillAnswerRow:
    caller: str
    callee: str
    choice: str
    expected: str
    correct: bool
    justification: str
    rationale: str = ""


@dataclass(frozen=True)
class DrillReview:
    """A drill attempt as a grader reads it: each interaction, the answer and the auto-grade."""

    drill: Drill
    score: int
    total: int
    critical_sync_hops: int | None
    key_critical_sync_hops: int | None
    rows: tuple[DrillAnswerRow, ...]


def drill_review(submission: Submission) -> DrillReview | None:
    if not submission.attempt_id:
        return None
    attempt = submission.drill_attempt
    answers = attempt.answers.select_related("interaction").order_by("interaction__order")
    return DrillReview(
        drill=attempt.drill,
        score=attempt.score,
        total=attempt.total,
        critical_sync_hops=attempt.critical_sync_hops,
        key_critical_sync_hops=attempt.key_critical_sync_hops,
        rows=tuple(
            DrillAnswerRow(
                caller=a.interaction.caller,
                callee=a.interaction.callee,
                choice=a.choice,
                expected=a.interaction.answer,
                correct=a.correct,
                justification=a.justification,
                rationale=a.interaction.rationale,
            )
            for a in answers
        ),
    )
