"""The workflows the outage lab can break: the worked example's checkout, every drill, and a
learner's own workflow from the builder.

A drill is run in two designs: every interaction synchronous, and the answer key's own design
(an interaction the key leaves to a condition is taken as asynchronous, the key's usual
resolution). Given a learner's answer (their sync/async choice for every interaction, carried in
the query string as ``key:s,key:a``), the lab runs their design beside the key's instead.
An own workflow travels whole in ``design`` (``own:`` and its rows as compact JSON, each row
caller, callee, s / a / e for the user's own request, and the number of the row it is made while
handling) and runs beside the same workflow with every call synchronous. Its critical path comes
from that structure, as the builder works it out (drills.workflow).

In each design a service is waited on by the user when some call to it is synchronous and on
the critical path; otherwise a queue stands between it and the user.
"""

import json
from collections.abc import Mapping, Sequence

from django.http import Http404

from drills import content, grading, workflow
from simulator import outage

CHECKOUT = "checkout"
OWN = "own"
OWN_PREFIX = "own:"


def choices(*, own: bool = False) -> list[tuple[str, str]]:
    """(slug, title) of every workflow, the worked example first; with ``own``, the learner's
    own workflow last."""
    drills = [(drill.slug, f"Drill: {drill.title}") for drill in content.catalogue()]
    mine = [(OWN, "Your own workflow")] if own else []
    return [(CHECKOUT, outage.worked_example().title), *drills, *mine]


CODES = {grading.SYNC: "s", grading.ASYNC: "a"}
ENTRY = "e"
# Twenty builder rows of long service names fit; a query string of this size is still fine.
MAX_DESIGN_LENGTH = 8000


def is_own(design: str) -> bool:
    return design.startswith(OWN_PREFIX)


def encode_rows(rows: Sequence[Mapping | None]) -> str:
    """A builder's rows as the lab's ``design`` value; an empty row keeps its place (its
    number is what later rows name)."""
    items: list[list[str]] = []
    for row in rows:
        if row is None or workflow.is_blank(row):
            items.append([])
            continue
        code = ENTRY if row.get("entry") else CODES.get(str(row.get("style") or ""), "")
        items.append([workflow.text_of(row, "caller"), workflow.text_of(row, "callee"), code,
                      workflow.text_of(row, "after")])
    return OWN_PREFIX + json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def decode_rows(design: str) -> list[dict | None]:
    """The rows an own-workflow ``design`` holds, or DesignError saying what is wrong."""
    try:
        items = json.loads(design.removeprefix(OWN_PREFIX))
    except ValueError:
        raise DesignError("it is not a list of interactions") from None
    if not isinstance(items, list) or not 0 < len(items) <= 50:
        raise DesignError("it is not a list of interactions")
    by_code = {code: choice for choice, code in CODES.items()}
    rows: list[dict | None] = []
    for number, item in enumerate(items, start=1):
        if item == []:
            rows.append(None)
            continue
        if not (isinstance(item, list) and len(item) == 4 and all(isinstance(v, str)
                                                                   for v in item)):
            raise DesignError(f"interaction {number} is not caller, callee, style and number")
        caller, callee, code, after = item
        if code not in (*by_code, ENTRY):
            raise DesignError(f"interaction {number} is marked neither sync nor async")
        rows.append({"caller": caller, "callee": callee, "after": after,
                     "style": by_code.get(code, grading.SYNC), "entry": code == ENTRY})
    problems = workflow.structure_errors(rows)
    if problems:
        raise DesignError(problems[0].message.rstrip("."))
    return rows


def from_rows(design: str) -> outage.Workflow:
    """A learner's own workflow: their design beside the same calls all synchronous."""
    rows = decode_rows(design)
    drawn = [row for row in rows if row is not None and workflow.is_drawn(row)]
    calls = [row for row in drawn if not row["entry"]]
    if not calls:
        raise DesignError("it names no call between two services")
    requests = [row for row in drawn if row["entry"]]
    entry = requests[0]["callee"] if requests else calls[0]["caller"]
    services = tuple(dict.fromkeys(row["callee"] for row in calls))
    everything_sync = [None if row is None else {**row, "style": grading.SYNC} for row in rows]
    designs = (_own_design("Your design", rows), _own_design("The all-synchronous design",
                                                            everything_sync))
    return outage.Workflow(OWN, "Your own workflow", entry, services, designs)


