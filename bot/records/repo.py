"""Private records in the database: the queries the records service, erasure and the
anonymous-report path use. Every query names the owner: nobody reaches a record but its own."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.records.models import PrivateRecord


async def records_of(session: AsyncSession, *, owner: str) -> list[PrivateRecord]:
    """The owner's records, newest first."""
    rows = await session.execute(
        select(PrivateRecord)
        .where(PrivateRecord.owner == owner)
        .order_by(PrivateRecord.created_at.desc(), PrivateRecord.id)
    )
    return list(rows.scalars())


async def record_of(session: AsyncSession, *, owner: str, record_id: int) -> PrivateRecord | None:
    """The record with this id if `owner` owns it; None for anyone else's, or none at all."""
    rows = await session.execute(
        select(PrivateRecord).where(PrivateRecord.id == record_id, PrivateRecord.owner == owner)
    )
    return rows.scalar_one_or_none()


async def count_of(session: AsyncSession, *, owner: str) -> int:
    """How many records the owner keeps."""
    counted = await session.execute(
        select(func.count()).select_from(PrivateRecord).where(PrivateRecord.owner == owner)
    )
    return int(counted.scalar() or 0)


async def secure_delete(session: AsyncSession) -> None:
    """On SQLite, have deleted rows' bytes (and an updated row's old bytes) overwritten with
    zeros, not just marked free: called before every change to a record."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))


async def delete_record(session: AsyncSession, *, owner: str, record_id: int) -> bool:
    """Delete the owner's record; False when there was none of theirs with that id."""
    await secure_delete(session)
    result = await session.execute(
        delete(PrivateRecord).where(PrivateRecord.id == record_id, PrivateRecord.owner == owner)
    )
    return int(result.rowcount) > 0  # type: ignore[attr-defined]


async def delete_all_of(session: AsyncSession, *, owner: str) -> int:
    """Erasure: delete every record the owner keeps; how many."""
    await secure_delete(session)
    result = await session.execute(delete(PrivateRecord).where(PrivateRecord.owner == owner))
    return int(result.rowcount)  # type: ignore[attr-defined]


# A transaction that began before the forgetting may still see deleted rows, so VACUUM FULL
# would keep them: wait this long at most (seconds, in steps) for such transactions to end.
_WAITS = (0.25, 0.5, 1.0, 2.0, 4.0)
LOCK_TIMEOUT = "5s"


async def forget_deleted(engine: AsyncEngine) -> None:
    """Make the database drop deleted records from disk, as the anonymous intake's release
    does for its rows: on PostgreSQL `VACUUM FULL private_records` rewrites the table (and
    its index), so a deleted record, and the transaction id that deleted it, are gone from
    its pages; on SQLite deleted rows were zeroed when deleted, and the write-ahead log that
    still holds their pages is checkpointed and truncated."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            started = await driver.fetchval("SELECT clock_timestamp()")
            for wait in _WAITS:
                older = await driver.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_xmin IS NOT NULL AND xact_start < $1)",
                    started,
                )
                if not older:
                    break
                await asyncio.sleep(wait)
            # Never queue behind a stuck transaction's lock (every turn reading records would
            # queue behind the rewrite): give up after a while, and the next run tries again.
            await driver.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            try:
                await driver.execute("VACUUM FULL private_records")
            finally:
                await driver.execute("RESET lock_timeout")
        elif engine.dialect.name == "sqlite":
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
