"""Numeric problems whose numbers are drawn for each learner from a seed, graded at once.

A problem type knows how to draw its parameters from a seed, what the exact answer to those
parameters is, how close an answer must come (the tolerance, told to the learner before they
answer), and how to work the solution out with the learner's own numbers. The same seed always
gives the same numbers, so only the seed is stored.

Types that need nothing but arithmetic live here; an app above the courseware registers types
that need its own models (the simulator's sum-of-p99s problem), as lesson embeds are registered.
Nothing here knows about HTTP or the database.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

Params = dict[str, float]
"""A problem's drawn numbers by name; whole numbers are stored as ints."""

MINUTES_A_MONTH = 30 * 24 * 60
"""The course counts a month as 30 days."""


@dataclass(frozen=True)
class Tolerance:
    """How far an answer may be from the exact value: the wider of the two bounds."""

    relative: float = 0.0
    absolute: float = 0.0

    def margin(self, truth: float) -> float:
        return max(self.relative * abs(truth), self.absolute)

    def bounds(self, truth: float) -> tuple[float, float]:
        margin = self.margin(truth)
        return truth - margin, truth + margin

    def accepts(self, given: float, truth: float) -> bool:
        # A hair of slack so an answer typed exactly at the bound is not lost to rounding.
        return abs(given - truth) <= self.margin(truth) * (1 + 1e-9) + 1e-12

    def describe(self, unit: Unit) -> str:
        parts = []
        if self.relative:
            parts.append(f"{number(self.relative * 100)}% of the exact value")
        if self.absolute:
            parts.append(f"{number(self.absolute)} {unit.short}".rstrip())
        if len(parts) == 2:
            return f"within {parts[0]} or {parts[1]}, whichever is wider"
        return f"within {parts[0]}"


@dataclass(frozen=True)
class Unit:
    # Shown after the input box and accepted after the number ("%", "ms").
    short: str
    # The phrase in "Give your answer in ...".
    phrase: str

    def show(self, number: str) -> str:
        """A number with this unit after it: "4.9%", "216 minutes"."""
        return f"{number}{self.short}" if self.short == "%" else f"{number} {self.short}"


PERCENT = Unit("%", "percent")
MINUTES = Unit("minutes", "minutes")
MILLISECONDS = Unit("ms", "milliseconds")
EVENTS = Unit("events", "events")
WORKERS = Unit("workers", "workers")


@dataclass(frozen=True)
class Link:
    """A tool the learner may use on their numbers, such as the simulator set to them."""

    label: str
    url: str


@dataclass(frozen=True)
class ProblemType:
    name: str
    label: str
    unit: Unit
    tolerance: Tolerance
    draw: Callable[[random.Random], Params]
    # The exact answer, in ``unit``.
    answer: Callable[[Params], float]
    prompt: Callable[[Params], str]
    # The worked solution with these numbers, one step a line.
    solution: Callable[[Params], list[str]]
    links: Callable[[Params], list[Link]] = field(default=lambda params: [])

    def generate(self, seed: int) -> Params:
        """The numbers for this seed: always the same ones, on every server and release of
        Python (``random`` seeded with a string hashes it with SHA-512)."""
        return self.draw(random.Random(f"{self.name}:{seed}"))

    def grade(self, params: Params, given: float) -> Verdict:
        truth = self.answer(params)
        low, high = self.tolerance.bounds(truth)
        return Verdict(
            correct=self.tolerance.accepts(given, truth), given=given, truth=truth,
            low=low, high=high,
        )

    def tolerance_text(self) -> str:
        return self.tolerance.describe(self.unit)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    given: float
    truth: float
    low: float
    high: float


_types: dict[str, ProblemType] = {}


def register(problem_type: ProblemType) -> None:
    """Called at import here and by an app's ready(); the name is what content files use."""
    _types[problem_type.name] = problem_type


def get(name: str) -> ProblemType | None:
    return _types.get(name) if name else None


def names() -> list[str]:
    return sorted(_types)


def choices() -> list[tuple[str, str]]:
    """The model field's choices; a callable, so types registered later still count."""
    return [(t.name, t.label) for t in sorted(_types.values(), key=lambda t: t.name)]


# Reading answers --------------------------------------------------------------------------


class AnswerError(ValueError):
    """What the learner typed is not an answer; the message says why, for the form."""


NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
MAX_ANSWER_LENGTH = 40


