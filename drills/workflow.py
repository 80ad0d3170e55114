"""A learner's own workflow as plain rows: counting the sync hops on the critical path, and
writing them out as text an instructor can read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from drills.grading import MAX_SYNC_HOPS, SYNC


def counts_as_hop(row: Mapping) -> bool:
    # The user's own request to the first service is where the critical path starts, not a hop
    # on it: the lessons and every drill leave it out of the count.
    return bool(row.get("critical")) and row.get("style") == SYNC and not row.get("entry")


def count_hops(rows: Sequence[Mapping]) -> int:
    """Sync service-to-service calls the learner put on the user's critical path."""
    return sum(1 for row in rows if counts_as_hop(row))


def over_limit(hops: int) -> bool:
    return hops > MAX_SYNC_HOPS


def as_text(name: str, rows: Sequence[Mapping], proposal: str = "") -> str:
    """A plain-text rendering of the workflow, for the grading queue and exports."""
    hops = count_hops(rows)
    lines = [f"Workflow: {name}", ""]
    for number, row in enumerate(rows, start=1):
        what = f" ({row['exchange']})" if row.get("exchange") else ""
        if row.get("entry"):
            path = "the user's own request, not counted"
        elif row.get("critical"):
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
