"""Incident cases, for case handlers: the list, a case, and what can be done with it.

Every opening of a case and every change is written to the audit log. A change is applied
only if nobody else changed the case since this handler's card was shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person, ReportError
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents
from bot.incidents.taxonomy import categories_of
from bot.privacy.roles import Role
from dialogs.incidents.case_card import case_buttons, case_sections, day_text
from dialogs.incidents.incident_ui import (
    card,
    choice_input,
    person,
    pick,
    text,
    text_input,
)

ACTIONS = ("acknowledge", "triage", "take", "assign", "message", "close", "back", "done")


@dataclass(frozen=True)
class _Change:
    """A handler's change to a case, as a form asks for it."""

    report: IncidentReport
    handler: Person
    today: date
    version: Any


class CasesDialog(Dialog):
    """The handler's view: a list of open cases, then one case at a time."""

    COMMAND = "cases"
    ROLE = Role.CASE_HANDLER

    def __init__(self, content: Content, incidents: Incidents) -> None:
        super().__init__(CasesDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._w: dict[str, Any] = incidents.words
        self._c: dict[str, Any] = incidents.words["cases"]

    # ---- the Dialog protocol ------------------------------------------------------------

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Open the case a notification's button names, or show the list."""
        value = Turn.of(dialog_context.context).value
        state = dialog_context.active_dialog.state
        wanted = find_reference(str(value.get("open") or ""))
        if wanted is not None:
            return await self._open(dialog_context, state, wanted)
        await self._list(dialog_context.context, state)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """An action on the open case, a form's answers, or another case to open."""
        context = dialog_context.context
        turn = Turn.of(context)
        typed, value = turn.text, turn.value
        state = dialog_context.active_dialog.state
        form = value.get("form")
        if form and state.get("awaiting") == form and state.get("reference"):
            return await self._apply_form(dialog_context, state, form, value)
        if form:
            await context.send_activity(text(self._w["old_button"]))
            await self._show_current(dialog_context, state)
            return Dialog.end_of_turn
        wanted = find_reference(typed)
        if wanted is not None:
            return await self._open(dialog_context, state, wanted)
        action = pick(
            typed,
            {
                "acknowledge": [self._c["actions"]["acknowledge"], "ack"],
                "triage": [self._c["actions"]["triage"]],
                "take": [self._c["actions"]["take"], "assign to me", "take it", "take"],
                "assign": [self._c["actions"]["assign"], "assign", "assign to someone"],
                "message": [self._c["actions"]["message"], "reply", "message reporter"],
                "close": [self._c["actions"]["close"], "close case"],
                "back": [self._c["actions"]["back"], "list", "back to the list"],
                "done": [self._c["actions"]["done"], "finished", "that's all"],
            },
        )
        if action == "done":
            return await dialog_context.end_dialog()
        if action == "back" or state.get("reference") is None:
            state.pop("reference", None)
            state.pop("awaiting", None)
            await self._list(context, state)
            return Dialog.end_of_turn
        if action is None:
            await context.send_activity(text(self._c["bad_choice"]))
            await self._show_current(dialog_context, state)
            return Dialog.end_of_turn
        return await self._act(dialog_context, state, action)

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the list again (a case is re-opened, and audited, only on request)."""
        await self._list(context, instance.state)

    # ---- showing ---------------------------------------------------------------------------

    async def _list(self, context: TurnContext, state: dict[str, Any]) -> None:
        cases = await self._incidents.open_cases(turn_session())
        tax = self._incidents.taxonomy
        sections = []
        for report in cases:
            parts = categories_of(report)
            status = self._w["statuses"].get(report.status, report.status)
            sections.append(
                {
                    "title": f"{report.reference} · {status}",
                    "facts": [
                        {"title": "Received", "value": day_text(report.received_on)},
                        {
                            "title": "Categories",
                            "value": tax.labels("motivations", parts["motivations"])
                            or "None given",
                        },
                        {
                            "title": "Acknowledge by",
                            "value": day_text(report.acknowledge_by)
                            if not report.acknowledged_on
                            else "Done",
                        },
                        {
                            "title": "Feedback by",
                            "value": day_text(report.feedback_by)
                            if not report.feedback_on
                            else "Done",
                        },
                        {"title": "Handler", "value": report.assigned_name or "Nobody yet"},
                    ],
                    "lines": [],
                    "button": {
                        "title": self._c["open_button"].format(reference=report.reference),
                        "data": {"choice": report.reference},
                    },
                }
            )
        await context.send_activity(
            card(
                self._content,
                heading=self._c["list_heading"],
                paragraphs=[
                    self._c["ask"] if cases else self._c["none_open"],
                    self._c["closed_hint"],
                ],
                sections=sections,
                buttons=[{"title": self._c["actions"]["done"], "data": {"choice": "done"}}],
            )
        )

    async def _open(
        self, dialog_context: DialogContext, state: dict[str, Any], reference: str
    ) -> DialogTurnResult:
        context = dialog_context.context
        report = await self._incidents.by_reference(turn_session(), reference)
        if report is None:
            await context.send_activity(
                text(self._c["not_found"].format(reference=plain_text(reference)))
            )
            return Dialog.end_of_turn
        handler = self._handler(context)
        await self._incidents.audit_access(
            turn_session(), actor=handler.actor, action="incident.viewed", reference=reference
        )
        state["reference"] = reference
        state.pop("awaiting", None)
        await self._show(context, state, report)
        return Dialog.end_of_turn

    async def _show_current(self, dialog_context: DialogContext, state: dict[str, Any]) -> None:
        reference = state.get("reference")
        report = (
            await self._incidents.by_reference(turn_session(), reference) if reference else None
        )
        if report is None:
            await self._list(dialog_context.context, state)
            return
        await self._show(dialog_context.context, state, report)

    async def _show(
        self, context: TurnContext, state: dict[str, Any], report: IncidentReport
    ) -> None:
        view = await self._incidents.view(turn_session(), report)
        state["version"] = report.version
        words = self._c
        await context.send_activity(
            card(
                self._content,
                heading=words["case_heading"].format(reference=report.reference),
                sections=case_sections(report, view, self._incidents.taxonomy, words, self._w),
                buttons=case_buttons(report, words),
            )
        )

    # ---- acting ------------------------------------------------------------------------------

    def _handler(self, context: TurnContext) -> Person:
        handler = person(context)
        if handler is None:
            raise PermissionError("a case handler must be identified")
        return handler

    async def _act(
        self, dialog_context: DialogContext, state: dict[str, Any], action: str
    ) -> DialogTurnResult:
        context = dialog_context.context
        report = await self._incidents.by_reference(turn_session(), state["reference"])
        if report is None:
            state.pop("reference", None)
            await self._list(context, state)
            return Dialog.end_of_turn
        if report.status == "closed":
            await context.send_activity(text(self._c["already_closed"]))
            await self._show(context, state, report)
            return Dialog.end_of_turn
        handler = self._handler(context)
        today = today_in_london()
        version = state.get("version")
        c = self._c
        if action == "acknowledge":
            if report.acknowledged_on:
                await context.send_activity(text(c["already_acknowledged"]))
            elif await self._incidents.acknowledge(
                turn_session(), report, by=handler, today=today, expected_version=version
            ):
                told = c["told_no"] if report.mode == "anonymous" else c["told_yes"]
                await context.send_activity(text(c["acknowledged"].format(told=told)))
            else:
                await context.send_activity(text(c["changed_meanwhile"]))
            await self._show(context, state, report)
            return Dialog.end_of_turn
        if action == "take":
            if await self._incidents.take(
                turn_session(), report, by=handler, today=today, expected_version=version
            ):
                await context.send_activity(text(c["taken"].format(reference=report.reference)))
            else:
                await context.send_activity(text(c["changed_meanwhile"]))
            await self._show(context, state, report)
            return Dialog.end_of_turn
        state["awaiting"] = f"case.{action}"
        await self._ask_form(context, report, action)
        return Dialog.end_of_turn

    async def _ask_form(self, context: TurnContext, report: IncidentReport, action: str) -> None:
        c = self._c
        limits = self._incidents.taxonomy.limits
        back = {"title": c["actions"]["back"], "data": {"choice": "back"}, "skip_inputs": True}
        if action == "assign":
            handlers = await self._incidents.handler_choices(turn_session())
            options = [{"id": h.actor, "label": plain_text(h.name)} for h in handlers]
            inputs = [choice_input("handler", c["assign_label"], options, value=report.assigned_to)]
            heading = c["assign_heading"]
        elif action == "triage":
            inputs = [
                choice_input("risk", c["risk_label"], c["risk"], value=report.risk),
                choice_input(
                    "classification",
                    c["classification_label"],
                    c["classification"],
                    value=report.classification,
                ),
            ]
            heading = c["triage_heading"]
        elif action == "message":
            inputs = [
                text_input(
                    "body", c["message_label"], multiline=True, max_length=limits["note_chars"]
                )
            ]
            heading = c["message_heading"]
        else:
            allowed = [
                o for o in c["outcomes"] if not o.get("needs") or getattr(report, o["needs"])
            ]
            inputs = [
                choice_input("outcome", c["outcome_label"], allowed),
                text_input(
                    "note", c["close_note_label"], multiline=True, max_length=limits["note_chars"]
                ),
            ]
            heading = c["close_heading"]
        await context.send_activity(
            card(
                self._content,
                heading=heading.format(reference=report.reference),
                inputs=inputs,
                buttons=[{"title": "Save", "data": {"form": f"case.{action}"}}, back],
            )
        )

    async def _apply_form(
        self, dialog_context: DialogContext, state: dict[str, Any], form: str, value: dict[str, Any]
    ) -> DialogTurnResult:
        context = dialog_context.context
        report = await self._incidents.by_reference(turn_session(), state["reference"])
        if report is None:
            await self._list(context, state)
            return Dialog.end_of_turn
        action = form.removeprefix("case.")
        apply = {
            "assign": self._assign_from,
            "triage": self._triage_from,
            "message": self._message_from,
        }.get(action, self._close_from)
        change = _Change(report, self._handler(context), today_in_london(), state.get("version"))
        try:
            outcome = await apply(context, change, value)
        except ReportError as problem:
            await context.send_activity(text(str(problem)))
            await self._ask_form(context, report, action)
            return Dialog.end_of_turn
        if outcome is None:
            return Dialog.end_of_turn
        done, message = outcome
        state.pop("awaiting", None)
        await context.send_activity(text(message if done else self._c["changed_meanwhile"]))
        await self._show(context, state, report)
        return Dialog.end_of_turn

    async def _assign_from(
        self, context: TurnContext, change: _Change, value: dict[str, Any]
    ) -> tuple[bool, str]:
        chosen = str(value.get("handler") or "")
        handlers = await self._incidents.handler_choices(turn_session())
        to = next((h for h in handlers if h.actor == chosen), None)
        if to is None:
            raise ReportError(self._c["not_a_handler"])
        report = change.report
        done = await self._incidents.assign(
            turn_session(),
            report,
            to=to,
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        )
        if to.key == change.handler.key:
            return done, self._c["taken"].format(reference=report.reference)
        return done, self._c["assigned"].format(
            name=plain_text(to.name), reference=report.reference
        )

    async def _triage_from(
        self, context: TurnContext, change: _Change, value: dict[str, Any]
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
        self, context: TurnContext, change: _Change, value: dict[str, Any]
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
        self, context: TurnContext, change: _Change, value: dict[str, Any]
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
