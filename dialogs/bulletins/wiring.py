"""The bulletin feature's conversation: the latest bulletin, feedback, unsubscribe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.bulletins.service import BulletinService
from bot.channel.handler import Conversation
from dialogs.bulletins.bulletin import BulletinDialog

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """The conversation with the menu entry (and its own words) that start it."""
    bulletin = BulletinDialog(wiring.content, wiring.service("bulletins", BulletinService))
    return [Conversation(bulletin.menu_entry(wiring.entry(BulletinDialog.COMMAND)), bulletin)]
