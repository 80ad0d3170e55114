"""The workflows the outage lab can break: the worked example's checkout and every drill.

A drill is run in two designs: every interaction synchronous, and the answer key's own design
(an interaction the key leaves to a condition is taken as asynchronous, the key's usual
resolution). Given a learner's answer (their sync/async choice for every interaction, carried in
the query string as ``key:s,key:a``), the lab runs their design beside the key's instead.
In each design a service is waited on by the user when some call to it is synchronous and on
the critical path; otherwise a queue stands between it and the user.
"""

from django.http import Http404

from drills import content, grading
from simulator import outage

CHECKOUT = "checkout"


def choices() -> list[tuple[str, str]]:
    """(slug, title) of every workflow, the worked example first."""
    drills = [(drill.slug, f"Drill: {drill.title}") for drill in content.catalogue()]
    return [(CHECKOUT, outage.worked_example().title), *drills]


CODES = {grading.SYNC: "s", grading.ASYNC: "a"}
MAX_DESIGN_LENGTH = 2000


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
