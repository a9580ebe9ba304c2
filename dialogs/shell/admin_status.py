"""Bot status (admins only): how many people the bot can reach, and key hygiene."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.channel.teams import card_message
from bot.core.content import Content
from bot.privacy.roles import Role
from bot.status import BotStatus

StatusProvider = Callable[[], Awaitable[BotStatus]]


class AdminStatusDialog(ComponentDialog):
    """One card of counts; no person is named or identifiable in it."""

    COMMAND = "status"
    ROLE = Role.ADMIN

    def __init__(self, content: Content, status: StatusProvider) -> None:
        super().__init__(AdminStatusDialog.__name__)
        self._content = content
        self._status = status
        self.add_dialog(WaterfallDialog("admin_status", [self.show_step]))
        self.initial_dialog_id = "admin_status"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the counts and finish."""
        status = await self._status()
        card = self._content.card(
            "facts",
            heading="Bot status",
            facts=[
                {"title": "People the bot can reach", "value": f"{status.reachable:,}"},
                {"title": "People who uninstalled it", "value": f"{status.uninstalled:,}"},
                {
                    "title": "Conversations in progress",
                    "value": f"{status.conversations_in_progress:,}",
                },
                {"title": "Active encryption key", "value": status.active_key_id},
                {"title": "Values still on older keys", "value": f"{status.values_on_old_keys:,}"},
                *(
                    {"title": f"Job: {name}", "value": f"last run {last}; next {upcoming}"}
                    for name, last, upcoming in status.jobs
                ),
            ],
            note=" ".join(
                [
                    "Run `edi-bot keys rotate` to move older values to the active key."
                    if status.values_on_old_keys
                    else "Every encrypted value is on the active key.",
                    f"{status.failed_jobs} job(s) failed on their last run: see the log."
                    if status.failed_jobs
                    else "",
                    "`edi-bot jobs list` shows the jobs; `edi-bot jobs run NAME --dry-run` "
                    "rehearses one.",
                ]
            ).replace("  ", " "),
        )
        await step.context.send_activity(card_message(card))
        return await step.end_dialog()
