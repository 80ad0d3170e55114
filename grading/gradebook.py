"""The gradebook: every learner against every question and drill, in a fixed number of queries.

A question's cell is the learner's best grade for it (drafts included, and marked); a drill's
cell is the best score among the learner's attempts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from accounts.roles import INSTRUCTORS
from drills.models import Attempt
from grading.assessments import Assessment, all_assessments
from grading.models import Submission

SORTS = ("name", "total", "completion")


@dataclass(slots=True)
class Cell:
    score: Decimal | None = None
    draft: bool = False
    submitted: bool = False
    awaiting: int = 0


EMPTY = Cell()


@dataclass(slots=True)
class Row:
    learner_id: int
    username: str
    name: str
    email: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((c.score for c in self.cells if c.score is not None), Decimal(0))

    @property
    def done(self) -> int:
        return sum(1 for c in self.cells if c.submitted)

    @property
    def completion(self) -> int:
        return round(100 * self.done / len(self.cells)) if self.cells else 0

    @property
    def awaiting(self) -> int:
        return sum(c.awaiting for c in self.cells)

    @property
    def drafts(self) -> int:
        return sum(1 for c in self.cells if c.draft)


@dataclass
class Gradebook:
    columns: list[Assessment]
    rows: list[Row]
    sort: str = "name"

    @property
    def max_total(self) -> Decimal:
        return sum((c.max_score for c in self.columns), Decimal(0))

    def sort_options(self) -> list[str]:
        return [*SORTS, *(c.key for c in self.columns)]

    @property
    def headers(self) -> list[tuple[Assessment, str]]:
        """Each column with a short label: Q1, Q2… for questions, D1, D2… for drills."""
        counters = {"q": 0, "d": 0}
        headers = []
        for column in self.columns:
            prefix = "d" if column.is_drill else "q"
            counters[prefix] += 1
            headers.append((column, f"{prefix.upper()}{counters[prefix]}"))
        return headers


def learners() -> QuerySet:
    """Everyone who takes the course: active accounts that are neither staff nor instructors."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=False)
        .exclude(groups__name=INSTRUCTORS)
        .order_by("username")
    )


def _fill(rows: dict[int, Row], columns: list[Assessment], learner_ids=None) -> None:
    """Fill the cells of ``rows`` with two aggregate queries, whatever the number of learners."""
    position = {("q", a.pk): i for i, a in enumerate(columns) if not a.is_drill}
    position.update({("d", a.pk): i for i, a in enumerate(columns) if a.is_drill})
    submissions = Submission.objects.filter(question__isnull=False)
    if learner_ids is not None:
        submissions = submissions.filter(learner_id__in=learner_ids)
    grouped = (
        submissions.order_by()
        .values_list("learner_id", "question_id")
        .annotate(
            best=Max("grade__score"),
            best_released=Max("grade__score", filter=Q(grade__released=True)),
            awaiting=Count("pk", filter=Q(grade__isnull=True)),
        )
    )
    for learner_id, question_id, best, best_released, awaiting in grouped:
        row, index = rows.get(learner_id), position.get(("q", question_id))
        if row is None or index is None:
            continue
        row.cells[index] = Cell(
            score=best,
            draft=best is not None and (best_released is None or best_released < best),
            submitted=True,
            awaiting=awaiting,
        )
    for learner_id, drill_id, best in _drill_cells(learner_ids):
        row, index = rows.get(learner_id), position.get(("d", drill_id))
        if row is not None and index is not None:
            row.cells[index] = Cell(score=Decimal(best), submitted=True)


def _drill_cells(learner_ids) -> Iterable[tuple[int, int, int]]:
    attempts = Attempt.objects.all()
    if learner_ids is not None:
        attempts = attempts.filter(learner_id__in=learner_ids)
    return attempts.order_by().values_list("learner_id", "drill_id").annotate(best=Max("score"))


def _rows(users: Iterable[dict], columns: list[Assessment]) -> dict[int, Row]:
    return {
        user["id"]: Row(
            learner_id=user["id"],
            username=user["username"],
            name=f"{user['first_name']} {user['last_name']}".strip(),
            email=user["email"],
            # One shared empty cell: filled cells are replaced, never changed in place.
            cells=[EMPTY] * len(columns),
        )
        for user in users
    }


