"""A learner's own workflow as plain rows: counting the sync hops on the critical path, and
writing them out as text an instructor can read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from drills.grading import MAX_SYNC_HOPS, SYNC


def parent_index(row: Mapping) -> int | None:
    """The 0-based row this call is made while handling; None for the user's request."""
    value = row.get("after")
    if value in (None, ""):
        return None
    try:
        return int(str(value)) - 1
    except ValueError:
        return None


def on_path(rows: Sequence[Mapping]) -> set[int]:
    """Rows made while the user waits, from the structure, as drills compute it with ``after``.

    A row made directly for the user's request is on the path when it is marked so (or is the
    request itself); one made while handling another row is on it only while that row is on it
    and synchronous. A reference to a missing row, or a cycle, leaves the row off the path (the
    form reports both).
    """
    found: set[int] = set()

    def reaches(index: int, seen: frozenset[int]) -> bool:
        row = rows[index]
        parent = parent_index(row)
        if parent is None:
            return bool(row.get("critical")) or bool(row.get("entry"))
        if parent in seen or not 0 <= parent < len(rows):
            return False
        above = rows[parent]
        return reaches(parent, seen | {index}) and (
            above.get("style") == SYNC or bool(above.get("entry")))

    for index in range(len(rows)):
        if reaches(index, frozenset({index})):
            found.add(index)
    return found


def structure_errors(rows: Sequence[Mapping]) -> list[str]:
    """What is wrong with which call is made while handling which, naming the rows."""
    problems = []
    for index, row in enumerate(rows):
        parent = parent_index(row)
        if parent is None:
            continue
        if not 0 <= parent < len(rows):
            problems.append(f"Interaction {index + 1} is made while handling interaction "
                            f"{parent + 1}, which does not exist.")
            continue
        chain: list[int] = [index]
        step: int | None = parent
        while step is not None and 0 <= step < len(rows) and step not in chain:
            chain.append(step)
            step = parent_index(rows[step])
        if step is not None and step in chain and step == index:
            numbers = ", ".join(str(i + 1) for i in sorted(chain))
            problems.append(f"Interactions {numbers} are each made while handling another of "
                            "them: a cycle, so none of them is ever started.")
    # One line per cycle, however many of its rows reported it.
    return list(dict.fromkeys(problems))


def counts_as_hop(row: Mapping, waited: bool) -> bool:
    # The user's own request to the first service is where the critical path starts, not a hop
    # on it: the lessons and every drill leave it out of the count.
    return waited and row.get("style") == SYNC and not row.get("entry")


def count_hops(rows: Sequence[Mapping]) -> int:
    """Sync service-to-service calls the user waits behind, from the rows' structure."""
    waited = on_path(rows)
    return sum(1 for i, row in enumerate(rows) if counts_as_hop(row, i in waited))


def over_limit(hops: int) -> bool:
    return hops > MAX_SYNC_HOPS


def as_text(name: str, rows: Sequence[Mapping], proposal: str = "") -> str:
    """A plain-text rendering of the workflow, for the grading queue and exports."""
    hops = count_hops(rows)
    waited = on_path(rows)
    lines = [f"Workflow: {name}", ""]
    for number, row in enumerate(rows, start=1):
        what = f" ({row['exchange']})" if row.get("exchange") else ""
        parent = parent_index(row)
        if parent is not None:
            what += f", made while handling {parent + 1}"
        if row.get("entry"):
            path = "the user's own request, not counted"
        elif number - 1 in waited:
            path = "on the critical path"
        else:
            path = "off the critical path"
        lines.append(
            f"{number}. {row['caller']} → {row['callee']}{what}: "
            f"{str(row['style']).upper()}, {path}"
        )
        lines.append(f"   Why: {row['justification']}")
    lines.append("")
    verdict = " (more than 2)" if over_limit(hops) else ""
    lines.append(f"Sync hops on the critical path: {hops}{verdict}")
    if proposal:
        lines.append(f"Proposal: {proposal}")
    return "\n".join(lines)
