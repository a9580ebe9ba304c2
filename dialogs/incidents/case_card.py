"""The case card a handler sees: a report's facts, its words, its messages and history.

People's words (the narrative, messages, names, notes) are shown as plain text, never as
Markdown: a reporter's `[link](...)` must not become a link in a handler's chat.
"""

from __future__ import annotations

from typing import Any

from bot.core.content import plain_text
from bot.incidents.models import IncidentReport
from bot.incidents.records import CaseView
from bot.incidents.taxonomy import Taxonomy, categories_of
from bot.incidents.written_down import written_down_text
from dialogs.incidents.incident_ui import detail_facts, when_text

NONE = "Not given"
CASE_ACTIONS = ("acknowledge", "triage", "take", "assign", "message", "close")


def day_text(value: Any) -> str:
    """A date as "4 December 2026" (empty when there is none)."""
    return value.strftime("%-d %B %Y") if value else ""


def case_sections(
    report: IncidentReport,
    view: CaseView,
    tax: Taxonomy,
    words: dict[str, Any],
    statuses: dict[str, Any],
    *,
    evidence: dict[str, Any],
) -> list[dict[str, Any]]:
    """The card's sections, in order (`evidence`: the words about files)."""
    return [
        {"title": "Case", "facts": _case_facts(report, view, tax, words, statuses), "lines": []},
        {"title": "What happened", "facts": [], "lines": [plain_text(view.narrative)]},
        {"title": "Details", "facts": _details(report, view, tax), "lines": []},
        {"title": "Messages", "facts": [], "lines": _messages(view)},
        {
            "title": evidence["case_heading"],
            "facts": [],
            "lines": [f"{plain_text(f.label)}, added {day_text(f.added_on)}" for f in view.files]
            or [evidence["case_none"]],
        },
        {"title": words["history_heading"], "facts": [], "lines": _history(view)},
    ]


def case_buttons(
    report: IncidentReport, words: dict[str, Any], *, files: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """What the handler can do next (once the case is closed, only get its files' links and
    go back); `files`, the evidence words, when the case has files."""
    buttons = []
    if report.status != "closed":
        for action in CASE_ACTIONS:
            if action == "acknowledge" and report.acknowledged_on:
                continue
            buttons.append({"title": words["actions"][action], "data": {"choice": action}})
    if files is not None:
        buttons.append({"title": files["links_button"], "data": {"choice": "files"}})
    buttons.append({"title": words["actions"]["back"], "data": {"choice": "back"}})
    return buttons


def _case_facts(
    report: IncidentReport,
    view: CaseView,
    tax: Taxonomy,
    words: dict[str, Any],
    statuses: dict[str, Any],
) -> list[dict[str, str]]:
    if view.reporter is None:
        reporter = words["reporter_anonymous"]
    else:
        reporter = f"{view.reporter.get('name', '')} ({tax.label('mode', report.mode)})"
    consents = [
        label
        for flag, label in (
            (report.consent_monitoring, "monitoring project"),
            (report.consent_police, "police (True Vision)"),
            (report.consent_hr, "HR action"),
        )
        if flag
    ]
    acknowledged = " (done)" if report.acknowledged_on else ""
    fed_back = " (done)" if report.feedback_on else ""
    facts = [
        {"title": "Status", "value": statuses.get(report.status, report.status)},
        {"title": "Received", "value": day_text(report.received_on)},
        {"title": words["reporter_label"], "value": reporter},
        {"title": "Reported by", "value": tax.label("relationship", report.relationship)},
        {"title": "Wants contact", "value": "Yes" if report.wants_contact else "No"},
        {"title": "Consents to", "value": ", ".join(consents) or "No referrals"},
        {"title": "Handler", "value": report.assigned_name or "Nobody yet"},
        {"title": "Risk", "value": tax.label("risk", report.risk) or "Not triaged"},
        {
            "title": "Crime or incident",
            "value": tax.label("classification", report.classification) or "Not triaged",
        },
        {"title": "Acknowledge by", "value": day_text(report.acknowledge_by) + acknowledged},
        {"title": "Feedback by", "value": day_text(report.feedback_by) + fed_back},
    ]
    if report.outcome:
        facts.append({"title": "Outcome", "value": tax.label("outcome", report.outcome)})
    if view.written_down:  # made from a private record: when it was first written down
        facts.insert(2, {"title": "Written down", "value": written_down_text(view.written_down)})
    return facts


def _details(report: IncidentReport, view: CaseView, tax: Taxonomy) -> list[dict[str, str]]:
    parts = categories_of(report)
    answers = {
        "motivations": parts["motivations"],
        "kinds": parts["kinds"],
        "location": report.location,
        "perpetrator": report.perpetrator,
        "frequency": report.frequency,
        "possible_crime": report.possible_crime,
        "impact": view.impact,
        "others": view.others,
    }
    when = when_text(day_text(report.occurred_on), view.occurred_approx)
    return detail_facts(tax, answers, when=when, none=NONE)


def _messages(view: CaseView) -> list[str]:
    return [
        f"**{'Handler' if author == 'handler' else 'Reporter'}**, {day_text(on)}: "
        f"{plain_text(body)}"
        for author, on, body in view.messages
    ] or ["No messages yet."]


def _history(view: CaseView) -> list[str]:
    return [
        f"{day_text(event.happened_on)}: {event.what}"
        + (f" by {plain_text(event.by_name)}" if event.by_name else "")
        + (f" ({plain_text(event.note)})" if event.note else "")
        for event in view.events
    ] or ["Nothing yet."]
