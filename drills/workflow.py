"""A learner's own workflow as plain rows: reading them from a posted form, counting the sync
hops on the critical path, and writing them out as text an instructor can read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from drills.grading import MAX_SYNC_HOPS, SYNC

PREFIX = "rows"
FIELDS = ("caller", "callee", "exchange", "style", "justification", "critical", "entry")
FLAGS = ("critical", "entry")
TRUE_VALUES = {"on", "true", "True", "1"}
TEXT_FIELDS = ("caller", "callee", "exchange", "justification")
# Reading stops here whatever the management form claims; validation reports the excess.
READ_LIMIT = 50


def blank_row() -> dict:
    return {"caller": "", "callee": "", "exchange": "", "style": "", "justification": "",
            "critical": False, "entry": False}


def is_blank(row: Mapping) -> bool:
    return not any(str(row.get(name) or "").strip() for name in TEXT_FIELDS) and not row.get(
        "style"
    )


def read_rows(data: Mapping, prefix: str = PREFIX) -> list[dict]:
    """The rows of a posted workflow form as they were typed, without validating them."""
    try:
        count = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        count = 0
    rows = []
    for index in range(max(0, min(count, READ_LIMIT))):
        row: dict[str, str | bool] = {
            name: str(data.get(f"{prefix}-{index}-{name}", "")) for name in FIELDS
        }
        for flag in FLAGS:
            row[flag] = data.get(f"{prefix}-{index}-{flag}") in TRUE_VALUES
        rows.append(row)
    return rows


def formset_data(rows: list[dict], prefix: str = PREFIX) -> dict:
    """Rows turned back into the data a bound formset expects."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for index, row in enumerate(rows):
        for name in FIELDS:
            value = row.get(name)
            if name in FLAGS:
                if value:
                    data[f"{prefix}-{index}-{name}"] = "on"
            else:
                data[f"{prefix}-{index}-{name}"] = value or ""
    return data


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
