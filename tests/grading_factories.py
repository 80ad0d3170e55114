"""Small factories for grading tests, independent of the course content files."""

from __future__ import annotations

import itertools

from courseware.models import Course, Lesson, Module, Question
from drills.models import Attempt, AttemptAnswer, Drill, Interaction
from grading.models import Submission
from grading.services import submit_attempt_for_review

_ids = itertools.count(1)

RUBRIC = [
    {"label": "Names the caller waiting for the answer", "points": 4},
    {"label": "Says what happens when the callee is down", "points": 3},
    {"label": "Picks async for the bookkeeping step", "points": 3},
]


def make_lesson(title: str = "Grading lesson") -> Lesson:
    n = next(_ids)
    course, _ = Course.objects.get_or_create(slug="grading-course", defaults={"title": "Course"})
    module = Module.objects.create(course=course, slug=f"grading-module-{n}", title="Module")
    return Lesson.objects.create(
        module=module, slug=f"grading-lesson-{n}", title=f"{title} {n}", order=n,
        body_markdown="Some text.",
    )


def make_question(lesson: Lesson | None = None, *, rubric=None, max_score: int = 10,
                  prompt: str | None = None) -> Question:
    n = next(_ids)
    return Question.objects.create(
        lesson=lesson or make_lesson(),
        slug=f"grading-question-{n}",
        order=n,
        prompt=prompt or f"Question {n}: should the checkout wait for the payment answer?",
        model_answer_markdown="Yes: the **user** needs the answer before going on.",
        key_points=["The user waits for it", "Retries need idempotency"],
        rubric=RUBRIC if rubric is None else rubric,
        max_score=max_score,
    )


def make_submission(learner, question: Question | None = None,
                    answer: str = "It should be sync because the user waits.") -> Submission:
    return Submission.objects.create(
        learner=learner, question=question or make_question(), answer=answer
    )


INTERACTIONS = [
    ("checkout", "payments", "sync"),
    ("orders", "email", "async"),
    ("orders", "analytics", "async"),
]


def make_drill(*, review: bool = True, interactions=INTERACTIONS, title: str | None = None,
               lesson: Lesson | None = None) -> Drill:
    n = next(_ids)
    drill = Drill.objects.create(
        slug=f"grading-drill-{n}",
        title=title or f"Shop checkout {n}",
        domain="Retail",
        summary="Mark each interaction of a checkout.",
        scenario="A customer pays for an order.",
        order=n,
        review_by_instructor=review,
        lesson=lesson,
    )
    for order, (caller, callee, answer) in enumerate(interactions):
        Interaction.objects.create(
            drill=drill,
            key=f"{caller}-{callee}",
            order=order,
            caller=caller,
            callee=callee,
            exchange="a request",
            answer=answer,
            rationale="Because.",
            deciding_question=1,
            wrong_answer_why="It hurts.",
        )
    return drill


def make_attempt(drill: Drill, learner, answers: list[tuple[str, str]] | None = None,
                 *, submit: bool = True) -> Attempt:
    """An attempt with (choice, justification) per interaction, marked against the key."""
    interactions = list(drill.interactions.order_by("order"))
    answers = answers or [(i.answer, f"Because {i.callee}.") for i in interactions]
    correct = [choice == i.answer for i, (choice, _) in zip(interactions, answers, strict=True)]
    # Scored as the drill's own grading scores it: a right row has every part right, a wrong one
    # none.
    points = [i.key_item().max_points for i in interactions]
    attempt = Attempt.objects.create(
        drill=drill,
        learner=learner,
        score=sum(p for p, right in zip(points, correct, strict=True) if right),
        total=sum(points),
        critical_sync_hops=1,
        key_critical_sync_hops=1,
    )
    for interaction, (choice, justification), right in zip(
        interactions, answers, correct, strict=True
    ):
        AttemptAnswer.objects.create(
            attempt=attempt,
            interaction=interaction,
            choice=choice,
            justification=justification,
            correct=right,
            style_correct=right,
            reason=interaction.deciding_question if right else None,
            reason_correct=right,
        )
    if submit:
        submit_attempt_for_review(attempt=attempt)
    return attempt