def parse_answer(text: str, unit: Unit) -> float:
    """The number in what a learner typed: "4.9", "4.9 %", "1,250", "1.2e3" (not "4,9")."""
    raw = text.strip()
    if not raw:
        raise AnswerError("Type a number.")
    if len(raw) > MAX_ANSWER_LENGTH:
        raise AnswerError(f"An answer is at most {MAX_ANSWER_LENGTH} characters long.")
    if unit.short and raw.lower().endswith(unit.short.lower()):
        raw = raw[: -len(unit.short)].rstrip()
    if GROUPED.match(raw):
        raw = raw.replace(",", "")
    if raw.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise AnswerError("Give a finite number: NaN and infinity are not answers.")
    if not NUMBER.match(raw):
        if re.match(r"^[+-]?\d+,\d+$", raw):
            raise AnswerError("Use a point for decimals: 4.9, not 4,9.")
        raise AnswerError(f"“{text.strip()}” is not a number. Type digits, such as 12.5.")
    value = float(raw)
    if not math.isfinite(value):
        raise AnswerError("That number is too large to be an answer.")
    return value


# Formatting numbers for prompts and solutions ---------------------------------------------

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power(base: str, exponent: int) -> str:
    return f"{base}{str(exponent).translate(_SUPERSCRIPTS)}"


def number(value: float, digits: int = 4) -> str:
    """A number for reading: ``digits`` significant figures, thousands grouped, no trailing 0s."""
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(fraction: float, digits: int = 4) -> str:
    return f"{number(fraction * 100, digits)}%"


def failure_of(params: Params) -> float:
    return float(params["failure_pct"]) / 100


# Chain failure ----------------------------------------------------------------------------

CHAIN_FAILURES_PCT = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def chain_failure_exact(failure: float, hops: int) -> float:
    return float(-math.expm1(hops * math.log1p(-failure)))


def draw_chain_failure(rng: random.Random) -> Params:
    # Only chains where N·p is off by more than the tolerance (three times over), so the shortcut
    # cannot pass for the exact answer; and short enough that N·p still looks believable.
    while True:
        failure_pct = rng.choice(CHAIN_FAILURES_PCT)
        hops = rng.randint(3, 20)
        exact = chain_failure_exact(failure_pct / 100, hops)
        shortcut = hops * failure_pct / 100
        if shortcut - exact > 3 * CHAIN_FAILURE.tolerance.margin(exact * 100) / 100 and \
                shortcut <= 0.6:
            return {"hops": hops, "failure_pct": failure_pct}


def chain_failure_answer(params: Params) -> float:
    return chain_failure_exact(failure_of(params), int(params["hops"])) * 100


def chain_failure_prompt(params: Params) -> str:
    return (
        f"A request passes through {int(params['hops'])} synchronous hops in a row. Each hop "
        f"fails {number(params['failure_pct'])}% of the time, independently of the others, and "
        "the request fails if any hop fails. What share of requests fail?"
    )


def chain_failure_solution(params: Params) -> list[str]:
    hops, failure = int(params["hops"]), failure_of(params)
    success = 1 - failure
    exact = chain_failure_exact(failure, hops)
    shortcut = hops * failure
    return [
        f"Each hop succeeds with probability 1 − {number(failure)} = {number(success)}.",
        f"The request succeeds only if all {hops} succeed: {power(number(success), hops)} = "
        f"{number(1 - exact, 6)}.",
        f"So it fails with probability 1 − {number(1 - exact, 6)} = {number(exact, 5)}, "
        f"that is {pct(exact)}.",
        f"The shortcut N · p gives {hops} × {number(failure)} = {pct(shortcut)}: "
        f"{number((shortcut - exact) * 100, 3)} points too high, because it counts the requests "
        "in which two hops fail at once twice.",
    ]


CHAIN_FAILURE = ProblemType(
    name="chain-failure",
    label="Failure of a synchronous chain",
    unit=PERCENT,
    tolerance=Tolerance(relative=0.01),
    draw=draw_chain_failure,
    answer=chain_failure_answer,
    prompt=chain_failure_prompt,
    solution=chain_failure_solution,
)


# Availability budget ----------------------------------------------------------------------

AVAILABILITIES_PCT = (99.0, 99.5, 99.9, 99.95, 99.99)


def draw_availability(rng: random.Random) -> Params:
    return {"services": rng.randint(2, 8), "availability_pct": rng.choice(AVAILABILITIES_PCT)}


def availability_answer(params: Params) -> float:
    each = float(params["availability_pct"]) / 100
    return (1 - each ** int(params["services"])) * MINUTES_A_MONTH


def availability_prompt(params: Params) -> str:
    return (
        f"A page needs {int(params['services'])} services, all called synchronously, to answer. "
        f"Each is available {number(params['availability_pct'])}% of the time, independently of "
        "the others. In a 30-day month, for how many minutes' worth of requests does the page "
        "fail?"
    )


