"""Builds the bot and its parts once, for the web service and the terminal chat alike."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from botbuilder.core import ConversationState, MessageFactory, TurnContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapter import ReplyBuffer
from bot.config import Settings
from bot.content import Content
from bot.db.engine import create_sessionmaker
from bot.handler import EdiBot, Feature
from bot.logs import describe_exception
from bot.privacy.core import PrivacyCore, build_privacy
from bot.status import BotStatus, collect_status
from bot.storage import SqlConversationState, SqlStorage, current_session
from dialogs.about_edi import AboutEdiDialog
from dialogs.admin_status import AdminStatusDialog

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The bot with the storage and state it runs on."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: SqlStorage
    conversation_state: ConversationState
    content: Content
    privacy: PrivacyCore
    bot: EdiBot

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
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
            key = self.conversation_state.get_storage_key(turn_context)
            if key:
                await self.storage.delete([key])
        except Exception as reset_error:  # noqa: BLE001 - the person must still be told
            log.error("turn.reset_failed", extra={"error": describe_exception(reset_error)})
        if turn_context.activity.type in ("message", "invoke", "conversationUpdate"):
            try:
                text = self.content.texts("shell.error", reference=reference)
                await turn_context.send_activity(MessageFactory.text(text))
            except Exception as send_error:  # noqa: BLE001 - nothing more can be done
                log.error(
                    "turn.error_reply_failed", extra={"error": describe_exception(send_error)}
                )


def build_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    """Wire storage, state, content, dialogs and the bot for `engine`."""
    sessions = create_sessionmaker(engine)
    privacy = build_privacy(settings)
    storage = SqlStorage(engine, sessions, privacy.cipher)
    conversation_state = SqlConversationState(storage)
    content = Content(settings.content_dir)

    async def status() -> BotStatus:
        session = current_session()
        if session is None:
            raise RuntimeError("bot status is only collected inside a turn")
        return await collect_status(session, active_key_id=privacy.cipher.active_id)

    entries = {entry.command: entry for entry in content.menu_entries()}
    features = [
        Feature(entries[AboutEdiDialog.COMMAND], AboutEdiDialog(content)),
        Feature(entries[AdminStatusDialog.COMMAND], AdminStatusDialog(content, status)),
    ]
    bot = EdiBot(
        conversation_state=conversation_state,
        sessions=sessions,
        content=content,
        features=features,
        roles=privacy.roles,
        audit=privacy.audit,
        turn_attempts=settings.turn_attempts,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        storage=storage,
        conversation_state=conversation_state,
        content=content,
        privacy=privacy,
        bot=bot,
    )
