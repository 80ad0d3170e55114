from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from grading.deadlines import lateness_of
from grading.models import Grade

register = template.Library()


@register.simple_tag(takes_context=True)
def new_grades_count(context) -> int:
    """Released grades the signed-in learner has not opened yet (one query, once per page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cache = request.__dict__.setdefault("_new_grades_count", {})
    if user.pk not in cache:
        cache[user.pk] = Grade.objects.unseen_by(user).count()
    return cache[user.pk]


@register.filter
def points(value) -> str:
    """A score without trailing zeros: 7.50 → 7.5, 8.00 → 8."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        return str(value)
    text = f"{number.normalize():f}"
    return text


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words: "just now" under a minute, else "3 hours ago"."""
    if value is None:
        return ""
    now = now or timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now)} ago"


@register.simple_tag(takes_context=True)
def sort_link(context, key: str) -> str:
    """The ?sort= value for a column header: ascending first, then toggles on repeat."""
    current = context.get("sort", "")
    return f"-{key}" if current == key else key


@register.simple_tag(takes_context=True)
def grade_summary(context) -> dict:
    """The signed-in learner's released grades in brief, for their progress panel."""
    request = context.get("request")
    user = getattr(request, "user", None)
    summary: dict[str, int | Decimal] = {
        "released": 0, "new": 0, "score": Decimal(0), "max_score": Decimal(0)
    }
    if user is None or not user.is_authenticated:
        return summary
    grades = list(Grade.objects.released().filter(submission__learner=user).select_related(
        "submission__question", "submission__attempt"
    ))
    # The late penalty comes off here as on every other page that shows a score.
    late = lateness_of([grade.submission for grade in grades])
    for grade in grades:
        submission = grade.submission
        summary["released"] += 1
        summary["new"] += grade.seen_at is None
        lateness = late.get(submission.pk)
        counted = lateness.apply(grade.score) if lateness else grade.score
        summary["score"] += counted if counted is not None else 0
        summary["max_score"] += (
            submission.question.max_score if submission.question_id else submission.attempt.total
        )
    return summary


@register.filter
def criteria_labels(change, assessment) -> list[str]:
    """The criteria a history entry ticked (+) and unticked (−)."""
    old, new = set(change.old_criteria or []), set(change.new_criteria or [])
    # The grade's own rubric first: its labels are the ones the grader ticked.
    names = {c.id: c.label for c in assessment.rubric}
    names.update({cid: label for cid, label, _, _ in change.grade.criteria_rows()})

    def label(cid: str) -> str:
        return names.get(cid, f"a criterion since removed ({cid})")

    return [f"+ {label(c)}" for c in sorted(new - old)] + [
        f"− {label(c)}" for c in sorted(old - new)
    ]
