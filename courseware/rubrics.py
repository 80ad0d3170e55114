"""Rubric criteria carry ids that never change, so a grade that names the criteria it met keeps
its meaning when criteria are added, reworded, reordered or removed."""

from __future__ import annotations

import re
from typing import Any

ID_PATTERN = re.compile(r"^c(\d+)$")


def next_id(taken: set[str]) -> str:
    numbers = [int(m[1]) for m in (ID_PATTERN.match(i) for i in taken) if m]
    return f"c{max(numbers, default=0) + 1}"


def with_ids(rubric: list[dict[str, Any]],
             existing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The rubric with an id on every criterion.

    A criterion keeps an id it has; one without takes the id of an ``existing`` criterion with
    the same label (a reloaded file names criteria by label, not id), else a new id that no
    criterion ever had here. Ids are never handed out by position.
    """
    existing = existing or []
    taken = {str(c["id"]) for c in [*rubric, *existing] if c.get("id")}
    by_label = {c.get("label"): str(c["id"]) for c in existing if c.get("id")}
    used = {str(c["id"]) for c in rubric if c.get("id")}
    result = []
    for criterion in rubric:
        item = dict(criterion)
        if not item.get("id"):
            match = by_label.get(item.get("label"))
            if match and match not in used:
                item["id"] = match
            else:
                item["id"] = next_id(taken)
            taken.add(item["id"])
            used.add(item["id"])
        result.append({"id": str(item["id"]), **{k: v for k, v in item.items() if k != "id"}})
    return result
