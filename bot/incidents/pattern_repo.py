"""Pattern checks in the database: the queries of bot/incidents/pattern_checks.py, its
retention rule and its commands."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents.models import IncidentPatternCheck, IncidentReport


async def hashes_to_check(session: AsyncSession, *, person_hash: str | None = None) -> list[str]:
    """Hashes held by two or more entries of which one at least has not been in an alert
    (only `person_hash`, when given)."""
    table = IncidentPatternCheck
    unalerted = func.sum(case((table.alerted.is_(False), 1), else_=0))
    query = (
        select(table.person_hash)
        .group_by(table.person_hash)
        .having(func.count() >= 2, unalerted > 0)
        .order_by(table.person_hash)
    )
    if person_hash is not None:
        query = query.where(table.person_hash == person_hash)
    return list((await session.execute(query)).scalars())


async def checks_with_hash(
    session: AsyncSession, *, person_hash: str, lock: bool = False
) -> list[IncidentPatternCheck]:
    """Every entry with this hash; `lock` holds them (FOR UPDATE on PostgreSQL) until the
    transaction ends, so two replicas never alert on the same entries."""
    query = (
        select(IncidentPatternCheck)
        .where(IncidentPatternCheck.person_hash == person_hash)
        .order_by(IncidentPatternCheck.id)
    )
    if lock:
        query = query.with_for_update()
    rows = await session.execute(query.execution_options(populate_existing=True))
    return list(rows.scalars())


async def mark_alerted(session: AsyncSession, *, ids: Collection[int]) -> None:
    """These entries are part of a pattern the case handlers have been told of."""
    await session.execute(
        update(IncidentPatternCheck)
        .where(IncidentPatternCheck.id.in_(list(ids)))
        .values(alerted=True)
        .execution_options(synchronize_session=False)
    )


async def reports_named(
    session: AsyncSession, *, references: Collection[str]
) -> dict[str, IncidentReport]:
    """The reports with these references that still exist, by reference."""
    if not references:
        return {}
    rows = await session.execute(
        select(IncidentReport).where(IncidentReport.reference.in_(list(references)))
    )
    return {report.reference: report for report in rows.scalars()}


async def every_check(session: AsyncSession) -> list[IncidentPatternCheck]:
    """Every entry (a few per report at most: the retention rule and the DPO's commands
    open each one)."""
    rows = await session.execute(select(IncidentPatternCheck).order_by(IncidentPatternCheck.id))
    return list(rows.scalars())


async def delete_checks(session: AsyncSession, *, ids: Collection[int]) -> int:
    """Delete these entries; how many were deleted."""
    if not ids:
        return 0
    result = await session.execute(
        delete(IncidentPatternCheck).where(IncidentPatternCheck.id.in_(list(ids)))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_unmatched_before(session: AsyncSession, *, cutoff: date) -> int:
    """Delete entries made before `cutoff` that were never part of an alert (retention)."""
    result = await session.execute(
        delete(IncidentPatternCheck).where(
            IncidentPatternCheck.alerted.is_(False), IncidentPatternCheck.created_on < cutoff
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_checks(session: AsyncSession) -> tuple[int, int]:
    """(entries, entries that were part of an alert)."""
    table = IncidentPatternCheck
    found = await session.execute(
        select(func.count(), func.sum(case((table.alerted.is_(True), 1), else_=0))).select_from(
            table
        )
    )
    total, alerted = found.one()
    return int(total or 0), int(alerted or 0)
