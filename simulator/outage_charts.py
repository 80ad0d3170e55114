"""The outage lab's figures, one-line readings and table rows, drawn from a ``LabRun``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from simulator import outage
from simulator.charts import ACCENT, HIGHLIGHT, _axis, _figure, _layout

DESIGN_COLOURS = (HIGHLIGHT, ACCENT)
DESIGN_DASHES = ("solid", "dash")
TABLE_ROWS = 25

CHARTS = (
    ("failed", "Requests failed since the fault began", "Requests failed"),
    ("workers", "Caller's workers waiting on the service", "Workers busy"),
    ("queue", "Events waiting in the queue", "Queue depth (events)"),
    ("lag", "Consumer lag: age of the oldest waiting event", "Lag (s)"),
)


def count(value: float) -> str:
    return f"{value:,.0f}"


def seconds(value: float) -> str:
    """A duration for reading: 45 s, 180 s (3.0 min), 2.5 h."""
    if value < 10:
        return f"{value:.2g} s" if value else "0 s"
    if value < 120:
        return f"{value:,.0f} s"
    if value < 7_200:
        return f"{value:,.0f} s ({value / 60:.1f} min)"
    return f"{value:,.0f} s ({value / 3_600:.1f} h)"


def _series(run: outage.DesignRun, key: str) -> np.ndarray:
    series = run.series
    return {"failed": series.failed, "workers": series.workers_busy,
            "queue": series.queue_depth, "lag": series.lag_s}[key]


def _fault_band(lab: outage.LabRun) -> dict[str, Any]:
    T = lab.scenario.duration_s
    return {
        "shapes": [{"type": "rect", "x0": 0, "x1": T, "y0": 0, "y1": 1, "yref": "paper",
                    "fillcolor": "rgba(194,65,12,0.08)", "line": {"width": 0},
                    "layer": "below"}],
        "annotations": [{"x": T / 2 if T else 0, "y": 1, "yref": "paper", "yanchor": "bottom",
                         "text": "fault", "showarrow": False,
                         "font": {"color": HIGHLIGHT, "size": 12}}],
    }


def figure(lab: outage.LabRun, key: str, y_title: str) -> dict[str, Any]:
    # Arrays rather than lists: plotly checks a numpy array in one step and sends it as typed
    # binary data, where a list is checked value by value.
    data = [
        go.Scatter(
            x=lab.times, y=_series(run, key), name=run.design.name, mode="lines",
            line={"color": colour, "width": 3, "dash": dash},
            hovertemplate="%{y:,.1f}" if key == "lag" else "%{y:,.0f}",
        )
        for run, colour, dash in zip(lab.runs, DESIGN_COLOURS, DESIGN_DASHES, strict=True)
    ]
    top = max(float(np.max(_series(run, key))) for run in lab.runs)
    extra: dict[str, Any] = {}
    if key == "workers":
        workers = lab.scenario.workers
        extra = {"range": [0, max(top, workers) * 1.12]}
    elif top == 0:
        extra = {"range": [0, 1]}
    layout = _layout(
        height=300,
        xaxis=_axis("Seconds since the fault began", tickformat=",~r"),
        yaxis=_axis(y_title, rangemode="tozero", tickformat=",~r", **extra),
        **_fault_band(lab),
    )
    if key == "workers":
        layout["shapes"].append({
            "type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": lab.scenario.workers,
            "y1": lab.scenario.workers, "line": {"color": "#6b7280", "dash": "dot", "width": 1.5},
        })
        layout["annotations"].append({
            "x": 1, "xref": "paper", "xanchor": "right", "y": lab.scenario.workers,
            "yanchor": "bottom", "text": f"pool of {lab.scenario.workers:,}",
            "showarrow": False, "font": {"size": 11, "color": "#4b5563"},
        })
    return _figure(data, layout)


def figures(lab: outage.LabRun) -> dict[str, dict[str, Any]]:
    return {key: figure(lab, key, y_title) for key, _, y_title in CHARTS}


@dataclass(frozen=True)
class TableRow:
    time: float
    values: tuple[float, ...]


def table_rows(lab: outage.LabRun, key: str) -> list[TableRow]:
    """Evenly spaced points of one chart, both designs side by side."""
    indices = np.unique(np.linspace(0, lab.times.size - 1, TABLE_ROWS).round().astype(int))
    columns = [_series(run, key) for run in lab.runs]
    return [TableRow(float(lab.times[i]), tuple(float(c[i]) for c in columns))
            for i in indices]


# Readings ---------------------------------------------------------------------------------


def _what(lab: outage.LabRun) -> str:
    s = lab.scenario
    if s.fault == outage.BROKER:
        return f"the broker is down for {seconds(s.duration_s)}"
    if s.fault == outage.SLOW:
        return f"{lab.service} is {s.slow_ms:,.0f} ms slower for {seconds(s.duration_s)}"
    return f"{lab.service} is down for {seconds(s.duration_s)}"


def _named(run: outage.DesignRun) -> str:
    """A design's name as it reads inside a sentence ("the answer key's design fails…")."""
    name = run.design.name
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def failed_reading(lab: outage.LabRun) -> str:
    parts = []
    for run in lab.runs:
        # run_lab gives a design the user waits on a sync outcome, any other a queued one.
        outcome = run.sync if run.user_waits else run.queued
        assert outcome is not None
        failed = outcome.failed_requests
        if not run.affected:
            parts.append(f"{_named(run)} has no broker and fails nothing")
        elif failed > 0.5:
            parts.append(f"{_named(run)} fails {count(failed)} requests")
        elif run.user_waits:
            parts.append(f"{_named(run)} fails none: the pool still has room")
        else:
            parts.append(f"{_named(run)} fails none: its users are answered at once")
    return f"While {_what(lab)}, " + "; ".join(parts) + "."


