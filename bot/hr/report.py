"""Writing a released quarter: CSV files and one self-contained HTML report.

Everything here reads cells through `QuarterReport.shown` (the disclosure-controlled
release); no count reaches a file any other way. The HTML needs no network, no fonts and no
JavaScript: styles are inline, charts are inline SVG, and it prints on A4. Its markup is
content (`content/hr/report.html.j2`, `charts.html.j2`, `report.css`, Jinja2 with autoescape);
this module works out what goes in it: the released figures and the charts' geometry.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.config import DEFAULT_CONTENT_DIR
from bot.hr.config import HrConfig
from bot.hr.dataset import PROTECTS, TOO_FEW, Shown
from bot.hr.service import QuarterReport, TrendPoint
from bot.hr.tables import TableSpec

Progress = Callable[[str], None]


def write_csv(
    report: QuarterReport, out: Path, *, progress: Progress = lambda _: None
) -> list[Path]:
    """One CSV per table, the target trends, and a list of hidden cells with reasons."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    hidden_rows: list[list[str]] = []
    for number, table in enumerate(report.built.tables, start=1):
        path = out / f"{number:02d}_{table.id}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([table.title, *table.columns])
            for label, cells in table.rows:
                row = [label]
                for column, cell in zip(table.columns, cells, strict=True):
                    shown = report.shown(cell)
                    row.append(shown.text)
                    if shown.hidden:
                        hidden_rows.append(
                            [table.title, label, column, shown.text, shown.reason or ""]
                        )
                writer.writerow(row)
        written.append(path)
        progress(f"wrote {path.name}")
    path = out / f"{len(written) + 1:02d}_target_trends.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Target", "Scope", "Quarter", "In the group", "Out of", "Percentage", "Target"]
        )
        for figure in report.built.targets:
            for point in report.trends.get((figure.target.id, figure.scope), []):
                writer.writerow(
                    [
                        figure.target.label,
                        figure.scope,
                        point.quarter,
                        point.numerator.text,
                        point.denominator.text,
                        point.percent.text,
                        f"{figure.goal:.1f}%",
                    ]
                )
    written.append(path)
    progress(f"wrote {path.name}")
    path = out / "hidden_cells.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Table", "Row", "Column", "Shown as", "Why"])
        writer.writerows(hidden_rows)
    written.append(path)
    progress(f"wrote {path.name} ({len(hidden_rows)} hidden cells)")
    return written


# ---- HTML -----------------------------------------------------------------------------------

TOTAL_ROWS = ("Total", "All staff")


@cache
def _templates(folder: Path) -> Environment:
    """The report's templates in `folder` (content/hr/), escaping every value."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    report: QuarterReport, config: HrConfig, content_dir: Path = DEFAULT_CONTENT_DIR
) -> str:
    """The whole report as one HTML document with inline CSS and SVG charts."""
    texts = config.texts
    quarter = str(report.quarter)
    page: dict[str, Any] = {
        "heading": texts("text.quarter_heading", quarter=quarter),
        "taken": texts("text.taken", day=report.taken_on.strftime("%-d %B %Y")),
        "intro": _intro(report, config),
        "key": texts("text.hidden_key", too_few=TOO_FEW, protects=PROTECTS)
        + " "
        + texts("text.notes.not_on_roster"),
        "empty": report.empty,
        "no_roster": texts("text.no_roster"),
    }
    if not report.empty:
        page.update(_figures(report, config))
    template = _templates(content_dir / "hr").get_template("report.html.j2")
    return template.render(**page)


def _figures(report: QuarterReport, config: HrConfig) -> dict[str, Any]:
    """The targets (bars, table, notes, trends) and every other table, ready to draw."""
    texts = config.texts
    titles = [
        (figure, f"{figure.target.label} ({texts(f'text.scope_{figure.scope}')})")
        for figure in report.built.targets
    ]
    tables = [
        {
            **_table(report, table),
            "title": table.title,
            "note": table.note,
            "rate": _rate_chart(report, table) if table.id == "declaration_rate" else None,
        }
        for table in report.built.tables
        if table.id != "targets"
    ]
    return {
        "targets_heading": texts("text.tables.targets"),
        "bars": [
            _bar_chart(title, report.release.percent(f.numerator, f.denominator), f.goal)
            for f, title in titles
        ],
        "targets_table": _table(report, _table_by_id(report, "targets")),
        "notes": [f"{t.label}: {t.confirm}" for t in config.targets if t.confirm],
        "trends": [
            _trend_chart(title, report.trends.get((f.target.id, f.scope), []), f.goal)
            for f, title in titles
        ],
        "tables": tables,
    }


def _intro(report: QuarterReport, config: HrConfig) -> str:
    """How the figures were made: with the cell key method's noise, or (a quarter frozen
    before it) as released then."""
    if report.release.perturbation is None:
        return config.texts("text.intro_before_noise")
    return config.texts("text.intro", noise=report.release.rules.max_noise)


def write_html(
    report: QuarterReport, config: HrConfig, out: Path, content_dir: Path = DEFAULT_CONTENT_DIR
) -> Path:
    """Write the HTML report to `out`/report-<quarter>.html."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"report-{report.quarter}.html"
    path.write_text(render_html(report, config, content_dir), encoding="utf-8")
    return path


