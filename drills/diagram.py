"""A learner's design as a sequence diagram: one lane per service, one arrow per call.

Plain Python: the geometry and the figures are computed here and the template only draws them,
so the same picture (and its text alternative) serves the live preview, the feedback and tests.
Sync arrows are solid, async ones dashed, calls not decided yet dotted; the sync calls the user
waits behind, the critical path, are highlighted and numbered in the text alternative. A drill's
design comes from its key and the choices made; a learner's own workflow from its rows, whose
structure alone decides the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drills import grading, workflow

LANE_WIDTH = 124
TOP = 56
ROW = 38
MARGIN = 16
UNDECIDED = "undecided"


@dataclass(frozen=True)
class Lane:
    name: str
    x: int


@dataclass(frozen=True)
class Arrow:
    number: int
    caller: str
    callee: str
    style: str
    y: int
    x1: int
    x2: int
    # The user waits behind it: on the critical path in this design and synchronous.
    waited_for: bool
    entry: bool = False

    @property
    def label(self) -> str:
        return f"{self.caller} → {self.callee}"

    @property
    def tip(self) -> int:
        """Where the arrow head ends, just short of the callee's lane."""
        return self.x2 - 6 if self.x2 > self.x1 else self.x2 + 6

    @property
    def label_x(self) -> int:
        return (self.x1 + self.x2) // 2

    @property
    def head(self) -> str:
        """The arrow head as SVG polygon points."""
        back = -8 if self.x2 > self.x1 else 8
        return f"{self.tip},{self.y} {self.tip + back},{self.y - 4} {self.tip + back},{self.y + 4}"


@dataclass(frozen=True)
class Diagram:
    title: str
    lanes: tuple[Lane, ...]
    arrows: tuple[Arrow, ...]
    width: int
    height: int
    hops: int
    hop_failure: float
    hop_p99_ms: int
    undecided: int
    # False where nobody knows the hops' latency or failure rate: only hops and path are shown.
    figures: bool = True
    # Rows that do not name two different services yet, so have no arrow.
    left_out: int = 0

    @property
    def path(self) -> tuple[Arrow, ...]:
        return tuple(a for a in self.arrows if a.waited_for and not a.entry)

    @property
    def failure_rate(self) -> float:
        return grading.chain_failure_rate(self.hops, self.hop_failure)

    @property
    def rule_of_thumb(self) -> float:
        return self.hops * self.hop_failure

    @property
    def sum_p99_ms(self) -> int:
        """The sum of the hops' p99s: an upper bound that overstates the path's true p99."""
        return self.hops * self.hop_p99_ms

    @property
    def over_limit(self) -> bool:
        return self.hops > grading.MAX_SYNC_HOPS

    @property
    def lane_bottom(self) -> int:
        return self.height - MARGIN

    @property
    def text(self) -> str:
        """The text alternative: what the user waits for, in order, and the figures."""
        if not self.path:
            waits = "The user waits for no sync call beyond their own request."
        else:
            steps = "; ".join(f"{n}. {a.label}" for n, a in enumerate(self.path, start=1))
            plural = "s" if self.hops != 1 else ""
            waits = f"The user waits behind {self.hops} sync call{plural}: {steps}."
        rest = [a.label for a in self.arrows if not a.entry and not a.waited_for
                and a.style != UNDECIDED]
        text = waits
        if rest:
            text += f" Not waited for: {', '.join(rest)}."
        if self.undecided:
            text += f" {self.undecided} call{'s' if self.undecided != 1 else ''} not decided yet."
        if self.left_out:
            text += (f" {self.left_out} interaction{'s' if self.left_out != 1 else ''} not drawn "
                     "yet: each needs two different services.")
        return text


def split_entry(entry: str) -> tuple[str, str] | None:
    """'Web app → Accounts' as ('Web app', 'Accounts'); None when it names no arrow."""
    for arrow in ("→", "->"):
        if arrow in entry:
            caller, _, callee = entry.partition(arrow)
            if caller.strip() and callee.strip():
                return caller.strip(), callee.strip()
    return None


