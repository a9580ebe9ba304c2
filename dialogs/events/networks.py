"""Staff networks: see them, join, leave. One turn each; membership is confidential.

Being one turn, the conversation has no states: the words typed, or a button's command
(`{"command": "join network", "network": "<code>"}`), name an action (content/events/
words.yaml `networks.commands`); the table in `NetworksDialog.__init__` names what joining
and leaving do to the network named, and every action then shows the list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry
from bot.db.session import turn_session
from bot.events.networks import Network
from bot.events.records import Attendee
from bot.events.service import EventService
from dialogs.events.sign_up import attendee_of, command_words, with_words

# What an action does to a network: (the turn's context, who they are, the network).
NetworkStep = Callable[[TurnContext, Attendee, Network], Awaitable[None]]


class NetworksDialog(Dialog):
    """Lists the staff networks with Join or Leave; does what a button or word asks."""

    COMMAND = "networks"

    def __init__(self, content: Content, events: EventService) -> None:
        super().__init__(NetworksDialog.__name__)
        self._content = content
        self._events = events
        self._w: dict[str, Any] = events.words["networks"]
        self._actions = command_words(self._w["commands"])
        # The actions on a network (a button's "network"); "list", or anything else, only lists.
        self._on_network: dict[str, NetworkStep] = {
            "join": self._join,
            "leave": self._leave,
        }

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "networks" entry with this dialog's other words added."""
        return with_words(entry, self._actions)

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Join, leave or list, then finish."""
        context = dialog_context.context
        turn = Turn.of(context)
        step = self._on_network.get(self._actions.get(turn.command, "list"))
        code = turn.field("network", 64)
        person = attendee_of(context)
        if person is None:
            return await dialog_context.end_dialog()
        if step is not None and code:
            network = self._events.networks.get(code)
            if network is None:
                await self._say(context, self._w["unknown"])
            else:
                await step(context, person, network)
        await self._list(context, await self._events.my_networks(turn_session(), person.key))
        return await dialog_context.end_dialog()

    async def _join(self, context: TurnContext, person: Attendee, network: Network) -> None:
        joined = await self._events.join(turn_session(), network.code, person)
        key = "joined" if joined else "already_member"
        await self._say(context, self._w[key].format(name=network.name))

    async def _leave(self, context: TurnContext, person: Attendee, network: Network) -> None:
        left = await self._events.leave(turn_session(), network.code, person.key)
        key = "left" if left else "not_member"
        await self._say(context, self._w[key].format(name=network.name))

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
