"""The bot_state table outside the SDK: how documents are bound, and their retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import BotStateDocument


def state_context(key: str) -> str:
    """The associated data a state document is sealed with: its own key."""
    return f"bot_state:{key}"


async def purge_state_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Delete state documents last written before `cutoff`; returns how many."""
    statement = (
        delete(BotStateDocument)
        .where(BotStateDocument.updated_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