def availability_solution(params: Params) -> list[str]:
    services = int(params["services"])
    each = float(params["availability_pct"]) / 100
    together = each**services
    minutes = availability_answer(params)
    one = (1 - each) * MINUTES_A_MONTH
    return [
        f"A 30-day month has 30 × 24 × 60 = {number(MINUTES_A_MONTH)} minutes.",
        f"All {services} services are up together with probability "
        f"{power(number(each, 6), services)} = {number(together, 8)}, that is "
        f"{pct(together, 8)}.",
        f"The page fails the rest of the time: (1 − {number(together, 8)}) × "
        f"{number(MINUTES_A_MONTH)} = {number(minutes)} minutes.",
        f"One service alone would cost {number(one)} minutes; adding up {services} of those "
        f"gives {number(one * services, 6)}, a shade above the exact figure for the same reason "
        "N · p overstates a chain's failure.",
    ]


AVAILABILITY_BUDGET = ProblemType(
    name="availability-budget",
    label="Minutes a month of a chain's downtime",
    unit=MINUTES,
    tolerance=Tolerance(relative=0.01),
    draw=draw_availability,
    answer=availability_answer,
    prompt=availability_prompt,
    solution=availability_solution,
)


# Fan-out slowness -------------------------------------------------------------------------

FAN_OUT_LEVELS = {"99": (0.01, (10, 20, 25, 40, 50, 80, 100, 150, 200)),
                  "99.9": (0.001, (100, 200, 300, 500, 800, 1000, 2000))}


def draw_fan_out(rng: random.Random) -> Params:
    level = rng.choice(sorted(FAN_OUT_LEVELS))
    return {"percentile": float(level), "calls": rng.choice(FAN_OUT_LEVELS[level][1])}


def fan_out_slow(params: Params) -> float:
    return 1 - float(params["percentile"]) / 100


def fan_out_answer(params: Params) -> float:
    return chain_failure_exact(fan_out_slow(params), int(params["calls"])) * 100


def fan_out_prompt(params: Params) -> str:
    level = number(params["percentile"])
    return (
        f"A request sends {int(params['calls'])} calls in parallel and waits for every answer. "
        f"Each call is slower than its own p{level} latency "
        f"{pct(fan_out_slow(params))} of the time, independently of the others. In what share "
        f"of requests is at least one call slower than its p{level}?"
    )


def fan_out_solution(params: Params) -> list[str]:
    calls, slow = int(params["calls"]), fan_out_slow(params)
    fast = 1 - slow
    exact = chain_failure_exact(slow, calls)
    return [
        f"Each call is fast (under its p{number(params['percentile'])}) with probability "
        f"{number(fast)}.",
        f"The request is fast only if all {calls} calls are: {power(number(fast), calls)} = "
        f"{number(1 - exact, 5)}.",
        f"So at least one call is slow in 1 − {number(1 - exact, 5)} = {pct(exact)} of requests, "
        f"{number(exact / slow, 3)} times the rate of a single call.",
        f"Adding up, {calls} × {number(slow)} = {pct(calls * slow)}, overshoots"
        + (" badly: no share can pass 100%." if calls * slow > 1 else
           ", and more so the more calls there are."),
    ]


FAN_OUT = ProblemType(
    name="fan-out-slowness",
    label="Slow requests under fan-out",
    unit=PERCENT,
    tolerance=Tolerance(relative=0.01),
    draw=draw_fan_out,
    answer=fan_out_answer,
    prompt=fan_out_prompt,
    solution=fan_out_solution,
)


# A consumer outage: backlog and drain time ------------------------------------------------


