"""The outage lab: one service's fault over time, in a synchronous and an asynchronous design.

A fluid model: requests and events are treated as a continuous flow, so every quantity is a
rate or an amount that changes smoothly. The fault starts at t = 0 and lasts T seconds.

Users send R requests a second, and each request makes one call to the faulty service (or
publishes one event for it).

Synchronous design. The caller gives every call in flight one worker from a pool of W. A call
holds its worker for the service's latency, or until the caller's timeout if that comes first.
By Little's law the calls in flight are admitted rate × holding time, so the pool can admit at
most W / hold calls a second; the rest are refused at once. A request fails when its call
times out or is refused. A service that is down does not answer at all (its calls hang until the
timeout); a slow one answers X ms later than usual.

Asynchronous design. Requests publish an event and are answered at once; a consumer handles
the events at up to C a second while the service is healthy (a service slowed by X ms handles
C · L / (L + X), its handlers being busy for longer). Events wait in a first-in, first-out
queue: the backlog grows at the arrival rate minus what the consumer manages and drains at
C − R after recovery, so it never drains when C ≤ R. Consumer lag is the age of the oldest
waiting event; with a steady arrival rate it is backlog / R. While the service is down every
delivery fails and is retried every ``retry_interval_s`` seconds; an event still failing after
its last retry is dead-lettered (it waits for a person or a replay job, not the consumer).
Without a retry limit no event is dead-lettered. The broker being down stops publishing: with a
transactional outbox the events wait in the producer's database and go out when it returns;
without one the request cannot record its event and fails.

Before the fault the consumer keeps up (an empty queue) and the pool holds R · L calls.
Everything here is plain numpy and has no knowledge of the web app.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

DOWN = "down"
SLOW = "slow"
BROKER = "broker"
FAULTS = (DOWN, SLOW, BROKER)

POINTS = 601
"""Points in each time series: enough for a smooth chart, few enough to send to a browser."""


@dataclass(frozen=True)
class Scenario:
    """One fault and the system it hits."""

    rate: float
    """R, requests (and events) a second."""
    capacity: float
    """C, events a second the consumer handles while the service is healthy."""
    fault: str = DOWN
    duration_s: float = 60.0
    """T, how long the fault lasts."""
    slow_ms: float = 0.0
    """X, extra latency while a slow fault lasts."""
    latency_ms: float = 50.0
    """L, the service's usual latency."""
    timeout_ms: float = 1_000.0
    workers: int = 50
    """W, the caller's worker pool in the synchronous design."""
    retries: int | None = None
    """Retries of a failing delivery before it is dead-lettered; None retries for ever."""
    retry_interval_s: float = 30.0
    outbox: bool = True

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}")
        if self.rate <= 0 or self.capacity <= 0 or self.latency_ms <= 0 or self.workers <= 0:
            raise ValueError("rate, capacity, latency and workers must be above 0")
        if self.duration_s < 0 or self.slow_ms < 0 or self.timeout_ms <= 0:
            raise ValueError("the fault's length and slowdown cannot be negative")

    @property
    def retry_window_s(self) -> float:
        """How long after its first delivery an event is last tried."""
        if self.retries is None:
            return math.inf
        return self.retries * self.retry_interval_s

    @property
    def faulty_latency_ms(self) -> float:
        return self.latency_ms + (self.slow_ms if self.fault == SLOW else 0.0)

    @property
    def slow_capacity(self) -> float:
        """The consumer's capacity while the service is slowed by X ms."""
        return self.capacity * self.latency_ms / (self.latency_ms + self.slow_ms)


# Closed forms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slowdown:
    """A caller's worker pool in front of a service of latency L (Little's law)."""

    rate: float
    latency_ms: float
    workers: int
    in_flight: float
    utilisation: float
    saturated: bool
    admitted_per_s: float
    refused_per_s: float


def slowdown(rate: float, latency_ms: float, workers: int) -> Slowdown:
    """Calls in flight = rate × latency; a full pool refuses what it cannot hold."""
    in_flight = rate * latency_ms / 1000
    admitted = min(rate, workers * 1000 / latency_ms)
    return Slowdown(
        rate=rate,
        latency_ms=latency_ms,
        workers=workers,
        in_flight=in_flight,
        utilisation=in_flight / workers,
        saturated=in_flight >= workers,
        admitted_per_s=admitted,
        refused_per_s=max(0.0, rate - admitted),
    )


@dataclass(frozen=True)
class SyncOutcome:
    """What the synchronous design does through the fault."""

    failed_requests: float
    failed_per_s: float
    """While the fault lasts."""
    hold_ms: float
    """How long each call holds its worker while the fault lasts."""
    in_flight: float
    """Calls the users' traffic would keep in flight (R × hold), whether or not they fit."""
    peak_workers_busy: float
    saturated: bool
    recovery_s: float
    """After the fault ends, until the last call made during it has let go of its worker."""


