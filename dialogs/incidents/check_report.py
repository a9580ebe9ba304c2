"""Check a report: status and messages for its reporter, and adding information.

Nothing about the report is kept in the conversation's state: the status card is shown and
the conversation ends. Its "add information" form carries a signed, short-lived token for
the report instead of the passphrase, handled by AddToReportDialog.

CheckReportDialog's states (the dialog state's "step"; "tries" counts wrong answers, and
MAX_TRIES of them end it):

    ASK         the card asking for the reference (and passphrase) is out
    REPLYING    an open report's status card is out, and the person may type a reply
    CONFIRMING  what they typed is on a card, asking for the reference again to add it

In ASK, what a reply turns out to be (`Reply`) leads, by the table in `__init__`, to:

    ASKED_AGAIN   the command typed again      the card again (not counted)
    NO_REFERENCE  nothing like a reference     a hint (counted)
    PAUSED        too many wrong tries lately  say so, and finish
    NOT_FOUND     unknown, or not theirs       "not found" and the card again (counted)
    FOUND         their report                 its status card; REPLYING if it is open

No typed word is lost: words typed in REPLYING (the status card says "add information or
reply") come back on a card with a box holding them, "Add to my report" and "Don't add it".
As nothing about the report may be kept in the conversation's state (not even which one was
checked), that card asks for the reference (and passphrase) again; a wrong one keeps the
words in the box.

AddToReportDialog is one turn: the status card's "Send" button; what the service says about
the note picks the reply from its table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.incidents.evidence_store import FileInfo
from bot.incidents.models import IncidentReport
from bot.incidents.records import CLOSED, HELD, NOT_FOUND, PAUSED, PendingReport
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents
from dialogs.incidents.check_files import add_waiting_files, drop_waiting_files, keep_sent_files
from dialogs.incidents.evidence_ui import FileIntake, shown
from dialogs.incidents.incident_ui import card, text, text_input

MAX_TRIES = 3
ASK, REPLYING, CONFIRMING = "ask", "replying", "confirming"
ADD_TYPED = "incident.check_add"  # the form of the card holding typed words
SKIP_TYPED = "skip typed"  # its "Don't add it" button


# Typed while the card is out, the command asks for the card again.
ASK_AGAIN_WORDS = ("check report", "check my report")


class Reply(Enum):
    """What a reply to the reference card turns out to be."""

    ASKED_AGAIN = "asked again"
    NO_REFERENCE = "no reference"
    PAUSED = "paused"
    NOT_FOUND = "not found"
    FOUND = "found"


Found = IncidentReport | PendingReport


# What a reply leads to: (the dialog, the report when FOUND).
Step = Callable[[DialogContext, Found | None], Awaitable[DialogTurnResult]]


def reference_and_passphrase(turn: Turn) -> tuple[str | None, str | None]:
    """The reference and passphrase, from the card's inputs or typed on one line."""
    typed, value = turn.text, turn.value
    reference = find_reference(str(value.get("reference") or "")) or find_reference(typed)
    passphrase = value.get("passphrase") if value.get("form") else None
    if reference is not None and not isinstance(passphrase, str):
        # Typed on one line: whatever follows the reference is the passphrase.
        rest = typed.upper().replace(reference, " ").replace(reference.replace("-", ""), " ")
        passphrase = rest.strip() or None
    return reference, passphrase.lower() if isinstance(passphrase, str) else None


