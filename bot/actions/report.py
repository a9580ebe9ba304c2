"""The annual progress report for the Equalities Board: Markdown and HTML, ready to edit.

Filled from content/actions/report.md.j2 and report.html.j2 (the HTML autoescaped: the
notes are the leads' free text). Each action with its lead, deadline, status, the latest
note, and what is overdue; summary counts at the top; items to confirm at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.actions.plans import Plan, PlanProblem
from bot.actions.progress import ActionStatus, summary_counts
from bot.core.content import plain_text


@dataclass(frozen=True)
class Report:
    """The rendered report."""

    markdown: str
    html: str


def _row(status: ActionStatus, labels: dict[str, str]) -> dict[str, Any]:
    """One action's line in the report: deadline as written and as read, status, notes."""
    action, state = status.action, status.state
    return {
        "number": action.number,
        "text": action.text,
        "leads": "; ".join(action.leads),
        "deadline": action.deadline_text or "(not legible in the source; to confirm)",
        "reading": action.deadline.describe if action.deadline else "",
        "status": labels[status.status],
        "status_code": status.status,
        "done_on": f"{state.done_on:%-d %B %Y}" if state.done_on else "",
        "note": state.note or "",
        "note_on": f"{state.note_on:%-d %B %Y}" if state.note_on else "",
        "note_by": state.note_by or "",
        # The day it was due, in words: "930 working days" says less than "28 March 2024".
        "overdue": f"{status.overdue_since.on:%-d %B %Y}" if status.overdue_since else "",
        "check_in": bool(status.overdue_since and not status.overdue_since.final),
        "next": f"{status.next_milestone.on:%-d %B %Y}" if status.next_milestone else "",
        "measures": list(action.success_measures),
    }


def report_context(
    plan: Plan,
    statuses: list[ActionStatus],
    *,
    today: date,
    words: dict[str, Any],
    problems: list[PlanProblem],
) -> dict[str, Any]:
    """What the templates are filled with."""
    labels = words["statuses"]
    rows_by_objective: dict[str, list[dict[str, Any]]] = {}
    overdue = []
    for status in statuses:
        row = _row(status, labels)
        rows_by_objective.setdefault(status.action.objective, []).append(row)
        if status.overdue:
            overdue.append(row)
    objectives = [
        {
            "id": objective.id,
            "title": objective.title or "(title to confirm)",
            "actions": rows_by_objective.get(objective.id, []),
        }
        for objective in plan.objectives.values()
        if rows_by_objective.get(objective.id)
    ]
    counts = summary_counts(statuses)
    return {
        "plan": {
            "id": plan.id,
            "title": plan.title,
            "closed_on": f"{plan.closed_on:%-d %B %Y}" if plan.closed_on else "",
        },
        "today": f"{today:%-d %B %Y}",
        "counts": [
            {"label": labels[name], "count": counts[name]}
            for name in ("done", "green", "amber", "red", "no_update")
        ],
        "total": counts["total"],
        "overdue_count": counts["overdue"],
        "objectives": objectives,
        "overdue": overdue,
        "to_confirm": [str(p) for p in problems if p.plan == plan.id and p.kind == "confirm"],
    }


def _plain_notes(context: dict[str, Any]) -> dict[str, Any]:
    """The context with the leads' notes and names as plain text, for the Markdown report."""

    def row(values: dict[str, Any]) -> dict[str, Any]:
        return {
            **values,
            "note": plain_text(values["note"]) if values["note"] else "",
            "note_by": plain_text(values["note_by"]) if values["note_by"] else "",
        }

    return {
        **context,
        "overdue": [row(r) for r in context["overdue"]],
        "objectives": [
            {**o, "actions": [row(r) for r in o["actions"]]} for o in context["objectives"]
        ],
    }


def render_report(templates: Path, context: dict[str, Any]) -> Report:
    """The report as Markdown and as HTML."""
    markdown_env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    html_env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    markdown = markdown_env.get_template("report.md.j2").render(**_plain_notes(context))
    html = html_env.get_template("report.html.j2").render(**context)
    return Report(markdown, html)
