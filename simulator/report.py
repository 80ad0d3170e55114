"""Turn calculator inputs into the numbers, tables and one-line readings the page shows.

Plain Python on top of ``simulator.model``; the plotly figures are drawn from these results by
``simulator.charts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator import model

FANOUT_WIDTHS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)
TAIL_AT_SCALE = (100, 0.01)
"""Dean and Barroso's example: 100 servers, each slow one time in 100."""


def percent(value: float) -> str:
    """A probability as a percentage with three significant figures: 4.90%, 63.4%, 0.0100%."""
    if value == 0:
        return "0%"
    scaled = value * 100
    if scaled >= 100:
        return f"{scaled:,.0f}%"
    decimals = max(0, 2 - math.floor(math.log10(abs(scaled))))
    return f"{scaled:.{decimals}f}%"


def milliseconds(value: float) -> str:
    """A latency rounded for reading: 3 significant figures, at least whole milliseconds."""
    if value >= 100 or value == 0:
        return f"{value:,.0f} ms"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f} ms"


def times(value: float) -> str:
    return f"{value:,.1f}×" if value < 10 else f"{value:,.0f}×"


@dataclass(frozen=True)
class ChainRow:
    hops: int
    exact: float
    linear: float
    sum_rule_ms: float
    simulated: model.ChainSimulation


@dataclass(frozen=True)
class FanoutRow:
    servers: int
    exact: float
    linear: float
    simulated: model.RateEstimate


@dataclass(frozen=True)
class DesignRow:
    name: str
    sync_hops: list[str]
    async_hops: list[str]
    exact: float
    linear: float
    sum_rule_ms: float
    simulated: model.ChainSimulation


@dataclass(frozen=True)
class Calculation:
    failure: float
    median_ms: float
    p99_ms: float
    hops: int
    servers: int
    slow: float
    samples: int
    seed: int
    chain: list[ChainRow]
    fanout: list[FanoutRow]
    fanout_curve: list[tuple[int, float]]
    designs: list[DesignRow]

    @property
    def focus(self) -> ChainRow:
        if self.hops == 0:
            nothing = model.ChainSimulation(
                0, self.samples, model.wilson_interval(0, self.samples), 0.0, 0.0, 0.0
            )
            return ChainRow(0, 0.0, 0.0, 0.0, nothing)
        return self.chain[self.hops - 1]

    @property
    def fanout_focus(self) -> FanoutRow:
        return next(row for row in self.fanout if row.servers == self.servers)

    @property
    def availability(self) -> float:
        return 1 - self.failure

    @property
    def failure_reading(self) -> str:
        row = self.focus
        hops = f"{row.hops} sync hop{'s' if row.hops != 1 else ''}"
        if row.hops == 0:
            return (
                "With no sync hops the user waits for no other service, so no other service's "
                "failure reaches the user."
            )
        if self.failure == 0:
            return f"With p = 0 no hop ever fails, so a chain of {hops} never fails either."
        if self.failure == 1:
            return "With p = 1 every hop fails, so every chain fails, whatever its length."
        text = (
            f"A chain of {hops}, each failing {percent(self.failure)} of the time, fails "
            f"{percent(row.exact)} of requests: {times(row.exact / self.failure)} a single hop."
        )
        if row.linear > 1:
            return text + (
                f" The N·p rule says {percent(row.linear)}, which no probability can be."
            )
        gap = row.linear - row.exact
        if gap < 0.0005 * row.exact or percent(row.linear) == percent(row.exact):
            return text + f" Here N·p ({percent(row.linear)}) is a close estimate."
        return text + f" N·p says {percent(row.linear)}, overstating it."

    @property
    def latency_reading(self) -> str:
        row = self.focus
        simulated, rule = row.simulated.p99_ms, row.sum_rule_ms
        start = f"At {row.hops} hop{'s' if row.hops != 1 else ''} the simulated p99 is "
        if row.hops == 0:
            return "With no sync hops, no other service's latency is added to the user's wait."
        if row.hops == 1:
            if milliseconds(simulated) == milliseconds(rule):
                return start + (
                    f"{milliseconds(simulated)}, the hop's own p99: with one hop there is "
                    "nothing to add up yet."
                )
            return start + (
                f"{milliseconds(simulated)}, against the hop's own p99 of {milliseconds(rule)}: "
                "with one hop there is nothing to add up yet, and the small gap is sampling "
                f"noise from {self.samples:,} random requests."
            )
        change = (rule - simulated) / rule
        if simulated <= rule:
            return start + (
                f"{milliseconds(simulated)}, {change:.0%} below the {milliseconds(rule)} of the "
                "sum-of-p99s rule: the slow moments of independent hops seldom coincide."
            )
        return start + (
            f"{milliseconds(simulated)}, above the {milliseconds(rule)} of the sum-of-p99s rule: "
            "with a tail this heavy, one very slow hop can outweigh all the others together."
        )

    @property
    def fanout_reading(self) -> str:
        row = self.fanout_focus
        text = (
            f"A request that waits on all {row.servers:,} servers, each slow "
            f"{percent(self.slow)} of the time, is slow {percent(row.exact)} of the time"
        )
        if 0 < self.slow < 1 and row.servers > 1:
            text += f", {times(row.exact / self.slow)} the rate of one server"
        return text + f" (simulated: {percent(row.simulated.rate)})."

    @property
    def design_reading(self) -> str:
        sync, hybrid = self.designs
        moved = " and ".join(hybrid.async_hops)
        if self.failure == 0:
            failure = "keeps the user-facing failure probability at 0"
        else:
            failure = (
                f"cuts the user-facing failure probability from {percent(sync.exact)} to "
                f"{percent(hybrid.exact)}"
            )
        return (
            f"Making {moved} asynchronous {failure} and the simulated p99 from "
            f"{milliseconds(sync.simulated.p99_ms)} to {milliseconds(hybrid.simulated.p99_ms)}."
        )


