"""The gradebook: every learner against every question and drill, in a fixed number of queries.

Every cell comes from the score selector (grading.scores), drafts included and marked, so the
gradebook, its CSV and the learner's own pages never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from accounts.roles import INSTRUCTORS
from courseware.models import SectionMembership
from grading import anonymity
from grading.assessments import Assessment, all_assessments
from grading.scores import EMPTY, Cell, Key, cell_key, scores

__all__ = ["Cell", "Gradebook", "Row", "gradebook_page", "iter_rows", "learners"]

SORTS = ("name", "total", "completion")


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
        return sum(c.drafts for c in self.cells)


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


def learners(section: str = "") -> QuerySet:
    """Everyone who takes the course: active accounts that are neither staff nor instructors.

    ``section`` (a section's slug) keeps the learners of that section only.
    """
    people = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=False)
        .exclude(groups__name=INSTRUCTORS)
        .order_by("username")
    )
    if section:
        people = people.filter(id__in=SectionMembership.objects.learner_ids_in(section))
    return people


def _fill(rows: dict[int, Row], columns: list[Assessment], learner_ids=None,
          found: dict[Key, Cell] | None = None) -> None:
    """Fill the cells of ``rows`` from the score selector, whatever the number of learners."""
    if found is None:
        found = anonymity.mask(scores(learner_ids=learner_ids))
    for learner_id, row in rows.items():
        row.cells = [found.get(cell_key(learner_id, column), EMPTY) for column in columns]


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


def gradebook_page(*, sort: str, page: str | int | None, per_page: int,
                   section: str = "") -> tuple[Gradebook, Page]:
    """One sorted page of the gradebook, in a fixed number of queries whatever the class size.

    The order is decided on small per-learner figures (one row per learner); only the learners
    on the page have their cells read.
    """
    columns = all_assessments()
    book = Gradebook(columns=columns, rows=[])
    book.sort = valid_sort(sort, book)
    users = list(learners(section).values_list("id", flat=True))
    found = None
    if book.sort == "-name":
        users.reverse()
    elif book.sort != "name":
        # Sorting reads everyone's scores; the page's cells then come from the same reading.
        found = anonymity.mask(scores(learner_ids=users if section else None))
        users = _sorted_by(users, book.sort, columns, found)
    current = Paginator(users, per_page).get_page(page)
    ids = list(current.object_list)
    rows = _rows(learners().filter(id__in=ids).values(*USER_FIELDS), columns)
    _fill(rows, columns, learner_ids=ids, found=found)
    book.rows = [rows[pk] for pk in ids]
    current.object_list = book.rows
    return book, current


def _sorted_by(users: list[int], sort: str, columns: list[Assessment],
               found: dict[Key, Cell]) -> list[int]:
    """Learner ids in name order, re-sorted on one figure; ties keep name order."""
    descending, name = sort.startswith("-"), sort.lstrip("-")
    wanted = {cell_key(0, c)[1:] for c in columns}
    if name in ("total", "completion"):
        figures: dict[int, Decimal] = {}
        for (learner_id, *assessment), cell in found.items():
            if tuple(assessment) not in wanted:
                continue
            amount = Decimal(1) if name == "completion" else (cell.score or Decimal(0))
            figures[learner_id] = figures.get(learner_id, Decimal(0)) + amount
        return sorted(users, key=lambda pk: figures.get(pk, Decimal(0)), reverse=descending)
    column = next(c for c in columns if c.key == name)
    column_scores = {pk: found.get(cell_key(pk, column), EMPTY).score for pk in users}
    # Learners with nothing for this column go last in either direction.
    known = {pk: score for pk, score in column_scores.items() if score is not None}
    present = [pk for pk in users if pk in known]
    missing = [pk for pk in users if pk not in known]
    return sorted(present, key=known.__getitem__, reverse=descending) + missing


def iter_rows(*, columns: list[Assessment], chunk_size: int = 200,
              section: str = "") -> Iterator[Row]:
    """Every learner's row in name order, a chunk at a time, so memory stays flat."""
    last = ""
    while True:
        users = list(
            learners(section).filter(username__gt=last).values(*USER_FIELDS)[:chunk_size]
        )
        if not users:
            return
        rows = _rows(users, columns)
        _fill(rows, columns, learner_ids=list(rows))
        yield from rows.values()
        last = users[-1]["username"]
