"""Incident reports in the database: the queries the service, retention, subject access and
other features use."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord
from bot.incidents.evidence_repo import delete_files_of, export_files
from bot.incidents.models import (
    IncidentCheckAttempts,
    IncidentEvent,
    IncidentIntake,
    IncidentMessage,
    IncidentReport,
    details_context,
    message_context,
)
from bot.incidents.records import OPEN_STATUSES
from bot.incidents.taxonomy import codes_of
from bot.privacy.crypto import FieldCipher, Sealed


def received_select(*, start: date, end: date) -> Select[str, date, str, str, str | None]:
    """(reference, received_on, motivations, kinds, location) of each report received from
    `start` to `end` inclusive: categories only, no narrative and no reporter."""
    table = IncidentReport
    return select(
        table.reference, table.received_on, table.motivations, table.kinds, table.location
    ).where(table.received_on >= start, table.received_on <= end)


# ---- reports and cases ------------------------------------------------------------------


async def report_by_reference(session: AsyncSession, *, reference: str) -> IncidentReport | None:
    """The report with this reference, if any."""
    rows = await session.execute(
        select(IncidentReport).where(IncidentReport.reference == reference)
    )
    return rows.scalar_one_or_none()


async def reference_taken(session: AsyncSession, *, reference: str) -> bool:
    """Whether a report (not the intake) already has this reference."""
    taken = await session.execute(
        select(IncidentReport.id).where(IncidentReport.reference == reference)
    )
    return taken.first() is not None


async def open_cases(session: AsyncSession) -> list[IncidentReport]:
    """Open cases, oldest first."""
    rows = await session.execute(
        select(IncidentReport)
        .where(IncidentReport.status.in_(OPEN_STATUSES))
        .order_by(IncidentReport.received_on, IncidentReport.reference)
    )
    return list(rows.scalars())


async def all_cases(session: AsyncSession) -> list[IncidentReport]:
    """Every case, newest first."""
    rows = await session.execute(
        select(IncidentReport).order_by(IncidentReport.received_on.desc(), IncidentReport.reference)
    )
    return list(rows.scalars())


async def change_report(
    session: AsyncSession,
    *,
    report: IncidentReport,
    version: int,
    values: dict[str, Any],
    at: datetime,
) -> bool:
    """Write `values` to the report if it is still at `version` (and move it to the next
    version); `report` is reloaded either way. False, with nothing written, if it had moved on."""
    changed = await session.execute(
        update(IncidentReport)
        .where(IncidentReport.id == report.id, IncidentReport.version == version)
        .values(**values, version=version + 1, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(report)
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def next_seq(
    session: AsyncSession, *, table: type[IncidentMessage] | type[IncidentEvent], report_id: int
) -> int:
    """The next place in a case's messages or history."""
    found = await session.execute(select(func.max(table.seq)).where(table.report_id == report_id))
    return int(found.scalar() or 0) + 1


async def case_messages(session: AsyncSession, *, report_id: int) -> list[IncidentMessage]:
    """A case's messages (sealed), in order."""
    rows = await session.execute(
        select(IncidentMessage)
        .where(IncidentMessage.report_id == report_id)
        .order_by(IncidentMessage.seq)
    )
    return list(rows.scalars())


async def case_events(session: AsyncSession, *, report_id: int) -> list[IncidentEvent]:
    """A case's history, in order."""
    rows = await session.execute(
        select(IncidentEvent)
        .where(IncidentEvent.report_id == report_id)
        .order_by(IncidentEvent.seq)
    )
    return list(rows.scalars())


# ---- case handlers' conversation references ---------------------------------------------


async def reachable_people(session: AsyncSession, *, aad_object_ids: list[str]) -> list[PersonKey]:
    """The people with these Entra object ids whose conversation reference the bot holds."""
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(table.tenant_id, table.aad_object_id).where(table.aad_object_id.in_(aad_object_ids))
    )
    return [PersonKey(tenant, aad) for tenant, aad in rows]


