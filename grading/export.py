"""CSV exports, streamed row by row so a large class never sits in memory at once."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from grading import anonymity
from grading.assessments import for_submission
from grading.gradebook import all_assessments, iter_rows
from grading.models import Submission
from grading.queue import apply_filters, queue_queryset

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """Make a value safe to open in a spreadsheet: text that looks like a formula stays text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        # The byte order mark lets Excel read the file as UTF-8.
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def gradebook_header(columns) -> list[str]:
    # Each score column has a status column beside it, so an import can tell "not handed in",
    # "awaiting grading", "draft" and "released" apart while the score column stays numeric.
    per_column = []
    for c in columns:
        per_column += [f"{c.kind} {c.slug} (out of {c.max_score.normalize():f})",
                       f"{c.kind} {c.slug} status"]
    return [
        "username", "name", "email", *per_column,
        "total", "out of", "completion %", "awaiting grading", "draft grades",
    ]


def status_text(cell) -> str:
    """The cell's marker, with "late" and the penalty taken when the work counted was late."""
    if not cell.late:
        return cell.marker
    if cell.penalty:
        return f"{cell.marker}, late -{cell.penalty.normalize():f}%"
    return f"{cell.marker}, late"


def gradebook_rows(chunk_size: int = 200, section: str = "") -> Iterator[list]:
    """The header, then one row per learner in username order (of one section if given)."""
    columns = all_assessments()
    max_total = sum((c.max_score for c in columns), Decimal(0))
    yield gradebook_header(columns)
    for row in iter_rows(columns=columns, chunk_size=chunk_size, section=section):
        cells = []
        for cell in row.cells:
            cells += [cell.score, status_text(cell)]
        yield [
            row.username, row.name, row.email, *cells,
            row.total, max_total, row.completion, row.awaiting, row.drafts,
        ]


SUBMISSION_HEADER = [
    "submission", "username", "name", "email", "kind", "assessment", "lesson or drill",
    "version", "submitted at", "status", "regrade requested", "grade status", "score", "out of",
    "released", "released at", "graded by", "criteria met", "answer", "feedback",
]


def grade_status(submission: Submission, grade) -> str:
    if submission.status == Submission.Status.SUPERSEDED:
        return "superseded"
    if grade is None:
        return "awaiting grading"
    return "released" if grade.released else "draft"


def submission_rows(filters: dict, chunk_size: int = 500) -> Iterator[list]:
    """One row per submission matching the queue filters, oldest first."""
    yield SUBMISSION_HEADER
    submissions = apply_filters(queue_queryset(), filters).select_related("grade__graded_by")
    anonymous = anonymity.anonymous_questions()
    for submission in submissions.iterator(chunk_size=chunk_size):
        yield submission_row(submission, anonymous)


def submission_row(submission: Submission, anonymous: set[int]) -> list:
    """One submission's row; ``anonymous`` holds the questions graded anonymously."""
    assessment = for_submission(submission)
    grade = getattr(submission, "grade", None)
    learner = submission.learner
    if anonymity.hidden(submission, anonymous):
        who = [anonymity.pseudonym(submission), "", ""]
    else:
        who = [learner.username, learner.get_full_name(), learner.email]
    return [
        submission.pk,
        *who,
        assessment.kind,
        assessment.slug,
        assessment.group,
        submission.version,
        _when(submission.created_at),
        submission.get_status_display(),
        bool(getattr(submission, "regrade_open", False)),
        grade_status(submission, grade),
        grade.score if grade else None,
        grade.max_score if grade else assessment.max_score,
        bool(grade and grade.released),
        _when(grade.released_at) if grade else "",
        grade.graded_by.username if grade and grade.graded_by else "",
        "; ".join(grade.labels(grade.criteria_met)) if grade else "",
        submission.shown_answer,
        grade.feedback_markdown if grade else "",
    ]