def sync_outcome(s: Scenario) -> SyncOutcome:
    if s.fault == BROKER or s.duration_s == 0:
        hold_ms, answers = s.latency_ms, True
    elif s.fault == DOWN:
        hold_ms, answers = s.timeout_ms, False
    else:
        answers = s.faulty_latency_ms < s.timeout_ms
        hold_ms = min(s.faulty_latency_ms, s.timeout_ms)
    pool = slowdown(s.rate, hold_ms, s.workers)
    failed_per_s = s.rate if not answers else pool.refused_per_s
    return SyncOutcome(
        failed_requests=failed_per_s * s.duration_s,
        failed_per_s=failed_per_s,
        hold_ms=hold_ms,
        in_flight=pool.in_flight,
        peak_workers_busy=min(pool.in_flight, s.workers),
        saturated=pool.saturated,
        recovery_s=hold_ms / 1000 if hold_ms > s.latency_ms else 0.0,
    )


@dataclass(frozen=True)
class AsyncOutcome:
    """What the asynchronous design does through the fault."""

    failed_requests: float
    peak_backlog: float
    """The backlog when the service recovers: the peak whenever C > R."""
    drain_s: float | None
    """From recovery until the backlog is gone; None when it never drains (C ≤ R)."""
    max_lag_s: float
    """The oldest waiting event's age when the service recovers."""
    dead_letters: float
    all_handled_s: float | None
    """From the start of the fault until every event is handled or dead-lettered."""


def async_outcome(s: Scenario) -> AsyncOutcome:
    rate, T = s.rate, s.duration_s
    failed = dead = 0.0
    if s.fault == BROKER and not s.outbox:
        failed, backlog = rate * T, 0.0
    elif s.fault == SLOW:
        backlog = max(0.0, rate - s.slow_capacity) * T
    elif s.fault == DOWN:
        window = s.retry_window_s
        backlog = rate * min(T, window)
        dead = rate * max(0.0, T - window)
    else:
        backlog = rate * T
    if backlog == 0:
        drain: float | None = 0.0
    else:
        drain = backlog / (s.capacity - rate) if s.capacity > rate else None
    return AsyncOutcome(
        failed_requests=failed,
        peak_backlog=backlog,
        drain_s=drain,
        max_lag_s=backlog / rate,
        dead_letters=dead,
        all_handled_s=None if drain is None else T + drain,
    )


# Time series ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One design over time; every array has one value per point of ``times``."""

    times: np.ndarray = field(repr=False)
    failed: np.ndarray = field(repr=False)
    """Requests failed since the fault began (cumulative)."""
    workers_busy: np.ndarray = field(repr=False)
    queue_depth: np.ndarray = field(repr=False)
    lag_s: np.ndarray = field(repr=False)
    dead_letters: np.ndarray = field(repr=False)


def timeline(s: Scenario, points: int = POINTS) -> np.ndarray:
    """Times to chart: a little before the fault, through it, and the recovery after it."""
    sync, queued = sync_outcome(s), async_outcome(s)
    T = s.duration_s
    after = max(sync.recovery_s, T * 0.25, 1.0)
    if queued.drain_s is None:
        after = max(after, T)  # long enough to see the backlog still growing
    elif queued.drain_s > 0:
        # A very slow drain is cut off at twelve outage lengths; the numbers still give it.
        after = max(after, min(queued.drain_s * 1.15, 12 * max(T, 1.0)))
    end = T + after
    lead = 0.08 * end
    return np.linspace(-lead, end, points)


def _step(times: np.ndarray) -> float:
    return float(times[1] - times[0])


def simulate_sync(s: Scenario, times: np.ndarray) -> Series:
    """The synchronous design, stepped through ``times`` (evenly spaced)."""
    dt = _step(times)
    outcome = sync_outcome(s)
    during = (times >= 0) & (times < s.duration_s)
    hold_s = np.where(during, outcome.hold_ms, s.latency_ms) / 1000
    admitted = np.minimum(s.rate, s.workers / hold_s)
    # The share of each step [t_k, t_k + dt) that falls inside the fault.
    inside = np.clip(np.minimum(times + dt, s.duration_s) - np.maximum(times, 0.0), 0.0, None)
    failed = np.concatenate(([0.0], np.cumsum(outcome.failed_per_s * inside[:-1])))
    # Calls started in step k, [t_k, t_k + dt), are still open at t_j if they started after
    # t_j - hold_k. With F the running total of calls admitted, the busy workers at t_j are
    # F(t_j) - F(t_j - hold), taken separately for each holding time the run uses.
    edges = np.append(times, times[-1] + dt)
    busy = np.zeros_like(times)
    for hold in np.unique(hold_s):
        started = np.concatenate(([0.0], np.cumsum(np.where(hold_s == hold, admitted, 0) * dt)))
        busy += started[:-1] - np.interp(times - hold, edges, started, left=0.0)
    # Calls started before the first point, in the steady state, are still open for a while.
    usual_s = s.latency_ms / 1000
    busy += min(s.rate, s.workers / usual_s) * np.clip(times[0] - (times - usual_s), 0, None)
    busy = np.minimum(busy, s.workers)
    zeros = np.zeros_like(times)
    return Series(times, failed, busy, zeros, zeros.copy(), zeros.copy())


