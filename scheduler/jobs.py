"""The scheduler and its jobs. Each job is safe to run twice and on two replicas at once."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db.models import utcnow
from bot.storage import purge_state_older_than, unit_of_work

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"


async def forget_abandoned_conversations(
    sessions: async_sessionmaker[AsyncSession], *, older_than_days: int
) -> int:
    """Delete conversation state (unfinished dialogs) untouched for `older_than_days`."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    async with unit_of_work(sessions) as session:
        removed = await purge_state_older_than(session, cutoff)
    log.info("job.forget_abandoned_conversations", extra={"removed": removed})
    return removed


def build_scheduler(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIOScheduler:
    """An asyncio scheduler with every job registered (not yet started)."""
    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    scheduler.add_job(
        forget_abandoned_conversations,
        "cron",
        id="forget_abandoned_conversations",
        hour=2,
        minute=30,
        kwargs={"sessions": sessions, "older_than_days": settings.state_ttl_days},
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler
