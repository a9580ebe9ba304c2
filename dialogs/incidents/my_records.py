""" "My records": the private records a person kept; read one, add to it, delete it, get a
copy, or turn it into a report.

Every button says what it does and to which record (`{"command": "my records", "do": ...,
"record": ID}`), so a card works whether or not this conversation is still open, and each is
checked against the sender's own records: someone else's id, a deleted record's and an odd
value all find nothing, and get the same sentence. "Turn it into a report" is the report's
own button (`{"command": "report", "record": ID}`, report_from_record.py). Only in the
one-to-one chat.

States (the dialog state's "step"; "record" is the record on the card, "listed" the list's):

    LIST      the list is out        a number typed opens that record
    OPEN      one record is out      words typed come back on a card to add (TYPED)
    CONFIRM   "delete this record?"  yes / no typed
    TYPED     typed words on a card  yes (add them) / no typed; other words replace them

What is asked ("do": a button's, or typed words read in the state above) picks the handler
from the table in `__init__`: list, open, typed (words to add, shown back), add, skip (don't
add), delete (ask), delete_yes, keep (don't delete), copy (the my-data link), done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content, plain_text
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.incidents.taxonomy import Taxonomy
from bot.privacy.data_copy import DataCopyLinks
from bot.records.service import PrivateRecords, Record, RecordError
from dialogs.incidents.incident_ui import card, detail_facts, pick, text, text_input, when_text
from dialogs.incidents.record_ui import moment_text, record_words
from dialogs.incidents.report_states import pretty_day

LIST, OPEN, CONFIRM, TYPED = "list", "open", "confirm", "typed"
COMMAND = "my records"
# Typed while a card is out, these show the list again (not words to add to a record).
LIST_WORDS = ("my records", "my private records", "private records", "records")

Act = Callable[[DialogContext, object], Awaitable[DialogTurnResult]]


def ask(do: str, record: int | str | None = None) -> dict[str, Any]:
    """A button's data: what it does, to which record."""
    data: dict[str, Any] = {"command": COMMAND, "do": do}
    if record is not None:
        data["record"] = str(record)
    return data


