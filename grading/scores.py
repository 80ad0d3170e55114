"""The one reading of every learner's score: the gradebook, its CSV, statistics and the learner's
own pages all go through ``scores``.

A question counts the learner's best grade for it. A drill counts the learner's best attempt,
where an attempt an instructor graded counts with the instructor's grade instead of its automatic
mark: a drill review released at 0 of 5 is 0, whatever the automatic marking said.

Instructors see drafts too, marked as such; learners see only what was released to them.

Work handed in after its due date (grading.deadlines) counts with the late penalty taken off,
here and so everywhere; questions and drills without any due date are read in grouped queries,
those with one a row at a time, since the penalty depends on each hand-in's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Max, Q, When
from django.db.models.functions import Cast

from drills.models import Attempt
from grading.deadlines import Policy, apply_penalty, assessments_with_dates, policies
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
    # The work counted was handed in after its due date; ``penalty`` percent was taken off.
    late: bool = False
    penalty: Decimal = Decimal(0)
    # The best score the learner has been shown, whatever ``score`` says.
    released_score: Decimal | None = None
    # A draft of an anonymous question, kept out of a view that names the learner.
    hidden: bool = False

    @property
    def marker(self) -> str:
        """One word for the cell's state, distinct for each case."""
        if not self.submitted:
            return "not handed in"
        if self.hidden:
            return "draft hidden until release"
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

    dated_questions, dated_drills = assessments_with_dates()
    if dated_questions or dated_drills:
        found.update(_dated_scores(
            submissions.filter(question_id__in=dated_questions),
            attempts.filter(drill_id__in=dated_drills),
            learner_ids=learner_ids, released_only=released_only,
        ))
        submissions = submissions.exclude(question_id__in=dated_questions)
        attempts = attempts.exclude(drill_id__in=dated_drills)

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


def _cell(best, best_released, awaiting: int, drafts: int, released_only: bool,
          late: bool = False, penalty: Decimal = Decimal(0)) -> Cell:
    if released_only:
        # A learner is not told that a draft exists.
        awaiting, drafts = awaiting + drafts, 0
    return Cell(
        score=best,
        draft=best is not None and best != best_released,
        submitted=True,
        awaiting=awaiting,
        drafts=drafts,
        late=late,
        penalty=penalty,
        released_score=best_released,
    )


@dataclass(slots=True)
class _Tally:
    """The hand-ins of one learner on one question or drill, read one at a time."""

    best: Decimal | None = None
    best_released: Decimal | None = None
    awaiting: int = 0
    drafts: int = 0
    # Of the hand-in that gives ``best`` (or of any, while none is scored).
    late: bool = False
    penalty: Decimal = Decimal(0)

    def add(self, *, counted: Decimal | None, released: Decimal | None, late: bool,
            penalty: Decimal) -> None:
        if counted is not None and (
            self.best is None or counted > self.best
            or (counted == self.best and self.late and not late)
        ):
            self.best, self.late, self.penalty = counted, late, penalty
        elif self.best is None and counted is None and late and not self.late:
            self.late, self.penalty = late, penalty
        if released is not None and (self.best_released is None or released > self.best_released):
            self.best_released = released

    def cell(self, released_only: bool) -> Cell:
        return _cell(self.best, self.best_released, self.awaiting, self.drafts, released_only,
                     late=self.late, penalty=self.penalty)


def _measure(policy: Policy | None, handed_in) -> tuple[bool, Decimal]:
    if policy is None:
        return False, Decimal(0)
    return handed_in > policy.due_at, policy.penalty(handed_in)


def _dated_scores(submissions, attempts, *, learner_ids: list[int] | None,
                  released_only: bool) -> dict[Key, Cell]:
    """Scores of questions and drills that have due dates, each hand-in with its penalty."""
    question_rows = list(submissions.order_by().values_list(
        "learner_id", "question_id", "created_at", "grade__score", "grade__released"
    ))
    attempt_rows = list(attempts.order_by().values_list(
        "learner_id", "drill_id", "created_at", "score", "submission__grade__score",
        "submission__grade__released", "submission__status",
    ))
    rules = policies(
        learner_ids=learner_ids,
        questions={row[1] for row in question_rows},
        drills={row[1] for row in attempt_rows},
    )
    tallies: dict[Key, _Tally] = {}
    for learner_id, question_id, handed_in, score, released in question_rows:
        key = (learner_id, QUESTION, question_id)
        tally = tallies.setdefault(key, _Tally())
        late, penalty = _measure(rules.get(key), handed_in)
        if score is None:
            tally.awaiting += 1
        elif not released:
            tally.drafts += 1
        shown = score if score is not None and (released or not released_only) else None
        tally.add(
            counted=apply_penalty(shown, penalty),
            released=apply_penalty(score if released else None, penalty),
            late=late, penalty=penalty,
        )
    for (learner_id, drill_id, handed_in, automatic, score, released,
         status) in attempt_rows:
        key = (learner_id, DRILL, drill_id)
        tally = tallies.setdefault(key, _Tally())
        late, penalty = _measure(rules.get(key), handed_in)
        if score is None and status == Submission.Status.AWAITING:
            tally.awaiting += 1
        elif score is not None and not released:
            tally.drafts += 1
        graded = score is not None and (released or not released_only)
        counted = Decimal(score if graded else automatic)
        tally.add(
            counted=apply_penalty(counted, penalty),
            released=apply_penalty(Decimal(score if released else automatic), penalty),
            late=late, penalty=penalty,
        )
    return {key: tally.cell(released_only) for key, tally in tallies.items()}


def cell_key(learner_id: int, assessment) -> Key:
    return (learner_id, DRILL if assessment.is_drill else QUESTION, assessment.pk)
