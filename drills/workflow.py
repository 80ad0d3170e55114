"""A learner's own workflow as plain rows: which call is made while handling which, the calls the
user waits behind, and a plain-text rendering an instructor can read.

A row is a mapping with ``caller``, ``callee``, ``exchange``, ``style``, ``justification``,
``after`` (the 1-based number of the row whose handling makes this call; blank for the user's
request) and ``entry`` (the row is the user's own request). Rows handed in before the path was
worked out from ``after`` may carry other keys, such as a tick for "on the critical path"; they
are ignored, so every page computes the same path from the same structure. ``None`` stands for
a row left empty, which keeps its number but takes no part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drills.grading import ASYNC, CHOICES, MAX_SYNC_HOPS, SYNC

Row = Mapping | None
TYPED_FIELDS = ("caller", "callee", "exchange", "style", "justification", "after")


@dataclass(frozen=True)
class Problem:
    """What is wrong with the workflow's structure, and the rows (0-based) it is about."""

    rows: tuple[int, ...]
    message: str
    # The field of those rows to correct.
    field: str = "after"


def text_of(row: Mapping, name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def is_blank(row: Row) -> bool:
    """Nothing typed in the row: the builder skips it."""
    return row is None or (not row.get("entry") and not any(text_of(row, n) for n in TYPED_FIELDS))


def is_drawn(row: Row) -> bool:
    """The row names two different services, so it is a call that can be drawn and counted."""
    if row is None or is_blank(row):
        return False
    caller, callee = text_of(row, "caller"), text_of(row, "callee")
    return bool(caller and callee) and caller.casefold() != callee.casefold()


def is_number(value: str) -> bool:
    # Plain digits only: int() refuses some characters that str.isdigit() accepts, such as "²".
    return value.isascii() and value.isdigit()


def parent_index(row: Row) -> int | None:
    """The 0-based row this call is made while handling; None for the user's request."""
    if row is None:
        return None
    value = text_of(row, "after")
    if not is_number(value):
        return None
    return int(value) - 1


def on_path(rows: Sequence[Row]) -> set[int]:
    """Rows made while the user waits, from the structure alone.

    A row made while handling the user's request is on the critical path: the request is still
    open while it runs. One made while handling another row is on it only while that row is on
    it and synchronous (or is the user's request itself), so an async call takes everything
    made behind it off the user's wait. A reference to a missing or empty row, or a cycle,
    leaves the row off the path; ``structure_errors`` names both.
    """

    def reaches(index: int, seen: frozenset[int]) -> bool:
        row = rows[index]
        if row is None or is_blank(row):
            return False
        parent = parent_index(row)
        if parent is None:
            return True
        if parent in seen or not 0 <= parent < len(rows):
            return False
        above = rows[parent]
        if above is None or is_blank(above):
            return False
        return reaches(parent, seen | {index}) and (
            above.get("style") == SYNC or bool(above.get("entry")))

    return {index for index in range(len(rows)) if reaches(index, frozenset({index}))}


def structure_errors(rows: Sequence[Row]) -> list[Problem]:
    """What is wrong with which call is made while handling which, naming the rows by number."""
    problems: list[Problem] = []
    cycles: set[frozenset[int]] = set()
    for index, row in enumerate(rows):
        if row is None or is_blank(row):
            continue
        number = index + 1
        if row.get("entry") and row.get("style") == ASYNC:
            problems.append(Problem((index,), f"Interaction {number} is the user's own request, "
                                    "which always waits for its reply: mark it sync.", "style"))
        after = text_of(row, "after")
        if after and not is_number(after):
            problems.append(Problem((index,), f"Interaction {number}: give the number of the "
                                    "interaction it is made while handling, or leave it blank."))
            continue
        parent = parent_index(row)
        if parent is None:
            continue
        if row.get("entry"):
            problems.append(Problem((index,), f"Interaction {number} is the user's own request, "
                                    "so no other call makes it: leave its number blank."))
        elif parent == index:
            problems.append(Problem((index,), f"Interaction {number} is made while handling "
                                    "itself, so it is never started."))
        elif not 0 <= parent < len(rows):
            problems.append(Problem((index,), f"Interaction {number} is made while handling "
                                    f"interaction {parent + 1}, which does not exist."))
        elif is_blank(rows[parent]):
            problems.append(Problem((index,), f"Interaction {number} is made while handling "
                                    f"interaction {parent + 1}, which is empty."))
        else:
            loop = cycle_from(rows, index)
            if loop and loop not in cycles:
                cycles.add(loop)
                numbers = ", ".join(str(i + 1) for i in sorted(loop))
                problems.append(Problem(
                    tuple(sorted(loop)), f"Interactions {numbers} are each made while handling "
                    "another of them: a cycle, so none of them is ever started."))
    return problems


def cycle_from(rows: Sequence[Row], index: int) -> frozenset[int]:
    """The rows of the cycle that ``index`` is part of; empty when it is part of none."""
    chain = [index]
    step = parent_index(rows[index])
    while step is not None and 0 <= step < len(rows) and step not in chain:
        chain.append(step)
        step = parent_index(rows[step])
    return frozenset(chain) if step == index else frozenset()


def problems_by_row(problems: Sequence[Problem]) -> dict[int, list[str]]:
    """Each row's problems, for showing them on the row itself."""
    found: dict[int, list[str]] = {}
    for problem in problems:
        for index in problem.rows:
            found.setdefault(index, []).append(problem.message)
    return found


def compact(rows: Sequence[Row]) -> tuple[list[dict], list[int]]:
    """The rows that are there, numbered afresh, with each ``after`` following the row it named.

    A row made while handling one that is no longer there now hangs off the user's request; the
    new numbers of those rows come back with the rows, so the page can say so. A number beyond
    the last row is left as typed, for the form to report.
    """
    numbers: dict[int, int] = {}
    for index, row in enumerate(rows):
        if row is not None:
            numbers[index] = len(numbers) + 1
    kept: list[dict] = []
    orphans: list[int] = []
    for index, row in enumerate(rows):
        if row is None:
            continue
        moved = dict(row)
        parent = parent_index(row)
        if parent is not None and 0 <= parent < len(rows):
            if parent in numbers:
                value = moved.get("after")
                moved["after"] = numbers[parent] if isinstance(value, int) else str(numbers[parent])
            else:
                moved["after"] = None
                orphans.append(numbers[index])
        kept.append(moved)
    return kept, orphans


def counts_as_hop(row: Mapping, waited: bool) -> bool:
    # The user's own request to the first service is where the critical path starts, not a hop
    # on it: the lessons and every drill leave it out of the count.
    return waited and row.get("style") == SYNC and not row.get("entry")


def count_hops(rows: Sequence[Row]) -> int:
    """Sync service-to-service calls the user waits behind, from the rows' structure."""
    waited = on_path(rows)
    return sum(1 for i, row in enumerate(rows)
               if row is not None and is_drawn(row) and counts_as_hop(row, i in waited))


def over_limit(hops: int) -> bool:
    return hops > MAX_SYNC_HOPS


def as_text(name: str, rows: Sequence[Row], proposal: str = "") -> str:
    """A plain-text rendering of the workflow, for the grading queue and exports."""
    hops = count_hops(rows)
    waited = on_path(rows)
    lines = [f"Workflow: {name}", ""]
    for number, row in enumerate(rows, start=1):
        if row is None or is_blank(row):
            continue
        exchange = text_of(row, "exchange")
        what = f" ({exchange})" if exchange else ""
        parent = parent_index(row)
        if parent is not None:
            what += f", made while handling {parent + 1}"
        if row.get("entry"):
            path = "the user's own request, not counted"
        elif number - 1 in waited:
            path = "on the critical path"
        else:
            path = "off the critical path"
        style = text_of(row, "style")
        shown = style.upper() if style in CHOICES else "STYLE NOT GIVEN"
        lines.append(f"{number}. {text_of(row, 'caller')} → {text_of(row, 'callee')}{what}: "
                     f"{shown}, {path}")
        lines.append(f"   Why: {text_of(row, 'justification')}")
    lines.append("")
    verdict = " (more than 2)" if over_limit(hops) else ""
    lines.append(f"Sync hops on the critical path: {hops}{verdict}")
    if proposal:
        lines.append(f"Proposal: {proposal}")
    return "\n".join(lines)


def payload_text(payload: Mapping) -> str | None:
    """``as_text`` of a handed-in workflow's stored payload; None when it holds no usable rows.

    Drawn again from the rows rather than read from the text kept at hand-in, since a workflow
    handed in while a tick box still set the path has that tick's path in its text.
    """
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, Mapping) for r in rows):
        return None
    return as_text(str(payload.get("workflow") or ""), rows, str(payload.get("proposal") or ""))
