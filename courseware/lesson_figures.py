"""The arithmetic behind the figures of the first lessons: one request drawn in both styles,
a worker pool filling by Little's law, the checkout with a style per call, and where each style
puts its complexity. Plain functions of their inputs; templates draw what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

SYNC = "sync"
ASYNC = "async"
STYLES = ((SYNC, "Synchronous"), (ASYNC, "Asynchronous"))


# Lesson 1: one request on a timeline -------------------------------------------------------

NETWORK_MS = 5.0
TIMEOUT_MS = 2000.0


@dataclass(frozen=True)
class Segment:
    start_ms: float
    end_ms: float
    label: str
    css: str


@dataclass(frozen=True)
class Lane:
    name: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Timeline:
    style: str
    lanes: tuple[Lane, ...]
    user_wait_ms: float
    user_outcome: str
    work_done_ms: float | None
    """When the callee's part is done; None if it waits for the callee to come back."""


def request_timeline(*, caller_ms: float, callee_ms: float, lag_ms: float,
                     callee_down: bool) -> tuple[Timeline, Timeline]:
    """The same piece of work as a blocking call and as a published event."""
    # Synchronous: the caller's own work, then it waits for the callee's reply.
    call_start = caller_ms
    if callee_down:
        sync_end = call_start + TIMEOUT_MS
        sync_callee: tuple[Segment, ...] = ()
        waiting = Segment(call_start, sync_end, "waits, then times out", "wait")
        outcome = "an error after the timeout"
        sync_done = None
    else:
        reply = call_start + NETWORK_MS + callee_ms + NETWORK_MS
        sync_end = reply
        sync_callee = (Segment(call_start + NETWORK_MS, call_start + NETWORK_MS + callee_ms,
                               "works", "work"),)
        waiting = Segment(call_start, reply, "waits for the reply", "wait")
        outcome = "the result itself"
        sync_done = call_start + NETWORK_MS + callee_ms
    sync = Timeline(
        SYNC,
        (
            Lane("User", (Segment(0, sync_end, "waits", "user"),)),
            Lane("Caller", (Segment(0, caller_ms, "own work", "work"), waiting)),
            Lane("Callee", sync_callee),
        ),
        sync_end, outcome, sync_done,
    )
    # Asynchronous: the caller hands a message to the broker and answers at once.
    published = caller_ms + NETWORK_MS
    picked_up = published + lag_ms
    async_callee: tuple[Segment, ...] = ()
    async_done = None
    if not callee_down:
        async_callee = (Segment(picked_up, picked_up + callee_ms, "works", "work"),)
        async_done = picked_up + callee_ms
    broker_end = picked_up if not callee_down else max(picked_up, sync_end)
    asynchronous = Timeline(
        ASYNC,
        (
            Lane("User", (Segment(0, published, "waits", "user"),)),
            Lane("Caller", (Segment(0, caller_ms, "own work", "work"),
                            Segment(caller_ms, published, "publishes", "wait"))),
            Lane("Broker", (Segment(published, broker_end, "holds the message", "queue"),)),
            Lane("Callee", async_callee),
        ),
        published, "an answer that the work is on its way", async_done,
    )
    return sync, asynchronous


# Lesson 2: a worker pool by Little's law ---------------------------------------------------


@dataclass(frozen=True)
class Pool:
    name: str
    workers: int
    needed: float
    """Workers the arrivals need: rate × time each request holds one (Little's law)."""
    served: float
    """Share of requests the pool can take; the rest queue until they time out."""

    @property
    def busy(self) -> float:
        return min(self.needed, float(self.workers))

    @property
    def utilisation(self) -> float:
        return self.needed / self.workers

    @property
    def saturated(self) -> bool:
        return self.needed >= self.workers


def little(rate_per_s: float, seconds: float) -> float:
    """Requests in flight: arrival rate × time in the system."""
    return rate_per_s * seconds


def pool_cascade(*, rate: float, own_ms: float, downstream_ms: float, workers: int,
                 timeout_ms: float, caller_own_ms: float = 10.0) -> tuple[Pool, Pool]:
    """The service calling a slow dependency, and the service that calls it in turn.

    While the first pool has room, each request holds a worker for its own work plus the call.
    Once it is full it completes at most workers / hold requests a second; the rest wait in its
    queue until their caller gives up at the timeout, so the caller's workers are held that long.
    """
    hold_s = (own_ms + downstream_ms) / 1000
    needed = little(rate, hold_s)
    served = min(1.0, workers / needed) if needed > 0 else 1.0
    service = Pool("Orders", workers, needed, served)
    answered_s = min(hold_s, timeout_ms / 1000)
    caller_hold_s = caller_own_ms / 1000 + served * answered_s + (1 - served) * timeout_ms / 1000
    caller_needed = little(rate, caller_hold_s)
    caller_served = min(1.0, workers / caller_needed) if caller_needed > 0 else 1.0
    caller = Pool("Its caller", workers, caller_needed, caller_served)
    return service, caller


