"""Incident cases, for case handlers: the list, a case, and what can be done with it.

The conversation's states, read from what its dialog state holds (`state_of`), so a
conversation saved before a deploy carries on where it was:

    LIST  the open cases ("reference" not set)
    CASE  one case and its buttons ("reference" names it, "version" is the one shown)
    FORM  a form about that case is out ("awaiting" names it: case.triage, case.assign,
          case.message or case.close)

`CasesDialog.__init__` holds the table: in each state, what each action does (an action is a
button's choice, or the same words typed). In any state a reference (typed, or a list's
button) opens that case, and a form's Save is applied only if it is the form awaited, by that
form's row in `self._forms`; anything else is an old button.

Every opening of a case and every change is written to the audit log. A change is applied
only if nobody else changed the case since this handler's card was shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum, StrEnum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.incidents.evidence import size_text
from bot.incidents.evidence_links import EvidenceLink, EvidenceLinks
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person, ReportError
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents
from bot.incidents.taxonomy import categories_of
from bot.privacy.roles import Role
from dialogs.incidents.case_card import case_buttons, case_sections, day_text
from dialogs.incidents.case_forms import CaseChange, CaseForms, FormInputs, FormSave
from dialogs.incidents.incident_ui import (
    card,
    person,
    pick,
    text,
)


class CaseState(Enum):
    """Where the handler is (see the module's docstring)."""

    LIST = "list"
    CASE = "case"
    FORM = "form"


class Action(StrEnum):
    """What a handler can ask for (a button's choice, or the same words typed)."""

    ACKNOWLEDGE = "acknowledge"
    TRIAGE = "triage"
    TAKE = "take"
    ASSIGN = "assign"
    MESSAGE = "message"
    CLOSE = "close"
    FILES = "files"
    BACK = "back"
    DONE = "done"


def state_of(state: dict[str, Any]) -> CaseState:
    """The conversation's state, from the keys its dialog state holds."""
    if state.get("reference") is None:
        return CaseState.LIST
    return CaseState.FORM if state.get("awaiting") else CaseState.CASE


# A state's step: (the dialog, its state, the action asked for or None if not understood).
Step = Callable[[DialogContext, dict[str, Any], Action | None], Awaitable[DialogTurnResult]]


class CasesDialog(CaseForms):
    """The handler's view: a list of open cases, then one case at a time."""

    COMMAND = "cases"
    ROLE = Role.CASE_HANDLER

    def __init__(self, content: Content, incidents: Incidents, links: EvidenceLinks) -> None:
        super().__init__(CasesDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._links = links
        self._w: dict[str, Any] = incidents.words
        self._c: dict[str, Any] = incidents.words["cases"]
        named = self._c["actions"]
        # The words for each action; `pick` also takes its code, or its number in this order
        # (typing "1" acknowledges, "8" is done).
        self._words: dict[str, list[str]] = {
            Action.ACKNOWLEDGE: [named["acknowledge"], "ack"],
            Action.TRIAGE: [named["triage"]],
            Action.TAKE: [named["take"], "assign to me", "take it", "take"],
            Action.ASSIGN: [named["assign"], "assign", "assign to someone"],
            Action.MESSAGE: [named["message"], "reply", "message reporter"],
            Action.CLOSE: [named["close"], "close case"],
            Action.FILES: [incidents.words["evidence"]["links_button"], "evidence"],
            Action.BACK: [named["back"], "list", "back to the list"],
            Action.DONE: [named["done"], "finished", "that's all"],
        }
        # What each action does to the open case (None: words that name no action).
        on_case: dict[Action | None, Step] = {
            Action.ACKNOWLEDGE: self._acknowledge,
            Action.TRIAGE: self._ask_form,
            Action.TAKE: self._take,
            Action.ASSIGN: self._ask_form,
            Action.MESSAGE: self._ask_form,
            Action.CLOSE: self._ask_form,
            Action.FILES: self._file_links,
            Action.BACK: self._back_to_list,
            Action.DONE: self._done,
            None: self._not_understood,
        }
        # In each state, what each action does.
        self._states: dict[CaseState, dict[Action | None, Step]] = {
            CaseState.LIST: {Action.DONE: self._done},  # anything else: the list again
            CaseState.CASE: on_case,
            CaseState.FORM: on_case,  # the case's buttons still work while a form is out
        }
        # Each form: what it asks, and how its Save is applied.
        self._forms: dict[str, tuple[FormInputs, FormSave]] = {
            "case.triage": (self._triage_inputs, self._triage_from),
            "case.assign": (self._assign_inputs, self._assign_from),
            "case.message": (self._message_inputs, self._message_from),
            "case.close": (self._close_inputs, self._close_from),
        }

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
        """A form's Save, another case to open, or the current state's step for the action."""
        turn = Turn.of(dialog_context.context)
        state = dialog_context.active_dialog.state
        form = turn.value.get("form")
        if form:
            return await self._answer_form(dialog_context, state, form, turn.value)
        wanted = find_reference(turn.text)
        if wanted is not None:
            return await self._open(dialog_context, state, wanted)
        found = pick(turn.text, self._words)
        action = Action(found) if found is not None else None
        if action is None and await self._typed_into_form(dialog_context, state, turn):
            return Dialog.end_of_turn
        step = self._states[state_of(state)].get(action, self._back_to_list)
        return await step(dialog_context, state, action)

    async def _typed_into_form(
        self, dialog_context: DialogContext, state: dict[str, Any], turn: Turn
    ) -> bool:
        """Words typed while a form with a text box is out go into that box (the form is
        shown again with them), rather than being lost; False if there is no such box."""
        form = state.get("awaiting")
        if (
            state_of(state) != CaseState.FORM
            or not turn.text
            or turn.value
            or form not in self._forms
        ):
            return False
        report = await self._incidents.by_reference(turn_session(), state["reference"])
        if report is None:
            return False
        return await self._send_form(dialog_context.context, report, str(form), typed=turn.text)

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the list again (a case is re-opened, and audited, only on request)."""
        await self._list(context, instance.state)

    # ---- steps ---------------------------------------------------------------------------

    async def _done(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        return await dialog_context.end_dialog()

    async def _back_to_list(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        state.pop("reference", None)
        state.pop("awaiting", None)
        await self._list(dialog_context.context, state)
        return Dialog.end_of_turn

    async def _not_understood(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        await dialog_context.context.send_activity(text(self._c["bad_choice"]))
        await self._show_current(dialog_context, state)
        return Dialog.end_of_turn

    async def _acknowledge(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        context = dialog_context.context
        change = await self._change(context, state)
        if change is None:
            return Dialog.end_of_turn
        report, c = change.report, self._c
        if report.acknowledged_on:
            await context.send_activity(text(c["already_acknowledged"]))
        elif await self._incidents.acknowledge(
            turn_session(),
            report,
            by=change.handler,
            today=change.today,
            expected_version=change.version,
        ):
            told = c["told_no"] if report.mode == "anonymous" else c["told_yes"]
            await context.send_activity(text(c["acknowledged"].format(told=told)))
        else:
            await context.send_activity(text(c["changed_meanwhile"]))
        await self._show(context, state, report)
        return Dialog.end_of_turn

    async def _take(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        context = dialog_context.context
        change = await self._change(context, state)
        if change is None:
            return Dialog.end_of_turn
        report = change.report
        try:
            taken = await self._incidents.take(
                turn_session(),
                report,
                by=change.handler,
                today=change.today,
                expected_version=change.version,
            )
        except ReportError as problem:
            await context.send_activity(text(str(problem)))
        else:
            said = self._c["taken"] if taken else self._c["changed_meanwhile"]
            await context.send_activity(text(said.format(reference=report.reference)))
        await self._show(context, state, report)
        return Dialog.end_of_turn

    async def _file_links(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        """A link to each of the open case's files, for this handler, for a few minutes
        (made here, audited; the role is checked again when one is opened)."""
        context = dialog_context.context
        reference = str(state.get("reference") or "")
        report = await self._incidents.by_reference(turn_session(), reference)
        if report is None:
            return await self._back_to_list(dialog_context, state, action)
        words = self._w["evidence"]
        files = await self._incidents.evidence.files_of(turn_session(), report.id)
        if not files:
            await context.send_activity(text(words["links_none"]))
            return Dialog.end_of_turn
        handler = self._handler(context)
        await self._incidents.audit_access(
            turn_session(),
            actor=handler.actor,
            action="incident.evidence_links",
            reference=reference,
            files=len(files),
        )
        now = utcnow()
        buttons = [
            {
                "title": words["link_title"].format(file=f"{f.name} ({size_text(f.size)})"),
                "url": self._links.url(EvidenceLink(handler.key, reference, f.id), now=now),
            }
            for f in files
        ]
        await context.send_activity(
            card(
                self._content,
                heading=words["links_heading"].format(reference=reference),
                paragraphs=[words["links_body"].format(minutes=self._links.minutes)],
                buttons=buttons,
            )
        )
        return Dialog.end_of_turn

    async def _ask_form(
        self, dialog_context: DialogContext, state: dict[str, Any], action: Action | None
    ) -> DialogTurnResult:
        context = dialog_context.context
        change = await self._change(context, state)
        if change is None:
            return Dialog.end_of_turn
        form = f"case.{action}"
        state["awaiting"] = form
        await self._send_form(context, change.report, form)
        return Dialog.end_of_turn

    async def _answer_form(
        self,
        dialog_context: DialogContext,
        state: dict[str, Any],
        form: object,
        value: dict[str, Any],
    ) -> DialogTurnResult:
        """A form's Save: applied if it is the form awaited, else an old button."""
        if state.get("awaiting") == form and state.get("reference"):
            return await self._apply_form(dialog_context, state, str(form), value)
        await dialog_context.context.send_activity(text(self._w["old_button"]))
        await self._show_current(dialog_context, state)
        return Dialog.end_of_turn

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
                sections=case_sections(
                    report,
                    view,
                    self._incidents.taxonomy,
                    words,
                    self._w,
                    evidence=self._w["evidence"],
                ),
                buttons=case_buttons(
                    report, words, files=self._w["evidence"] if view.files else None
                ),
            )
        )

    # ---- acting ------------------------------------------------------------------------------

    def _handler(self, context: TurnContext) -> Person:
        handler = person(context)
        if handler is None:
            raise PermissionError("a case handler must be identified")
        return handler

    async def _change(self, context: TurnContext, state: dict[str, Any]) -> CaseChange | None:
        """The open case, to be changed by this handler; None (having said why) if it has
        gone (the list is shown) or is closed (it is shown again)."""
        report = await self._incidents.by_reference(turn_session(), state["reference"])
        if report is None:
            state.pop("reference", None)
            await self._list(context, state)
            return None
        if report.status == "closed":
            await context.send_activity(text(self._c["already_closed"]))
            await self._show(context, state, report)
            return None
        return CaseChange(report, self._handler(context), today_in_london(), state.get("version"))

    async def _send_form(
        self, context: TurnContext, report: IncidentReport, form: str, *, typed: str = ""
    ) -> bool:
        """Show a form; with `typed`, those words in its text box (False if it has none)."""
        inputs_of, _ = self._forms[form]
        heading, inputs = await inputs_of(report, self._handler(context))
        paragraphs: list[str] = []
        if typed:
            boxes = [i for i in inputs if i.get("type") == "Input.Text" and i.get("isMultiline")]
            if not boxes:
                return False
            boxes[0]["value"] = typed
            paragraphs.append(self._c["typed_note"])
        back = {
            "title": self._c["actions"]["back"],
            "data": {"choice": "back"},
            "skip_inputs": True,
        }
        await context.send_activity(
            card(
                self._content,
                heading=heading.format(reference=report.reference),
                paragraphs=paragraphs,
                inputs=inputs,
                buttons=[{"title": "Save", "data": {"form": form}}, back],
            )
        )
        return True

    async def _apply_form(
        self, dialog_context: DialogContext, state: dict[str, Any], form: str, value: dict[str, Any]
    ) -> DialogTurnResult:
        context = dialog_context.context
        report = await self._incidents.by_reference(turn_session(), state["reference"])
        if report is None:
            await self._list(context, state)
            return Dialog.end_of_turn
        _, save = self._forms[form]
        change = CaseChange(report, self._handler(context), today_in_london(), state.get("version"))
        try:
            outcome = await save(context, change, value)
        except ReportError as problem:
            await context.send_activity(text(str(problem)))
            await self._send_form(context, report, form)
            return Dialog.end_of_turn
        if outcome is None:
            return Dialog.end_of_turn
        done, message = outcome
        state.pop("awaiting", None)
        await context.send_activity(text(message if done else self._c["changed_meanwhile"]))
        await self._show(context, state, report)
        return Dialog.end_of_turn