class MyRecordsDialog(Dialog):
    """The person's private records (see the module's docstring for the states)."""

    COMMAND = COMMAND

    def __init__(
        self,
        content: Content,
        records: PrivateRecords,
        copy_links: DataCopyLinks,
        taxonomy: Taxonomy,
    ) -> None:
        super().__init__(MyRecordsDialog.__name__)
        self._content = content
        self._records = records
        self._copy_links = copy_links
        self._tax = taxonomy
        self._rw = record_words(content)
        self._w: dict[str, Any] = self._rw["my_records"]
        self._on_do: dict[str, Act] = {
            "list": self._list,
            "open": self._open,
            "typed": self._offer_typed,
            "add": self._add,
            "skip": self._skip,
            "delete": self._confirm,
            "delete_yes": self._delete,
            "keep": self._keep,
            "copy": self._copy,
            "done": self._done,
        }

    # ---- the turn ----------------------------------------------------------------------------

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """What the button asks for, or the list."""
        turn = Turn.of(dialog_context.context)
        if not turn.personal:
            await dialog_context.context.send_activity(text(self._rw["private_only"]))
            return await dialog_context.end_dialog()
        do, record = self._asked(turn)
        return await self._on_do[do or "list"](dialog_context, record)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """A button, or typed words read in the state the conversation is in."""
        turn = Turn.of(dialog_context.context)
        do, record = self._asked(turn)
        if do is None:
            do, record = self._typed(dialog_context.active_dialog.state, turn)
        if do is None:
            await dialog_context.context.send_activity(text(self._w["not_understood"]))
            await self.reprompt_dialog(dialog_context.context, dialog_context.active_dialog)
            return Dialog.end_of_turn
        return await self._on_do[do](dialog_context, record)

    def _asked(self, turn: Turn) -> tuple[str | None, object]:
        """What a button asks for: its "do" (if one of ours) and "record"."""
        do = turn.value.get("do")
        return (do if isinstance(do, str) and do in self._on_do else None), turn.value.get("record")

    def _typed(self, state: dict[str, Any], turn: Turn) -> tuple[str | None, object]:
        """Typed words, read in the state the conversation is in."""
        step, record, typed = state.get("step"), state.get("record"), turn.text
        if turn.command in LIST_WORDS:
            return "list", None
        answers: dict[str, dict[str, list[str]]] = {
            LIST: {"done": ["done", "no", "that's all"], "copy": ["copy", "get a copy", "export"]},
            OPEN: {
                "list": ["back", "back to my records"],
                "delete": ["delete", "delete it"],
                "done": ["done", "that's all"],
            },
            CONFIRM: {"delete_yes": ["yes", "yes delete it", "delete"], "keep": ["no", "keep it"]},
            TYPED: {"add": ["yes", "add it", "add"], "skip": ["no", "don't add it"]},
        }
        chosen = pick(typed, answers.get(str(step), {}))
        if step == LIST and chosen is None and typed.isdigit():
            listed = state.get("listed") or []
            number = int(typed)
            return ("open", listed[number - 1]) if 0 < number <= len(listed) else (None, None)
        if chosen is None and step in (OPEN, TYPED) and typed:
            state["typed"] = typed  # words to add: shown back before anything is added
            return "typed", record
        return chosen, record

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Nothing is lost if something else starts: only typed words waiting to be added."""
        return state.get("step") != TYPED

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the card the conversation is waiting on again."""
        state = instance.state
        found = await self._find(context, state.get("record"))
        step = state.get("step")
        if step == OPEN and found is not None:
            await self._show(context, found)
        elif step == CONFIRM and found is not None:
            await self._ask_delete(context, found)
        elif step == TYPED and found is not None:
            await self._show_typed(context, found, str(state.get("typed") or ""))
        else:
            await self._show_list(context, state)

    async def _find(self, context: TurnContext, record: object) -> Record | None:
        person = Turn.of(context).person
        if person is None or record is None:
            return None
        return await self._records.find(turn_session(), person, record)

    async def _missing(self, dialog_context: DialogContext) -> DialogTurnResult:
        await dialog_context.context.send_activity(text(self._w["not_found"]))
        return await dialog_context.end_dialog()

    # ---- what each button does -----------------------------------------------------------------

    async def _list(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        if not await self._show_list(dialog_context.context, state):
            return await dialog_context.end_dialog()
        state.update(step=LIST, record=None)
        return Dialog.end_of_turn

    async def _open(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        found = await self._find(dialog_context.context, record)
        if found is None:
            return await self._missing(dialog_context)
        dialog_context.active_dialog.state.update(step=OPEN, record=str(found.id))
        await self._show(dialog_context.context, found)
        return Dialog.end_of_turn

    async def _add(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        context, state = dialog_context.context, dialog_context.active_dialog.state
        given = Turn.of(context).value.get("addition")
        words = given if isinstance(given, str) else str(state.get("typed") or "")
        person = Turn.of(context).person
        try:
            added = None
            if person is not None:
                added = await self._records.add(turn_session(), person, record, words, now=utcnow())
        except RecordError as problem:
            limits = self._records.limits
            limit = (
                limits.addition_chars if problem.code == "too_long" else limits.additions_per_record
            )
            key = {"empty": "add_empty", "too_long": "add_too_long"}.get(problem.code, problem.code)
            await context.send_activity(text(self._w[key].format(limit=f"{limit:,}")))
            return await self._open(dialog_context, record)
        if added is None:
            return await self._missing(dialog_context)
        state.pop("typed", None)
        when = moment_text(added.additions[-1].at)
        await context.send_activity(text(self._w["added"].format(at=when)))
        return await self._open(dialog_context, record)

    async def _offer_typed(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        state = dialog_context.active_dialog.state
        found = await self._find(dialog_context.context, record)
        if found is None:
            return await self._missing(dialog_context)
        state.update(step=TYPED, record=str(found.id))
        await self._show_typed(dialog_context.context, found, str(state.get("typed") or ""))
        return Dialog.end_of_turn

    async def _skip(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        dialog_context.active_dialog.state.pop("typed", None)
        await dialog_context.context.send_activity(text(self._w["not_added"]))
        return await self._open(dialog_context, record)

    async def _confirm(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        found = await self._find(dialog_context.context, record)
        if found is None:
            return await self._missing(dialog_context)
        dialog_context.active_dialog.state.update(step=CONFIRM, record=str(found.id))
        await self._ask_delete(dialog_context.context, found)
        return Dialog.end_of_turn

    async def _delete(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        context = dialog_context.context
        found = await self._find(context, record)
        person = Turn.of(context).person
        if found is None or person is None:
            return await self._missing(dialog_context)
        await self._records.delete(turn_session(), person, found.id)
        written = moment_text(found.written_at)
        await context.send_activity(text(self._w["deleted"].format(written=written)))
        return await dialog_context.end_dialog()

    async def _keep(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        if await self._find(dialog_context.context, record) is None:
            return await self._missing(dialog_context)
        await dialog_context.context.send_activity(text(self._w["kept"]))
        return await dialog_context.end_dialog()

    async def _copy(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        context = dialog_context.context
        person = Turn.of(context).person
        if person is None:
            return await self._missing(dialog_context)
        link = self._copy_links.url(person, now=utcnow())
        copy = self._content.card(
            "event_card",
            heading=self._w["copy_heading"],
            paragraphs=[self._w["copy_text"].format(minutes=self._copy_links.minutes)],
            facts=[],
            sections=[],
            inputs=[],
            links=[{"title": self._w["download"], "url": link}],
            buttons=[{"title": self._w["back"], "data": ask("list")}],
        )
        await context.send_activity(card_message(copy))
        return await dialog_context.end_dialog()

    async def _done(self, dialog_context: DialogContext, record: object) -> DialogTurnResult:
        await dialog_context.context.send_activity(text(self._w["done_message"]))
        return await dialog_context.end_dialog()

    # ---- the cards ----------------------------------------------------------------------------

    async def _show_list(self, context: TurnContext, state: dict[str, Any]) -> bool:
        """The list (True), or "none kept" (False)."""
        person = Turn.of(context).person
        mine = [] if person is None else await self._records.mine(turn_session(), person)
        if not mine:
            await context.send_activity(text(self._w["none"]))
            return False
        state["listed"] = [str(record.id) for record in mine]
        sections = [
            {
                "title": f"{number}. " + self._w["item"].format(written=moment_text(r.written_at)),
                "facts": [],
                "lines": [plain_text(r.first_words), *self._reported(r)],
                "button": {"title": self._w["open"], "data": ask("open", r.id)},
            }
            for number, r in enumerate(mine, start=1)
        ]
        buttons = [
            {"title": self._w["new"], "data": {"command": "keep a record"}},
            {"title": self._w["copy"], "data": ask("copy")},
            {"title": self._w["done"], "data": ask("done")},
        ]
        await context.send_activity(
            card(
                self._content,
                heading=self._w["heading"],
                paragraphs=[self._w["intro"]],
                sections=sections,
                buttons=buttons,
            )
        )
        return True

    def _reported(self, record: Record) -> list[str]:
        return [
            self._w["reported"].format(
                on=pretty_day(r.on.isoformat()),
                reference=r.reference,
                mode=self._tax.label("mode", r.mode).lower(),
            )
            for r in record.reported
        ]

    async def _show(self, context: TurnContext, record: Record) -> None:
        """One record: what happened, the details given, what was added, and what to do."""
        words, answers = self._w, record.answers
        none = "-"
        when = when_text(pretty_day(answers.get("occurred_on")), answers.get("occurred_approx"))
        facts = [
            fact
            for fact in detail_facts(self._tax, answers, when=when, none=none)
            if fact["value"] != none
        ]
        sections = [
            {
                "title": words["what_happened"],
                "facts": [],
                "lines": [plain_text(str(answers.get("narrative") or ""))],
            },
        ]
        if facts:
            sections.append({"title": words["details"], "facts": facts, "lines": []})
        if record.additions:
            shown = record.additions[-self._rw["limits"]["additions_shown"] :]
            lines = [
                words["addition"].format(at=moment_text(a.at), text=plain_text(a.text))
                for a in shown
            ]
            if len(shown) < len(record.additions):
                earlier = len(record.additions) - len(shown)
                lines.insert(0, words["earlier_additions"].format(count=earlier))
            sections.append({"title": words["additions"], "facts": [], "lines": lines})
        written = words["written"].format(written=moment_text(record.written_at))
        limit = self._records.limits.addition_chars
        await context.send_activity(
            card(
                self._content,
                heading=words["record_heading"],
                paragraphs=[written, *self._reported(record)],
                sections=sections,
                inputs=[
                    text_input("addition", words["add_label"], multiline=True, max_length=limit)
                ],
                buttons=self._record_buttons(record),
            )
        )

    def _record_buttons(self, record: Record) -> list[dict[str, Any]]:
        words = self._w
        report = {"command": "report", "record": str(record.id)}
        return [
            {"title": words["add"], "data": ask("add", record.id)},
            {"title": words["report"], "data": report, "skip_inputs": True},
            {"title": words["delete"], "data": ask("delete", record.id), "skip_inputs": True},
            {"title": words["back"], "data": ask("list"), "skip_inputs": True},
        ]

    async def _ask_delete(self, context: TurnContext, record: Record) -> None:
        written = moment_text(record.written_at)
        await context.send_activity(
            card(
                self._content,
                heading=self._w["confirm_heading"],
                paragraphs=[self._w["confirm"].format(written=written)],
                buttons=[
                    {"title": self._w["delete_yes"], "data": ask("delete_yes", record.id)},
                    {"title": self._w["delete_no"], "data": ask("keep", record.id)},
                ],
            )
        )

    async def _show_typed(self, context: TurnContext, record: Record, typed: str) -> None:
        limit = self._records.limits.addition_chars
        await context.send_activity(
            card(
                self._content,
                heading=self._w["typed_heading"],
                paragraphs=[self._w["typed"].format(written=moment_text(record.written_at))],
                inputs=[
                    text_input(
                        "addition",
                        self._w["add_label"],
                        multiline=True,
                        max_length=limit,
                        value=typed,
                    )
                ],
                buttons=[
                    {"title": self._w["typed_yes"], "data": ask("add", record.id)},
                    {
                        "title": self._w["typed_no"],
                        "data": ask("skip", record.id),
                        "skip_inputs": True,
                    },
                ],
            )
        )