def pool_curve(*, rate: float, own_ms: float, workers: int, up_to_ms: float,
               points: int = 41) -> list[tuple[float, float]]:
    """Workers needed as the dependency's latency grows from 0 to ``up_to_ms``."""
    return [
        (ms, little(rate, (own_ms + ms) / 1000))
        for ms in (up_to_ms * i / (points - 1) for i in range(points))
    ]


# Lesson 3: the checkout with a style per call ----------------------------------------------

ORDERS_MS = 30.0
CALLS = (
    ("inventory", "Inventory", "reserve the stock", 40.0),
    ("payments", "Payments", "authorize the card", 250.0),
    ("fulfillment", "Fulfillment", "book the shipment", 60.0),
)
CALL_TIMEOUT_MS = 1000.0
OUTBOX_MS = 2.0
FAULTS = (
    ("none", "Nothing fails"),
    ("inventory-slow", "Inventory 200 ms slower"),
    ("inventory-stuck", "Inventory 2 s slower"),
    ("inventory-down", "Inventory down"),
    ("payments-down", "Payments down"),
)


@dataclass(frozen=True)
class CallOutcome:
    service: str
    name: str
    task: str
    style: str
    faulty: bool
    on_critical_path: bool
    added_ms: float
    note: str


@dataclass(frozen=True)
class Checkout:
    calls: tuple[CallOutcome, ...]
    response_ms: float
    succeeded: bool
    user_sees: str
    sync_hops: int


def checkout(styles: dict[str, str], fault: str) -> Checkout:
    """What the customer waits for and sees, call by call, with this fault."""
    faulty_service, _, kind = fault.partition("-")
    elapsed = ORDERS_MS
    failed = False
    pending_payment = False
    outcomes = []
    for key, name, task, latency in CALLS:
        style = styles.get(key, SYNC)
        faulty = key == faulty_service
        extra = {"slow": 200.0, "stuck": 2000.0}.get(kind, 0.0) if faulty else 0.0
        down = faulty and kind == "down"
        if failed:
            note = "never called: the order failed before this step"
            outcomes.append(CallOutcome(key, name, task, style, faulty, False, 0.0, note))
            continue
        if style == SYNC:
            if down:
                added, failed = 1.0, True
                note = "refuses the connection: the order fails at once"
            elif latency + extra > CALL_TIMEOUT_MS:
                added, failed = CALL_TIMEOUT_MS, True
                note = f"answers too late: the call times out after {CALL_TIMEOUT_MS:,.0f} ms"
            else:
                added = latency + extra
                note = f"the customer waits {added:,.0f} ms for it"
            outcomes.append(CallOutcome(key, name, task, style, faulty, True, added, note))
            elapsed += added
        else:
            if key == "payments":
                pending_payment = True
            if down:
                note = "its events wait in the bus and are handled once it is back"
            elif extra:
                note = f"handles each event {extra:,.0f} ms later; watch the consumer lag"
            else:
                note = "handled a moment after the response, from the bus"
            outcomes.append(CallOutcome(key, name, task, style, faulty, False, OUTBOX_MS, note))
            elapsed += OUTBOX_MS
    if failed:
        user_sees = "An error: the order was not placed."
    elif pending_payment:
        user_sees = ("\u201cOrder received, payment pending\u201d: a declined card is only found "
                     "later, by e-mail.")
    else:
        user_sees = "\u201cYour order is confirmed\u201d, with the card accepted."
    return Checkout(
        tuple(outcomes), elapsed, not failed, user_sees,
        sum(1 for o in outcomes if o.style == SYNC),
    )


# Lesson 4: where each style puts its complexity --------------------------------------------

PLACES = (
    ("request", "In the request path"),
    ("consumer", "In the consumer"),
    ("operations", "In operations"),
)
COMPLEXITY: dict[str, tuple[tuple[str, str], ...]] = {
    SYNC: (
        ("request", "a timeout on every call"),
        ("request", "retries with backoff and a retry budget"),
        ("request", "a circuit breaker per dependency"),
        ("request", "a bulkhead: a worker pool per dependency"),
        ("request", "the callee's tail latency, added to yours"),
        ("operations", "capacity for every caller's peak at once"),
        ("operations", "one trace per request: the easy part"),
    ),
    ASYNC: (
        ("request", "an outbox, so the event and the write commit together"),
        ("request", "a \u201cprocessing\u201d state the user can see"),
        ("consumer", "idempotency: the same event may come twice"),
        ("consumer", "retries and a dead-letter queue"),
        ("consumer", "events that arrive out of order"),
        ("consumer", "schema versions that old and new consumers read"),
        ("operations", "alerts on consumer lag"),
        ("operations", "tracing across the broker with correlation IDs"),
        ("operations", "replaying dead letters"),
        ("operations", "the broker itself, to run and to watch"),
    ),
}


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    items: tuple[str, ...]


def complexity(style: str) -> tuple[Place, ...]:
    items = COMPLEXITY[style]
    return tuple(
        Place(key, label, tuple(text for where, text in items if where == key))
        for key, label in PLACES
    )
