"""Plotly figures for the calculator, built in Python and handed to the page as JSON.

Each figure is assembled in one ``go.Figure(data=..., layout=...)`` call: plotly validates the
whole description once, where a series of ``update_*`` calls revalidates it every time and costs
more than the simulation itself.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

from simulator.model import fanout_slow
from simulator.report import TAIL_AT_SCALE, Calculation, percent

INK = "#1b2433"
ACCENT = "#1d4e89"
SIMULATED = "#0f766e"
RULE = "#6b7280"
HIGHLIGHT = "#c2410c"
GRID = "#e5e7eb"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _axis(title: str | None = None, **extra: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "gridcolor": GRID,
        "linecolor": "#9ca3af",
        "zeroline": False,
        "ticks": "outside",
        "tickcolor": "#9ca3af",
        "automargin": True,
    }
    if title:
        axis["title"] = {"text": title, "standoff": 8}
    axis.update(extra)
    return axis


def _layout(**overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "none",
        "height": 380,
        "margin": {"l": 56, "r": 12, "t": 30, "b": 8},
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2, "yanchor": "top",
                   "font": {"size": 12}},
    }
    layout.update(overrides)
    return layout


def _figure(data: list[go.Scatter | go.Bar], layout: dict[str, Any]) -> dict[str, Any]:
    # A plain dict keeps the page's JSON readable and lets json_script escape it.
    return json.loads(go.Figure(data=data, layout=layout).to_json())


def _hops_marker(hops: int, label: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "shapes": [{"type": "line", "x0": hops, "x1": hops, "y0": 0, "y1": 1, "yref": "paper",
                    "line": {"color": HIGHLIGHT, "width": 2, "dash": "dot"}}],
        "annotations": [{"x": hops, "y": 1, "yref": "paper", "yanchor": "bottom",
                         "text": label, "showarrow": False,
                         "font": {"color": HIGHLIGHT, "size": 12},
                         "bgcolor": "rgba(255,255,255,0.85)"}],
    }


def _hops_axis(count: int, marked: int) -> dict[str, Any]:
    step = next((s for s in (1, 2, 5) if count / s <= 12), 10)
    return _axis("Sync hops in the chain (N)", dtick=step,
                 range=[min(0.5, marked - 0.5), count + 0.5])


def failure_figure(calc: Calculation, label: str) -> dict[str, Any]:
    hops = [row.hops for row in calc.chain]
    exact = [row.exact for row in calc.chain]
    linear = [row.linear for row in calc.chain]
    simulated = [row.simulated.failure for row in calc.chain]
    data = [
        go.Scatter(x=hops, y=linear, name="Rule of thumb N·p", mode="lines",
                   line={"color": RULE, "dash": "dash", "width": 2}, hovertemplate="%{y:.3%}"),
        go.Scatter(x=hops, y=exact, name="Exact 1 − (1 − p)<sup>N</sup>", mode="lines",
                   line={"color": ACCENT, "width": 3}, hovertemplate="%{y:.3%}"),
        go.Scatter(
            x=hops, y=[s.rate for s in simulated], name="Simulated, 95% interval",
            mode="markers",
            marker={"color": SIMULATED, "size": 7, "symbol": "circle-open", "line": {"width": 2}},
            error_y={"type": "data", "symmetric": False,
                     "array": [s.high - s.rate for s in simulated],
                     "arrayminus": [s.rate - s.low for s in simulated],
                     "color": SIMULATED, "thickness": 1.5, "width": 3},
            hovertemplate="%{y:.3%}",
        ),
    ]
    top = max(max(exact), max(s.high for s in simulated), min(max(linear), 1.0)) or 0.01
    layout = _layout(
        xaxis=_hops_axis(len(hops), calc.hops),
        yaxis=_axis("Requests that fail (%)", tickformat=".1%" if top < 0.1 else ".0%",
                    range=[0, min(1.02, top * 1.12)]),
        **_hops_marker(calc.hops, label),
    )
    return _figure(data, layout)


def latency_figure(calc: Calculation, label: str) -> dict[str, Any]:
    hops = [row.hops for row in calc.chain]
    data = [
        go.Scatter(x=hops, y=[row.sum_rule_ms for row in calc.chain],
                   name="Rule of thumb: sum of p99s", mode="lines",
                   line={"color": RULE, "dash": "dash", "width": 2},
                   hovertemplate="%{y:,.0f} ms"),
        go.Scatter(x=hops, y=[row.simulated.p999_ms for row in calc.chain],
                   name="Simulated p99.9", mode="lines",
                   line={"color": SIMULATED, "width": 1.5, "dash": "dot"},
                   hovertemplate="%{y:,.0f} ms"),
        go.Scatter(x=hops, y=[row.simulated.p99_ms for row in calc.chain],
                   name="Simulated p99", mode="lines+markers",
                   line={"color": ACCENT, "width": 3}, marker={"size": 6},
                   hovertemplate="%{y:,.0f} ms"),
        go.Scatter(x=hops, y=[row.simulated.p50_ms for row in calc.chain],
                   name="Simulated median", mode="lines",
                   line={"color": "#94a3b8", "width": 1.5}, hovertemplate="%{y:,.0f} ms"),
    ]
    layout = _layout(
        xaxis=_hops_axis(len(hops), calc.hops),
        yaxis=_axis("End-to-end latency (ms)", rangemode="tozero", tickformat=",~r"),
        **_hops_marker(calc.hops, label),
    )
    return _figure(data, layout)


def fanout_figure(calc: Calculation) -> dict[str, Any]:
    servers, slow = TAIL_AT_SCALE
    reference = fanout_slow(slow, servers)
    focus = calc.fanout_focus
    data = [
        go.Scatter(x=[w for w, _ in calc.fanout_curve], y=[p for _, p in calc.fanout_curve],
                   name="Exact 1 − (1 − q)<sup>M</sup>", mode="lines",
                   line={"color": ACCENT, "width": 3}, hovertemplate="%{y:.2%}"),
        go.Scatter(
            x=[row.servers for row in calc.fanout], y=[row.simulated.rate for row in calc.fanout],
            name="Simulated", mode="markers",
            marker={"color": SIMULATED, "size": 8, "symbol": "circle-open", "line": {"width": 2}},
            hovertemplate="%{y:.2%}",
        ),
        go.Scatter(x=[servers], y=[reference],
                   name=f"The Tail at Scale: {servers} × 1% → {percent(reference)}",
                   mode="markers", marker={"color": INK, "size": 12, "symbol": "diamond"},
                   hovertemplate="%{y:.1%}"),
        go.Scatter(x=[focus.servers], y=[focus.exact],
                   name=f"Your fan-out: {focus.servers:,} servers", mode="markers",
                   marker={"color": HIGHLIGHT, "size": 14, "symbol": "star"},
                   hovertemplate="%{y:.2%}"),
    ]
    layout = _layout(
        hovermode="closest",
        # Room on the right for the last tick label, which plotly drops rather than clip.
        margin={"l": 56, "r": 32, "t": 30, "b": 8},
        xaxis=_axis("Servers waited on (M, log scale)", type="log", range=[-0.05, 4.05],
                    dtick=1, tickformat=",d"),
        yaxis=_axis("Slow requests (%)", tickformat=".0%", range=[0, 1.04]),
    )
    return _figure(data, layout)


def design_figure(calc: Calculation) -> dict[str, Any]:
    designs = calc.designs
    names = [
        f"{row.name}<br>{len(row.sync_hops)} sync hop{'s' if len(row.sync_hops) != 1 else ''}"
        for row in designs
    ]
    bar = {"textposition": "outside", "cliponaxis": False, "textfont": {"size": 11}}
    data = [
        go.Bar(x=names, y=[row.exact for row in designs], name="Failure probability (exact)",
               marker_color=ACCENT, text=[percent(row.exact) for row in designs],
               hovertemplate="%{y:.3%}", **bar),
        go.Bar(x=names, y=[row.sum_rule_ms for row in designs], name="p99 by the sum rule",
               marker_color="#cbd5e1", text=[f"{row.sum_rule_ms:,.0f}" for row in designs],
               hovertemplate="%{y:,.0f} ms", xaxis="x2", yaxis="y2", **bar),
        go.Bar(x=names, y=[row.simulated.p99_ms for row in designs], name="p99 simulated",
               marker_color=SIMULATED,
               text=[f"{row.simulated.p99_ms:,.0f}" for row in designs],
               hovertemplate="%{y:,.0f} ms", xaxis="x2", yaxis="y2", **bar),
    ]
    top_failure = max(row.exact for row in designs) or 0.01
    top_latency = max(max(row.sum_rule_ms, row.simulated.p99_ms) for row in designs) or 1
    # Stacked rather than side by side, so both panels keep their width on a phone.
    title = {"xref": "paper", "yref": "paper", "x": 0, "xanchor": "left", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 13}}
    layout = _layout(
        height=520,
        hovermode="closest",
        bargap=0.35,
        margin={"l": 56, "r": 12, "t": 30, "b": 8},
        xaxis=_axis(anchor="y", showticklabels=False),
        yaxis=_axis("Failure (%)", domain=[0.58, 1],
                    tickformat=".1%" if top_failure < 0.1 else ".0%",
                    range=[0, min(1.0, top_failure) * 1.3]),
        xaxis2=_axis(anchor="y2", matches="x"),
        yaxis2=_axis("p99 latency (ms)", domain=[0, 0.42],
                     range=[0, top_latency * 1.3], tickformat=",~r"),
        annotations=[
            {**title, "y": 1.0, "text": "User-facing failure probability"},
            {**title, "y": 0.43, "text": "User-facing p99 latency"},
        ],
    )
    return _figure(data, layout)


def figures(calc: Calculation, *, from_drill: bool = False) -> dict[str, dict[str, Any]]:
    """All four figures, keyed by the chart they belong to."""
    label = f"Your drill: N = {calc.hops}" if from_drill else f"N = {calc.hops}"
    return {
        "failure": failure_figure(calc, label),
        "latency": latency_figure(calc, label),
        "fanout": fanout_figure(calc),
        "designs": design_figure(calc),
    }
