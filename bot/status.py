"""What an admin sees in "bot status": counts only, never who."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import BotStateDocument, ConversationReferenceRecord, utcnow
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
    # Each timed job: (name, its last run in words, its next run in words).
    jobs: list[tuple[str, str, str]] = field(default_factory=list)
    failed_jobs: int = 0


async def collect_status(
    session: AsyncSession, *, active_key_id: str, settings: Settings | None = None
) -> BotStatus:
    """Count references by status, saved conversations and values not on the active key;
    each timed job's last and next run (with `settings`)."""
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
    jobs, failed = await _jobs(session, settings) if settings is not None else ([], 0)
    return BotStatus(
        jobs=jobs,
        failed_jobs=failed,
        reachable=by_status.get("active", 0),
        uninstalled=by_status.get("gone", 0),
        conversations_in_progress=int(in_progress or 0),
        active_key_id=active_key_id,
        values_on_old_keys=old,
    )


async def _jobs(
    session: AsyncSession, settings: Settings
) -> tuple[list[tuple[str, str, str]], int]:
    from scheduler.describe import last_run_text, next_run
    from scheduler.jobs import catalogue
    from scheduler.runs_repo import last_runs

    runs = await last_runs(session)
    now = utcnow()
    lines = [
        (job.name, last_run_text(runs.get(job.id)), next_run(job, settings, runs.get(job.id), now))
        for job in catalogue()
    ]
    return lines, sum(1 for run in runs.values() if run.outcome == "failed")