class CheckReportDialog(Dialog):
    """Asks for a reference (and passphrase), then shows the report's status once."""

    COMMAND = "check report"

    def __init__(self, content: Content, incidents: Incidents, files: FileIntake) -> None:
        super().__init__(CheckReportDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._files = files
        self._w: dict[str, Any] = incidents.words
        # What each reply leads to (the module's docstring has the map).
        self._on_reply: dict[Reply, Step] = {
            Reply.ASKED_AGAIN: self._ask_again,
            Reply.NO_REFERENCE: self._hint,
            Reply.PAUSED: self._paused,
            Reply.NOT_FOUND: self._not_found,
            Reply.FOUND: self._found,
        }
        self._on_step: dict[str, Callable[[DialogContext], Awaitable[DialogTurnResult]]] = {
            ASK: self._on_ask,
            REPLYING: self._on_replying,
            CONFIRMING: self._on_confirming,
        }

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Ask for the reference."""
        dialog_context.active_dialog.state["tries"] = 0
        await self._ask(dialog_context.context)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Act on the reply in the state we are in (the module's docstring has the map)."""
        step = dialog_context.active_dialog.state.get("step", ASK)
        if Turn.of(dialog_context.context).files:
            return await self._files_sent(dialog_context, step)
        return await self._on_step.get(step, self._on_ask)(dialog_context)

    async def _files_sent(self, dialog_context: DialogContext, step: str) -> DialogTurnResult:
        """Files: kept waiting until the person says (again) which report they are for. In
        ASK the card is asked again; after the status card, the card asking for the
        reference to add them (CONFIRMING); on that card, they join the others."""
        context = dialog_context.context
        state = dialog_context.active_dialog.state
        kept = await keep_sent_files(context, self._files, state)
        if step == ASK:
            await self._ask(context)
        elif step == REPLYING and kept:
            state["step"] = CONFIRMING
            await self._offer_typed(context, Turn.of(context).text, state.get("files"))
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Ask for the reference again."""
        await self._ask(context)

    async def _on_ask(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Look the report up; show it, or say why not."""
        reply, found = await self._read(Turn.of(dialog_context.context))
        return await self._on_reply[reply](dialog_context, found)

    async def _on_replying(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Words typed after the status card: offer to add them (a reference is a new check)."""
        turn = Turn.of(dialog_context.context)
        if self._not_words(turn):
            return await self._on_ask(dialog_context)
        state = dialog_context.active_dialog.state
        state["step"] = CONFIRMING
        await self._offer_typed(dialog_context.context, turn.text, state.get("files"))
        return Dialog.end_of_turn

    async def _on_confirming(self, dialog_context: DialogContext) -> DialogTurnResult:
        """The card holding typed words: add them, keep them for another try, or drop them."""
        context = dialog_context.context
        turn = Turn.of(context)
        state = dialog_context.active_dialog.state
        if turn.value.get("choice") == SKIP_TYPED:
            if not await drop_waiting_files(context, self._incidents, self._files, state):
                await context.send_activity(text(self._w["check"]["typed_skipped"]))
            return await dialog_context.end_dialog()
        if turn.value.get("form") != ADD_TYPED:
            if self._not_words(turn):
                return await self._on_ask(dialog_context)
            # Typed again: these words instead.
            await self._offer_typed(context, turn.text, state.get("files"))
            return Dialog.end_of_turn
        note = turn.value.get("note")
        note = note.strip() if isinstance(note, str) else ""
        reply, found = await self._read(turn)
        if reply == Reply.PAUSED:
            return await self._paused(dialog_context, None)
        if found is None:
            return await self._typed_wrong_try(dialog_context, note)
        if note or not state.get("files"):
            refusal = note_refusal(self._incidents, self._w, note)
            if refusal is not None:
                await context.send_activity(text(refusal))
                await self._offer_typed(context, note, state.get("files"))
                return Dialog.end_of_turn
            await context.send_activity(
                text(await add_note(self._incidents, self._w, found.reference, note))
            )
        await add_waiting_files(context, self._incidents, self._files, state, found.reference)
        return await dialog_context.end_dialog()

    def _not_words(self, turn: Turn) -> bool:
        """A card, "check report" again, or a reference (with a passphrase) alone: a new
        check, not words to add."""
        typed = turn.text
        if turn.value or not typed or typed.lower() in ASK_AGAIN_WORDS:
            return True
        reference, passphrase = reference_and_passphrase(turn)
        return reference is not None and self._incidents.could_be_passphrase(passphrase or "")

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Whether, when a button interrupted it, there is nothing to go back to: the status
        card was shown (the shell then ends this quietly instead of asking again)."""
        return state.get("step") == REPLYING

    async def _typed_wrong_try(self, dialog_context: DialogContext, note: str) -> DialogTurnResult:
        """A wrong reference or passphrase on the card holding typed words: keep the words."""
        context = dialog_context.context
        state = dialog_context.active_dialog.state
        state["tries"] = state.get("tries", 0) + 1
        if state["tries"] >= MAX_TRIES:
            await context.send_activity(text(self._w["check"]["too_many_tries"]))
            return await dialog_context.end_dialog()
        await context.send_activity(text(self._w["check"]["typed_not_found"]))
        await self._offer_typed(context, note, state.get("files"))
        return Dialog.end_of_turn

    async def _read(self, turn: Turn) -> tuple[Reply, Found | None]:
        """What the reply is, and for a reference the report it finds (if it may be seen)."""
        reference, passphrase = reference_and_passphrase(turn)
        if reference is None:
            asked_again = turn.text.lower() in ASK_AGAIN_WORDS
            return (Reply.ASKED_AGAIN if asked_again else Reply.NO_REFERENCE), None
        found = await self._incidents.find_for_reporter(
            turn_session(),
            reference,
            person=turn.person,
            sender=turn.sender_id,
            passphrase=passphrase,
        )
        if found == PAUSED:
            return Reply.PAUSED, None
        if not isinstance(found, IncidentReport | PendingReport):
            return Reply.NOT_FOUND, None
        return Reply.FOUND, found

    # ---- what each reply leads to -------------------------------------------------------

    async def _ask_again(
        self, dialog_context: DialogContext, found: Found | None
    ) -> DialogTurnResult:
        await self._ask(dialog_context.context)  # asked again, not counted as a wrong try
        return Dialog.end_of_turn

    async def _hint(self, dialog_context: DialogContext, found: Found | None) -> DialogTurnResult:
        return await self._wrong_try(dialog_context, "hint", ask=False)

    async def _paused(self, dialog_context: DialogContext, found: Found | None) -> DialogTurnResult:
        minutes = self._incidents.taxonomy.limits["cooldown_minutes"]
        await dialog_context.context.send_activity(
            text(self._w["check"]["paused"].format(minutes=minutes))
        )
        return await dialog_context.end_dialog()

    async def _not_found(
        self, dialog_context: DialogContext, found: Found | None
    ) -> DialogTurnResult:
        return await self._wrong_try(dialog_context, "not_found", ask=True)

    async def _found(self, dialog_context: DialogContext, found: Found | None) -> DialogTurnResult:
        if found is not None:
            # Files sent before the reference: the reporter has now shown which report.
            state = dialog_context.active_dialog.state
            await add_waiting_files(
                dialog_context.context, self._incidents, self._files, state, found.reference
            )
        if found is not None and await self.show(dialog_context.context, found):
            state = dialog_context.active_dialog.state
            state["step"], state["tries"] = REPLYING, 0
            return Dialog.end_of_turn
        return await dialog_context.end_dialog()

    async def _wrong_try(
        self, dialog_context: DialogContext, reply: str, *, ask: bool
    ) -> DialogTurnResult:
        """Count a wrong answer: after MAX_TRIES, finish; until then, say `reply`."""
        context = dialog_context.context
        state = dialog_context.active_dialog.state
        words = self._w["check"]
        state["tries"] = state.get("tries", 0) + 1
        if state["tries"] >= MAX_TRIES:
            await context.send_activity(text(words["too_many_tries"]))
            return await dialog_context.end_dialog()
        await context.send_activity(text(words[reply]))
        if ask:
            await self._ask(context)
        return Dialog.end_of_turn

    # ---- cards --------------------------------------------------------------------------

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

    async def _offer_typed(
        self, context: TurnContext, typed: str, files: list[dict[str, Any]] | None = None
    ) -> None:
        """The card holding typed words (and naming files sent), asking for the reference
        again to add them."""
        words = self._w["check"]
        paragraphs = [words["typed_body"]]
        if files:
            label = self._files.words["waiting_label"]
            paragraphs.append(f"**{label}**: {self._files.listing(files)}")
        await context.send_activity(
            card(
                self._content,
                heading=words["typed_heading"],
                paragraphs=paragraphs,
                inputs=[
                    text_input("note", words["typed_label"], multiline=True, value=typed),
                    text_input("reference", words["reference_label"], max_length=20),
                    text_input(
                        "passphrase", words["passphrase_label"], max_length=200, masked=True
                    ),
                ],
                buttons=[
                    {"title": words["typed_add"], "data": {"form": ADD_TYPED}},
                    {"title": words["typed_skip"], "data": {"choice": SKIP_TYPED}},
                ],
            )
        )

    async def show(self, context: TurnContext, found: IncidentReport | PendingReport) -> bool:
        """The report's status, messages, and a form to add information; whether it is open."""
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
                    self._files_section(view.files, open_=view.status != "closed"),
                ],
                inputs=inputs,
                buttons=buttons,
            )
        )
        return view.status != "closed"

    def _files_section(self, files: list[FileInfo], *, open_: bool) -> dict[str, Any]:
        """The files the case holds (or will, at the next release), and how to add one."""
        words = self._files.words
        lines = [shown(f.name, f.size) for f in files] or [words["case_none"]]
        if open_:
            lines.append(words["check_hint"].format(**self._files.limits()))
        return {"title": words["files_label"], "facts": [], "lines": lines}


