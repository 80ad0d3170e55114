"""Small line and bar charts drawn as SVG on the server: coordinates here, markup in
templates/courseware/_svg_chart.html.

Figures in lessons are a few dozen points each; drawing them server-side keeps those pages
free of a charting library and readable with JavaScript off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 20, 48


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    points: str
    dashed: bool = False


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Mark:
    """A vertical (or horizontal) line across the plot with a label at its end."""

    at: float
    label: str
    css: str
    label_x: float = 0.0
    label_y: float = 0.0
    anchor: str = "start"


@dataclass
class Chart:
    x_title: str
    y_title: str
    x_min: float
    x_max: float
    y_min: float
    y_max: float
    width: int = WIDTH
    height: int = HEIGHT
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    vmarks: list[Mark] = field(default_factory=list)
    hmarks: list[Mark] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def top(self) -> int:
        return TOP

    @property
    def bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def x_title_y(self) -> int:
        return self.height - 8

    @property
    def y_title_x(self) -> int:
        return 14

    @property
    def y_title_y(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def x_title_x(self) -> float:
        return (self.left + self.right) / 2

    def x(self, value: float) -> float:
        span = (self.x_max - self.x_min) or 1.0
        return round(self.left + (value - self.x_min) / span * (self.right - self.left), 2)

    def y(self, value: float) -> float:
        span = (self.y_max - self.y_min) or 1.0
        clipped = min(max(value, self.y_min), self.y_max)
        return round(self.bottom - (clipped - self.y_min) / span * (self.bottom - self.top), 2)

    def add_line(self, label: str, css: str, points: Sequence[tuple[float, float]],
                 *, dashed: bool = False) -> None:
        path = " ".join(f"{self.x(px)},{self.y(py)}" for px, py in points)
        self.lines.append(Line(label, css, path, dashed))

    def add_bars(self, edges: Sequence[float], counts: Sequence[float]) -> None:
        for left, right, count in zip(edges, edges[1:], counts, strict=False):
            top = self.y(count)
            self.bars.append(Bar(self.x(left), top, max(self.x(right) - self.x(left) - 0.5, 0.5),
                                 self.bottom - top))

    def add_vmark(self, at: float, label: str, css: str, row: int = 0) -> None:
        x = self.x(at)
        # Near the right edge the label reads leftwards from its line, so it stays in view.
        if x > self.right - 90:
            self.vmarks.append(Mark(x, label, css, x - 4, self.top + 12 + 14 * row, "end"))
        else:
            self.vmarks.append(Mark(x, label, css, x + 4, self.top + 12 + 14 * row))

    def add_hmark(self, at: float, label: str, css: str) -> None:
        self.hmarks.append(Mark(self.y(at), label, css, self.left + 6, self.y(at) - 5))

    def ticks(self, x_format: Callable[[float], str], y_format: Callable[[float], str],
              *, x_count: int = 6, y_count: int = 5) -> None:
        self.x_ticks = [Tick(self.x(v), x_format(v))
                        for v in nice_ticks(self.x_min, self.x_max, x_count)]
        self.y_ticks = [Tick(self.y(v), y_format(v))
                        for v in nice_ticks(self.y_min, self.y_max, y_count)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) from low to high."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    values = []
    value = first
    while value <= high + step * 1e-9:
        values.append(round(value, 10))
        value += step
    return values


def nice_max(value: float) -> float:
    """A round upper bound for an axis that has to hold ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= value)


def percent(value: float) -> str:
    if value == 0:
        return "0%"
    digits = 0 if value >= 0.1 else 1 if value >= 0.01 else 2
    return f"{value * 100:.{digits}f}%"


def milliseconds(value: float) -> str:
    return f"{value:,.0f} ms"


def plain(value: float) -> str:
    return f"{value:g}"
