"""The arithmetic of synchronous chains, exact and simulated.

A request that crosses N synchronous hops needs every hop to answer, so failures compound and
latencies add up. This module gives both the closed forms (exact failure probability, the N·p
rule of thumb, the sum-of-p99s rule) and a Monte Carlo that shows what the rules leave out.

Model of one hop: it fails independently with probability ``failure`` and, when it answers, its
latency is lognormal with the given median and p99. A lognormal is fixed by those two numbers:
``ln(latency)`` is normal with mean ``ln(median)`` and standard deviation
``sigma = ln(p99 / median) / z_0.99``.

Everything here is plain numpy and has no knowledge of the web app.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Z_99 = 2.3263478740408408
"""The standard normal quantile at 0.99."""

Z_95_TWO_SIDED = 1.959963984540054
"""The standard normal quantile at 0.975, for two-sided 95% intervals."""

DEFAULT_SAMPLES = 100_000
MAX_SAMPLES = 1_000_000
MAX_DRAWS = 10_000_000
"""Samples × hops above this would keep one request busy for more than about a second."""

PERCENTILES = (0.5, 0.99, 0.999)

Seed = int | np.random.SeedSequence | None
"""Anything ``numpy.random.default_rng`` accepts as a seed; the same seed gives the same run."""

# Requests are simulated in blocks that stay in the CPU cache while each block is drawn,
# exponentiated and added, instead of materialising one huge samples × hops matrix.
_BLOCK = 1 << 15


# Closed forms -----------------------------------------------------------------------------


def chain_failure(failure: float, hops: int) -> float:
    """Exact probability that a chain of ``hops`` independent hops fails: 1 - (1 - p)^N."""
    if failure >= 1.0:
        return 1.0 if hops > 0 else 0.0
    # expm1/log1p keep the tiny probabilities of reliable hops accurate.
    return float(-math.expm1(hops * math.log1p(-failure)))


def chain_failure_linear(failure: float, hops: int) -> float:
    """The rule of thumb N·p. It overstates the exact value and can exceed 1."""
    return hops * failure


def p99_sum_rule(p99_ms: float, hops: int) -> float:
    """The rule of thumb for tail latency: the chain's p99 is the sum of the hops' p99s."""
    return hops * p99_ms


def fanout_slow(slow: float, servers: int) -> float:
    """Probability that a request waiting on ``servers`` parallel calls meets a slow one.

    Each call is slow independently with probability ``slow``; the request is as slow as its
    slowest call, so it is slow unless every call is fast: 1 - (1 - q)^M.
    """
    return chain_failure(slow, servers)


def lognormal_sigma(median_ms: float, p99_ms: float) -> float:
    """The log-space standard deviation of a lognormal with this median and p99."""
    if not 0 < median_ms < p99_ms:
        raise ValueError("a lognormal needs 0 < median < p99")
    return math.log(p99_ms / median_ms) / Z_99


# Hops and workflows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hop:
    """One service-to-service call: its failure probability and latency distribution."""

    name: str
    failure: float
    median_ms: float
    p99_ms: float
    sync: bool = True

    @property
    def sigma(self) -> float:
        return lognormal_sigma(self.median_ms, self.p99_ms)


def uniform_chain(hops: int, *, failure: float, median_ms: float, p99_ms: float) -> list[Hop]:
    """A chain of identical synchronous hops."""
    return [Hop(f"Hop {i}", failure, median_ms, p99_ms) for i in range(1, hops + 1)]


def critical_path(hops: Sequence[Hop]) -> list[Hop]:
    """The hops the user waits for. Asynchronous hops run after the response has gone out."""
    return [hop for hop in hops if hop.sync]


def path_failure(hops: Sequence[Hop]) -> float:
    """Exact failure probability of a path of independent hops: 1 - Π(1 - p_i)."""
    if any(hop.failure >= 1.0 for hop in hops):
        return 1.0
    return float(-math.expm1(math.fsum(math.log1p(-hop.failure) for hop in hops)))


def worked_example(*, failure: float, median_ms: float, p99_ms: float) -> dict[str, list[Hop]]:
    """The checkout from the worked example, designed two ways.

    Orders calls Payments, Inventory and Fulfillment. In the all-synchronous design the customer
    waits for all three; in the hybrid design only the payment is synchronous and Inventory and
    Fulfillment react to an event afterwards.
    """
    services = ("Payments", "Inventory", "Fulfillment")
    return {
        "All synchronous": [Hop(name, failure, median_ms, p99_ms) for name in services],
        "Hybrid": [
            Hop(name, failure, median_ms, p99_ms, sync=name == "Payments") for name in services
        ],
    }


# Monte Carlo ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateEstimate:
    """A simulated proportion with its 95% Wilson score interval."""

    events: int
    trials: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.events / self.trials if self.trials else 0.0

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def wilson_interval(events: int, trials: int, z: float = Z_95_TWO_SIDED) -> RateEstimate:
    """The Wilson score interval, which stays inside [0, 1] and behaves at rates near 0 or 1."""
    if trials <= 0:
        return RateEstimate(events, trials, 0.0, 1.0)
    rate = events / trials
    z2 = z * z
    centre = rate + z2 / (2 * trials)
    spread = z * math.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials))
    scale = 1 + z2 / trials
    # At 0 or all events the bound equals the rate exactly in theory; rounding must not let the
    # interval miss its own estimate.
    low = min(rate, max(0.0, (centre - spread) / scale))
    high = max(rate, min(1.0, (centre + spread) / scale))
    return RateEstimate(events, trials, low, high)


@dataclass(frozen=True)
class ChainSimulation:
    """What K simulated requests through a chain of synchronous hops experienced."""

    hops: int
    samples: int
    failure: RateEstimate
    p50_ms: float
    p99_ms: float
    p999_ms: float

    @property
    def failure_rate(self) -> float:
        return self.failure.rate


def check_budget(samples: int, hops: int) -> None:
    """Refuse simulations larger than the documented bounds."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between 1 and {MAX_SAMPLES:,}")
    if samples * hops > MAX_DRAWS:
        raise ValueError(f"samples × hops must stay at or below {MAX_DRAWS:,}")


