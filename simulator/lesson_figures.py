"""The latency-math lesson's figures, drawn from the simulator's model: failure against the
number of hops, the sum-of-p99 rule against the simulated p99, fan-out, and the end-to-end
histogram with its percentiles, each with a correlation control where slowness can be shared.
Registered in the course's figure registry; simulations come from the shared cache (memo)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from courseware import figures, svgplot
from courseware.figure_forms import FigureForm, number_input, range_input
from simulator import memo, model
from simulator.report import percent

SAMPLES = 20_000
SEED = 20_240_601


class FailureForm(FigureForm):
    hops = forms.IntegerField(label="Hops, N", min_value=1, max_value=100, initial=5,
                              widget=range_input(1, 100, 1))
    failure_pct = forms.FloatField(label="Failure per hop, p (%)", min_value=0.01, max_value=50,
                                   initial=1.0, widget=number_input(0.01, 50, 0.01))


class LatencyForm(FigureForm):
    hops = forms.IntegerField(label="Hops, N", min_value=1, max_value=10, initial=5,
                              widget=range_input(1, 10, 1))
    correlation = forms.FloatField(
        label="Slow together, c", min_value=0, max_value=1, initial=0.0,
        widget=range_input(0, 1, 0.05),
    )
    median_ms = forms.IntegerField(label="Median per hop (ms)", min_value=1, max_value=1000,
                                   initial=20, widget=number_input(1, 1000, 1))
    p99_ms = forms.IntegerField(label="p99 per hop (ms)", min_value=2, max_value=5000,
                                initial=100, widget=number_input(2, 5000, 1))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        median, p99 = data.get("median_ms"), data.get("p99_ms")
        if median is not None and p99 is not None and p99 <= median:
            self.add_error("p99_ms", "The p99 must be above the median.")
        return data


class FanoutForm(FigureForm):
    servers = forms.IntegerField(label="Servers called in parallel, M", min_value=1,
                                 max_value=200, initial=100, widget=range_input(1, 200, 1))
    slow_pct = forms.FloatField(label="Chance one server is slow, q (%)", min_value=0.01,
                                max_value=50, initial=1.0, widget=number_input(0.01, 50, 0.01))


def _compound_chart(count: int, rate: float, x_title: str, y_title: str,
                    rule_label: str) -> tuple[svgplot.Chart, list[dict[str, Any]]]:
    top_n = max(10, min(200, count * 2))
    exact = [(n, model.chain_failure(rate, n)) for n in range(1, top_n + 1)]
    rule = [(n, min(n * rate, 1.0)) for n in range(1, top_n + 1)]
    y_max = svgplot.nice_max(max(max(e for _, e in exact), min(top_n * rate, 1.0)))
    chart = svgplot.Chart(x_title, y_title, 1, top_n, 0, min(y_max, 1.0))
    chart.add_line("Exact: 1 − (1 − p)^N", "line-a", exact)
    chart.add_line(rule_label, "line-b", rule, dashed=True)
    chart.add_vmark(count, f"N = {count}", "mark-now")
    chart.ticks(svgplot.plain, svgplot.percent)
    rows = sorted({1, 2, 5, 10, 20, 50, 100, 200, count} & set(range(1, top_n + 1)))
    table = [
        {"n": n, "exact": percent(model.chain_failure(rate, n)), "rule": percent(n * rate),
         "gap": f"{(n * rate - model.chain_failure(rate, n)) * 100:.2f} points",
         "current": n == count}
        for n in rows
    ]
    return chart, table


def failure_context(query: QueryDict) -> dict[str, Any]:
    form = FailureForm(query, prefix="failure")
    v = form.values()
    n, p = int(v["hops"]), float(v["failure_pct"]) / 100
    chart, table = _compound_chart(n, p, "Hops on the critical path, N", "Chance the request fails",
                                   "Rule of thumb: N · p")
    exact = model.chain_failure(p, n)
    reading = (f"With N = {n} and p = {percent(p)}, the request fails {percent(exact)} of the "
               f"time; N · p says {percent(n * p)}, {'over 100%, ' if n * p > 1 else ''}"
               f"too high by {(n * p - exact) * 100:.2f} points.")
    return {"form": form, "chart": chart, "table": table, "reading": reading,
            "columns": ("Hops, N", "Exact", "N · p", "Rule overstates by")}


def fanout_context(query: QueryDict) -> dict[str, Any]:
    form = FanoutForm(query, prefix="fanout")
    v = form.values()
    m, q = int(v["servers"]), float(v["slow_pct"]) / 100
    chart, table = _compound_chart(m, q, "Servers called in parallel, M",
                                   "Chance the request is slow", "Rule of thumb: M · q")
    slow = model.fanout_slow(q, m)
    reading = (f"A request that waits for all {m} servers is as slow as the slowest: it is slow "
               f"{percent(slow)} of the time, though each server is slow only {percent(q)} "
               f"of the time.")
    return {"form": form, "chart": chart, "table": table, "reading": reading,
            "columns": ("Servers, M", "Exact", "M · q", "Rule overstates by")}


def _path(hops: int, median_ms: float, p99_ms: float, correlation: float) -> model.PathSimulation:
    chain = model.uniform_chain(hops, failure=0.0, median_ms=median_ms, p99_ms=p99_ms)
    return memo.remembered(
        "lesson-path",
        lambda: model.simulate_path(chain, correlation=correlation, samples=SAMPLES, seed=SEED),
        hops=hops, median_ms=median_ms, p99_ms=p99_ms, correlation=correlation,
        samples=SAMPLES, seed=SEED,
    )


def _latency_values(query: QueryDict, prefix: str) -> tuple[LatencyForm, int, float, float, float]:
    form = LatencyForm(query, prefix=prefix)
    v = form.values()
    if "p99_ms" in form.errors:
        v["median_ms"], v["p99_ms"] = 20, 100
    return (form, int(v["hops"]), float(v["median_ms"]), float(v["p99_ms"]),
            round(float(v["correlation"]), 2))


def sum_rule_context(query: QueryDict) -> dict[str, Any]:
    form, hops, median, p99, c = _latency_values(query, "sumrule")
    runs = [(n, _path(n, median, p99, c)) for n in range(1, hops + 1)]
    rule = [(n, model.p99_sum_rule(p99, n)) for n in range(1, hops + 1)]
    top = svgplot.nice_max(model.p99_sum_rule(p99, hops) * 1.05)
    chart = svgplot.Chart("Hops, N", "p99 of the whole request (ms)", 1, max(hops, 2), 0, top)
    chart.add_line("Rule of thumb: N × p99", "line-b", rule, dashed=True)
    chart.add_line(f"Simulated p99, c = {c:g}", "line-a", [(n, r.p99_ms) for n, r in runs])
    chart.ticks(svgplot.plain, lambda ms: f"{ms:,.0f}", x_count=min(hops, 9))
    last = runs[-1][1]
    reading = (f"At N = {hops} the rule says {model.p99_sum_rule(p99, hops):,.0f} ms; "
               f"{SAMPLES:,} simulated requests give a p99 of {last.p99_ms:,.0f} ms with "
               f"c = {c:g}. Move c to 1 and every hop is slow at once: the rule becomes exact.")
    table = [{"n": n, "rule": f"{model.p99_sum_rule(p99, n):,.0f} ms",
              "simulated": f"{r.p99_ms:,.0f} ms"} for n, r in runs]
    return {"form": form, "chart": chart, "table": table, "reading": reading}


def histogram_context(query: QueryDict) -> dict[str, Any]:
    form, hops, median, p99, c = _latency_values(query, "histogram")
    run = _path(hops, median, p99, c)
    edges, counts = run.histogram_edges, run.histogram_counts
    shares = [count / run.samples for count in counts]
    chart = svgplot.Chart("End-to-end latency (ms)", "Share of requests", 0, edges[-1], 0,
                          svgplot.nice_max(max(shares)))
    chart.add_bars(edges, shares)
    chart.add_vmark(run.p50_ms, f"p50 {run.p50_ms:,.0f}", "mark-p50", row=0)
    chart.add_vmark(run.p99_ms, f"p99 {run.p99_ms:,.0f}", "mark-p99", row=1)
    chart.add_vmark(run.p999_ms, f"p99.9 {run.p999_ms:,.0f}", "mark-p999", row=2)
    chart.ticks(lambda ms: f"{ms:,.0f}", svgplot.percent)
    # Twelve rows are enough to read the shape; the chart has sixty bars.
    step = max(1, len(counts) // 12)
    table = [
        {"range": f"{edges[i]:,.0f}–{edges[min(i + step, len(counts))]:,.0f} ms",
         "share": percent(sum(shares[i:i + step]))}
        for i in range(0, len(counts), step)
    ]
    reading = (f"{hops} hops, each with a median of {median:,.0f} ms and a p99 of {p99:,.0f} ms, "
               f"c = {c:g}: half of all requests finish by {run.p50_ms:,.0f} ms, 99% by "
               f"{run.p99_ms:,.0f} ms and 99.9% by {run.p999_ms:,.0f} ms (the sum rule says "
               f"{run.sum_p99_ms:,.0f} ms for the p99).")
    return {"form": form, "chart": chart, "table": table, "reading": reading, "run": run}


def register() -> None:
    for figure in (
        figures.Figure("failure-vs-hops", "Failure against the number of hops",
                       "simulator/figures/_failure.html", failure_context),
        figures.Figure("p99-sum-rule", "The sum-of-p99 rule against simulated requests",
                       "simulator/figures/_sum_rule.html", sum_rule_context),
        figures.Figure("fanout-tail", "Fan-out: waiting for the slowest of M servers",
                       "simulator/figures/_failure.html", fanout_context),
        figures.Figure("latency-histogram", "End-to-end latency of simulated requests",
                       "simulator/figures/_histogram.html", histogram_context),
    ):
        figures.register(figure)
