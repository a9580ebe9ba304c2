"""The action plans feature's conversations: "my actions", and the nudge card's buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions.service import ActionsService
from bot.channel.handler import Conversation
from dialogs.actions.my_actions import ActionCardDialog, MyActionsDialog

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """Each conversation with the menu entry (and its own words) that start it."""
    content, actions = wiring.content, wiring.service("actions", ActionsService)
    card = ActionCardDialog(content, actions, wiring.privacy.roles)
    mine = MyActionsDialog(content, actions)
    return [
        Conversation(mine.menu_entry(wiring.entry(MyActionsDialog.COMMAND)), mine),
        Conversation(card.menu_entry(wiring.entry(ActionCardDialog.COMMAND)), card),
    ]
