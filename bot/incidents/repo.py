"""Incident reports in the database: the queries the service, retention, subject access and
other features use."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.incidents.models import (
    IncidentEvent,
    IncidentMessage,
    IncidentReport,
    details_context,
    message_context,
)
from bot.incidents.taxonomy import codes_of
from bot.privacy.crypto import FieldCipher, Sealed


def received_select(*, start: date, end: date) -> Select[str, date, str, str, str | None]:
    """(reference, received_on, motivations, kinds, location) of each report received from
    `start` to `end` inclusive: categories only, no narrative and no reporter."""
    table = IncidentReport
    return select(
        table.reference, table.received_on, table.motivations, table.kinds, table.location
    ).where(table.received_on >= start, table.received_on <= end)


async def next_seq(
    session: AsyncSession, table: type[IncidentMessage] | type[IncidentEvent], report_id: int
) -> int:
    """The next place in a case's messages or history."""
    found = await session.execute(select(func.max(table.seq)).where(table.report_id == report_id))
    return int(found.scalar() or 0) + 1


async def purge_closed_before(session: AsyncSession, cutoff: date) -> int:
    """Delete cases closed before `cutoff`, with their messages and history (retention)."""
    old = select(IncidentReport.id).where(
        IncidentReport.status == "closed", IncidentReport.closed_on < cutoff
    )
    ids = list((await session.execute(old)).scalars())
    if not ids:
        return 0
    await session.execute(delete(IncidentMessage).where(IncidentMessage.report_id.in_(ids)))
    await session.execute(delete(IncidentEvent).where(IncidentEvent.report_id.in_(ids)))
    await session.execute(delete(IncidentReport).where(IncidentReport.id.in_(ids)))
    return len(ids)


async def export_reports(
    session: AsyncSession, cipher: FieldCipher, pseudonym: str
) -> list[dict[str, Any]]:
    """A person's confidential and named reports, decrypted, for a subject access request.
    (Anonymous reports are not linked to anyone, so they cannot be found or included.)"""
    rows = await session.execute(
        select(IncidentReport).where(IncidentReport.reporter_pseudonym == pseudonym)
    )
    reports = []
    for report in rows.scalars():
        details = json.loads(
            cipher.open(
                Sealed(report.details_key, report.details),
                context=details_context(report.reference),
            )
        )
        messages = await session.execute(
            select(IncidentMessage)
            .where(IncidentMessage.report_id == report.id)
            .order_by(IncidentMessage.seq)
        )
        reports.append(
            {
                "reference": report.reference,
                "how_reported": report.mode,
                "received_on": report.received_on,
                "status": report.status,
                "motivations": codes_of(report.motivations),
                "kinds": codes_of(report.kinds),
                "what_happened": details,
                "messages": [
                    {
                        "from": m.author,
                        "on": m.written_on,
                        "text": cipher.open(
                            Sealed(m.body_key, m.body), context=message_context(m.id)
                        ),
                    }
                    for m in messages.scalars()
                ],
            }
        )
    return reports


async def unlink_reporter(session: AsyncSession, pseudonym: str) -> int:
    """Erasure: remove the reporter's identity from their reports. The cases themselves are
    kept (the council may need them, e.g. for a crime or a claim) but no longer say who
    reported them: they become as anonymous as an anonymous report."""
    result = await session.execute(
        update(IncidentReport)
        .where(IncidentReport.reporter_pseudonym == pseudonym)
        .values(
            reporter=None,
            reporter_key=None,
            reporter_pseudonym=None,
            wants_contact=False,
            mode="anonymous",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_released(engine: AsyncEngine) -> None:
    """After a release commits, make the database drop the intake rows it deleted: on
    PostgreSQL the table is rewritten (VACUUM FULL), so the dead rows, whose transaction id
    is the reporter's turn's, are gone from its pages; on SQLite the write-ahead log, whose
    frames paired each intake row with its turn's state, is checkpointed and truncated."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            for wait in (0.5, 1, 2, 4, 0):
                await driver.execute("VACUUM FULL incident_intake")
                # An older snapshot elsewhere in the database (an autovacuum ANALYZE, a
                # long query) keeps deleted rows "recently dead": try again shortly.
                left = await driver.fetchval(
                    "SELECT pg_relation_size('incident_intake') > 0"
                    " AND NOT EXISTS (SELECT 1 FROM incident_intake)"
                )
                if not left or not wait:
                    break
                await asyncio.sleep(wait)
        elif engine.dialect.name == "sqlite":
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def unassign_from(session: AsyncSession, actor: str) -> int:
    """Erasure of a case handler: their cases go back to the unassigned queue."""
    result = await session.execute(
        update(IncidentReport).where(IncidentReport.assigned_to == actor).values(assigned_to=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
