"""Grading's side of the hand-in seam (courseware.handins): work comes in as submissions.

Questions and drill attempts are the two kinds of work this desk takes; each becomes a
Submission that waits in the instructors' queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse

from courseware.handins import DeskClosed, Receipt
from courseware.models import Question
from drills.models import Attempt
from grading import services
from grading.models import Submission


class UnknownWork(TypeError):
    """Something was handed in that this desk does not grade."""


class AlreadyReleased(DeskClosed):
    """A new hand-in of work whose grade was released: it goes through a regrade instead.

    The course shows a closed desk's message and keeps the learner's text on the page.
    """


def receipt(submission: Submission) -> Receipt:
    grade = submission.released_grade
    if submission.question_id:
        max_score = Decimal(submission.answered_question.max_score)
    else:
        max_score = Decimal(submission.drill_attempt.total)
    return Receipt(
        pk=submission.pk,
        answer=submission.answer,
        payload=submission.payload if isinstance(submission.payload, dict) else {},
        status=submission.learner_status_display,
        url=reverse("grading:my_submission", args=[submission.pk]),
        created_at=submission.created_at,
        score=grade.score if grade else None,
        max_score=max_score,
        new=bool(grade and grade.seen_at is None),
    )


def _work_field(item: Model) -> str:
    if isinstance(item, Question):
        return "question"
    if isinstance(item, Attempt):
        return "attempt"
    raise UnknownWork(f"{type(item).__name__} is not work that can be graded.")


class GradingDesk:
    def hand_in(self, *, learner: Any, item: Model, answer: str = "",
                payload: dict[str, Any] | None = None,
                token: uuid.UUID | None = None) -> tuple[Receipt, bool]:
        field = _work_field(item)
        if isinstance(item, Attempt):
            # An attempt carries its own answers; grading reads them from it.
            existed = Submission.objects.filter(attempt=item).exists()
            handed_in = services.submit_attempt_for_review(attempt=item)
            if handed_in is None:
                raise UnknownWork("This drill is marked automatically; nothing is handed in.")
            return receipt(handed_in), not existed
        try:
            # Inserted first and left to the database to refuse: of two racing submits of one
            # form, exactly one row is stored.
            with transaction.atomic():
                submission, created = self._new_version(
                    learner=learner, item=item, field=field, answer=answer, payload=payload,
                    token=token,
                )
        except IntegrityError:
            existing = Submission.objects.filter(token=token).first() if token else None
            if existing is None and isinstance(item, Attempt):
                existing = Submission.objects.filter(attempt=item).first()
            if existing is None:
                raise
            submission = existing
            created = False
        submission = Submission.objects.select_related("question", "attempt", "grade").get(
            pk=submission.pk
        )
        return receipt(submission), created

    @staticmethod
    def _new_version(*, learner: Any, item: Model, field: str, answer: str,
                     payload: dict[str, Any] | None,
                     token: uuid.UUID | None) -> tuple[Submission, bool]:
        """One counted hand-in per learner and question: a new one supersedes the pending one.

        Earlier versions stay, for the grader to read; once a grade is released a new hand-in
        is refused, since a released grade changes only through a regrade request.
        """
        if token is not None:
            repeat = Submission.objects.filter(token=token).first()
            if repeat is not None:
                return repeat, False
        # Hand-ins of one learner queue up here, so two at once cannot both be counted.
        get_user_model().objects.select_for_update().filter(pk=learner.pk).first()
        mine = Submission.objects.for_learner(learner).filter(**{field: item})
        current = mine.counted().select_related("grade").order_by("-version", "-pk").first()
        if current is not None and current.released_grade is not None:
            raise AlreadyReleased(
                "Your grade for this question has been released, so a new answer is not "
                "handed in. If you think something was missed, ask for a regrade on My "
                "submissions. Your text is still on the page."
            )
        newest = mine.order_by("-version").values_list("version", flat=True).first() or 0
        fingerprint = services.workflow_fingerprint(item.pk, payload or {}) \
            if isinstance(item, Question) else ""
        submission = Submission.objects.create(
            learner=learner, answer=answer, payload=payload or {}, token=token,
            version=newest + 1, fingerprint=fingerprint, **{field: item},
        )
        if current is not None:
            Submission.objects.filter(pk=current.pk).update(
                status=Submission.Status.SUPERSEDED
            )
        return submission, True

    def latest(self, *, learner: Any, items: Sequence[Model]) -> dict[int, Receipt]:
        if not items:
            return {}
        field = _work_field(items[0])
        newest: dict[int, Receipt] = {}
        submissions = (
            Submission.objects.for_learner(learner)
            .filter(**{f"{field}__in": [item.pk for item in items]})
            .select_related("question", "attempt", "grade")
            .order_by("created_at", "pk")
        )
        for submission in submissions:
            newest[getattr(submission, f"{field}_id")] = receipt(submission)
        return newest

    def recent(self, *, learner: Any, item: Model, limit: int) -> list[Receipt]:
        field = _work_field(item)
        submissions = (
            Submission.objects.for_learner(learner)
            .filter(**{field: item})
            .select_related("question", "attempt", "grade")
            .order_by("-created_at", "-pk")[:limit]
        )
        return [receipt(submission) for submission in submissions]

    def answered(self, *, learner: Any, model: type[Model]) -> int:
        field = {Question: "question", Attempt: "attempt"}.get(model)
        if field is None:
            raise UnknownWork(f"{model.__name__} is not work that can be graded.")
        return (
            Submission.objects.for_learner(learner)
            .filter(**{f"{field}__isnull": False})
            .values(field)
            .distinct()
            .count()
        )