def draw_outage(rng: random.Random) -> Params:
    rate = rng.randrange(20, 801, 10)
    # Spare capacity between 20% and 200% of the arrival rate, in round numbers.
    capacity = rate + rng.randrange(max(10, rate // 5 // 10 * 10), 2 * rate + 1, 10)
    return {"rate": rate, "capacity": capacity, "minutes": rng.choice((5, 10, 15, 20, 30, 45, 60))}


def backlog(params: Params) -> float:
    return float(params["rate"]) * float(params["minutes"]) * 60


def outage_story(params: Params) -> str:
    return (
        f"Orders publishes {int(params['rate'])} OrderConfirmed events a second. The Inventory "
        f"consumer, which can handle up to {int(params['capacity']):,} events a second, is down "
        f"for {int(params['minutes'])} minutes while events keep arriving."
    )


def backlog_prompt(params: Params) -> str:
    return outage_story(params) + " How many events are waiting when the consumer comes back?"


def backlog_solution(params: Params) -> list[str]:
    seconds = int(params["minutes"]) * 60
    return [
        f"{int(params['minutes'])} minutes are {seconds:,} seconds.",
        "Nothing is handled while the consumer is down, so every event that arrives waits: "
        f"{int(params['rate'])} events/s × {seconds:,} s = {number(backlog(params))} events.",
        "No request failed meanwhile; the outage became this backlog, and the consumer lag it "
        f"shows is {int(params['minutes'])} minutes.",
    ]


OUTAGE_BACKLOG = ProblemType(
    name="outage-backlog",
    label="Backlog of a consumer outage",
    unit=EVENTS,
    tolerance=Tolerance(relative=0.01),
    draw=draw_outage,
    answer=backlog,
    prompt=backlog_prompt,
    solution=backlog_solution,
)


def drain_minutes(params: Params) -> float:
    spare = float(params["capacity"]) - float(params["rate"])
    return backlog(params) / spare / 60


def drain_prompt(params: Params) -> str:
    return outage_story(params) + (
        " Once it is back, new events keep arriving at the same rate. How many minutes does "
        "it take to work the backlog off?"
    )


def drain_solution(params: Params) -> list[str]:
    rate, capacity = int(params["rate"]), int(params["capacity"])
    spare = capacity - rate
    return [
        f"The backlog is {rate} events/s × {int(params['minutes']) * 60:,} s = "
        f"{number(backlog(params))} events.",
        f"After recovery the consumer handles {capacity} events a second, but {rate} of them "
        f"are new arrivals, so the backlog shrinks by only {capacity} − {rate} = {spare} a "
        "second.",
        f"{number(backlog(params))} ÷ {spare} = {number(backlog(params) / spare)} seconds, "
        f"that is {number(drain_minutes(params))} minutes.",
        "With no spare capacity at all (a consumer only just fast enough) the backlog would "
        "never drain.",
    ]


OUTAGE_DRAIN = ProblemType(
    name="outage-drain-time",
    label="Drain time after a consumer outage",
    unit=MINUTES,
    tolerance=Tolerance(relative=0.02),
    draw=draw_outage,
    answer=drain_minutes,
    prompt=drain_prompt,
    solution=drain_solution,
)


# Little's law: workers in flight ----------------------------------------------------------


def draw_in_flight(rng: random.Random) -> Params:
    return {
        "rate": rng.randrange(100, 2001, 50),
        "own_ms": rng.choice((10, 15, 20, 25, 30, 40)),
        "slow_s": rng.choice((0.5, 0.8, 1.0, 1.5, 2.0, 3.0)),
        "pool": rng.choice((100, 200, 300, 500)),
    }


def in_flight_answer(params: Params) -> float:
    return float(params["rate"]) * (float(params["own_ms"]) / 1000 + float(params["slow_s"]))


def in_flight_prompt(params: Params) -> str:
    return (
        f"Orders handles {int(params['rate']):,} requests a second with a pool of "
        f"{int(params['pool'])} workers. Each request keeps a worker busy for "
        f"{int(params['own_ms'])} ms of Orders' own work plus a synchronous call to Inventory. "
        f"Inventory slows down and now takes {number(params['slow_s'])} s to answer. How many "
        "workers must be busy at once to keep up?"
    )


def in_flight_solution(params: Params) -> list[str]:
    rate = int(params["rate"])
    hold = float(params["own_ms"]) / 1000 + float(params["slow_s"])
    busy = in_flight_answer(params)
    verdict = (
        f"The pool has {int(params['pool'])}, so requests queue and then fail: the slow callee "
        "has exhausted the caller."
        if busy > params["pool"] else f"The pool of {int(params['pool'])} still copes."
    )
    return [
        "By Little's law, requests in flight = arrival rate × time each one holds a worker.",
        f"A worker is held for {int(params['own_ms'])} ms + {number(params['slow_s'])} s = "
        f"{number(hold)} s.",
        f"{rate:,} requests/s × {number(hold)} s = {number(busy)} busy workers.",
        verdict,
    ]


IN_FLIGHT = ProblemType(
    name="in-flight-workers",
    label="Workers in flight (Little's law)",
    unit=WORKERS,
    tolerance=Tolerance(relative=0.01),
    draw=draw_in_flight,
    answer=in_flight_answer,
    prompt=in_flight_prompt,
    solution=in_flight_solution,
)


for _type in (CHAIN_FAILURE, AVAILABILITY_BUDGET, FAN_OUT, OUTAGE_BACKLOG, OUTAGE_DRAIN,
              IN_FLIGHT):
    register(_type)
