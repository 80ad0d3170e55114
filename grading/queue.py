"""The grading queue: which submissions an instructor sees, in which order, and their counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now

from courseware.models import Lesson
from grading import anonymity
from grading.assessments import Assessment, all_assessments
from grading.models import Claim, RegradeRequest, Submission, SubmissionQuerySet


def assessment_choices(assessments: list[Assessment]) -> list:
    """Grouped choices for the queue filter: whole lessons, single questions, drills."""
    lessons = [(f"l-{lesson.slug}", lesson.title) for lesson in Lesson.objects.in_order()]
    questions = [
        (a.key, f"{a.group}: {a.title[:70]}") for a in assessments if not a.is_drill
    ]
    drills = [(a.key, a.title) for a in assessments if a.is_drill]
    choices = [("Lessons", lessons), ("Questions", questions)]
    if drills:
        choices.append(("Drills", drills))
    return choices


def queue_queryset() -> SubmissionQuerySet:
    open_regrades = RegradeRequest.objects.open().filter(submission=OuterRef("pk"))
    identical = (
        Submission.objects.filter(fingerprint=OuterRef("fingerprint"))
        .exclude(fingerprint="")
        .order_by()
        .values("fingerprint")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Submission.objects.select_related(
            "learner", "question__lesson", "attempt__drill", "grade"
        )
        .annotate(
            regrade_open=Exists(open_regrades),
            # A regrade goes back in line from the moment it was asked for.
            queued_at=Coalesce(
                Subquery(open_regrades.order_by("created_at").values("created_at")[:1]),
                "created_at",
            ),
            identical_count=Coalesce(Subquery(identical), 1),
            # Who holds it now, if anyone: a lapsed claim holds nothing.
            held_by_id=Subquery(_active_claims().values("grader_id")[:1]),
            held_by=Subquery(_active_claims().values("grader__username")[:1]),
            held_until=Subquery(_active_claims().values("expires_at")[:1]),
        )
        .order_by("queued_at", "pk")
    )


def _active_claims() -> QuerySet:
    return Claim.objects.filter(submission=OuterRef("pk"), expires_at__gt=Now())


def free_for(queryset: SubmissionQuerySet, grader) -> SubmissionQuerySet:
    """Leave out what other graders hold; what this grader holds stays."""
    return queryset.filter(Q(held_by_id__isnull=True) | Q(held_by_id=grader.pk))


def apply_filters(queryset: SubmissionQuerySet, filters: dict) -> SubmissionQuerySet:
    key = filters.get("assessment") or ""
    if key.startswith("l-"):
        queryset = queryset.filter(
            Q(question__lesson__slug=key[2:]) | Q(attempt__drill__lesson__slug=key[2:])
        )
    elif key.startswith("q-"):
        queryset = queryset.filter(question__slug=key[2:])
    elif key.startswith("d-"):
        queryset = queryset.filter(attempt__drill__slug=key[2:])
    status = filters.get("status") or "awaiting"
    if status == "regrade":
        queryset = queryset.filter(regrade_open=True)
    elif status != "all":
        queryset = queryset.filter(status=status)
    if filters.get("learner"):
        # A name search must not tell a grader whose anonymous answer is whose.
        queryset = queryset.filter(learner__username=filters["learner"]).exclude(
            anonymity.hidden_q()
        )
    return queryset.in_section(filters.get("section") or "")


def in_walk_order(current: Submission | None, filters: dict, grader=None) -> list[Submission]:
    """The queue from just after ``current`` round to its start, less what others hold."""
    queue = apply_filters(queue_queryset(), filters)
    if grader is not None:
        queue = free_for(queue, grader)
    if current is None:
        return list(queue[:WALK_LIMIT])
    queue = queue.exclude(pk=current.pk)
    current_position = queue_queryset().filter(pk=current.pk).values("queued_at").first()
    if not current_position:
        return list(queue[:WALK_LIMIT])
    after = Q(queued_at__gt=current_position["queued_at"]) | Q(
        queued_at=current_position["queued_at"], pk__gt=current.pk
    )
    return list(queue.filter(after)[:WALK_LIMIT]) + list(queue.exclude(after)[:WALK_LIMIT])


# How far one walk looks ahead: enough to get past submissions claimed a moment before.
WALK_LIMIT = 25


def next_submission(current: Submission, filters: dict, grader=None) -> Submission | None:
    """The submission to grade after ``current``: the next one in the queue, else the first.

    Given the ``grader``, submissions other graders hold are skipped.
    """
    walk = in_walk_order(current, filters, grader)
    return walk[0] if walk else None


@dataclass
class QueueCount:
    assessment: Assessment
    awaiting: int = 0
    regrade: int = 0
    graded: int = 0
    returned: int = 0

    @property
    def total(self) -> int:
        return self.awaiting + self.graded + self.returned


def queue_counts(assessments: list[Assessment] | None = None,
                 section: str = "") -> list[QueueCount]:
    """Submissions per question and drill, by status, in two queries.

    ``section`` (a section's slug) counts the submissions of that section's learners only.
    """
    assessments = assessments if assessments is not None else all_assessments()
    by_key: dict[tuple[str, int], QueueCount] = {
        ("d" if a.is_drill else "q", a.pk): QueueCount(assessment=a) for a in assessments
    }
    rows = (
        Submission.objects.in_section(section).order_by()
        .values(*_assessment_columns())
        .annotate(
            awaiting=Count("pk", filter=Q(status=Submission.Status.AWAITING), distinct=True),
            graded=Count("pk", filter=Q(status=Submission.Status.GRADED), distinct=True),
            returned=Count("pk", filter=Q(status=Submission.Status.RETURNED), distinct=True),
            regrade=Count(
                "regrade_requests",
                filter=Q(regrade_requests__resolved_at__isnull=True),
                distinct=True,
            ),
        )
    )
    for row in rows:
        key = _row_key(row)
        if key in by_key:
            count = by_key[key]
            count.awaiting, count.graded = row["awaiting"], row["graded"]
            count.returned, count.regrade = row["returned"], row["regrade"]
    return [count for count in by_key.values() if count.total or count.regrade]


def _assessment_columns() -> tuple[str, ...]:
    return ("question_id", "attempt__drill_id")


def _row_key(row: dict) -> tuple[str, int]:
    if row["question_id"] is not None:
        return ("q", row["question_id"])
    return ("d", row["attempt__drill_id"])
