"""Evidence files in the database: a report's files, files waiting to belong to one, their
chunks; and the queries retention, subject access and erasure use."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents.models import (
    IncidentEvidence,
    IncidentEvidenceChunk,
    IncidentIntakeChunk,
    IncidentIntakeFile,
    IncidentReport,
    evidence_chunk_context,
    evidence_meta_context,
    evidence_name_context,
)
from bot.privacy.crypto import FieldCipher, Sealed

# ---- files waiting to belong to a stored report -----------------------------------------------


async def waiting_files(session: AsyncSession, *, ids: list[int] | None = None) -> list[Any]:
    """Waiting files (sealed descriptions), these ids only when given."""
    query = select(IncidentIntakeFile)
    if ids is not None:
        query = query.where(IncidentIntakeFile.id.in_(ids))
    return list((await session.execute(query)).scalars())


async def waiting_chunks(session: AsyncSession, *, file_id: int) -> list[IncidentIntakeChunk]:
    """A waiting file's chunks (sealed), in order."""
    rows = await session.execute(
        select(IncidentIntakeChunk)
        .where(IncidentIntakeChunk.file_id == file_id)
        .order_by(IncidentIntakeChunk.seq)
    )
    return list(rows.scalars())


async def delete_waiting_files(session: AsyncSession, *, ids: list[int]) -> int:
    """Delete these waiting files and their chunks; on SQLite their pages are overwritten
    with zeros, not just marked free. Files deleted."""
    if not ids:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))
    await session.execute(delete(IncidentIntakeChunk).where(IncidentIntakeChunk.file_id.in_(ids)))
    gone = await session.execute(delete(IncidentIntakeFile).where(IncidentIntakeFile.id.in_(ids)))
    return int(gone.rowcount)  # type: ignore[attr-defined]


# ---- a report's files ------------------------------------------------------------------------


async def report_files(session: AsyncSession, *, report_id: int) -> list[IncidentEvidence]:
    """A report's files (sealed descriptions), in order."""
    rows = await session.execute(
        select(IncidentEvidence)
        .where(IncidentEvidence.report_id == report_id)
        .order_by(IncidentEvidence.seq)
    )
    return list(rows.scalars())


async def file_count(session: AsyncSession, *, report_id: int) -> int:
    """How many files a report holds."""
    found = await session.execute(
        select(func.count()).where(IncidentEvidence.report_id == report_id)
    )
    return int(found.scalar() or 0)


async def next_file_seq(session: AsyncSession, *, report_id: int) -> int:
    """The next place among a report's files."""
    found = await session.execute(
        select(func.max(IncidentEvidence.seq)).where(IncidentEvidence.report_id == report_id)
    )
    return int(found.scalar() or 0) + 1


async def report_file(
    session: AsyncSession, *, evidence_id: int, report_id: int
) -> IncidentEvidence | None:
    """One file, if it belongs to that report."""
    rows = await session.execute(
        select(IncidentEvidence).where(
            IncidentEvidence.id == evidence_id, IncidentEvidence.report_id == report_id
        )
    )
    return rows.scalar_one_or_none()


async def file_chunks(session: AsyncSession, *, evidence_id: int) -> list[IncidentEvidenceChunk]:
    """A file's chunks (sealed), in order."""
    rows = await session.execute(
        select(IncidentEvidenceChunk)
        .where(IncidentEvidenceChunk.evidence_id == evidence_id)
        .order_by(IncidentEvidenceChunk.seq)
    )
    return list(rows.scalars())


# ---- retention, subject access, erasure -------------------------------------------------------


async def delete_files_of(session: AsyncSession, *, report_ids: list[int]) -> None:
    """Delete these reports' files and their chunks (retention)."""
    files = select(IncidentEvidence.id).where(IncidentEvidence.report_id.in_(report_ids))
    await session.execute(
        delete(IncidentEvidenceChunk).where(IncidentEvidenceChunk.evidence_id.in_(files))
    )
    await session.execute(
        delete(IncidentEvidence).where(IncidentEvidence.report_id.in_(report_ids))
    )


async def forget_file_names(session: AsyncSession, *, pseudonym: str) -> int:
    """Erasure: the names a person's files were sent with go (they may name the person); the
    files are then shown by neutral names, as an anonymous report's are. Files renamed."""
    theirs = select(IncidentReport.id).where(IncidentReport.reporter_pseudonym == pseudonym)
    result = await session.execute(
        update(IncidentEvidence)
        .where(IncidentEvidence.report_id.in_(theirs), IncidentEvidence.name.is_not(None))
        .values(name=None, name_key=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def export_files(
    session: AsyncSession, *, cipher: FieldCipher, report_id: int
) -> list[dict[str, Any]]:
    """A report's files for its reporter's subject access copy: name, kind, size, day added
    and the bytes (base64), exactly as the case team has them."""
    exported = []
    for row in await report_files(session, report_id=report_id):
        meta = json.loads(
            cipher.open(Sealed(row.meta_key, row.meta), context=evidence_meta_context(row.id))
        )
        name = None
        if row.name is not None and row.name_key is not None:
            name = cipher.open(
                Sealed(row.name_key, row.name), context=evidence_name_context(row.id)
            )
        data = b"".join(
            base64.b64decode(
                cipher.open(Sealed(c.data_key, c.data), context=evidence_chunk_context(c.id))
            )
            for c in await file_chunks(session, evidence_id=row.id)
        )
        exported.append(
            {
                "name": name or meta.get("neutral_name"),
                "type": meta["type"],
                "size": meta["size"],
                "added_on": row.added_on,
                "content_base64": base64.b64encode(data).decode("ascii"),
            }
        )
    return exported
