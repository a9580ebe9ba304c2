"""Check a report: status and messages for its reporter, and adding information.

Nothing about the report is kept in the conversation's state: the status card is shown and
the conversation ends. Its "add information" form carries a signed, short-lived token for
the report instead of the passphrase, handled by AddToReportDialog.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.incidents.models import IncidentReport
from bot.incidents.records import CLOSED, HELD, NOT_FOUND, PAUSED, PendingReport
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents
from dialogs.incidents.incident_ui import card, text, text_input

MAX_TRIES = 3


class CheckReportDialog(Dialog):
    """Asks for a reference (and passphrase), then shows the report's status once."""

    COMMAND = "check report"

    def __init__(self, content: Content, incidents: Incidents) -> None:
        super().__init__(CheckReportDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._w: dict[str, Any] = incidents.words

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Ask for the reference."""
        dialog_context.active_dialog.state["tries"] = 0
        await self._ask(dialog_context.context)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Look the report up; show it, or say why not."""
        context = dialog_context.context
        turn = Turn.of(context)
        typed, value = turn.text, turn.value
        state = dialog_context.active_dialog.state
        words = self._w["check"]
        reference = find_reference(str(value.get("reference") or "")) or find_reference(typed)
        passphrase = value.get("passphrase") if value.get("form") else None
        if reference is not None and not isinstance(passphrase, str):
            # Typed on one line: whatever follows the reference is the passphrase.
            rest = typed.upper().replace(reference, " ").replace(reference.replace("-", ""), " ")
            passphrase = rest.strip() or None
        if reference is None and typed.lower() in ("check report", "check my report"):
            await self._ask(context)  # asked again, not counted as a wrong try
            return Dialog.end_of_turn
        if reference is None:
            state["tries"] = state.get("tries", 0) + 1
            if state["tries"] >= MAX_TRIES:
                await context.send_activity(text(words["too_many_tries"]))
                return await dialog_context.end_dialog()
            await context.send_activity(text(words["hint"]))
            return Dialog.end_of_turn
        found = await self._incidents.find_for_reporter(
            turn_session(),
            reference,
            person=Turn.of(context).person,
            sender=Turn.of(context).sender_id,
            passphrase=passphrase.lower() if isinstance(passphrase, str) else None,
        )
        if found == PAUSED:
            minutes = self._incidents.taxonomy.limits["cooldown_minutes"]
            await context.send_activity(text(words["paused"].format(minutes=minutes)))
            return await dialog_context.end_dialog()
        if not isinstance(found, IncidentReport | PendingReport):
            state["tries"] = state.get("tries", 0) + 1
            if state["tries"] >= MAX_TRIES:
                await context.send_activity(text(words["too_many_tries"]))
                return await dialog_context.end_dialog()
            await context.send_activity(text(words["not_found"]))
            await self._ask(context)
            return Dialog.end_of_turn
        await self.show(context, found)
        return await dialog_context.end_dialog()

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Ask for the reference again."""
        await self._ask(context)

    async def _ask(self, context: TurnContext) -> None:
        words = self._w["check"]
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                inputs=[
                    text_input("reference", words["reference_label"], max_length=20),
                    text_input(
                        "passphrase", words["passphrase_label"], max_length=200, masked=True
                    ),
                ],
                buttons=[{"title": "Check", "data": {"form": "incident.check"}}],
            )
        )

    async def show(self, context: TurnContext, found: IncidentReport | PendingReport) -> None:
        """The report's status, messages, and a form to add information."""
        view = await self._incidents.reporter_view(turn_session(), found)
        words = self._w["check"]
        lines = [
            f"**{words['from_handler'] if author == 'handler' else words['from_reporter']}**, "
            f"{on.strftime('%-d %B %Y')}: {plain_text(body)}"
            for author, on, body in view.messages
        ] or [words["no_messages"]]
        inputs = []
        buttons = []
        if view.status != "closed":
            inputs.append(
                text_input(
                    "note",
                    words["add_label"],
                    multiline=True,
                    max_length=self._incidents.taxonomy.limits["note_chars"],
                )
            )
            buttons.append(
                {
                    "title": words["add_button"],
                    "data": {
                        "command": "add to report",
                        "token": self._incidents.followup_token(view.reference),
                    },
                }
            )
        outcome = self._incidents.taxonomy.label("outcome", view.outcome)
        status = self._w["statuses"].get(view.status, view.status)
        if isinstance(found, PendingReport):
            status = words["pending_status"]
        facts = [
            {"title": words["status_label"], "value": status},
            {"title": words["received_label"], "value": view.received_on.strftime("%-d %B %Y")},
        ]
        if outcome:
            facts.append({"title": "Outcome", "value": outcome})
        await context.send_activity(
            card(
                self._content,
                heading=words["status_heading"].format(reference=view.reference),
                sections=[
                    {"title": words["status_label"], "facts": facts, "lines": []},
                    {"title": words["messages_heading"], "facts": [], "lines": lines},
                ],
                inputs=inputs,
                buttons=buttons,
            )
        )


class AddToReportDialog(Dialog):
    """The "Send" button on a report's status card: adds the reporter's note. One turn."""

    COMMAND = "add to report"

    def __init__(self, content: Content, incidents: Incidents) -> None:
        super().__init__(AddToReportDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._w: dict[str, Any] = incidents.words

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Check the card's token, then store the note."""
        context = dialog_context.context
        value = Turn.of(context).value
        words = self._w["check"]
        reference = self._incidents.check_token(value.get("token"))
        if reference is None:
            await context.send_activity(text(words["expired_card"]))
            return await dialog_context.end_dialog()
        note = value.get("note")
        note = note.strip() if isinstance(note, str) else ""
        limit = self._incidents.taxonomy.limits["note_chars"]
        if not note:
            await context.send_activity(text(words["empty_note"]))
            return await dialog_context.end_dialog()
        if len(note) > limit:
            await context.send_activity(
                text(words["note_too_long"].format(length=f"{len(note):,}", limit=f"{limit:,}"))
            )
            return await dialog_context.end_dialog()
        outcome = await self._incidents.reporter_adds(
            turn_session(), reference, note, today=today_in_london()
        )
        if outcome == CLOSED:
            reply = self._w["cases"]["already_closed"]
        elif outcome == NOT_FOUND:
            reply = words["expired_card"]
        else:
            reply = words["added_anonymous" if outcome == HELD else "added"]
        await context.send_activity(text(reply.format(reference=reference)))
        return await dialog_context.end_dialog()
