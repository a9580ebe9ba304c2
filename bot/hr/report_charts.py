"""The geometry of the HTML report's inline SVG charts (drawn by content/hr/charts.html.j2).

Charts carry no titles of their own (the page's `<figcaption>` does, and wraps), and every
label is placed where it cannot meet another label or the dashed target line: text widths
are estimated generously and each label tries its places in turn.
"""

from __future__ import annotations

from typing import Any

from bot.hr.dataset import Shown
from bot.hr.service import TrendPoint

Span = tuple[float, float]


def text_width(text: str, size: float) -> float:
    """A generous estimate of how wide `text` is at `size` pixels (sans-serif)."""
    return 0.62 * size * len(text) + 2


def _clear(span: Span, avoid: list[Span]) -> bool:
    """Whether `span` (low, high) meets none of `avoid`."""
    return all(span[1] < low or span[0] > high for low, high in avoid)


def _place(width: float, candidates: list[float], bounds: Span, avoid: list[Span]) -> float | None:
    """The first start position whose span stays within `bounds` and clear of `avoid`."""
    for start in candidates:
        span = (start, start + width)
        if span[0] >= bounds[0] and span[1] <= bounds[1] and _clear(span, avoid):
            return start
    return None


def scale(top: float) -> float:
    """The axis maximum: the next multiple of 5 above `top`, at most 100%."""
    return min(100.0, float(int(top / 5 + 1) * 5))


def bar_chart(title: str, shown: Shown, goal: float, goal_text: str) -> dict[str, Any]:
    """One horizontal bar (the value) against a dashed target line, labels clear of it."""
    width, left, size = 340, 10, 12
    scale_max = scale(max(goal * 1.6, (shown.value or 0) * 1.15, 5.0))

    def x(value: float) -> float:
        return left + (width - 2 * left) * value / scale_max

    goal_x = x(goal)
    line = [(goal_x - 3, goal_x + 3)]
    end = None if shown.value is None else x(shown.value)
    label = shown.text if end is not None else f"{shown.text} ({shown.reason or ''})"
    label_w = text_width(label, size)
    inside = False
    if end is None:
        label_x = _place(label_w, [left + 2, goal_x + 6], (left, width - 2), line)
    else:
        label_x = _place(label_w, [end + 4, max(end, goal_x) + 6], (left, width - 2), line)
        if label_x is None:  # inside a long bar, in white
            label_x = _place(label_w, [end - 4 - label_w], (left + 2, end), line)
            inside = label_x is not None
    # Along the axis: the target's label (under its line), then 0% and the maximum if clear.
    goal_w = text_width(goal_text, 11)
    goal_label_x = min(max(goal_x - goal_w / 2, left), width - left - goal_w)
    taken = [(goal_label_x, goal_label_x + goal_w)]
    max_text = f"{scale_max:.0f}%"
    max_x = width - left - text_width(max_text, 10)
    return {
        "title": title,
        "width": width,
        "height": 66,
        "left": left,
        "text": label,
        "reason": shown.reason or "",
        "end": end,
        "label_x": left + 2 if label_x is None else label_x,
        "label_inside": inside,
        "goal": goal,
        "goal_text": goal_text,
        "goal_x": goal_x,
        "goal_label_x": goal_label_x,
        "scale_max": scale_max,
        "max_x": max_x,
        "show_max": _clear((max_x, width - left), taken),
        "show_zero": _clear((left, left + text_width("0%", 10)), taken),
    }


def trend_chart(
    title: str, points: list[TrendPoint], goal: float, goal_text: str, first: str
) -> dict[str, Any]:
    """Percentages by quarter (gaps where hidden), the target as a dashed line named in a
    legend above the plot; each point's label above it, or below when the line is there."""
    width, height, left, right, top, bottom = 340, 176, 36, 12, 30, 34
    values = [p.percent.value for p in points if p.percent.value is not None]
    scale_max = scale(max([goal * 1.5, 5.0, *(v * 1.15 for v in values)]))
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(points), 1)

    def py(value: float) -> float:
        return top + plot_h * (1 - value / scale_max)

    goal_y = py(goal)
    line = [(goal_y - 3, goal_y + 3)]
    marks = []
    for index, point in enumerate(points):
        y = None if point.percent.value is None else py(point.percent.value)
        # A label's baseline: above the point, below it, or (hidden) low in the plot.
        spots = [top + plot_h - 4, top + 14] if y is None else [y - 7, y + 15]
        label_y = next((b for b in spots if _clear((b - 10, b + 2), line)), spots[0])
        year, _, quarter = point.quarter.partition("-")
        marks.append(
            {
                "x": left + plot_w * (index + 0.5) / count,
                "y": y,
                "label_y": label_y,
                "quarter": quarter or year,
                "year": year if quarter else "",
                "text": point.percent.text,
            }
        )
    return {
        "title": title,
        **{"width": width, "height": height, "left": left, "right": right, "top": top},
        "plot_h": plot_h,
        "scale_max": scale_max,
        "goal": goal,
        "goal_text": goal_text,
        "goal_y": goal_y,
        "points": marks,
        "lines": _runs(marks),
        "first": first if len(points) == 1 else "",
    }


def _runs(marks: list[dict[str, Any]]) -> list[str]:
    """Polyline points for each run of two or more quarters in a row with a figure shown."""
    runs: list[list[str]] = [[]]
    for mark in marks:
        if mark["y"] is None:
            runs.append([])
        else:
            runs[-1].append(f"{mark['x']:.1f},{mark['y']:.1f}")
    return [" ".join(run) for run in runs if len(run) > 1]


def rate_chart(rows: list[tuple[str, Shown]]) -> dict[str, Any]:
    """Declaration rate per question, as horizontal bars (0-100%)."""
    row_h, label_w, width = 20, 270, 700
    drawn = []
    for index, (label, shown) in enumerate(rows):
        length = None if shown.value is None else (width - label_w - 60) * shown.value / 100
        drawn.append(
            {"y": 12 + index * row_h, "label": label, "text": shown.text, "length": length}
        )
    return {
        "width": width,
        "height": 20 + row_h * len(rows),
        "row_h": row_h,
        "label_w": label_w,
        "rows": drawn,
    }
