"""What an admin sees in "bot status": counts only, never who."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import BotStateDocument, ConversationReferenceRecord
from bot.features import FEATURES
from bot.privacy.rotation import key_usage


@dataclass(frozen=True)
class BotStatus:
    """Counts an admin needs to see the bot is healthy."""

    reachable: int
    uninstalled: int
    conversations_in_progress: int
    active_key_id: str
    values_on_old_keys: int


async def collect_status(session: AsyncSession, *, active_key_id: str) -> BotStatus:
    """Count references by status, saved conversations and values not on the active key."""
    table = ConversationReferenceRecord
    rows = await session.execute(select(table.status, func.count()).group_by(table.status))
    by_status = {status: int(count) for status, count in rows}
    in_progress = (await session.execute(select(func.count(BotStateDocument.key)))).scalar()
    old = sum(
        count
        for usage in (await key_usage(session, FEATURES)).values()
        for key_id, count in usage.items()
        if key_id != active_key_id
    )
    return BotStatus(
        reachable=by_status.get("active", 0),
        uninstalled=by_status.get("gone", 0),
        conversations_in_progress=int(in_progress or 0),
        active_key_id=active_key_id,
        values_on_old_keys=old,
    )