# ---- checking a report: wrong tries --------------------------------------------------------


async def check_failures(session: AsyncSession, *, who: str, window: int) -> int:
    """How many wrong tries `who` has made in this window."""
    found = await session.execute(
        select(IncidentCheckAttempts.failures).where(
            IncidentCheckAttempts.who == who, IncidentCheckAttempts.window == window
        )
    )
    return int(found.scalar() or 0)


async def count_check_failure(session: AsyncSession, *, who: str, window: int) -> None:
    """One more wrong try by `who` in this window; their earlier windows are deleted."""
    table = IncidentCheckAttempts
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(who=who, window=window, failures=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.who, table.window],
        set_={"failures": table.failures + 1},
    )
    await session.execute(statement)
    await session.execute(
        delete(IncidentCheckAttempts).where(
            IncidentCheckAttempts.who == who, IncidentCheckAttempts.window < window
        )
    )


async def forget_check_failures_before(session: AsyncSession, *, window: int) -> int:
    """Delete everyone's wrong tries from windows before `window`; rows deleted."""
    result = await session.execute(
        delete(IncidentCheckAttempts).where(IncidentCheckAttempts.window < window)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---- the anonymous intake ------------------------------------------------------------------


async def intake_rows(session: AsyncSession, *, lock: bool = False) -> list[IncidentIntake]:
    """Every intake row (sealed); `lock` claims them (FOR UPDATE SKIP LOCKED), so two
    replicas never release the same ones."""
    query = select(IncidentIntake)
    if lock:
        query = query.with_for_update(skip_locked=True)
    rows = await session.execute(query)
    return list(rows.scalars())


async def delete_intake_rows(session: AsyncSession, *, ids: list[int]) -> None:
    """Delete these intake rows; on SQLite their pages are overwritten with zeros, not just
    marked free."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))
    await session.execute(delete(IncidentIntake).where(IncidentIntake.id.in_(ids)))


# ---- retention, subject access, erasure -------------------------------------------------


async def purge_closed_before(session: AsyncSession, *, cutoff: date) -> int:
    """Delete cases closed before `cutoff`, with their messages, files and history
    (retention)."""
    old = select(IncidentReport.id).where(
        IncidentReport.status == "closed", IncidentReport.closed_on < cutoff
    )
    ids = list((await session.execute(old)).scalars())
    if not ids:
        return 0
    await session.execute(delete(IncidentMessage).where(IncidentMessage.report_id.in_(ids)))
    await session.execute(delete(IncidentEvent).where(IncidentEvent.report_id.in_(ids)))
    await delete_files_of(session, report_ids=ids)
    await session.execute(delete(IncidentReport).where(IncidentReport.id.in_(ids)))
    return len(ids)


async def export_reports(
    session: AsyncSession, *, cipher: FieldCipher, pseudonym: str
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
                # The files they sent, with their bytes, as the case team has them.
                "files": await export_files(session, cipher=cipher, report_id=report.id),
            }
        )
    return reports


async def unlink_reporter(session: AsyncSession, *, pseudonym: str) -> int:
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
    """After a release commits, make the database drop the intake rows (and waiting files)
    it deleted: on PostgreSQL the tables are rewritten (VACUUM FULL), so the dead rows, whose
    transaction id is the reporter's turn's, are gone from their pages; on SQLite the
    write-ahead log, whose frames paired each intake row with its turn's state, is
    checkpointed and truncated."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            for wait in (0.5, 1, 2, 4, 0):
                # The files that waited with it (and the chunks of every waiting file) too.
                await driver.execute(
                    "VACUUM FULL incident_intake, incident_intake_files, incident_intake_chunks"
                )
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


async def unassign_from(session: AsyncSession, *, actor: str) -> int:
    """Erasure of a case handler: their cases go back to the unassigned queue."""
    result = await session.execute(
        update(IncidentReport).where(IncidentReport.assigned_to == actor).values(assigned_to=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
