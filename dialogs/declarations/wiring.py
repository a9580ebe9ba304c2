"""The declarations feature's conversation: "declare" and "my data"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel.handler import Conversation
from bot.declarations.service import DeclarationService
from dialogs.declarations.declare import DeclarationDialog
from dialogs.declarations.states import DRAFT_PROPERTY

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """The conversation with the menu entry that starts it."""
    declare = DeclarationDialog(
        wiring.content,
        wiring.service("declarations", DeclarationService),
        wiring.state.create_property(DRAFT_PROPERTY),
        draft_days=wiring.settings.retention_drafts_days,
        copy_links=wiring.copy_links,
    )
    return [Conversation(wiring.entry(DeclarationDialog.COMMAND), declare)]
