"""Anonymous grading: graders read a pseudonym instead of the learner's name until release."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from django.db.models import Exists, OuterRef, Q
from django.utils.crypto import salted_hmac

from grading.models import Grade, GradingOptions, Submission
from grading.scores import QUESTION, Cell, Key


def anonymous_questions() -> set[int]:
    return set(GradingOptions.objects.filter(anonymous=True).values_list("question_id",
                                                                         flat=True))


def pseudonym(submission: Submission) -> str:
    """Stable for one learner on one question, and not the same across questions."""
    digest = salted_hmac("grading.anonymity", f"{submission.question_id}:{submission.learner_id}")
    return f"Learner {digest.hexdigest()[:5].upper()}"


def hidden_q() -> Q:
    """The submissions whose learner graders may not see yet, as a filter."""
    anonymous = GradingOptions.objects.filter(question_id=OuterRef("question_id"), anonymous=True)
    released = Grade.objects.filter(submission=OuterRef("pk"), released=True)
    return Q(Exists(anonymous)) & ~Q(Exists(released))


def hidden(submission: Submission, anonymous: set[int]) -> bool:
    return submission.question_id in anonymous and submission.released_grade is None


def name(submission: Submission, anonymous: set[int] | None = None) -> str:
    """The learner's name as a grader may see it now."""
    anonymous = anonymous_questions() if anonymous is None else anonymous
    return pseudonym(submission) if hidden(submission, anonymous) else submission.learner.username


def label_all(submissions: Iterable[Submission]) -> None:
    """Set ``shown_name`` on each submission, for the templates, in one query."""
    anonymous = anonymous_questions()
    for submission in submissions:
        submission.shown_name = name(submission, anonymous)  # type: ignore[attr-defined]


def mask(found: dict[Key, Cell]) -> dict[Key, Cell]:
    """Scores as a view that names each learner may show them.

    A draft of an anonymous question reads as the learner's released score (if any), so that a
    grader cannot match a pseudonymous answer to a name by its score in the gradebook.
    """
    anonymous = anonymous_questions()
    if not anonymous:
        return found
    return {
        key: replace(cell, score=cell.released_score, draft=False, hidden=True)
        if key[1] == QUESTION and key[2] in anonymous and cell.draft else cell
        for key, cell in found.items()
    }