def fanout_curve_widths(servers: int) -> list[int]:
    """Fan-out widths spaced evenly on a log axis from 1 to 10,000, plus the chosen one."""
    widths = set(np.unique(np.round(np.logspace(0, 4, 120)).astype(int)).tolist())
    widths.update({servers, TAIL_AT_SCALE[0]})
    return sorted(widths)


def calculate(
    *,
    failure: float,
    median_ms: float,
    p99_ms: float,
    hops: int,
    max_hops: int,
    servers: int,
    slow: float,
    samples: int,
    seed: int,
) -> Calculation:
    """Every number the calculator shows, for one set of validated inputs."""
    max_hops = max(hops, max_hops, 1)
    # The chain uses the seed as given, so the API with the same seed reproduces its numbers;
    # the other two simulations get independent streams derived from it.
    design_seed, fanout_seed = np.random.SeedSequence(seed).spawn(2)
    hop = model.Hop("hop", failure, median_ms, p99_ms)
    runs = model.simulate_chain_lengths(hop, max_hops, samples=samples, seed=seed)
    chain = [
        ChainRow(
            run.hops,
            model.chain_failure(failure, run.hops),
            model.chain_failure_linear(failure, run.hops),
            model.p99_sum_rule(p99_ms, run.hops),
            run,
        )
        for run in runs
    ]

    widths = sorted({w for w in FANOUT_WIDTHS} | {servers})
    fanout_sim = model.simulate_fanout(slow, widths, samples=samples, seed=fanout_seed)
    fanout = [
        FanoutRow(width, model.fanout_slow(slow, width), width * slow, estimate)
        for width, estimate in zip(fanout_sim.servers, fanout_sim.slow, strict=True)
    ]
    curve = [(width, model.fanout_slow(slow, width)) for width in fanout_curve_widths(servers)]

    designs = []
    design_rngs = design_seed.spawn(2)
    worked = model.worked_example(failure=failure, median_ms=median_ms, p99_ms=p99_ms)
    for (name, workflow), stream in zip(worked.items(), design_rngs, strict=True):
        path = model.critical_path(workflow)
        designs.append(
            DesignRow(
                name,
                [h.name for h in path],
                [h.name for h in workflow if not h.sync],
                model.path_failure(path),
                sum(h.failure for h in path),
                sum(h.p99_ms for h in path),
                model.simulate_chain(workflow, samples=samples, seed=stream),
            )
        )

    return Calculation(
        failure=failure,
        median_ms=median_ms,
        p99_ms=p99_ms,
        hops=hops,
        servers=servers,
        slow=slow,
        samples=samples,
        seed=seed,
        chain=chain,
        fanout=fanout,
        fanout_curve=curve,
        designs=designs,
    )