def draw(items: Sequence[grading.KeyItem], choices: Mapping[str, str], *, entry: str = "",
         title: str = "Your design", hop_p99_ms: int = 100,
         hop_failure: float = grading.HOP_FAILURE_RATE) -> Diagram:
    """The diagram of a design: ``choices`` maps keys to sync or async; others are undecided."""
    names: list[str] = []

    def lane(name: str) -> None:
        if name not in names:
            names.append(name)

    first = split_entry(entry)
    if first:
        lane(first[0])
        lane(first[1])
    for item in items:
        lane(item.caller)
        lane(item.callee)
    lanes = tuple(Lane(name, MARGIN + LANE_WIDTH // 2 + i * LANE_WIDTH)
                  for i, name in enumerate(names))
    x = {lane.name: lane.x for lane in lanes}
    decided = {key: value for key, value in choices.items() if value in grading.CHOICES}
    on_path = grading.critical_path(items, decided)
    arrows: list[Arrow] = []
    y = TOP + ROW // 2
    if first:
        arrows.append(Arrow(0, first[0], first[1], grading.SYNC, y, x[first[0]], x[first[1]],
                            waited_for=True, entry=True))
        y += ROW
    for number, item in enumerate(items, start=1):
        style = decided.get(item.key, UNDECIDED)
        arrows.append(Arrow(
            number, item.caller, item.callee, style, y, x[item.caller], x[item.callee],
            waited_for=item.key in on_path and style == grading.SYNC,
        ))
        y += ROW
    return Diagram(
        title=title, lanes=lanes, arrows=tuple(arrows),
        width=2 * MARGIN + LANE_WIDTH * len(lanes), height=y + MARGIN,
        hops=grading.count_critical_sync_hops(items, decided), hop_failure=hop_failure,
        hop_p99_ms=hop_p99_ms, undecided=sum(1 for i in items if i.key not in decided),
    )


def draw_workflow(rows: Sequence[workflow.Row], *, title: str = "Your design") -> Diagram:
    """The diagram of a learner's own workflow from its rows as typed, numbered as the rows are.

    The path is the one ``workflow.on_path`` finds in the rows' structure. Nothing is known about
    the learner's services, so the diagram carries no latency or failure figures. A service
    named twice with different capitals or spaces is one lane.
    """
    lanes_by_name: dict[str, str] = {}

    def lane(name: str) -> str:
        return lanes_by_name.setdefault(name.casefold(), name)

    drawn = [(index, row) for index, row in enumerate(rows)
             if row is not None and workflow.is_drawn(row)]
    calls = [(index, row, lane(workflow.text_of(row, "caller")),
              lane(workflow.text_of(row, "callee"))) for index, row in drawn]
    lanes = tuple(Lane(name, MARGIN + LANE_WIDTH // 2 + i * LANE_WIDTH)
                  for i, name in enumerate(lanes_by_name.values()))
    x = {item.name: item.x for item in lanes}
    waited = workflow.on_path(rows)
    arrows: list[Arrow] = []
    y = TOP + ROW // 2
    undecided = 0
    for index, row, caller, callee in calls:
        entry = bool(row.get("entry"))
        style = str(row.get("style") or "")
        if entry:
            # The user's request always waits; the form says so if it is marked otherwise.
            style = grading.SYNC
        elif style not in grading.CHOICES:
            style = UNDECIDED
            undecided += 1
        arrows.append(Arrow(
            index + 1, caller, callee, style, y, x[caller], x[callee],
            waited_for=index in waited and style == grading.SYNC, entry=entry,
        ))
        y += ROW
    left_out = sum(1 for row in rows if not workflow.is_blank(row) and not workflow.is_drawn(row))
    return Diagram(
        title=title, lanes=lanes, arrows=tuple(arrows),
        width=2 * MARGIN + LANE_WIDTH * len(lanes), height=y + MARGIN,
        hops=workflow.count_hops(rows), hop_failure=grading.HOP_FAILURE_RATE, hop_p99_ms=0,
        undecided=undecided, figures=False, left_out=left_out,
    )