def note_refusal(incidents: Incidents, w: dict[str, Any], note: str) -> str | None:
    """Why the note cannot be added (none, or too long), if it cannot."""
    words = w["check"]
    limit = incidents.taxonomy.limits["note_chars"]
    if not note:
        return str(words["empty_note"])
    if len(note) > limit:
        return str(words["note_too_long"].format(length=f"{len(note):,}", limit=f"{limit:,}"))
    return None


async def add_note(incidents: Incidents, w: dict[str, Any], reference: str, note: str) -> str:
    """Add the reporter's note to `reference`; what to tell them."""
    replies = {
        CLOSED: w["cases"]["already_closed"],
        NOT_FOUND: w["check"]["expired_card"],
        HELD: w["check"]["added_anonymous"],
    }
    outcome = await incidents.reporter_adds(
        turn_session(), reference, note, today=today_in_london()
    )
    return str(replies.get(outcome, w["check"]["added"])).format(reference=reference)


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
        reference = self._incidents.check_token(value.get("token"))
        if reference is None:
            await context.send_activity(text(self._w["check"]["expired_card"]))
            return await dialog_context.end_dialog()
        note = value.get("note")
        note = note.strip() if isinstance(note, str) else ""
        refusal = note_refusal(self._incidents, self._w, note)
        reply = refusal or await add_note(self._incidents, self._w, reference, note)
        await context.send_activity(text(reply))
        return await dialog_context.end_dialog()
