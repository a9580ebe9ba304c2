"""Staff networks: see them, join, leave. One turn each; membership is confidential."""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry
from bot.db.session import turn_session
from bot.events.service import EventService
from dialogs.events.sign_up import attendee_of, command_words, with_words


class NetworksDialog(Dialog):
    """Lists the staff networks with Join or Leave; does what a button or word asks."""

    COMMAND = "networks"

    def __init__(self, content: Content, events: EventService) -> None:
        super().__init__(NetworksDialog.__name__)
        self._content = content
        self._events = events
        self._w: dict[str, Any] = events.words["networks"]
        self._actions = command_words(self._w["commands"])

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "networks" entry with this dialog's other words added."""
        return with_words(entry, self._actions)

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Join, leave or list, then finish."""
        context = dialog_context.context
        turn = Turn.of(context)
        action = self._actions.get(turn.command, "list")
        code = turn.field("network", 64)
        person = attendee_of(context)
        session = turn_session()
        if person is not None and action in ("join", "leave") and code:
            network = self._events.networks.get(code)
            if network is None:
                await self._say(context, self._w["unknown"])
            elif action == "join":
                joined = await self._events.join(session, code, person)
                key = "joined" if joined else "already_member"
                await self._say(context, self._w[key].format(name=network.name))
            else:
                left = await self._events.leave(session, code, person.key)
                key = "left" if left else "not_member"
                await self._say(context, self._w[key].format(name=network.name))
        if person is not None:
            await self._list(context, await self._events.my_networks(session, person.key))
        return await dialog_context.end_dialog()

    async def _list(self, context: TurnContext, mine: list[str]) -> None:
        sections = []
        for network in self._events.networks.values():
            member = network.code in mine
            lines = [network.description] + ([self._w["member"]] if member else [])
            sections.append(
                {
                    "title": network.name,
                    "lines": lines,
                    "buttons": [
                        {
                            "title": self._w["leave"] if member else self._w["join"],
                            "data": {
                                "command": "leave network" if member else "join network",
                                "network": network.code,
                            },
                        },
                        {
                            "title": self._w["events"],
                            "data": {"command": "events", "network": network.code},
                        },
                    ],
                }
            )
        card = self._content.card(
            "event_card",
            heading=self._w["heading"],
            paragraphs=[self._w["intro"]],
            facts=[],
            sections=sections,
            inputs=[],
            buttons=[],
            links=[],
        )
        await context.send_activity(card_message(card))

    @staticmethod
    async def _say(context: TurnContext, text: str) -> None:
        await context.send_activity(MessageFactory.text(text))