def simulate_chain(
    hops: Sequence[Hop], *, samples: int = DEFAULT_SAMPLES, seed: Seed = None
) -> ChainSimulation:
    """Send ``samples`` requests through ``hops`` one after another and summarise them.

    Only the hops marked synchronous are on the request's path; pass a whole workflow and the
    asynchronous ones are left out, as they are for the user.
    """
    path = critical_path(hops)
    check_budget(samples, len(path))
    return _walk(path, samples, seed, every_length=False)[-1]


def simulate_chain_lengths(
    hop: Hop, max_hops: int, *, samples: int = DEFAULT_SAMPLES, seed: Seed = None
) -> list[ChainSimulation]:
    """Simulate chains of 1, 2, … ``max_hops`` copies of ``hop`` in one pass.

    Chain N+1 is chain N plus one more hop, so one set of requests walked hop by hop gives every
    length at the cost of the longest one. With the same seed, the chain of N hops here matches
    ``simulate_chain`` of N hops exactly.
    """
    check_budget(samples, max_hops)
    return _walk([hop] * max_hops, samples, seed, every_length=True)


def _walk(
    path: Sequence[Hop], samples: int, seed: Seed, *, every_length: bool
) -> list[ChainSimulation]:
    """Walk ``samples`` requests through ``path`` and summarise them after the last hop, or
    after every hop when ``every_length`` is set."""
    if not path:
        return [ChainSimulation(0, samples, wilson_interval(0, samples), 0.0, 0.0, 0.0)]
    # Failures and latencies come from separate streams, so how a walk interleaves them never
    # changes the numbers.
    failure_rng, latency_rng = np.random.default_rng(seed).spawn(2)
    # Which requests fail does not change any latency, so only the count is needed: the
    # survivors of each hop are a binomial draw from the survivors of the hop before.
    survivors = [samples]
    for hop in path:
        survivors.append(int(failure_rng.binomial(survivors[-1], 1.0 - hop.failure)))

    def summary(hops: int, totals: np.ndarray) -> ChainSimulation:
        p50, p99, p999 = _percentiles(totals, PERCENTILES)
        failure = wilson_interval(samples - survivors[hops], samples)
        return ChainSimulation(hops, samples, failure, p50, p99, p999)

    total = np.zeros(samples)
    if not every_length:
        _add_latencies(latency_rng, total, path)
        return [summary(len(path), total)]
    scratch = np.empty(samples)
    summaries = []
    for index, hop in enumerate(path, start=1):
        _add_latencies(latency_rng, total, [hop])
        np.copyto(scratch, total)  # percentiles reorder their input; the totals go on
        summaries.append(summary(index, scratch))
    return summaries


