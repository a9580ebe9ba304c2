"""The action plans in chat: "my actions", what the nudge cards' buttons do, and claims.

Every action is one turn. Nudge cards arrive proactively, so their buttons send commands
("action done", "action progress", ...) with the action's plan and number; whether the
sender leads that action is checked on the server each time. "I lead action 4.1" asks an
admin to confirm; the admin's Confirm / Decline buttons send "action claim".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.actions.records import Answer, Teams
from bot.actions.service import ActionsService
from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry, plain_text
from bot.db.session import turn_session
from bot.privacy.roles import Role, RoleChecker

CLAIM = re.compile(r"^i (?:lead|am the lead for) (?:action )?([a-z]?\d{1,2}(?:\.\d{1,2})?)$")
SLOT = re.compile(r"^s\d{1,3}$")


def _teams(context: TurnContext) -> Teams | None:
    turn = Turn.of(context)
    if turn.person is None:
        return None
    return Teams(turn.person, (turn.name or "A member of staff")[:200])


class MyActionsDialog(ComponentDialog):
    """ "my actions": the person's actions with status and the same buttons as a nudge.

    After the list it waits one turn: words typed then are put in the note boxes and the list
    shown again, so a progress note typed into the chat is not lost (nothing is saved until
    the lead presses Save progress). Any command or button is handled as usual.
    """

    COMMAND = "my actions"

    def __init__(self, content: Content, actions: ActionsService) -> None:
        super().__init__(MyActionsDialog.__name__)
        self._content = content
        self._actions = actions
        self.add_dialog(WaterfallDialog("my_actions", [self.show_step, self.typed_step]))
        self.initial_dialog_id = "my_actions"

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Only ever waiting for optional words: another feature may simply start."""
        return True

    async def typed_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Words typed after the list go into its note boxes; anything else ends this."""
        turn = Turn.of(step.context)
        if turn.value or not turn.text:
            return await step.end_dialog()
        if turn.command == self.COMMAND:  # asked for the list again
            return await step.replace_dialog("my_actions")
        return await step.replace_dialog("my_actions", {"typed": turn.text})

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """List the person's actions on one card (a typed note in their boxes), then wait."""
        typed = (
            str((step.options or {}).get("typed") or "") if isinstance(step.options, dict) else ""
        )
        person = _teams(step.context)
        words = self._actions.words
        statuses = (
            await self._actions.actions_of(turn_session(), person) if person is not None else []
        )
        if not statuses:
            await step.context.send_activity(MessageFactory.text(words["mine"]["none"]))
            return await step.end_dialog()
        limit = int(words["limits"]["items_per_card"])
        items = [
            self._actions.card_item(
                status.action,
                f"s{slot}",
                self._actions.status_when(status),
                words["statuses"][status.status],
            )
            for slot, status in enumerate(statuses[:limit])
        ]
        intro = words["mine"]["intro"].format(count=len(statuses))
        if typed:
            for item in items:
                item["note"] = typed
            intro = words["mine"]["typed_one" if len(items) == 1 else "typed"]
        more = len(statuses) - len(items)
        card = self._content.card(
            "action_digest",
            heading=words["mine"]["heading"],
            intro=intro,
            items=items,
            more=words["digest"]["more"].format(count=more) if more > 0 else "",
            words=self._actions.card_words(self._actions.today()),
        )
        await step.context.send_activity(card_message(card))
        return DialogTurnResult(DialogTurnStatus.Waiting)


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
        # Teams shows a message's text as Markdown; fields may echo what the person typed.
        text = self._actions.words["replies"][answer.key]
        fields = {key: plain_text(str(value)) for key, value in answer.fields.items()}
        await context.send_activity(MessageFactory.text(text.format(**fields)))
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