def workers_reading(lab: outage.LabRun) -> str:
    s = lab.scenario
    parts = []
    for run in lab.runs:
        if not run.user_waits:
            parts.append(f"in {_named(run)} no worker waits on {lab.service}")
            continue
        sync = run.sync
        assert sync is not None  # run_lab gives every design the user waits on one
        if sync.saturated:
            parts.append(
                f"{_named(run)} would need {count(sync.in_flight)} workers "
                f"(R × {sync.hold_ms:,.0f} ms) but has {s.workers:,}: the pool is full and "
                f"refuses the rest until {seconds(sync.recovery_s)} after the fault"
            )
        else:
            parts.append(
                f"{_named(run)} keeps {count(sync.in_flight)} of {s.workers:,} workers busy "
                f"(R × {sync.hold_ms:,.0f} ms, Little's law)"
            )
    return _sentence(parts)


def queue_reading(lab: outage.LabRun) -> str:
    s = lab.scenario
    parts = []
    for run in lab.runs:
        queued = run.queued
        if queued is None:
            parts.append(f"{_named(run)} has no queue")
            continue
        if queued.peak_backlog == 0:
            parts.append(f"in {_named(run)} the queue stays empty")
            continue
        text = f"in {_named(run)} the backlog reaches {count(queued.peak_backlog)} events"
        if queued.drain_s is None:
            text += (f" and never drains: the consumer's {count(s.capacity)} a second cannot "
                     f"keep up with {count(s.rate)} arriving")
        else:
            assert queued.all_handled_s is not None  # set whenever the backlog drains
            text += (f", drains in {seconds(queued.drain_s)} at C − R = "
                     f"{count(s.capacity - s.rate)} a second, and every event is handled "
                     f"{seconds(queued.all_handled_s)} after the fault began")
        if queued.dead_letters > 0.5:
            text += (f"; {count(queued.dead_letters)} events are dead-lettered after "
                     f"{s.retries} retries")
        parts.append(text)
    return _sentence(parts)


def lag_reading(lab: outage.LabRun) -> str:
    parts = []
    for run in lab.runs:
        if run.queued is None:
            parts.append(f"{_named(run)} has no consumer lag: work is done or failed "
                         "while the user waits")
        elif run.queued.max_lag_s == 0:
            parts.append(f"in {_named(run)} the consumer keeps up, so events are handled "
                         "at once")
        else:
            parts.append(f"in {_named(run)} the lag peaks at {seconds(run.queued.max_lag_s)}: "
                         "that is how late “eventually” is for the oldest event")
    return _sentence(parts)


def readings(lab: outage.LabRun) -> dict[str, str]:
    return {"failed": failed_reading(lab), "workers": workers_reading(lab),
            "queue": queue_reading(lab), "lag": lag_reading(lab)}