def _add_latencies(rng: np.random.Generator, total: np.ndarray, hops: Sequence[Hop]) -> None:
    """Add one lognormal latency per hop to every request's running total, in place.

    The normals are drawn hop after hop, each hop's in request order, through a buffer small
    enough to stay in the CPU cache: part of one hop at a time when there are many requests,
    several whole hops at a time when there are few (long chains would otherwise pay Python's
    overhead once per hop). Either way the draws and the additions happen in the same order, so
    the result does not depend on the blocking.
    """
    samples = total.size
    sigmas = [hop.sigma for hop in hops]
    log_medians = [math.log(hop.median_ms) for hop in hops]
    if samples >= _BLOCK:
        block = np.empty(_BLOCK)
        for sigma, log_median in zip(sigmas, log_medians, strict=True):
            for start in range(0, samples, _BLOCK):
                part = block[: min(_BLOCK, samples - start)]
                rng.standard_normal(out=part)
                part *= sigma
                part += log_median
                np.exp(part, out=part)
                total[start : start + part.size] += part
        return
    rows = _BLOCK // samples
    block = np.empty((min(rows, len(hops)), samples))
    for first in range(0, len(hops), rows):
        part = block[: min(rows, len(hops) - first)]
        rng.standard_normal(out=part)
        part *= np.array(sigmas[first : first + len(part)])[:, None]
        part += np.array(log_medians[first : first + len(part)])[:, None]
        np.exp(part, out=part)
        for row in part:
            total += row


def _percentiles(values: np.ndarray, levels: Sequence[float]) -> list[float]:
    """Linearly interpolated percentiles (numpy's default method) by partial sorting in place.

    Selecting the few ranks needed is linear in the number of samples where a full sort is not;
    ``values`` is reordered.
    """
    n = values.size
    positions = [level * (n - 1) for level in levels]
    ranks = sorted({r for p in positions for r in (math.floor(p), min(math.floor(p) + 1, n - 1))})
    # One rank at a time, each in the part above the previous one: numpy's multi-rank partition
    # is several times slower than this on large arrays.
    start = 0
    for rank in ranks:
        values[start:].partition(rank - start)
        start = rank + 1
    result = []
    for position in positions:
        low = math.floor(position)
        high = min(low + 1, n - 1)
        result.append(float(values[low] + (values[high] - values[low]) * (position - low)))
    return result


# Fan-out ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanoutSimulation:
    """Simulated share of slow requests for each fan-out width."""

    samples: int
    servers: tuple[int, ...]
    slow: tuple[RateEstimate, ...] = field(repr=False)


def simulate_fanout(
    slow: float,
    servers: Sequence[int],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: Seed = None,
) -> FanoutSimulation:
    """Simulate requests that each wait on M parallel calls, for every M in ``servers``.

    Checking each call in turn, the first slow one turns up after a geometric number of calls.
    A request fanning out to M servers is slow exactly when that number is at most M, so one
    geometric draw per request answers the question for every M at once, however many servers.
    """
    check_budget(samples, 1)
    widths = tuple(int(m) for m in servers)
    if slow <= 0.0:
        counts = [0] * len(widths)
    elif slow >= 1.0:
        counts = [samples] * len(widths)
    else:
        rng = np.random.default_rng(seed)
        first_slow = np.sort(rng.geometric(slow, size=samples))
        counts = np.searchsorted(first_slow, widths, side="right").tolist()
    return FanoutSimulation(
        samples, widths, tuple(wilson_interval(int(c), samples) for c in counts)
    )


# Hops with their own settings, correlated slowness, timeouts and retries -------------------


@dataclass(frozen=True)
class HopPolicy:
    """How the caller treats one hop: give up on an attempt after ``timeout_ms`` (None waits
    for ever) and try again up to ``retries`` times."""

    timeout_ms: float | None = None
    retries: int = 0


def attempt_failure(hop: Hop, policy: HopPolicy) -> float:
    """Chance that one attempt fails: the hop errs, or answers after the timeout."""
    if policy.timeout_ms is None:
        return hop.failure
    z = (math.log(policy.timeout_ms) - math.log(hop.median_ms)) / hop.sigma
    on_time = 0.5 * math.erfc(-z / math.sqrt(2))
    return 1 - (1 - hop.failure) * on_time


def hop_failure_with_retries(hop: Hop, policy: HopPolicy) -> float:
    """The hop fails only if every one of its 1 + r attempts does: q^(1 + r)."""
    return attempt_failure(hop, policy) ** (1 + policy.retries)


def expected_attempts(hop: Hop, policy: HopPolicy) -> float:
    """Attempts the hop sees per call that reaches it: 1 + q + … + q^r (retry amplification)."""
    q = attempt_failure(hop, policy)
    return float(sum(q**k for k in range(policy.retries + 1)))


def path_load(hops: Sequence[Hop], policies: Sequence[HopPolicy]) -> list[float]:
    """Attempts each hop sees per user request: only calls that got past every earlier hop
    reach it, and each of those makes ``expected_attempts`` tries."""
    load, reach = [], 1.0
    for hop, policy in zip(hops, policies, strict=True):
        load.append(reach * expected_attempts(hop, policy))
        reach *= 1 - hop_failure_with_retries(hop, policy)
    return load


def comonotonic_p99(hops: Sequence[Hop]) -> float:
    """The chain's p99 when every hop is slow at once (c = 1): exactly the sum of the p99s.

    A sum of latencies that all rise and fall with one shared draw is an increasing function
    of that draw, so its quantiles are the sums of the hops' quantiles.
    """
    return math.fsum(hop.p99_ms for hop in hops)


