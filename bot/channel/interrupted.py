"""The marker between a conversation a card button interrupted and the feature it started."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
)


class Interrupted(Dialog):
    """Sits on the stack between a conversation that a card button interrupted and the
    feature the button started. When that feature ends, the interrupted conversation asks its
    question again; botbuilder's default would hand it the feature's result as an answer."""

    ID = "edi.interrupted"

    def __init__(self, back: Callable[[DialogContext], Awaitable[None]]) -> None:
        super().__init__(self.ID)
        self._back = back  # says "Back to …" and asks the interrupted dialog's question again

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        return await self.resume_dialog(dialog_context, DialogReason.NextCalled)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: object = None
    ) -> DialogTurnResult:
        dialog_context.stack.pop(0)  # this marker; what is left on top is what was interrupted
        if dialog_context.active_dialog is None:
            return DialogTurnResult(DialogTurnStatus.Empty)
        await self._back(dialog_context)
        return Dialog.end_of_turn
