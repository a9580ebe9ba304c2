"""The events feature's conversations: events and sign-up, staff networks, organisers'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel.handler import Conversation
from bot.events.service import EventService
from dialogs.events.event_admin import EventAdminDialog
from dialogs.events.networks import NetworksDialog
from dialogs.events.sign_up import EventsDialog

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """Each conversation with the menu entry (and its own words) that start it."""
    content, events = wiring.content, wiring.service("events", EventService)
    sign_up = EventsDialog(content, events)
    networks = NetworksDialog(content, events)
    return [
        Conversation(sign_up.menu_entry(wiring.entry(EventsDialog.COMMAND)), sign_up),
        Conversation(networks.menu_entry(wiring.entry(NetworksDialog.COMMAND)), networks),
        Conversation(wiring.entry(EventAdminDialog.COMMAND), EventAdminDialog(content, events)),
    ]
