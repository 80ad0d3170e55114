"""Grading's side of the hand-in seam (courseware.handins): work comes in as submissions.

Questions and drill attempts are the two kinds of work this desk takes; each becomes a
Submission that waits in the instructors' queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse

from courseware.handins import Receipt
from courseware.models import Question
from drills.models import Attempt
from grading import services
from grading.models import Submission


class UnknownWork(TypeError):
    """Something was handed in that this desk does not grade."""


def receipt(submission: Submission) -> Receipt:
    grade = submission.released_grade
    if submission.question_id:
        max_score = Decimal(submission.question.max_score)
    else:
        max_score = Decimal(submission.attempt.total)
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
                submission = Submission.objects.create(
                    learner=learner, answer=answer, payload=payload or {}, token=token,
                    **{field: item},
                )
        except IntegrityError:
            existing = Submission.objects.filter(token=token).first() if token else None
            if existing is None and field == "attempt":
                existing = Submission.objects.filter(attempt=item).first()
            if existing is None:
                raise
            submission = existing
            created = False
        else:
            created = True
        submission = Submission.objects.select_related("question", "attempt", "grade").get(
            pk=submission.pk
        )
        return receipt(submission), created

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