def simulate_async(s: Scenario, times: np.ndarray) -> Series:
    """The asynchronous design, stepped through ``times`` (evenly spaced)."""
    dt = _step(times)
    T, rate, window = s.duration_s, s.rate, s.retry_window_s
    n = times.size
    depth, lag, dead, failed = (np.zeros(n) for _ in range(4))
    queue = dead_total = failed_total = 0.0
    for k in range(n):
        depth[k], lag[k], dead[k], failed[k] = queue, queue / rate, dead_total, failed_total
        # Before the fault the consumer keeps up; a step may straddle the fault's start or
        # end, so it is split there.
        start, end = max(float(times[k]), 0.0), float(times[k]) + dt
        span_fault = max(0.0, min(end, T) - start)
        for length, faulty in ((span_fault, True), (max(0.0, end - start) - span_fault, False)):
            if length <= 0:
                continue
            arriving = rate * length
            capacity = s.capacity
            if faulty:
                if s.fault == BROKER and not s.outbox:
                    failed_total += arriving
                    arriving = 0.0
                elif s.fault == SLOW:
                    capacity = s.slow_capacity
                else:
                    capacity = 0.0
            queue = max(0.0, queue + arriving - capacity * length)
            if faulty and s.fault == DOWN and queue / rate > window:
                # The oldest events have had their last retry: they go to the dead letters.
                dead_total += queue - rate * window
                queue = rate * window
    zeros = np.zeros(n)
    return Series(times, failed, zeros, depth, lag, dead)


def simulate(s: Scenario, *, user_waits: bool, points: int = POINTS) -> Series:
    times = timeline(s, points)
    return simulate_sync(s, times) if user_waits else simulate_async(s, times)


# Workflows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """One way to build a workflow, seen from the faulty service."""

    name: str
    waits_on: frozenset[str]
    """Services the user's request calls synchronously, so the user waits on them."""
    uses_broker: bool


@dataclass(frozen=True)
class Workflow:
    slug: str
    title: str
    entry: str
    """The service that takes the user's request and makes the calls."""
    services: tuple[str, ...]
    designs: tuple[Design, Design]


def worked_example() -> Workflow:
    """The checkout from the worked example: Orders calls Payments, Inventory, Fulfillment."""
    services = ("Payments", "Inventory", "Fulfillment")
    return Workflow(
        slug="checkout",
        title="Checkout (the worked example)",
        entry="Orders",
        services=services,
        designs=(
            Design("The all-synchronous design", frozenset(services), uses_broker=False),
            Design("The hybrid design (only Payments sync)", frozenset({"Payments"}),
                   uses_broker=True),
        ),
    )


@dataclass(frozen=True)
class DesignRun:
    design: Design
    user_waits: bool
    """The fault reaches the user directly (sync design), or a queue stands between them."""
    affected: bool
    """Whether the fault touches this design at all (a broker fault spares a design with no
    broker)."""
    sync: SyncOutcome | None
    queued: AsyncOutcome | None
    series: Series


@dataclass(frozen=True)
class LabRun:
    scenario: Scenario
    workflow: Workflow
    service: str
    runs: tuple[DesignRun, ...]

    @property
    def times(self) -> np.ndarray:
        return self.runs[0].series.times


def run_lab(
    s: Scenario, workflow: Workflow, service: str, *, points: int = POINTS
) -> LabRun:
    """Both designs of ``workflow`` through one fault of ``service`` (or of the broker)."""
    times = timeline(s, points)
    runs = []
    for design in workflow.designs:
        if s.fault == BROKER:
            user_waits, affected = not design.uses_broker, design.uses_broker
        else:
            user_waits, affected = service in design.waits_on, True
        if user_waits:
            scenario = s if affected else _healthy(s)
            runs.append(DesignRun(design, True, affected, sync_outcome(scenario), None,
                                  simulate_sync(scenario, times)))
        else:
            runs.append(DesignRun(design, False, affected, None, async_outcome(s),
                                  simulate_async(s, times)))
    return LabRun(s, workflow, service, tuple(runs))


def _healthy(s: Scenario) -> Scenario:
    """The same system with a fault that does not touch it."""
    return Scenario(**{**s.__dict__, "fault": BROKER})


def first_time(times: np.ndarray, values: np.ndarray, *, after: float,
               at_most: float = 1e-9) -> float | None:
    """The first time past ``after`` at which ``values`` is at most ``at_most``."""
    mask = (times > after) & (values <= at_most)
    return float(times[np.argmax(mask)]) if mask.any() else None


def peak(values: Sequence[float] | np.ndarray) -> float:
    return float(np.max(values)) if len(values) else 0.0
