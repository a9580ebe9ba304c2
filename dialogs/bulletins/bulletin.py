"""The bulletin in chat: the latest on demand, feedback from its card, unsubscribe/subscribe.

Every action is one turn. The bulletin card arrives proactively (no dialog is waiting for
it), so its buttons send commands ("bulletin feedback", "unsubscribe bulletin") that start
this dialog, which reads what the button sent from the card's values (`Turn.value`).

After showing the bulletin on demand the dialog waits one more turn (REPLY): words typed
then are offered back as a comment on a card holding them ("Useful" / "Not useful" send them
with the reaction; "Don't send it" drops them), so a comment typed into the chat is not lost.
Any command or button in REPLY is acted on as in the first turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.bulletins.authoring import MONTH
from bot.bulletins.service import BulletinService
from bot.channel.teams import card_message, normalise_command
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry
from bot.core.people import PersonKey

SHOW = "show"
FEEDBACK = "feedback"
UNSUBSCRIBE = "unsubscribe"
SUBSCRIBE = "subscribe"
REPLY = "bulletin.reply"  # waiting for words typed after the bulletin (see the docstring)
DONT_SEND = "dont send"


class BulletinDialog(ComponentDialog):
    """Shows the latest bulletin, or records what its buttons and words ask for."""

    COMMAND = "bulletin"

    def __init__(self, content: Content, bulletins: BulletinService) -> None:
        super().__init__(BulletinDialog.__name__)
        self._content = content
        self._bulletins = bulletins
        words: dict[str, Any] = content.data("bulletins/words")
        self._replies: dict[str, str] = words["replies"]
        self._actions = {
            normalise_command(word): action
            for action, listed in words["commands"].items()
            for word in listed
        }
        # One turn: what each action does (typed words and buttons map to these four).
        self._on_action: dict[str, Callable[[WaterfallStepContext, Turn], Awaitable[None]]] = {
            SHOW: self._show,
            FEEDBACK: self._rate,
            UNSUBSCRIBE: self._unsubscribe,
            SUBSCRIBE: self._subscribe,
        }
        self.add_dialog(WaterfallDialog("bulletin", [self.act_step, self.reply_step]))
        self.add_dialog(WaterfallDialog(REPLY, [self.wait_step, self.reply_step]))
        self.initial_dialog_id = "bulletin"

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Waiting only for optional words after the bulletin: another feature just starts."""
        return True

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "bulletin" entry with this dialog's other words added."""
        return replace(entry, words=(*entry.words, *self.words))

    @property
    def words(self) -> tuple[str, ...]:
        """What a person may type (or a button send) for this dialog besides "bulletin"."""
        return tuple(self._actions)

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Do what was asked (one turn: the action's row in `self._on_action`), and finish."""
        turn = Turn.of(step.context)
        act = self._on_action[self._actions.get(turn.command, SHOW)]
        if turn.person is None:  # nobody to (un)subscribe or thank: just show the bulletin
            act = self._show
        await act(step, turn)
        month = step.values.get("shown")
        if month is None:
            return await step.end_dialog()
        return await step.replace_dialog(REPLY, {"month": month})

    async def wait_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Wait for what the person does after reading the bulletin."""
        step.values["month"] = (step.options or {}).get("month")
        return Dialog.end_of_turn

    async def reply_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Words typed after the bulletin come back as a comment to send (or not); a button
        or a command is acted on."""
        turn = Turn.of(step.context)
        month = step.values.get("month") or (step.options or {}).get("month")
        if turn.value.get("choice") == DONT_SEND:
            await self._say(step, "not_sent")
            return await step.end_dialog()
        if turn.value or turn.command in self._actions or not turn.text or month is None:
            return await self.act_step(step)
        words = self._content.data("bulletins/words")["card"]
        card = self._content.card(
            "bulletin_comment",
            heading=words["typed_heading"].format(month=self._month_label(month)),
            bulletin=month,
            comment=turn.text,
            words=words,
        )
        await step.context.send_activity(card_message(card))
        return await step.replace_dialog(REPLY, {"month": month})

    async def _show(self, step: WaterfallStepContext, turn: Turn) -> None:
        bulletin = await self._bulletins.latest_for(turn.person)
        if bulletin is None:
            await self._say(step, "none_yet")
            return
        subscribed = turn.person is None or await self._bulletins.subscribed(turn.person)
        card = self._bulletins.card(bulletin, subscribed=subscribed)
        await step.context.send_activity(card_message(card))
        if turn.person is not None:
            step.values["shown"] = bulletin.month

    async def _unsubscribe(self, step: WaterfallStepContext, turn: Turn) -> None:
        assert turn.person is not None
        changed = await self._bulletins.unsubscribe(turn.person)
        await self._say(
            step,
            "unsubscribed" if changed else "already_unsubscribed",
            button=(self._replies["subscribe_button"], "subscribe bulletin"),
        )

    async def _subscribe(self, step: WaterfallStepContext, turn: Turn) -> None:
        assert turn.person is not None
        changed = await self._bulletins.subscribe(turn.person)
        await self._say(step, "subscribed" if changed else "already_subscribed")

    async def _rate(self, step: WaterfallStepContext, turn: Turn) -> None:
        """The card's feedback button; without a rating, the bulletin is shown instead."""
        if turn.person is None or not turn.value.get("rating"):
            await self._show(step, turn)
        else:
            await self._feedback(step, turn.person, turn.value)

    async def _feedback(
        self, step: WaterfallStepContext, person: PersonKey, value: dict[str, Any]
    ) -> None:
        month = value.get("bulletin")
        rating = value.get("rating")
        comment = value.get("comment")
        if (
            not isinstance(month, str)
            or not MONTH.match(month)
            or rating not in ("useful", "not_useful")
            or (comment is not None and not isinstance(comment, str))
        ):
            await self._say(step, "unknown_bulletin")
            return
        outcome = await self._bulletins.give_feedback(
            person, month=month, rating=rating, comment=comment
        )
        if outcome == "unknown_bulletin":
            await self._say(step, "unknown_bulletin")
        elif outcome == "comment_too_long":
            await self._say(step, "comment_too_long", limit="1,000")
        else:
            label = self._month_label(month)
            text = self._replies[f"thanks_{rating}"].format(month=label)
            if comment and comment.strip():
                kept = "thanks_comment_added" if outcome == "added_to_comment" else "thanks_comment"
                text += " " + self._replies[kept]
            await step.context.send_activity(MessageFactory.text(text))

    async def _say(
        self,
        step: WaterfallStepContext,
        key: str,
        *,
        button: tuple[str, str] | None = None,
        **fields: object,
    ) -> None:
        text = self._replies[key].format(**fields) if fields else self._replies[key]
        if button is None:
            await step.context.send_activity(MessageFactory.text(text))
            return
        title, command = button
        card = self._content.card("bulletin_notice", text=text, button=title, command=command)
        await step.context.send_activity(card_message(card))

    @staticmethod
    def _month_label(month: str) -> str:
        year, number = (int(part) for part in month.split("-"))
        return date(year, number, 1).strftime("%B %Y")
