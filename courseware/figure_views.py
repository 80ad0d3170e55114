"""The figures the course draws itself, for lessons 1 to 4: their controls, their drawing
coordinates and their one-line readings. Registered in the figure registry by the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from courseware import figure_forms, figures, lesson_figures, svgplot
from courseware.lesson_figures import ASYNC, SYNC

LABEL_WIDTH = 70
DRAW_WIDTH = 640
LANE_HEIGHT = 26


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    css: str
    label: str
    text_x: float


@dataclass(frozen=True)
class LaneRow:
    name: str
    y: float
    rects: tuple[Rect, ...]


def _timeline_rows(timeline: lesson_figures.Timeline, scale_ms: float) -> list[LaneRow]:
    span = DRAW_WIDTH - LABEL_WIDTH - 30

    def x(ms: float) -> float:
        return round(LABEL_WIDTH + ms / scale_ms * span, 2)

    rows = []
    for index, lane in enumerate(timeline.lanes):
        y = 22 + index * LANE_HEIGHT
        rects = tuple(
            Rect(x(seg.start_ms), y, max(x(seg.end_ms) - x(seg.start_ms), 1.5), seg.css,
                 seg.label, x(seg.start_ms) + 3)
            for seg in lane.segments
        )
        rows.append(LaneRow(lane.name, y, rects))
    return rows


def timeline_context(query: QueryDict) -> dict[str, Any]:
    form = figure_forms.TimelineForm(query, prefix="timeline")
    v = form.values()
    sync, asynchronous = lesson_figures.request_timeline(
        caller_ms=30.0, callee_ms=float(v["callee_ms"]), lag_ms=float(v["lag_ms"]),
        callee_down=bool(v["callee_down"]),
    )
    ends = [sync.user_wait_ms, asynchronous.user_wait_ms]
    ends += [t.work_done_ms for t in (sync, asynchronous) if t.work_done_ms is not None]
    ends += [seg.end_ms for lane in asynchronous.lanes for seg in lane.segments]
    scale = svgplot.nice_max(max(ends))
    ticks = [
        (round(LABEL_WIDTH + t / scale * (DRAW_WIDTH - LABEL_WIDTH - 30), 2), f"{t:g} ms")
        for t in svgplot.nice_ticks(0, scale, 5)
    ]
    panels = []
    for timeline, title in ((sync, "Synchronous call"), (asynchronous, "Asynchronous message")):
        rows = _timeline_rows(timeline, scale)
        panels.append({
            "timeline": timeline, "title": title, "rows": rows,
            "height": 22 + len(rows) * LANE_HEIGHT + 26,
            "axis_y": 22 + len(rows) * LANE_HEIGHT + 4,
        })
    if asynchronous.work_done_ms is None:
        later = "the callee's part waits in the broker until the callee is back"
    else:
        later = f"the callee's part is done at {asynchronous.work_done_ms:,.0f} ms"
    reading = (
        f"The user waits {sync.user_wait_ms:,.0f} ms for {sync.user_outcome} when the caller "
        f"blocks, and {asynchronous.user_wait_ms:,.0f} ms for {asynchronous.user_outcome} "
        f"when it publishes; {later}."
    )
    return {"form": form, "panels": panels, "ticks": ticks, "reading": reading,
            "width": DRAW_WIDTH, "label_width": LABEL_WIDTH}


POOL_CELLS = 100


def pool_context(query: QueryDict) -> dict[str, Any]:
    form = figure_forms.PoolForm(query, prefix="pool")
    v = form.values()
    rate, workers = float(v["rate"]), int(v["workers"])
    service, caller = lesson_figures.pool_cascade(
        rate=rate, own_ms=30.0, downstream_ms=float(v["downstream_ms"]), workers=workers,
        timeout_ms=float(v["timeout_ms"]),
    )
    # One cell per worker up to a hundred; past that each cell stands for several workers.
    per_cell = max(1, -(-workers // POOL_CELLS))
    cells = -(-workers // per_cell)
    pools = []
    for pool in (service, caller):
        filled = min(cells, round(pool.busy / per_cell))
        pools.append({
            "pool": pool,
            "cells": [
                {"x": (i % 20) * 15, "y": (i // 20) * 15, "busy": i < filled} for i in range(cells)
            ],
            "height": (-(-cells // 20)) * 15,
            "queued": max(0.0, pool.needed - pool.workers),
        })
    up_to = max(3000.0, float(v["downstream_ms"]))
    curve = lesson_figures.pool_curve(rate=rate, own_ms=30.0, workers=workers, up_to_ms=up_to)
    top = svgplot.nice_max(max(max(y for _, y in curve), workers * 1.2))
    chart = svgplot.Chart("Inventory's latency (ms)", "Workers needed", 0, up_to, 0, top,
                          height=260)
    chart.add_line("Workers needed: rate × time held", "line-a", curve)
    chart.add_hmark(workers, f"{workers:,} workers in the pool", "mark-limit")
    chart.add_vmark(float(v["downstream_ms"]), f"{service.needed:,.0f} needed", "mark-now")
    chart.ticks(svgplot.plain, lambda n: f"{n:,.0f}")
    if not service.saturated:
        reading = (
            f"{rate:,.0f} requests a second × {(30 + v['downstream_ms']) / 1000:.3f} s held = "
            f"{service.needed:,.0f} busy workers of {workers:,}: room to spare."
        )
    else:
        reading = (
            f"Orders needs {service.needed:,.0f} workers and has {workers:,}: only "
            f"{svgplot.percent(service.served)} of requests get one, the rest queue and time "
            f"out, and its caller then needs {caller.needed:,.0f} workers"
            f"{' — full as well' if caller.saturated else ''}."
        )
    return {"form": form, "pools": pools, "per_cell": per_cell, "chart": chart,
            "reading": reading}


SERVICE_BOX = {"inventory": 28, "payments": 88, "fulfillment": 148}


def checkout_context(query: QueryDict) -> dict[str, Any]:
    form = figure_forms.CheckoutForm(query, prefix="checkout")
    v = form.values()
    styles = {key: v[key] for key, *_ in lesson_figures.CALLS}
    result = lesson_figures.checkout(styles, v["fault"])
    boxes = [
        {"call": call, "y": SERVICE_BOX[call.service], "mid": SERVICE_BOX[call.service] + 18}
        for call in result.calls
    ]
    reading = (
        f"{result.sync_hops} synchronous call{'s' if result.sync_hops != 1 else ''} on the "
        f"critical path; the customer waits {result.response_ms:,.0f} ms and sees: "
        f"{result.user_sees}"
    )
    return {"form": form, "result": result, "boxes": boxes, "reading": reading}


def complexity_context(query: QueryDict) -> dict[str, Any]:
    form = figure_forms.ComplexityForm(query, prefix="complexity")
    style = form.values()["style"]
    places = lesson_figures.complexity(style)
    other = lesson_figures.complexity(ASYNC if style == SYNC else SYNC)
    name = dict(lesson_figures.STYLES)[style].lower()
    busiest = max(places, key=lambda p: len(p.items))
    reading = (
        f"Made {name}, the interaction puts most of its extra work {busiest.label.lower()} "
        f"({len(busiest.items)} of {sum(len(p.items) for p in places)} items)."
    )
    return {"form": form, "places": places, "other": other, "reading": reading}


def register() -> None:
    for figure in (
        figures.Figure("request-timeline", "One request, drawn in both styles",
                       "courseware/figures/_timeline.html", timeline_context),
        figures.Figure("worker-pool", "A worker pool filling as Inventory slows",
                       "courseware/figures/_pool.html", pool_context),
        figures.Figure("checkout-styles", "The checkout, one style per call",
                       "courseware/figures/_checkout.html", checkout_context),
        figures.Figure("complexity-moves", "Where each style puts its complexity",
                       "courseware/figures/_complexity.html", complexity_context),
    ):
        figures.register(figure)
