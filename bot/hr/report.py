# ruff: noqa: E501  (inline CSS and SVG markup read better unwrapped)
"""Writing a released quarter: CSV files and one self-contained HTML report.

Everything here reads cells through `QuarterReport.shown` (the disclosure-controlled
release); no count reaches a file any other way. The HTML needs no network, no fonts and no
JavaScript: styles are inline, charts are inline SVG, and it prints on A4.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Callable
from pathlib import Path

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

_STYLE = """
body{font-family:"Segoe UI",Arial,Helvetica,sans-serif;color:#1b1b1b;margin:24px auto;max-width:1100px;padding:0 16px;line-height:1.4}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f4e79;padding-bottom:2px;color:#1f4e79}
h3{font-size:15px;margin:16px 0 6px}p.meta{color:#555;margin:2px 0}p.note{color:#555;font-size:13px;margin:4px 0}
table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}th,td{border:1px solid #c8c8c8;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#e8eef5}tr.total td{font-weight:bold}
td.hidden{color:#7a4b00;background:#fff6e0}td.small{color:#7a4b00;background:#fff6e0}
.key{border:1px solid #c8c8c8;background:#f7f7f7;padding:8px 12px;font-size:13px;margin:12px 0}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{break-inside:avoid;page-break-inside:avoid}
section{break-inside:avoid-page}svg text{font-family:"Segoe UI",Arial,Helvetica,sans-serif}
.wide{overflow-x:auto}
@media print{body{margin:0;max-width:none}h2{break-after:avoid;page-break-after:avoid}table,.chart{break-inside:avoid;page-break-inside:avoid}.wide{overflow:visible}}
@page{size:A4 landscape;margin:12mm}
"""


def render_html(report: QuarterReport, config: HrConfig) -> str:
    """The whole report as one HTML document with inline CSS and SVG charts."""
    texts = config.texts
    quarter = str(report.quarter)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{_e(texts('text.quarter_heading', quarter=quarter))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(texts('text.quarter_heading', quarter=quarter))}</h1>",
        f'<p class="meta">{_e(texts("text.taken", day=report.taken_on.strftime("%-d %B %Y")))}</p>',
        f"<p>{_e(_intro(report, config))}</p>",
        '<div class="key">'
        + _e(texts("text.hidden_key", too_few=TOO_FEW, protects=PROTECTS))
        + " "
        + _e(texts("text.notes.not_on_roster"))
        + "</div>",
    ]
    if report.empty:
        parts.append(f"<p>{_e(texts('text.no_roster'))}</p></body></html>")
        return "\n".join(parts)
    parts.append(f"<h2>{_e(texts('text.tables.targets'))}</h2>")
    parts.append('<div class="charts">')
    for figure in report.built.targets:
        shown = report.release.percent(figure.numerator, figure.denominator)
        parts.append(
            _bar_chart(
                f"{figure.target.label} ({texts(f'text.scope_{figure.scope}')})",
                shown,
                figure.goal,
            )
        )
    parts.append("</div>")
    parts.append(_table(report, _table_by_id(report, "targets")))
    notes = [f"{t.label}: {t.confirm}" for t in config.targets if t.confirm]
    for note in notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append("<h3>Trend</h3>")
    parts.append('<div class="charts">')
    for figure in report.built.targets:
        points = report.trends.get((figure.target.id, figure.scope), [])
        parts.append(
            _trend_chart(
                f"{figure.target.label} ({texts(f'text.scope_{figure.scope}')})",
                points,
                figure.goal,
            )
        )
    parts.append("</div>")
    for table in report.built.tables:
        if table.id == "targets":
            continue
        parts.append(f"<h2>{_e(table.title)}</h2>")
        if table.id == "declaration_rate":
            parts.append(_rate_chart(report, table))
        parts.append(_table(report, table))
        if table.note:
            parts.append(f'<p class="note">{_e(table.note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _intro(report: QuarterReport, config: HrConfig) -> str:
    """How the figures were made: with the cell key method's noise, or (a quarter frozen
    before it) as released then."""
    if report.release.perturbation is None:
        return config.texts("text.intro_before_noise")
    return config.texts("text.intro", noise=report.release.rules.max_noise)


def write_html(report: QuarterReport, config: HrConfig, out: Path) -> Path:
    """Write the HTML report to `out`/report-<quarter>.html."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"report-{report.quarter}.html"
    path.write_text(render_html(report, config), encoding="utf-8")
    return path


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table_by_id(report: QuarterReport, table_id: str) -> TableSpec:
    return next(t for t in report.built.tables if t.id == table_id)


def _table(report: QuarterReport, table: TableSpec) -> str:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in ["", *table.columns])
    rows = []
    for label, cells in table.rows:
        tds = []
        for cell in cells:
            shown = report.shown(cell)
            if shown.hidden:
                tds.append(f'<td class="hidden" title="{_e(shown.reason)}">{_e(shown.text)}</td>')
            else:
                tds.append(f"<td>{_e(shown.text)}</td>")
        css = ' class="total"' if label in ("Total", "All staff") else ""
        rows.append(
            f'<tr{css}><th scope="row" style="font-weight:normal;text-align:left">{_e(label)}</th>{"".join(tds)}</tr>'
        )
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _bar_chart(title: str, shown: Shown, goal: float) -> str:
    """One horizontal bar (the value) against a dashed target line."""
    width, height, left = 340, 74, 10
    scale_max = max(goal * 1.6, (shown.value or 0) * 1.15, 5.0)
    scale_max = min(100.0, float(int(scale_max / 5 + 1) * 5))
    plot = width - 2 * left

    def x(value: float) -> float:
        return left + plot * value / scale_max

    if shown.value is None:
        bar = f'<text x="{left + 2}" y="41" font-size="12" fill="#7a4b00">{_e(shown.text)} ({_e(shown.reason)})</text>'
    else:
        end = x(shown.value)
        # The value sits after the bar, or inside it (in white) when the bar is long.
        label = (
            f'<text x="{end - 4:.1f}" y="41" font-size="12" fill="#fff" text-anchor="end">{_e(shown.text)}</text>'
            if end > width - 70
            else f'<text x="{end + 4:.1f}" y="41" font-size="12" fill="#1b1b1b">{_e(shown.text)}</text>'
        )
        bar = (
            f'<rect x="{left}" y="26" width="{end - left:.1f}" height="20" fill="#1f4e79"/>{label}'
        )
    label_x = min(max(x(goal), left + 34), width - left - 34)
    target = (
        f'<line x1="{x(goal):.1f}" y1="20" x2="{x(goal):.1f}" y2="52" stroke="#c00000" stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{label_x:.1f}" y="64" font-size="11" fill="#c00000" text-anchor="middle">target {goal:.1f}%</text>'
    )
    axis = (
        f'<line x1="{left}" y1="48" x2="{width - left}" y2="48" stroke="#888"/>'
        f'<text x="{width - left}" y="64" font-size="10" fill="#555" text-anchor="end">{scale_max:.0f}%</text>'
        + (
            f'<text x="{left}" y="64" font-size="10" fill="#555">0%</text>'
            if label_x > left + 60
            else ""
        )
    )
    return (
        f'<svg class="chart" role="img" aria-label="{_e(title)}: {_e(shown.text)}, target {goal:.1f}%" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="{height}" fill="#fff" stroke="#ddd"/>'
        f'<text x="{left}" y="15" font-size="{_title_size(title)}" font-weight="bold">{_e(title)}</text>'
        f"{bar}{axis}{target}</svg>"
    )


def _title_size(title: str) -> int:
    """A font size that fits the title in a 340-pixel chart."""
    return 12 if len(title) <= 46 else 10 if len(title) <= 58 else 9


def _trend_chart(title: str, points: list[TrendPoint], goal: float) -> str:
    """Percentages by quarter (gaps where hidden), with the target as a dashed line."""
    width, height = 340, 150
    left, right, top, bottom = 36, 12, 24, 30
    values = [p.percent.value for p in points if p.percent.value is not None]
    scale_max = max([goal * 1.5, 5.0, *(v * 1.15 for v in values)])
    scale_max = min(100.0, float(int(scale_max / 5 + 1) * 5))
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(points), 1)

    def px(index: int) -> float:
        return left + (plot_w * (index + 0.5) / count)

    def py(value: float) -> float:
        return top + plot_h * (1 - value / scale_max)

    marks = []
    path: list[str] = []
    for index, point in enumerate(points):
        marks.append(
            f'<text x="{px(index):.1f}" y="{height - 12}" font-size="10" text-anchor="middle" fill="#555">{_e(point.quarter)}</text>'
        )
        value = point.percent.value
        if value is None:
            marks.append(
                f'<text x="{px(index):.1f}" y="{top + plot_h - 4:.1f}" font-size="9" text-anchor="middle" fill="#7a4b00">{_e(point.percent.text)}</text>'
            )
            path.append("")
            continue
        marks.append(f'<circle cx="{px(index):.1f}" cy="{py(value):.1f}" r="3.5" fill="#1f4e79"/>')
        marks.append(
            f'<text x="{px(index):.1f}" y="{py(value) - 6:.1f}" font-size="10" text-anchor="middle">{_e(point.percent.text)}</text>'
        )
        path.append(f"{px(index):.1f},{py(value):.1f}")
    lines = []
    run: list[str] = []
    for item in [*path, ""]:
        if item:
            run.append(item)
        elif run:
            if len(run) > 1:
                lines.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="#1f4e79" stroke-width="2"/>'
                )
            run = []
    if not points:
        marks.append(
            f'<text x="{width / 2}" y="{height / 2}" font-size="11" text-anchor="middle" fill="#555">no figures yet</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="Trend of {_e(title)}, target {goal:.1f}%" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="{height}" fill="#fff" stroke="#ddd"/>'
        f'<text x="8" y="15" font-size="{_title_size(title)}" font-weight="bold">{_e(title)}</text>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>'
        f'<text x="{left - 4}" y="{top + 4}" font-size="9" text-anchor="end" fill="#555">{scale_max:.0f}%</text>'
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="9" text-anchor="end" fill="#555">0%</text>'
        f'<line x1="{left}" y1="{py(goal):.1f}" x2="{width - right}" y2="{py(goal):.1f}" stroke="#c00000" stroke-width="1.5" stroke-dasharray="5 3"/>'
        f'<text x="{width - right}" y="{py(goal) - 3:.1f}" font-size="9" text-anchor="end" fill="#c00000">target {goal:.1f}%</text>'
        f"{''.join(lines)}{''.join(marks)}</svg>"
    )


def _rate_chart(report: QuarterReport, table: TableSpec) -> str:
    """Declaration rate per question, as horizontal bars (0-100%)."""
    row_h, label_w, width = 20, 260, 700
    height = 20 + row_h * len(table.rows)
    bars = []
    for index, (label, cells) in enumerate(table.rows):
        shown = report.shown(cells[-1])
        y = 12 + index * row_h
        bars.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{_e(label)}</text>'
        )
        if shown.value is None:
            bars.append(
                f'<text x="{label_w + 4}" y="{y + 13}" font-size="11" fill="#7a4b00">{_e(shown.text)}</text>'
            )
            continue
        length = (width - label_w - 60) * shown.value / 100
        bars.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{row_h - 6}" fill="#2e75b6"/>'
        )
        bars.append(
            f'<text x="{label_w + length + 4:.1f}" y="{y + 13}" font-size="11">{_e(shown.text)}</text>'
        )
    return (
        f'<svg class="chart" role="img" aria-label="Declaration rate by question" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )
