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
from bot.hr.report_charts import bar_chart, rate_chart, trend_chart
from bot.hr.service import QuarterReport, version_line
from bot.hr.tables import TableSpec, TargetFigure

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

TOTAL_ROWS = ("Total", "Total asked", "All staff")
# A table with more columns than this is laid out to the page's width (headers wrap).
MANY_COLUMNS = 6
# Tables with their own words for "nothing to show" (`text.empty.<id>`; others `table`).
EMPTY_WORDS = ("event_attendance", "network_membership")


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
    noisy = report.release.perturbation is not None
    page: dict[str, Any] = {
        "heading": texts("text.quarter_heading", quarter=quarter),
        "taken": texts("text.taken", day=report.taken_on.strftime("%-d %B %Y")),
        "version": version_line(report, config) or "",
        "intro": _intro(report, config),
        "key": texts("text.hidden_key", too_few=TOO_FEW, protects=PROTECTS)
        + " "
        + texts("text.notes.not_on_roster"),
        "reading_heading": texts("text.how_to_read.heading"),
        "reading": texts(f"text.how_to_read.{'noisy' if noisy else 'before_noise'}"),
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
    first = texts("text.trend.first")
    targets_table = _table(report, _table_by_id(report, "targets"))
    targets_table["columns"].append(config.label("trend"))
    for row, figure in zip(targets_table["rows"], report.built.targets, strict=True):
        row["cells"].append(_cell(Shown(_trend_words(report, figure, config))))
    return {
        "targets_heading": texts("text.tables.targets"),
        "bars": [
            bar_chart(
                title,
                report.release.percent(f.numerator, f.denominator),
                f.goal,
                texts("text.chart_target", target=f"{f.goal:.1f}"),
            )
            for f, title in titles
        ],
        "targets_table": targets_table,
        "notes": [f"{t.label}: {t.confirm}" for t in config.targets if t.confirm],
        "trend_heading": texts("text.trend.heading"),
        "trends": [
            trend_chart(
                title,
                report.trends.get((f.target.id, f.scope), []),
                f.goal,
                texts("text.chart_target", target=f"{f.goal:.1f}"),
                first,
            )
            for f, title in titles
        ],
        "tables": [
            _section(report, table, config)
            for table in report.built.tables
            if table.id != "targets"
        ],
    }


def _trend_words(report: QuarterReport, figure: TargetFigure, config: HrConfig) -> str:
    """How the target moved since the quarter before (frozen quarters, as released then)."""
    points = report.trends.get((figure.target.id, figure.scope), [])
    if len(points) < 2:
        return config.texts("text.trend.first")
    before, now = points[-2], points[-1]
    if before.percent.value is None or now.percent.value is None:
        return config.texts("text.trend.unknown", quarter=before.quarter)
    tenths = round((now.percent.value - before.percent.value) * 10)
    key = "same" if tenths == 0 else "up" if tenths > 0 else "down"
    return config.texts(
        f"text.trend.{key}",
        points=f"{abs(tenths) // 10}.{abs(tenths) % 10}",
        quarter=before.quarter,
        before=before.percent.text,
    )


def _section(report: QuarterReport, table: TableSpec, config: HrConfig) -> dict[str, Any]:
    """One table's section: title, table (or words when there is nothing to show), notes."""
    section = {
        **_table(report, table),
        "title": table.title,
        "notes": [table.note] if table.note else [],
        "rate": None,
        "empty_text": None,
    }
    if table.id == "declaration_rate":
        section["rate"] = rate_chart(
            [(label, report.shown(cells[-1])) for label, cells in table.rows]
        )
    if not table.rows:
        words = table.id if table.id in EMPTY_WORDS else "table"
        section["empty_text"] = config.texts(f"text.empty.{words}")
    if table.id in ("bulletin_reach", "bulletin_feedback"):
        _no_bulletin(report, table, section, config)
    return section


def _no_bulletin(
    report: QuarterReport, table: TableSpec, section: dict[str, Any], config: HrConfig
) -> None:
    """Months whose bulletin reached nobody on the roster (as shown: "<10" or 0) say so,
    instead of a column of 0.0% or "hidden"; a quarter with none says so once."""
    months = table.columns if table.id == "bulletin_reach" else [r for r, _ in table.rows]
    quiet = [m for m in months if _reached_nobody(report, m)]
    if quiet and len(quiet) == len(months):
        section["empty_text"] = config.texts("text.empty.bulletin")
        return
    if not quiet:
        return
    none = _cell(Shown(config.texts("text.empty.bulletin_cell")))
    for row in section["rows"]:
        if table.id == "bulletin_reach":
            row["cells"] = [
                none if month in quiet else cell
                for month, cell in zip(months, row["cells"], strict=True)
            ]
        elif row["label"] in quiet:
            row["cells"] = [none for _ in row["cells"]]
    section["notes"].append(config.texts("text.empty.bulletin_months", months=", ".join(quiet)))


def _reached_nobody(report: QuarterReport, month: str) -> bool:
    """Whether a month's reach of all staff is shown as none: "<10" (too few) or 0. Read
    from the release only, as the percentage beside it already tells."""
    release = report.release
    count = release.implied.get(f"reach|{month}|all") or release.counts.get(f"reach|{month}|all")
    if count is not None:
        return count.value == 0 or (count.value is None and count.reason == TOO_FEW)
    percent = release.percents.get((f"reach|{month}|all", "head|all"))
    return percent is not None and percent.value == 0


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


def _cell(shown: Shown) -> dict[str, Any]:
    return {"text": shown.text, "hidden": shown.hidden, "reason": shown.reason or ""}


def _table(report: QuarterReport, table: TableSpec) -> dict[str, Any]:
    """A table's columns and rows, every cell as released (hidden ones with their reason)."""
    rows = [
        {
            "label": label,
            "total": label in TOTAL_ROWS,
            "cells": [_cell(report.shown(cell)) for cell in cells],
        }
        for label, cells in table.rows
    ]
    return {
        "columns": list(table.columns),
        "rows": rows,
        "many": len(table.columns) > MANY_COLUMNS,
        "caption": table.title,
    }