def _own_design(name: str, rows: Sequence[dict | None]) -> outage.Design:
    path = workflow.on_path(rows)
    waits_on = frozenset(
        row["callee"] for index, row in enumerate(rows)
        if row is not None and index in path and not row["entry"]
        and row["style"] == grading.SYNC
    )
    uses_broker = any(row is not None and not row["entry"] and row["style"] == grading.ASYNC
                      for row in rows)
    return outage.Design(name, waits_on, uses_broker)


class DesignError(ValueError):
    """A learner's design that does not fit the drill's interactions."""


def encode_design(choices: dict[str, str]) -> str:
    """A learner's choices as the lab's ``design`` query value."""
    return ",".join(f"{key}:{CODES[choice]}" for key, choice in choices.items())


def decode_design(text: str, key: tuple[grading.KeyItem, ...]) -> dict[str, str]:
    """The choices in ``text``, one for every interaction of the drill, or DesignError."""
    by_code = {code: choice for choice, code in CODES.items()}
    choices: dict[str, str] = {}
    for pair in filter(None, text.split(",")):
        name, _, code = pair.partition(":")
        if code not in by_code:
            raise DesignError(f"{pair!r} is not an interaction marked s or a")
        choices[name] = by_code[code]
    known = [item.key for item in key]
    unknown = sorted(set(choices) - set(known))
    if unknown:
        raise DesignError(f"not part of this drill: {', '.join(unknown)}")
    missing = [name for name in known if name not in choices]
    if missing:
        raise DesignError(f"no choice for: {', '.join(missing)}")
    return {name: choices[name] for name in known}


def get(slug: str, design: str = "") -> outage.Workflow | None:
    """The workflow with this slug, or None when there is none; with a learner's ``design``,
    their answer beside the key's (DesignError if it does not fit the drill)."""
    if slug == CHECKOUT:
        if design:
            raise DesignError("the worked example takes no design of your own")
        return outage.worked_example()
    if slug == OWN:
        if not is_own(design):
            raise DesignError("no workflow of your own came with the link")
        return from_rows(design)
    try:
        drill = content.get_drill(slug)
    except Http404:
        return None
    if design:
        return from_answer(slug, drill.drill.title, drill.key, decode_design(design, drill.key))
    return from_key(slug, drill.drill.title, drill.key)


def from_answer(slug: str, title: str, key: tuple[grading.KeyItem, ...],
                choices: dict[str, str]) -> outage.Workflow:
    services = tuple(dict.fromkeys(item.callee for item in key))
    designs = (
        _design("Your design", key, choices),
        _design("The answer key's design", key, grading.key_choices(key)),
    )
    entry = key[0].caller if key else ""
    return outage.Workflow(slug, f"Drill: {title}, your answer", entry, services, designs)


def from_key(slug: str, title: str, key: tuple[grading.KeyItem, ...]) -> outage.Workflow:
    services = tuple(dict.fromkeys(item.callee for item in key))
    everything_sync = {item.key: grading.SYNC for item in key}
    designs = (
        _design("The all-synchronous design", key, everything_sync),
        _design("The answer key's design", key, grading.key_choices(key)),
    )
    entry = key[0].caller if key else ""
    return outage.Workflow(slug, f"Drill: {title}", entry, services, designs)


def _design(name: str, key: tuple[grading.KeyItem, ...], choices: dict[str, str]) -> outage.Design:
    on_path = grading.critical_path(key, choices)
    waits_on = frozenset(
        item.callee for item in key if item.key in on_path and choices[item.key] == grading.SYNC
    )
    uses_broker = any(choice == grading.ASYNC for choice in choices.values())
    return outage.Design(name, waits_on, uses_broker)
