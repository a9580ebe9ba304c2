"""The cells and layout of the report's tables: what each cell shows is read from the
release (`Cell.shown`), never from a count directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.hr.cellkey import KEY_RANGE
from bot.hr.dataset import Dataset, Release, Shown

CellKind = Literal["count", "percent", "text", "gap", "met"]


@dataclass(frozen=True, slots=True)
class TargetWords:
    """How a percentage is described against its target (content/hr/report.yaml
    `text.against`): "{points}" is filled with the gap in percentage points."""

    above: str
    below: str
    on_target: str
    met: str
    not_met: str
    unknown: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: a count, a percentage (numerator, denominator), fixed text, or a
    percentage against its target (`goal`): the gap, or whether it is met."""

    kind: CellKind
    count: str | None = None
    ratio: tuple[str, str] | None = None
    text: str = ""
    goal: float = 0.0
    words: TargetWords | None = None

    def shown(self, release: Release) -> Shown:
        """How this cell is released."""
        if self.kind == "count" and self.count is not None:
            return release.count(self.count)
        if self.kind == "percent" and self.ratio is not None:
            return release.percent(*self.ratio)
        if self.kind in ("gap", "met") and self.ratio is not None and self.words is not None:
            return against(
                release.percent(*self.ratio), self.goal, self.words, gap=self.kind == "gap"
            )
        return Shown(self.text)


def against(shown: Shown, goal: float, words: TargetWords, *, gap: bool) -> Shown:
    """A shown percentage against its target: the gap in points, or met / not met. Made
    from the shown percentage only, so it says nothing the percentage does not."""
    if shown.value is None:
        return Shown(words.unknown)
    tenths = round((shown.value - goal) * 10)
    if not gap:
        return Shown(words.met if tenths >= 0 else words.not_met, value=tenths / 10)
    if tenths == 0:
        return Shown(words.on_target, value=0.0)
    points = f"{abs(tenths) // 10}.{abs(tenths) % 10}"
    return Shown(
        (words.above if tenths > 0 else words.below).format(points=points), value=tenths / 10
    )


@dataclass
class TableSpec:
    """A table's title, columns and rows of cells."""

    id: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    note: str | None = None
    optional: set[str] = field(default_factory=set)  # row labels `settle` may drop


def count(name: str) -> Cell:
    """A count cell."""
    return Cell("count", count=name)


def percent(numerator: str, denominator: str) -> Cell:
    """A percentage cell."""
    return Cell("percent", ratio=(numerator, denominator))


def text(value: str) -> Cell:
    """A fixed text cell."""
    return Cell("text", text=value)


def sum_count(data: Dataset, name: str, parts: list[str], *, released: bool = True) -> str:
    """A count that is the sum of `parts`, with the sum of their cell keys."""
    total = sum(data.values[p] for p in parts)
    data.count(name, total, released=released, key=sum(data.keys[p] for p in parts) % KEY_RANGE)
    data.add_sum(name, parts)
    return name
