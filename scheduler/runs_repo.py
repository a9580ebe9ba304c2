"""The jobs' run records (scheduler/models.py): written after each run, read by `jobs list`
and bot status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import JobRun

KEEP_DAYS = 90  # each job's runs are kept this long


@dataclass(frozen=True)
class LastRun:
    """A job's latest run."""

    job: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    detail: str
    by: str


async def record_run(
    session: AsyncSession,
    *,
    job: str,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    detail: str,
    by: str,
) -> None:
    """Keep one run; forget this job's runs older than KEEP_DAYS."""
    session.add(
        JobRun(
            job=job,
            started_at=started_at,
            finished_at=finished_at,
            outcome=outcome,
            detail=detail,
            by=by,
        )
    )
    await session.execute(
        delete(JobRun).where(
            JobRun.job == job, JobRun.started_at < started_at - timedelta(days=KEEP_DAYS)
        )
    )


async def last_runs(session: AsyncSession) -> dict[str, LastRun]:
    """Each job's latest run, by job name."""
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = await session.execute(
        select(
            JobRun.job,
            JobRun.started_at,
            JobRun.finished_at,
            JobRun.outcome,
            JobRun.detail,
            JobRun.by,
        ).join(latest, latest.c.id == JobRun.id)
    )
    return {str(row[0]): LastRun(*row) for row in rows}
