import uuid

from django.db import IntegrityError, transaction

from courseware import handins
from courseware.models import Question
from courseware.services import add_review_cards, submit_answer
from drills import workflow
from drills.card_kinds import INTERACTION_KIND
from drills.grading import DrillResult
from drills.models import Attempt, AttemptAnswer, Drill, Interaction

OWN_WORKFLOW_QUESTION = "own-workflow"


class TokenReused(Exception):
    """A form token that already belongs to another learner's attempt or to another drill."""


class DrillChanged(Exception):
    """The drill or one of the interactions the form answered is gone since the form was sent."""

    def __init__(self) -> None:
        super().__init__(
            "This drill changed since you opened it: an interaction you answered is no longer "
            "part of it. Nothing was saved. Reload the drill and answer it again."
        )


class OwnWorkflowUnavailable(Exception):
    """The own-workflow question has not been loaded, so there is nothing to hand in to."""


def record_attempt(*, learner, drill: Drill, interactions: list[Interaction],
                   result: DrillResult, token: uuid.UUID,
                   variant: str = "") -> tuple[Attempt, bool]:
    """Store a graded attempt once per form token; returns (attempt, created).

    A second submit of the same form (a double click, a retried request) gets the first
    attempt back instead of a copy of it. Raises DrillChanged, storing nothing, when the drill
    or an answered interaction was deleted meanwhile (in this process or another).
    """
    try:
        with transaction.atomic():
            if _missing_interactions(drill, interactions):
                raise DrillChanged
            return _create_attempt(learner, drill, interactions, result, token, variant), True
    except IntegrityError as exc:
        # Either the token is taken (this form was submitted before, or the same submit raced
        # in), or an interaction went after the check above and its foreign key failed.
        existing = Attempt.objects.filter(token=token).first()
        if existing is None:
            if _missing_interactions(drill, interactions):
                raise DrillChanged from exc
            raise
    if existing.learner_id != learner.pk or existing.drill_id != drill.pk:
        raise TokenReused("This form was already used. Reload the drill to start a fresh attempt.")
    return existing, False


def _missing_interactions(drill: Drill, interactions: list[Interaction]) -> bool:
    """Whether any of these interactions, or their drill, no longer exists."""
    wanted = {interaction.pk for interaction in interactions}
    found = Interaction.objects.filter(drill_id=drill.pk, pk__in=wanted).count()
    return found != len(wanted)


def _create_attempt(learner, drill, interactions, result, token, variant) -> Attempt:
    attempt = Attempt.objects.create(
        drill=drill,
        learner=learner,
        variant=variant,
        score=result.score,
        total=result.total,
        critical_sync_hops=result.critical_sync_hops,
        key_critical_sync_hops=result.key_critical_sync_hops,
        token=token,
    )
    by_key = {interaction.key: interaction for interaction in interactions}
    AttemptAnswer.objects.bulk_create(
        AttemptAnswer(
            attempt=attempt,
            interaction=by_key[verdict.item.key],
            choice=verdict.choice,
            justification=verdict.justification,
            correct=verdict.correct,
            style_correct=verdict.style_correct,
            reason=verdict.reason,
            reason_correct=verdict.reason_correct,
            technique=verdict.technique or "",
            technique_correct=verdict.technique_correct,
        )
        for verdict in result.verdicts
    )
    # Every interaction marked wrongly comes back in the learner's review.
    add_review_cards(learner=learner, kind=INTERACTION_KIND, refs=[
        str(by_key[verdict.item.key].pk) for verdict in result.verdicts if not verdict.correct
    ])
    if drill.review_by_instructor:
        handins.desk().hand_in(learner=learner, item=attempt)
    return attempt


def own_workflow_question() -> Question | None:
    return Question.objects.filter(slug=OWN_WORKFLOW_QUESTION).first()


def submit_own_workflow(*, learner, name: str, rows: list[dict], proposal: str = "",
                        token: uuid.UUID | None = None) -> tuple[handins.Receipt, bool]:
    """Hand a learner's own workflow in for grading; returns (receipt, created)."""
    question = own_workflow_question()
    if question is None or not handins.is_open():
        raise OwnWorkflowUnavailable(
            "Handing in your own workflow is not available yet: its question has not been set "
            "up on this site. Your rows are still on the page; try again later."
        )
    payload = {
        "workflow": name,
        "rows": rows,
        "critical_sync_hops": workflow.count_hops(rows),
        "proposal": proposal,
    }
    return submit_answer(
        learner=learner,
        question=question,
        answer=workflow.as_text(name, rows, proposal),
        payload=payload,
        token=token,
    )
