"""The case handler's forms (cases.py): what each asks, and how its Save is applied.

Each form is a row of `CasesDialog._forms`: "case.triage", "case.assign", "case.message" and
"case.close", pairing an `*_inputs` method here (the card's heading and inputs) with a
`*_from` method (the change, from the form's values).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog

from bot.core.content import plain_text
from bot.db.session import turn_session
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person, ReportError
from bot.incidents.service import Incidents
from dialogs.incidents.incident_ui import choice_input, text, text_input


@dataclass(frozen=True)
class CaseChange:
    """A handler's change to a case, as a button or a form asks for it."""

    report: IncidentReport
    handler: Person
    today: date
    version: Any


# A form's inputs for a case, as the handler asking sees it: its heading (with {reference})
# and its inputs.
FormInputs = Callable[[IncidentReport, Person], Awaitable[tuple[str, list[dict[str, Any]]]]]


# A form's Save: (done, what to say), or None when it has already said what was wrong.
FormSave = Callable[[TurnContext, CaseChange, dict[str, Any]], Awaitable[tuple[bool, str] | None]]


class CaseForms(Dialog):
    """The forms' two halves; CasesDialog pairs them in its table."""

    _incidents: Incidents
    _w: dict[str, Any]
    _c: dict[str, Any]

    # ---- the forms: what each asks ---------------------------------------------------------

    async def _triage_inputs(
        self, report: IncidentReport, handler: Person
    ) -> tuple[str, list[dict[str, Any]]]:
        c = self._c
        return c["triage_heading"], [
            choice_input("risk", c["risk_label"], c["risk"], value=report.risk),
            choice_input(
                "classification",
                c["classification_label"],
                c["classification"],
                value=report.classification,
            ),
        ]

    async def _assign_inputs(
        self, report: IncidentReport, handler: Person
    ) -> tuple[str, list[dict[str, Any]]]:
        c = self._c
        handlers = await self._incidents.handler_choices(
            turn_session(), tenant_id=handler.key.tenant_id
        )
        # The asker is named as they are in this chat, even where Teams never told the bot.
        named = [(handler.name if h.key == handler.key else h.name, h.actor) for h in handlers]
        options = [
            {"id": actor, "label": plain_text(name)}
            for name, actor in sorted(named, key=lambda n: n[0].casefold())
        ]
        return c["assign_heading"], [
            choice_input("handler", c["assign_label"], options, value=report.assigned_to)
        ]

    async def _message_inputs(
        self, report: IncidentReport, handler: Person
    ) -> tuple[str, list[dict[str, Any]]]:
        c = self._c
        limit = self._incidents.taxonomy.limits["note_chars"]
        return c["message_heading"], [
            text_input("body", c["message_label"], multiline=True, max_length=limit)
        ]

    async def _close_inputs(
        self, report: IncidentReport, handler: Person
    ) -> tuple[str, list[dict[str, Any]]]:
        c = self._c
        limit = self._incidents.taxonomy.limits["note_chars"]
        # An outcome that "needs" a consent (content/incidents/words.yaml) is offered only if
        # the report has it.
        allowed = [o for o in c["outcomes"] if not o.get("needs") or getattr(report, o["needs"])]
        return c["close_heading"], [
            choice_input("outcome", c["outcome_label"], allowed),
            text_input("note", c["close_note_label"], multiline=True, max_length=limit),
        ]

    # ---- the forms: how each Save is applied -----------------------------------------------

    async def _assign_from(
        self, context: TurnContext, change: CaseChange, value: dict[str, Any]
    ) -> tuple[bool, str]:
        chosen = str(value.get("handler") or "")
        handlers = await self._incidents.handler_choices(
            turn_session(), tenant_id=change.handler.key.tenant_id
        )
        to = next((h for h in handlers if h.actor == chosen), None)
        if to is None:
            raise ReportError(self._c["not_a_handler"])
        report = change.report
        assigned = await self._incidents.assign(
            turn_session(),
            report,
            to=to,
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        )
        if to.key == change.handler.key:
            return assigned.done, self._c["taken"].format(reference=report.reference)
        said = self._c["assigned" if assigned.told else "assigned_unreachable"]
        return assigned.done, said.format(name=plain_text(to.name), reference=report.reference)

    async def _triage_from(
        self, context: TurnContext, change: CaseChange, value: dict[str, Any]
    ) -> tuple[bool, str]:
        done = await self._incidents.triage(
            turn_session(),
            change.report,
            risk=str(value.get("risk") or ""),
            classification=str(value.get("classification") or ""),
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        )
        return done, self._c["triaged"]

    async def _message_from(
        self, context: TurnContext, change: CaseChange, value: dict[str, Any]
    ) -> tuple[bool, str] | None:
        limit = self._incidents.taxonomy.limits["note_chars"]
        body = value.get("body")
        body = body.strip() if isinstance(body, str) else ""
        if not body or len(body) > limit:
            check = self._w["check"]
            too_long = check["note_too_long"].format(length=f"{len(body):,}", limit=f"{limit:,}")
            await context.send_activity(text(check["empty_note"] if not body else too_long))
            return None
        told = await self._incidents.message_reporter(
            turn_session(),
            change.report,
            body,
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        )
        c = self._c
        return told is not None, c["message_sent"].format(
            told=c["told_yes"] if told else c["told_no"]
        )

    async def _close_from(
        self, context: TurnContext, change: CaseChange, value: dict[str, Any]
    ) -> tuple[bool, str]:
        limit = self._incidents.taxonomy.limits["note_chars"]
        note = value.get("note")
        note = note.strip()[:limit] if isinstance(note, str) else ""
        done = await self._incidents.close(
            turn_session(),
            change.report,
            outcome=str(value.get("outcome") or ""),
            note=note,
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        )
        return done, self._c["closed"].format(reference=change.report.reference)
