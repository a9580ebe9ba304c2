"""The action plans in chat: "my actions", what the nudge cards' buttons do, and claims.

Nudge cards arrive proactively, so their buttons send commands ("action done", "action
progress", ...) with the action's plan and number; whether the sender leads that action is
checked on the server each time (ActionCardDialog, one turn: a table from each button's
command to its step). "I lead action 4.1" asks an admin to confirm; the admin's Confirm /
Decline buttons send "action claim".

"my actions" (MyActionsDialog) is one waterfall, "my_actions":

    show_step   the person's actions on one card, each with a note box (its options:
                "typed", words to put in the boxes; "intro", what to say above them); the
                words in the boxes are kept in the step's values ("typed")
    typed_step  what is typed while the card is out

The card asks for a progress note, so no typed word is lost: words typed while it is out (or
that started it, when the shell read them as being about the actions or carried them on a
button as "said") go into the note box of the action they name by number, or else of every
open action (the card then asks which it is for), added after any typed before; nothing is
saved until the lead presses Save update. A button's title typed is that button, done to the
action the typed note names or else the one open action (if several are open, the card asks
which): Mark done, Not mine, Snooze 7 days, and Save update (the typed note with the status as
it stands); where something must be chosen first (a status, a date), the card says so.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogInstance,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.actions.progress import ActionStatus
from bot.actions.records import RAGS, Answer, Teams
from bot.actions.service import ActionsService
from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry, plain_text
from bot.core.understanding import normalise
from bot.db.session import turn_session
from bot.privacy.roles import Role, RoleChecker

CLAIM = re.compile(r"^i (?:lead|am the lead for) (?:action )?([a-z]?\d{1,2}(?:\.\d{1,2})?)$")
SLOT = re.compile(r"^s\d{1,3}$")
MY_ACTIONS = "my_actions"  # the waterfall (see the module's docstring)

# A button's title typed, done to one action with the typed note; None (or an answer of None)
# when what it needs must be filled in on the card.
OneAction = Callable[[Teams, ActionStatus, str], Awaitable[Answer | None]] | None


def _teams(context: TurnContext) -> Teams | None:
    turn = Turn.of(context)
    if turn.person is None:
        return None
    return Teams(turn.person, (turn.name or "A member of staff")[:200])


def answer_text(actions: ActionsService, answer: Answer) -> str:
    """What to tell the person about `answer` (fields may echo typed words: made plain, as
    Teams shows a message's text as Markdown)."""
    text = actions.words["replies"][answer.key]
    return str(text.format(**{key: plain_text(str(v)) for key, v in answer.fields.items()}))


def named_in(words: str, statuses: list[ActionStatus]) -> list[ActionStatus]:
    """The actions whose number `words` mention ("4.1 workshops booked"), as whole numbers."""
    return [
        status
        for status in statuses
        if re.search(
            rf"(?<![\w.]){re.escape(status.action.number)}(?!\w|\.\d)", words, re.IGNORECASE
        )
    ]


class MyActionsDialog(ComponentDialog):
    """ "my actions": the person's actions with status and the same buttons as a nudge (words
    typed while it is out go into its note boxes: see the module's docstring)."""

    COMMAND = "my actions"

    def __init__(self, content: Content, actions: ActionsService) -> None:
        super().__init__(MyActionsDialog.__name__)
        self._content = content
        self._actions = actions
        self._asks = {normalise(self.COMMAND)}  # its menu entry's words added by `menu_entry`
        self._examples: set[str] = set()
        buttons = actions.words["buttons"]
        # A button's title typed: what it does to the one open action (see the docstring).
        self._on_title: dict[str, tuple[str, OneAction]] = {
            normalise(buttons["done"]): (buttons["done"], self._done),
            normalise(buttons["not_mine"]): (buttons["not_mine"], self._not_mine),
            normalise(buttons["snooze_week"]): (buttons["snooze_week"], self._snooze_week),
            normalise(buttons["save"]): (buttons["save"], self._save),
            normalise(buttons["snooze_until"]): (buttons["snooze_until"], None),
        }
        self.add_dialog(WaterfallDialog(MY_ACTIONS, [self.show_step, self.typed_step]))
        self.initial_dialog_id = MY_ACTIONS

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Only ever waiting for optional words: another feature may simply start."""
        return True

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu entry as it is, its words and examples noted as asking for the list
        (not a note to keep)."""
        self._asks |= {normalise(said) for said in (entry.command, *entry.words)}
        self._examples = {normalise(said) for said in entry.examples}
        return entry

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Typed words from someone the chat cannot name are left to the shell."""
        turn = Turn.of(dialog_context.context)
        if turn.text and not turn.value and turn.person is None:
            return DialogTurnResult(DialogTurnStatus.Empty)
        return await super().continue_dialog(dialog_context)

    async def on_reprompt_dialog(self, turn_context: TurnContext, instance: DialogInstance) -> None:
        """Show the card again, any typed words still in its boxes."""
        inner = DialogContext(
            self._dialogs, turn_context, instance.state[self.persisted_dialog_state]
        )
        active = inner.active_dialog
        values = active.state.get(WaterfallDialog.PersistedValues) if active else None
        typed = values.get("typed") if isinstance(values, dict) else None
        person = _teams(turn_context)
        if person is not None:
            await self._send_list(turn_context, person, str(typed or ""), None)

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """List the person's actions on one card (typed words in the boxes), then wait."""
        options = step.options if isinstance(step.options, dict) else {}
        person = _teams(step.context)
        intro = options.get("intro")
        step.values["typed"] = typed = self._typed(step, options)
        shown = person is not None and await self._send_list(
            step.context, person, typed, intro if isinstance(intro, str) else None
        )
        if not shown:
            return await step.end_dialog()
        return DialogTurnResult(DialogTurnStatus.Waiting)

    async def typed_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Words typed while the card is out go into its note boxes (after any typed before);
        a button's title is that button; the menu's words for the list show it again."""
        turn = Turn.of(step.context)
        person = _teams(step.context)
        if turn.value or not turn.text or person is None:
            return await step.end_dialog()
        pending = str(step.values.get("typed") or "")
        words = normalise(turn.text)
        if words in self._asks or words in self._examples:  # asked for the list again
            return await step.replace_dialog(MY_ACTIONS, {"typed": pending})
        if words in self._on_title:
            return await self._typed_title(step, person, words, pending)
        typed = f"{pending}\n\n{turn.text}" if pending else turn.text
        return await step.replace_dialog(MY_ACTIONS, {"typed": typed})

    async def _typed_title(
        self, step: WaterfallStepContext, person: Teams, words: str, pending: str
    ) -> DialogTurnResult:
        """A button's title typed: done to the action the typed note names, or else the one
        open action; otherwise the card again, saying which button to press where (the typed
        note kept in its boxes)."""
        title, act = self._on_title[words]
        statuses = await self._actions.actions_of(turn_session(), person)
        named = named_in(pending, statuses) if pending else []
        targets = named if len(named) == 1 else [s for s in statuses if s.status != "done"]
        one = len(targets) == 1
        answer = await act(person, targets[0], pending) if act is not None and one else None
        if answer is not None:
            text = answer_text(self._actions, answer)
            if pending and act != self._save:  # the note is not what this button saves
                text += " " + self._actions.words["mine"]["note_not_saved"]
            await step.context.send_activity(MessageFactory.text(text))
            return await step.end_dialog()
        hint = self._actions.words["mine"]["fill_in" if act is None or one else "press_which"]
        options = {"typed": pending, "intro": hint.format(title=title)}
        return await step.replace_dialog(MY_ACTIONS, options)

    def _typed(self, step: WaterfallStepContext, options: dict[str, Any]) -> str:
        """Words for the note boxes: typed while the card was out ("typed"), carried by a
        button ("said"), or typed words that started this and are not a request for it."""
        if "typed" in options:
            return str(options["typed"] or "")
        turn = Turn.of(step.context)
        carried = options.get("said", turn.value.get("said"))
        if isinstance(carried, str):
            return carried.strip()
        words = normalise(turn.text)
        if turn.value or words in self._asks or words in self._examples:
            return ""
        return turn.text

    async def _send_list(
        self, context: TurnContext, person: Teams, typed: str, intro: str | None
    ) -> bool:
        """The card of the person's actions (typed words in the boxes of the actions they
        are for); False, having said so, when they lead none."""
        words = self._actions.words
        statuses = await self._actions.actions_of(turn_session(), person)
        if not statuses:
            await context.send_activity(MessageFactory.text(words["mine"]["none"]))
            return False
        limit = int(words["limits"]["items_per_card"])
        listed = statuses[:limit]
        items = [
            self._actions.card_item(
                status.action,
                f"s{slot}",
                self._actions.status_when(status),
                words["statuses"][status.status],
            )
            for slot, status in enumerate(listed)
        ]
        if typed:
            filled = self._fill(items, listed, typed)
            intro = intro or filled
        more = len(statuses) - len(items)
        card = self._content.card(
            "action_digest",
            heading=words["mine"]["heading"],
            intro=intro or words["mine"]["intro"].format(count=len(statuses)),
            items=items,
            more=words["digest"]["more"].format(count=more) if more > 0 else "",
            words=self._actions.card_words(self._actions.today()),
        )
        await context.send_activity(card_message(card))
        return True

    def _fill(self, items: list[dict[str, Any]], listed: list[ActionStatus], typed: str) -> str:
        """Put `typed` in the note box of the action it names, or of every open action (or
        every action, if none is open), with its status as it stands; what to say above."""
        named = named_in(typed, listed)
        still_open = [s for s in listed if s.status != "done"]
        chosen = named if len(named) == 1 else still_open or listed
        picked = {id(status) for status in chosen}
        for item, status in zip(items, listed, strict=True):
            if id(status) in picked:
                item["note"] = typed
                item["rag"] = status.status if status.status in RAGS else None
        mine = self._actions.words["mine"]
        if len(named) == 1:
            return str(mine["typed_named"].format(number=named[0].action.number))
        return str(mine["typed_one" if len(chosen) == 1 else "typed"])

    async def _done(self, person: Teams, status: ActionStatus, note: str) -> Answer:
        action = status.action
        return await self._actions.mark_done(turn_session(), person, action.plan, action.number)

    async def _not_mine(self, person: Teams, status: ActionStatus, note: str) -> Answer:
        action = status.action
        return await self._actions.not_mine(turn_session(), person, action.plan, action.number)

    async def _snooze_week(self, person: Teams, status: ActionStatus, note: str) -> Answer:
        action = status.action
        return await self._actions.snooze(
            turn_session(), person, action.plan, action.number, days=7
        )

    async def _save(self, person: Teams, status: ActionStatus, note: str) -> Answer | None:
        """Save update, as the card would send it: the typed note with the status as it
        stands (None when there is none yet: it is chosen on the card)."""
        if status.status not in RAGS:
            return None
        action = status.action
        return await self._actions.update_progress(
            turn_session(), person, action.plan, action.number, rag=status.status, note=note
        )


class ActionCardDialog(ComponentDialog):
    """What the action cards' buttons send, and "I lead action N"."""

    COMMAND = "action update"
    VERBS = (
        "action done",
        "action progress",
        "action snooze",
        "action not mine",
        "action claim",
    )

    def __init__(self, content: Content, actions: ActionsService, roles: RoleChecker) -> None:
        super().__init__(ActionCardDialog.__name__)
        self._content = content
        self._actions = actions
        self._roles = roles
        # One turn: what each button's command does ("I lead action N" is a claim).
        self._verbs: dict[str, Callable[[Teams, dict[str, Any]], Awaitable[Answer]]] = {
            "action done": self._done,
            "action progress": self._progress,
            "action snooze": self._snooze,
            "action not mine": self._not_mine,
            "action claim": self._decide,
        }
        self.add_dialog(WaterfallDialog("action_card", [self.act_step]))
        self.initial_dialog_id = "action_card"

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The hidden entry, with the button commands and "i lead action N" for every
        action number in the plans (the router matches whole commands)."""
        numbers = sorted({a.number.lower() for a in self._actions.plans.all_actions()})
        claims = [f"i lead action {n}" for n in numbers] + [f"i lead {n}" for n in numbers]
        return replace(entry, words=(*entry.words, *self.VERBS, *claims))

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Do what the button or words asked (its row in `self._verbs`), say what happened."""
        context = step.context
        turn = Turn.of(context)
        person = _teams(context)
        command = turn.command
        if person is None:
            answer = Answer("bad_card")
        elif CLAIM.match(command):
            answer = await self._actions.claim(turn_session(), person, command)
        elif command in self._verbs:
            answer = await self._verbs[command](person, turn.value)
        else:
            answer = Answer("bad_card")
        await context.send_activity(MessageFactory.text(answer_text(self._actions, answer)))
        return await step.end_dialog()

    async def _decide(self, person: Teams, value: dict[str, Any]) -> Answer:
        """An admin's decision on a claim to lead an action."""
        session = turn_session()
        if not await self._roles.holds(session, person=person.key, role=Role.ADMIN):
            return Answer("not_admin")
        return await self._actions.decide(
            session, person, value.get("claim"), value.get("decision")
        )

    async def _done(self, person: Teams, value: dict[str, Any]) -> Answer:
        return await self._actions.mark_done(
            turn_session(), person, value.get("plan"), value.get("number")
        )

    async def _progress(self, person: Teams, value: dict[str, Any]) -> Answer:
        slot = value.get("slot")
        slot = slot if isinstance(slot, str) and SLOT.match(slot) else "s0"
        return await self._actions.update_progress(
            turn_session(),
            person,
            value.get("plan"),
            value.get("number"),
            rag=value.get(f"rag_{slot}"),
            note=value.get(f"note_{slot}"),
        )

    async def _snooze(self, person: Teams, value: dict[str, Any]) -> Answer:
        slot = value.get("slot")
        until = value.get(f"until_{slot}") if isinstance(slot, str) and SLOT.match(slot) else None
        return await self._actions.snooze(
            turn_session(),
            person,
            value.get("plan"),
            value.get("number"),
            days=value.get("days"),
            until=until,
        )

    async def _not_mine(self, person: Teams, value: dict[str, Any]) -> Answer:
        return await self._actions.not_mine(
            turn_session(), person, value.get("plan"), value.get("number")
        )
