"""Benchmark: the outage lab's time series and charts for the largest inputs it accepts.

Runs the worked example through each fault (service down, service slow, broker down) with every
input at its documented maximum, building the time series of both designs, the four plotly
figures, their readings and table rows: everything the lab computes for one page. Run from the
project root:

    .venv/bin/python benchmarks/outage.py

Target: the slowest fault under 0.25 s (well under a second).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator import outage, outage_charts, outage_forms  # noqa: E402

ROUNDS = 7
TARGET_SECONDS = 0.25


def largest(fault: str) -> outage.Scenario:
    return outage.Scenario(
        rate=outage_forms.MAX_RATE,
        capacity=outage_forms.MAX_CAPACITY,
        fault=fault,
        duration_s=outage_forms.MAX_DURATION_S,
        slow_ms=outage_forms.MAX_MS,
        latency_ms=outage_forms.MAX_MS,
        timeout_ms=outage_forms.MAX_MS,
        workers=outage_forms.MAX_WORKERS,
        retries=outage_forms.MAX_RETRIES,
        retry_interval_s=outage_forms.MAX_RETRY_INTERVAL_S,
    )


def lab_page(scenario: outage.Scenario) -> None:
    lab = outage.run_lab(scenario, outage.worked_example(), "Inventory")
    outage_charts.figures(lab)
    outage_charts.readings(lab)
    for key, _, _ in outage_charts.CHARTS:
        outage_charts.table_rows(lab, key)


def main() -> int:
    results = {}
    for fault in outage.FAULTS:
        scenario = largest(fault)
        lab_page(scenario)  # warm up lazy imports and plotly's validators
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            lab_page(scenario)
            times.append(time.perf_counter() - start)
        results[fault] = min(times)
    print(f"outage lab, largest inputs, {outage.POINTS} points a series, best of {ROUNDS}")
    for fault, seconds in results.items():
        print(f"  {fault:>6}: {seconds:.3f} s")
    worst = max(results.values())
    met = worst < TARGET_SECONDS
    print(f"slowest {worst:.3f} s (target < {TARGET_SECONDS} s): "
          + ("target met" if met else "TARGET MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