def _table_by_id(report: QuarterReport, table_id: str) -> TableSpec:
    return next(t for t in report.built.tables if t.id == table_id)


def _table(report: QuarterReport, table: TableSpec) -> dict[str, Any]:
    """A table's columns and rows, every cell as released (hidden ones with their reason)."""
    rows = []
    for label, cells in table.rows:
        shown = [report.shown(cell) for cell in cells]
        rows.append(
            {
                "label": label,
                "total": label in TOTAL_ROWS,
                "cells": [
                    {"text": s.text, "hidden": s.hidden, "reason": s.reason or ""} for s in shown
                ],
            }
        )
    return {"columns": list(table.columns), "rows": rows}


def _scale(top: float) -> float:
    """The axis maximum: the next multiple of 5 above `top`, at most 100%."""
    return min(100.0, float(int(top / 5 + 1) * 5))


def _bar_chart(title: str, shown: Shown, goal: float) -> dict[str, Any]:
    """One horizontal bar (the value) against a dashed target line."""
    width, left = 340, 10
    scale_max = _scale(max(goal * 1.6, (shown.value or 0) * 1.15, 5.0))

    def x(value: float) -> float:
        return left + (width - 2 * left) * value / scale_max

    end = None if shown.value is None else x(shown.value)
    goal_label_x = min(max(x(goal), left + 34), width - left - 34)
    return {
        "title": title,
        "title_size": _title_size(title),
        "width": width,
        "height": 74,
        "left": left,
        "text": shown.text,
        "reason": shown.reason or "",
        "end": end,
        # The value sits after the bar, or inside it (in white) when the bar is long.
        "label_inside": end is not None and end > width - 70,
        "goal": goal,
        "goal_x": x(goal),
        "goal_label_x": goal_label_x,
        "scale_max": scale_max,
        "show_zero": goal_label_x > left + 60,
    }


def _title_size(title: str) -> int:
    """A font size that fits the title in a 340-pixel chart."""
    return 12 if len(title) <= 46 else 10 if len(title) <= 58 else 9


def _trend_chart(title: str, points: list[TrendPoint], goal: float) -> dict[str, Any]:
    """Percentages by quarter (gaps where hidden), with the target as a dashed line."""
    width, height, left, right, top, bottom = 340, 150, 36, 12, 24, 30
    values = [p.percent.value for p in points if p.percent.value is not None]
    scale_max = _scale(max([goal * 1.5, 5.0, *(v * 1.15 for v in values)]))
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(points), 1)

    def py(value: float) -> float:
        return top + plot_h * (1 - value / scale_max)

    marks = [
        {
            "x": left + plot_w * (index + 0.5) / count,
            "y": None if p.percent.value is None else py(p.percent.value),
            "quarter": p.quarter,
            "text": p.percent.text,
        }
        for index, p in enumerate(points)
    ]
    return {
        "title": title,
        "title_size": _title_size(title),
        **{"width": width, "height": height, "left": left, "right": right, "top": top},
        "plot_h": plot_h,
        "scale_max": scale_max,
        "goal": goal,
        "goal_y": py(goal),
        "points": marks,
        "lines": _runs(marks),
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


def _rate_chart(report: QuarterReport, table: TableSpec) -> dict[str, Any]:
    """Declaration rate per question, as horizontal bars (0-100%)."""
    row_h, label_w, width = 20, 260, 700
    rows = []
    for index, (label, cells) in enumerate(table.rows):
        shown = report.shown(cells[-1])
        length = None if shown.value is None else (width - label_w - 60) * shown.value / 100
        rows.append({"y": 12 + index * row_h, "label": label, "text": shown.text, "length": length})
    return {
        "width": width,
        "height": 20 + row_h * len(table.rows),
        "row_h": row_h,
        "label_w": label_w,
        "rows": rows,
    }
