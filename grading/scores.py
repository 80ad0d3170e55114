"""The one reading of every learner's score: the gradebook, its CSV, statistics and the learner's
own pages all go through ``scores``.

A question counts the learner's best grade for it. A drill counts the learner's best attempt,
where an attempt an instructor graded counts with the instructor's grade instead of its automatic
mark: a drill review released at 0 of 5 is 0, whatever the automatic marking said.

Instructors see drafts too, marked as such; learners see only what was released to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Max, Q, When
from django.db.models.functions import Cast

from drills.models import Attempt
from grading.models import Submission

QUESTION = "q"
DRILL = "d"

SCORE = DecimalField(max_digits=6, decimal_places=2)


@dataclass(frozen=True, slots=True)
class Cell:
    """One learner on one question or drill."""

    score: Decimal | None = None
    # The score shown includes a grade the learner has not been shown yet.
    draft: bool = False
    submitted: bool = False
    # Hand-ins no instructor has graded yet.
    awaiting: int = 0
    # Grades saved but not released.
    drafts: int = 0

    @property
    def marker(self) -> str:
        """One word for the cell's state, distinct for each case."""
        if not self.submitted:
            return "not handed in"
        if self.draft:
            return "draft"
        if self.score is None or self.awaiting:
            return "awaiting grading"
        return "released"


EMPTY = Cell()

Key = tuple[int, str, int]  # (learner id, QUESTION or DRILL, question or drill id)


def scores(*, learner_ids: Iterable[int] | None = None, released_only: bool = False,
           questions: Iterable[int] | None = None,
           drills: Iterable[int] | None = None) -> dict[Key, Cell]:
    """Every (learner, question or drill) that has work, in two grouped queries.

    ``released_only`` is the learner's view: drafts count as not graded yet.
    """
    found: dict[Key, Cell] = {}
    submissions = Submission.objects.counted().filter(question__isnull=False)
    attempts = Attempt.objects.filter(learner__isnull=False)
    if learner_ids is not None:
        learner_ids = list(learner_ids)
        submissions = submissions.filter(learner_id__in=learner_ids)
        attempts = attempts.filter(learner_id__in=learner_ids)
    if questions is not None:
        submissions = submissions.filter(question_id__in=list(questions))
    if drills is not None:
        attempts = attempts.filter(drill_id__in=list(drills))

    counted = Q(grade__released=True) if released_only else Q(grade__isnull=False)
    grouped = (
        submissions.order_by()
        .values_list("learner_id", "question_id")
        .annotate(
            best=Max("grade__score", filter=counted),
            best_released=Max("grade__score", filter=Q(grade__released=True)),
            awaiting=Count("pk", filter=Q(grade__isnull=True)),
            drafts=Count("pk", filter=Q(grade__released=False)),
        )
    )
    for learner_id, question_id, best, best_released, awaiting, drafts in grouped:
        found[learner_id, QUESTION, question_id] = _cell(
            best, best_released, awaiting, drafts, released_only
        )

    automatic = Cast(F("score"), SCORE)
    graded = Q(submission__grade__released=True) if released_only else Q(
        submission__grade__isnull=False
    )
    grouped = (
        attempts.order_by()
        .values_list("learner_id", "drill_id")
        .annotate(
            best=Max(Case(When(graded, then=F("submission__grade__score")), default=automatic,
                          output_field=SCORE)),
            best_released=Max(Case(
                When(submission__grade__released=True, then=F("submission__grade__score")),
                default=automatic, output_field=SCORE,
            )),
            awaiting=Count("submission", filter=Q(
                submission__grade__isnull=True, submission__status=Submission.Status.AWAITING
            )),
            drafts=Count("submission", filter=Q(submission__grade__released=False)),
        )
    )
    for learner_id, drill_id, best, best_released, awaiting, drafts in grouped:
        found[learner_id, DRILL, drill_id] = _cell(
            best, best_released, awaiting, drafts, released_only
        )
    return found


def _cell(best, best_released, awaiting: int, drafts: int, released_only: bool) -> Cell:
    if released_only:
        # A learner is not told that a draft exists.
        awaiting, drafts = awaiting + drafts, 0
    return Cell(
        score=best,
        draft=best is not None and best != best_released,
        submitted=True,
        awaiting=awaiting,
        drafts=drafts,
    )


def cell_key(learner_id: int, assessment) -> Key:
    return (learner_id, DRILL if assessment.is_drill else QUESTION, assessment.pk)