@dataclass(frozen=True)
class HopOutcome:
    name: str
    reached: float
    """Share of requests that called this hop."""
    attempts: float
    """Attempts per user request: the load this hop sees (1.0 without retries or failures)."""
    failure: float
    """Share of the calls reaching this hop that failed after every retry."""
    timed_out: float
    """Share of attempts cut off by the timeout."""


@dataclass(frozen=True)
class PathSimulation:
    """K requests through hops with their own settings, possibly slow together."""

    samples: int
    correlation: float
    failure: RateEstimate
    p50_ms: float
    p99_ms: float
    p999_ms: float
    sum_p99_ms: float
    hops: tuple[HopOutcome, ...]
    histogram_edges: tuple[float, ...] = field(repr=False)
    histogram_counts: tuple[int, ...] = field(repr=False)

    @property
    def failure_rate(self) -> float:
        return self.failure.rate


HISTOGRAM_BINS = 60


def check_path_budget(samples: int, policies: Sequence[HopPolicy]) -> None:
    attempts = sum(1 + policy.retries for policy in policies)
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between 1 and {MAX_SAMPLES:,}")
    if samples * attempts > MAX_DRAWS:
        raise ValueError(f"samples × attempts must stay at or below {MAX_DRAWS:,}")


def simulate_path(
    hops: Sequence[Hop],
    policies: Sequence[HopPolicy] | None = None,
    *,
    correlation: float = 0.0,
    samples: int = DEFAULT_SAMPLES,
    seed: Seed = None,
) -> PathSimulation:
    """Send ``samples`` requests through ``hops`` one after another, each hop with its own
    failure, latency, timeout and retries.

    Correlated slowness: with probability ``correlation`` a request meets a shared bad (or
    good) moment, in which one draw sets how far into its tail every hop's first attempt goes;
    otherwise the hops are independent. At correlation 1 the total is an increasing function of
    one draw, so its p99 is the sum of the hops' p99s. Retries draw afresh. A request stops at
    the first hop that fails after all its retries; its latency, success or not, is the time
    the user waited, and the histogram and percentiles cover every request.
    """
    if not 0.0 <= correlation <= 1.0:
        raise ValueError("correlation must be between 0 and 1")
    policies = list(policies) if policies is not None else [HopPolicy()] * len(hops)
    if len(policies) != len(hops):
        raise ValueError("one policy per hop")
    check_path_budget(samples, policies)
    rng = np.random.default_rng(seed)
    together = rng.random(samples) < correlation
    shared = rng.standard_normal(samples)
    total = np.zeros(samples)
    alive = np.ones(samples, dtype=bool)
    outcomes = []
    for hop, policy in zip(hops, policies, strict=True):
        reached = int(alive.sum())
        done = np.zeros(samples, dtype=bool)
        attempts = timeouts = 0
        mu, sigma = math.log(hop.median_ms), hop.sigma
        for attempt in range(1 + policy.retries):
            active = np.flatnonzero(alive & ~done)
            if active.size == 0:
                break
            z = rng.standard_normal(active.size)
            if attempt == 0:
                z = np.where(together[active], shared[active], z)
            latency = np.exp(mu + sigma * z)
            errs = rng.random(active.size) < hop.failure
            if policy.timeout_ms is not None:
                late = latency > policy.timeout_ms
                latency = np.minimum(latency, policy.timeout_ms)
                timeouts += int(late.sum())
                errs |= late
            total[active] += latency
            attempts += active.size
            done[active[~errs]] = True
        failed_here = reached - int((alive & done).sum())
        outcomes.append(HopOutcome(
            hop.name,
            reached / samples,
            attempts / samples,
            failed_here / reached if reached else 0.0,
            timeouts / attempts if attempts else 0.0,
        ))
        alive &= done
    failures = samples - int(alive.sum())
    top = float(np.quantile(total, 0.999)) * 1.25 if samples else 1.0
    top = max(top, 1e-9)
    # The rare requests past the chart's edge are counted in its last bar.
    counts, edges = np.histogram(np.minimum(total, top), bins=HISTOGRAM_BINS, range=(0.0, top))
    p50, p99, p999 = _percentiles(total.copy(), PERCENTILES)
    return PathSimulation(
        samples=samples,
        correlation=correlation,
        failure=wilson_interval(failures, samples),
        p50_ms=p50,
        p99_ms=p99,
        p999_ms=p999,
        sum_p99_ms=comonotonic_p99(hops),
        hops=tuple(outcomes),
        histogram_edges=tuple(float(e) for e in edges),
        histogram_counts=tuple(int(c) for c in counts),
    )
