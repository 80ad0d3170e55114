"""The problem whose answer only the simulator knows: how far the sum-of-p99s rule overstates a
chain's true p99.

The true p99 of a chain of independent lognormal hops has no closed form, so the learner reads
it off the calculator set to their numbers, and the answer is the same simulation (same
requests, same seed), kept in the shared cache like every other simulation.
"""

import random
from urllib.parse import urlencode

from django.urls import reverse

from courseware import problems
from courseware.problems import Link, Params, number
from simulator import memo, model

SAMPLES = 100_000
SEED = 2013
MEDIANS_MS = (10, 15, 20, 25, 30, 40)
# p99 ÷ median: tails from moderate to heavy, all light enough that the rule overstates.
TAIL_RATIOS = (3, 4, 5)


def draw(rng: random.Random) -> Params:
    median = rng.choice(MEDIANS_MS)
    ratio = rng.choice(TAIL_RATIOS)
    return {"hops": rng.randint(2, 8), "median_ms": median, "p99_ms": median * ratio}


def chain(params: Params) -> list[model.Hop]:
    return model.uniform_chain(
        int(params["hops"]), failure=0.0, median_ms=float(params["median_ms"]),
        p99_ms=float(params["p99_ms"]),
    )


def true_p99(params: Params) -> float:
    """The chain's p99 as the calculator shows it for these numbers, computed once for all."""
    inputs = {
        "hops": int(params["hops"]), "median_ms": float(params["median_ms"]),
        "p99_ms": float(params["p99_ms"]), "samples": SAMPLES, "seed": SEED,
    }
    return memo.remembered(
        "problem-chain-p99",
        lambda: model.simulate_chain(chain(params), samples=SAMPLES, seed=SEED).p99_ms,
        **inputs,
    )


def rule(params: Params) -> float:
    return model.p99_sum_rule(float(params["p99_ms"]), int(params["hops"]))


def answer(params: Params) -> float:
    return rule(params) - true_p99(params)


def prompt(params: Params) -> str:
    hops = int(params["hops"])
    return (
        f"A request crosses {hops} synchronous hops in a row. Each hop's latency has a median of "
        f"{int(params['median_ms'])} ms and a p99 of {int(params['p99_ms'])} ms (log-normal), "
        f"independently of the others, so the sum-of-p99s rule puts the chain's p99 at "
        f"{hops} × {int(params['p99_ms'])} = {number(rule(params))} ms. Find the chain's true p99 "
        f"with the calculator set to your numbers ({SAMPLES:,} simulated requests, seed {SEED}). "
        "By how many milliseconds does the rule overstate it?"
    )


def solution(params: Params) -> list[str]:
    hops, p99 = int(params["hops"]), int(params["p99_ms"])
    simulated, budget = true_p99(params), rule(params)
    together = model.comonotonic_p99(chain(params))
    return [
        f"The rule adds up the hops' p99s: {hops} × {p99} ms = {number(budget)} ms.",
        f"The calculator's chain of {hops} hops ({SAMPLES:,} requests, seed {SEED}) has a p99 of "
        f"{number(simulated)} ms.",
        f"The rule overstates it by {number(budget)} − {number(simulated)} = "
        f"{number(budget - simulated)} ms, that is "
        f"{number((budget - simulated) / budget * 100, 3)}% of its own figure.",
        "For the sum to be reached every hop would have to be at its p99 in the same request; "
        "independent hops are rarely slow together, so the slowest 1% of requests are mostly one "
        "slow hop among ordinary ones.",
        f"Hops that are slow at the same moments (sharing a database or a host) would bring the "
        f"p99 back up to {number(together)} ms, the rule's figure: it is a planning bound, not a "
        "measurement.",
    ]


def links(params: Params) -> list[Link]:
    query = {
        "hops": int(params["hops"]), "max_hops": max(10, int(params["hops"])),
        "median_ms": int(params["median_ms"]), "p99_ms": int(params["p99_ms"]),
        "samples": SAMPLES, "seed": SEED,
    }
    return [Link(
        "Open the calculator with your numbers",
        f"{reverse('simulator:calculator')}?{urlencode(query)}#simulator-results",
    )]


P99_SUM = problems.ProblemType(
    name="p99-sum-overstatement",
    label="How far the sum of p99s overstates a chain's p99",
    unit=problems.MILLISECONDS,
    tolerance=problems.Tolerance(relative=0.02, absolute=2.0),
    draw=draw,
    answer=answer,
    prompt=prompt,
    solution=solution,
    links=links,
)
