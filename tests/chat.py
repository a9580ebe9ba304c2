"""One member of staff talking to the running bot over HTTP: the tests' chat driver.

What they see is what reached the stand-in connector after each turn: every reply's text,
TextBlocks and facts, as a person reads them (`tests.cards.visible_text`). Tests that need
no HTTP drive the runtime in-process with `tests.harness.BotHarness` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.cards import buttons, cards, dicts_in, visible_text
from tests.connector import StandInConnector
from tests.service import Service
from tests.teams import TeamsUser


@dataclass
class Chat:
    """One person's personal chat with the bot."""

    service: Service
    connector: StandInConnector
    user: TeamsUser = field(default_factory=TeamsUser)
    last: list[dict[str, Any]] = field(default_factory=list)

    async def post(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one activity; the replies it produced (also kept as `last`)."""
        before = len(self.connector.replies(self.user.conversation_id))
        status, _ = await self.service.post(activity)
        assert status == 201, status
        self.last = self.connector.replies(self.user.conversation_id)[before:]
        return self.last

    async def say(self, words: str | dict[str, Any]) -> str:
        """Type a message (text), or press a button / send a form (a dict); what is seen."""
        if isinstance(words, str):
            activity = self.user.message(words, self.connector.url)
        else:
            activity = self.user.submit(words, self.connector.url)
        return self.seen(await self.post(activity))

    async def tap(self, value: dict[str, Any]) -> str:
        """Submit a card value."""
        return await self.say(value)

    def button(self, title: str) -> dict[str, Any]:
        """The data of the button titled `title` on the last cards shown."""
        for reply in self.last:
            for shown, data in buttons(reply):
                if shown == title:
                    return dict(data)
        raise AssertionError(f"no button {title!r} in {[b for r in self.last for b in buttons(r)]}")

    async def press(self, title: str, **inputs: Any) -> str:
        """Press a button on the last card, with the card's inputs filled as given. As in
        Teams, an input left alone sends the value the card filled it with."""
        return await self.say({**self.button(title), **self.prefilled(title), **inputs})

    def prefilled(self, title: str) -> dict[str, Any]:
        """The values the card with button `title` filled its inputs with (unless the button
        sends no inputs)."""
        for reply in self.last:
            for card in cards(reply):
                actions = [a for a in dicts_in(card) if a.get("type") == "Action.Submit"]
                pressed = [a for a in actions if a.get("title") == title]
                if not pressed:
                    continue
                if pressed[0].get("associatedInputs") == "none":
                    return {}
                return {
                    str(element["id"]): element["value"]
                    for element in dicts_in(card)
                    if str(element.get("type", "")).startswith("Input.") and "value" in element
                }
        return {}

    async def install(self) -> None:
        """The person adds the bot in Teams."""
        await self.post(self.user.installed(self.connector.url))

    @staticmethod
    def seen(replies: list[dict[str, Any]]) -> str:
        """Everything a person can read in these replies, one line each."""
        return "\n".join(visible_text(reply) for reply in replies)


async def converse(
    service: Service, connector: StandInConnector, user: TeamsUser, words: str | dict[str, Any]
) -> str:
    """One turn of `user`'s chat (text, or a card value); what the person then sees."""
    return await Chat(service, connector, user).say(words)
