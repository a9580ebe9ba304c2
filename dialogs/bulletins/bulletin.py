"""The bulletin in chat: the latest on demand, feedback from its card, unsubscribe/subscribe.

Two waterfalls, one step each of what happens:

    "bulletin"  act_step    do what the command or button asked (its row in `_on_action`):
                            show the latest, record a reaction, (un)subscribe; then REPLY if
                            the bulletin was shown
    REPLY       reply_step  after the bulletin (or the card holding typed words) is shown

The bulletin card arrives proactively (no dialog is waiting for it), so its buttons send
commands ("bulletin feedback", "unsubscribe bulletin") that start this dialog, which reads
what the button sent from the card's values (`Turn.value`). A button's title typed is that
button ("Stop sending me the bulletin", "Useful" in REPLY).

No typed word is lost. The card asks for a comment, so words typed in REPLY (its options:
"month", and "comment" once typed words are on a card) come back on a card holding them, all
of them ("Useful" / "Not useful" send them with the reaction; "Don't send it" drops them).
Words that started this dialog (the shell read them as being about the bulletin, or carried
them on a button as "said") are offered the same way when the person already had the
bulletin. The menu's words and examples for the bulletin ("latest bulletin", "what's in the
newsletter") are requests, never comments: they show it again. A second comment on the same
bulletin is added after the first, and the reply says so. Typed words with nothing here to
take them (no bulletin shown) are left to the shell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogInstance,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.bulletins.authoring import MONTH
from bot.bulletins.service import BulletinService, Feedback
from bot.channel.teams import card_message, normalise_command
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry
from bot.core.people import PersonKey
from bot.core.understanding import normalise

SHOW = "show"
FEEDBACK = "feedback"
UNSUBSCRIBE = "unsubscribe"
SUBSCRIBE = "subscribe"
REPLY = "bulletin.reply"  # waiting for words typed after the bulletin (see the docstring)
DONT_SEND = "dont send"
# What became of a comment (`Feedback.comment`) to the words that say so.
COMMENT_REPLIES = {
    "new": "thanks_comment",
    "added": "thanks_comment_added",
    "same": "comment_same",
}

Act = Callable[[WaterfallStepContext, Turn], Awaitable[None]]


class BulletinDialog(ComponentDialog):
    """Shows the latest bulletin, or records what its buttons and words ask for."""

    COMMAND = "bulletin"

    def __init__(self, content: Content, bulletins: BulletinService) -> None:
        super().__init__(BulletinDialog.__name__)
        self._content = content
        self._bulletins = bulletins
        words: dict[str, Any] = content.data("bulletins/words")
        self._replies: dict[str, str] = words["replies"]
        self._card: dict[str, str] = words["card"]
        listed = {action: list(said) for action, said in words["commands"].items()}
        # A button's title typed is that button (the card's, and "send it again").
        listed[UNSUBSCRIBE].append(self._card["unsubscribe"])
        listed[SUBSCRIBE] += [self._card["subscribe"], self._replies["subscribe_button"]]
        self._actions = {
            normalise_command(word): action for action, said in listed.items() for word in said
        }
        # The commands of this dialog (its menu entry's words added by `menu_entry`), and the
        # menu's examples: a request, not a comment, when they start it.
        self._asks = {normalise(self.COMMAND), *(normalise(w) for s in listed.values() for w in s)}
        self._examples: set[str] = set()
        # One turn: what each action does (typed words and buttons map to these four).
        self._on_action: dict[str, Act] = {
            SHOW: self._show,
            FEEDBACK: self._rate,
            UNSUBSCRIBE: self._unsubscribe,
            SUBSCRIBE: self._subscribe,
        }
        # In REPLY: the title of a button on the bulletin or comment card, typed.
        self._on_title: dict[str, str] = {
            normalise(self._card["useful"]): "useful",
            normalise(self._card["not_useful"]): "not_useful",
            normalise(self._card["dont_send"]): DONT_SEND,
        }
        self.add_dialog(WaterfallDialog("bulletin", [self.act_step]))
        self.add_dialog(WaterfallDialog(REPLY, [self.wait_step, self.reply_step]))
        self.initial_dialog_id = "bulletin"

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Waiting only for optional words after the bulletin: another feature just starts."""
        return True

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "bulletin" entry with this dialog's other words added (its words and
        examples noted as asking to see it, not commenting)."""
        self._asks |= {normalise(said) for said in (entry.command, *entry.words)}
        self._examples = {normalise(said) for said in entry.examples}
        return replace(entry, words=(*entry.words, *self.words))

    @property
    def words(self) -> tuple[str, ...]:
        """What a person may type (or a button send) for this dialog besides "bulletin"."""
        return tuple(self._actions)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Typed words with no bulletin shown to comment on are left to the shell."""
        turn = Turn.of(dialog_context.context)
        waiting = self._waiting(dialog_context.context, dialog_context.active_dialog)
        if turn.text and not turn.value and (turn.person is None or "month" not in waiting):
            return DialogTurnResult(DialogTurnStatus.Empty)
        return await super().continue_dialog(dialog_context)

    async def on_reprompt_dialog(self, turn_context: TurnContext, instance: DialogInstance) -> None:
        """Show again what waits: the card holding typed words, or the bulletin."""
        waiting = self._waiting(turn_context, instance)
        month, comment = waiting.get("month"), waiting.get("comment")
        if isinstance(month, str) and isinstance(comment, str):
            await turn_context.send_activity(card_message(self._comment_card(month, comment)))
            return
        person = Turn.of(turn_context).person
        latest = await self._bulletins.latest_for(person)
        if latest is not None:
            subscribed = person is None or await self._bulletins.subscribed(person)
            card = self._bulletins.card(latest.bulletin, subscribed=subscribed)
            await turn_context.send_activity(card_message(card))

    async def act_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Do what was asked (one turn: the action's row in `self._on_action`); after showing
        the bulletin, wait for words about it (offering back any that started this)."""
        turn = Turn.of(step.context)
        action = self._actions.get(turn.command, SHOW)
        act = self._on_action[action] if turn.person is not None else self._show
        said = self._said(step, turn) if action == SHOW else ""
        await act(step, turn)
        month = step.values.get("shown")
        if month is None:
            return await step.end_dialog()
        if said and step.values.get("seen_before"):
            return await self._offer(step, month, said)
        return await step.replace_dialog(REPLY, {"month": month})

    async def wait_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Wait for what the person does after reading the bulletin."""
        return Dialog.end_of_turn

    async def reply_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """A button or command is acted on; a button's title typed is that button; other
        words come back on a card as a comment (added to any typed before) to send or not."""
        turn = Turn.of(step.context)
        waiting = step.options if isinstance(step.options, dict) else {}
        month, pending = waiting.get("month"), waiting.get("comment")
        if turn.value.get("choice") == DONT_SEND:
            await self._say(step, "not_sent")
            return await step.end_dialog()
        words = normalise(turn.text)
        asked = words in self._asks or words in self._examples  # a request, not a comment
        if turn.value or turn.command in self._actions or asked or turn.person is None:
            return await self.act_step(step)
        title = self._on_title.get(words)
        if title == DONT_SEND:
            await self._say(step, "not_sent")
            return await step.end_dialog()
        if title is not None:
            value = {"bulletin": month, "rating": title, "comment": pending}
            await self._feedback(step, turn.person, value)
            return await step.end_dialog()
        comment = f"{pending}\n\n{turn.text}" if isinstance(pending, str) else turn.text
        return await self._offer(step, str(month), comment)

    async def _offer(
        self, step: WaterfallStepContext, month: str, comment: str
    ) -> DialogTurnResult:
        """The person's words on a card, ready to send with a reaction (or not at all)."""
        await step.context.send_activity(card_message(self._comment_card(month, comment)))
        return await step.replace_dialog(REPLY, {"month": month, "comment": comment})

    def _comment_card(self, month: str, comment: str) -> dict[str, Any]:
        return self._content.card(
            "bulletin_comment",
            heading=self._card["typed_heading"].format(month=self._month_label(month)),
            bulletin=month,
            comment=comment,
            words=self._card,
        )

    def _said(self, step: WaterfallStepContext, turn: Turn) -> str:
        """Words that started this and may be a comment: carried by a button ("said"), or
        typed words the shell read as being about the bulletin ("" for a request to see it)."""
        options = step.options if isinstance(step.options, dict) else {}
        carried = options.get("said", turn.value.get("said"))
        if isinstance(carried, str):
            return carried.strip()
        words = normalise(turn.text)
        if turn.value or words in self._asks or words in self._examples:
            return ""
        return turn.text

    def _waiting(self, context: TurnContext, instance: DialogInstance) -> dict[str, Any]:
        """The options REPLY waits with ({} when nothing waits)."""
        inner = DialogContext(self._dialogs, context, instance.state[self.persisted_dialog_state])
        active = inner.active_dialog
        if active is None or active.id != REPLY:
            return {}
        options = active.state.get(WaterfallDialog.PersistedOptions)
        return options if isinstance(options, dict) else {}

    async def _show(self, step: WaterfallStepContext, turn: Turn) -> None:
        latest = await self._bulletins.latest_for(turn.person)
        if latest is None:
            await self._say(step, "none_yet")
            return
        subscribed = turn.person is None or await self._bulletins.subscribed(turn.person)
        card = self._bulletins.card(latest.bulletin, subscribed=subscribed)
        await step.context.send_activity(card_message(card))
        if turn.person is not None:
            step.values["shown"] = latest.bulletin.month
            step.values["seen_before"] = latest.seen_before

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
        await self._say(
            step,
            "subscribed" if changed else "already_subscribed",
            button=(self._card["unsubscribe"], "unsubscribe bulletin"),
        )

    async def _rate(self, step: WaterfallStepContext, turn: Turn) -> None:
        """The card's feedback button; without a rating, the bulletin is shown instead."""
        if turn.person is None or not turn.value.get("rating"):
            await self._show(step, turn)
        else:
            await self._feedback(step, turn.person, turn.value)

    async def _feedback(
        self, step: WaterfallStepContext, person: PersonKey, value: dict[str, Any]
    ) -> None:
        """Record a reaction and its comment; say truthfully what became of both."""
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
        result = await self._bulletins.give_feedback(
            person, month=month, rating=rating, comment=comment
        )
        if result.outcome == "unknown_bulletin":
            await self._say(step, "unknown_bulletin")
        elif result.outcome == "comment_too_long":
            await self._say(step, "comment_too_long", limit="1,000")
        else:
            text = self._thanks(result, rating, month)
            await step.context.send_activity(MessageFactory.text(text))

    def _thanks(self, result: Feedback, rating: str, month: str) -> str:
        """The rating recorded (first, changed or as before), then what became of the comment."""
        said = "thanks" if result.before is None else "changed"
        if result.before == rating:
            said = "kept"
        text = self._replies[f"{said}_{rating}"].format(month=self._month_label(month))
        kept = COMMENT_REPLIES.get(result.comment)
        return f"{text} {self._replies[kept]}" if kept else text

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
