"""The scheduler and its jobs. Each job is safe to run twice and on two replicas at once."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.privacy.audit import AuditLog
from bot.privacy.retention import RetentionRule, purge

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"


async def retention_purge(
    sessions: async_sessionmaker[AsyncSession], rules: list[RetentionRule], audit: AuditLog
) -> dict[str, int]:
    """Delete everything past its retention; the counts go to the audit log and the log."""
    counts = await purge(sessions, rules, audit)
    log.info("job.retention_purge", extra=counts)
    return counts


def build_scheduler(
    sessions: async_sessionmaker[AsyncSession], rules: list[RetentionRule], audit: AuditLog
) -> AsyncIOScheduler:
    """An asyncio scheduler with every job registered (not yet started)."""
    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    scheduler.add_job(
        retention_purge,
        "cron",
        id="retention_purge",
        hour=2,
        minute=30,
        kwargs={"sessions": sessions, "rules": rules, "audit": audit},
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler
