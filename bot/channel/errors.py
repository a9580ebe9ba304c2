"""What happens when a turn fails: a logged reference, a plain message, a fresh start."""

from __future__ import annotations

import logging
import uuid

from botbuilder.core import ConversationState, MessageFactory, TurnContext

from bot.channel.adapter import ReplyBuffer
from bot.channel.storage import SqlStorage
from bot.core.content import Content
from bot.core.logs import describe_exception

log = logging.getLogger(__name__)


async def on_turn_error(
    turn_context: TurnContext,
    error: Exception,
    *,
    storage: SqlStorage,
    state: ConversationState,
    content: Content,
) -> None:
    """The one error handler: log a reference, tell the person, reset the conversation."""
    reference = uuid.uuid4().hex[:8].upper()
    log.error(
        "turn.failed",
        extra={
            "correlation_id": reference,
            "activity_type": getattr(turn_context.activity, "type", None),
            "error": describe_exception(error),
        },
    )
    buffer = ReplyBuffer.of(turn_context)
    if buffer is not None:
        buffer.discard()
    try:
        key = state.get_storage_key(turn_context)
        if key:
            await storage.delete([key])
    except Exception as reset_error:  # noqa: BLE001 - the person must still be told
        log.error("turn.reset_failed", extra={"error": describe_exception(reset_error)})
    if turn_context.activity.type in ("message", "invoke", "conversationUpdate"):
        try:
            text = content.texts("shell.error", reference=reference)
            await turn_context.send_activity(MessageFactory.text(text))
        except Exception as send_error:  # noqa: BLE001 - nothing more can be done
            log.error("turn.error_reply_failed", extra={"error": describe_exception(send_error)})