USER_FIELDS = ("id", "username", "first_name", "last_name", "email")


def valid_sort(sort: str, book: Gradebook) -> str:
    return sort if sort.lstrip("-") in book.sort_options() else "name"


def gradebook_page(*, sort: str, page: str | int | None, per_page: int) -> tuple[Gradebook, Page]:
    """One sorted page of the gradebook, in a fixed number of queries whatever the class size.

    The order is decided on small per-learner figures (one row per learner); only the learners
    on the page have their cells read.
    """
    columns = all_assessments()
    book = Gradebook(columns=columns, rows=[])
    book.sort = valid_sort(sort, book)
    users = list(learners().values_list("id", flat=True))
    if book.sort == "-name":
        users.reverse()
    elif book.sort != "name":
        users = _sorted_by(users, book.sort, columns)
    current = Paginator(users, per_page).get_page(page)
    ids = list(current.object_list)
    rows = _rows(learners().filter(id__in=ids).values(*USER_FIELDS), columns)
    _fill(rows, columns, learner_ids=ids)
    book.rows = [rows[pk] for pk in ids]
    current.object_list = book.rows
    return book, current


def _sorted_by(users: list[int], sort: str, columns: list[Assessment]) -> list[int]:
    """Learner ids in name order, re-sorted on one figure; ties keep name order."""
    descending, name = sort.startswith("-"), sort.lstrip("-")
    if name in ("total", "completion"):
        figures = _per_learner(columns, count=name == "completion")
        return sorted(users, key=lambda pk: figures.get(pk, 0), reverse=descending)
    column = next(c for c in columns if c.key == name)
    figures = dict(_column_values(column))
    # Learners with nothing for this column go last in either direction.
    present = [pk for pk in users if figures.get(pk) is not None]
    missing = [pk for pk in users if figures.get(pk) is None]
    return sorted(present, key=figures.__getitem__, reverse=descending) + missing


def _column_values(column: Assessment) -> QuerySet:
    if column.is_drill:
        return (
            Attempt.objects.filter(drill_id=column.pk).order_by()
            .values_list("learner_id").annotate(best=Max("score"))
        )
    return (
        Submission.objects.filter(question_id=column.pk).order_by()
        .values_list("learner_id").annotate(best=Max("grade__score"))
    )


def _per_learner(columns: list[Assessment], *, count: bool) -> dict[int, float]:
    """Per learner: the sum of their best scores, or the number of assessments they did.

    A sum of per-assessment maximums is an aggregate of an aggregate, which the ORM cannot
    express; the two grouped querysets are built by the ORM and only combined here.
    """
    questions = [c.pk for c in columns if not c.is_drill]
    drills = [c.pk for c in columns if c.is_drill]
    querysets = []
    if questions:
        querysets.append(
            Submission.objects.filter(question_id__in=questions).order_by()
            .values("learner_id", "question_id")
            .annotate(amount=Count("pk") if count else Max("grade__score"))
            .values_list("learner_id", "amount")
        )
    if drills:
        querysets.append(
            Attempt.objects.filter(drill_id__in=drills).order_by()
            .values("learner_id", "drill_id")
            .annotate(amount=Count("pk") if count else Max("score"))
            .values_list("learner_id", "amount")
        )
    if not querysets:
        return {}
    parts, params = [], []
    for queryset in querysets:
        sql, part_params = queryset.query.sql_with_params()
        parts.append(sql)
        params.extend(part_params)
    figure = "COUNT(*)" if count else "SUM(amount)"
    sql = (
        f"SELECT learner_id, {figure} FROM ({' UNION ALL '.join(parts)}) AS per_assessment "
        "GROUP BY learner_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk: float(value or 0) for pk, value in cursor.fetchall()}


def iter_rows(*, columns: list[Assessment], chunk_size: int = 200) -> Iterator[Row]:
    """Every learner's row in name order, a chunk at a time, so memory stays flat."""
    last = ""
    while True:
        users = list(learners().filter(username__gt=last).values(*USER_FIELDS)[:chunk_size])
        if not users:
            return
        rows = _rows(users, columns)
        _fill(rows, columns, learner_ids=list(rows))
        yield from rows.values()
        last = users[-1]["username"]
