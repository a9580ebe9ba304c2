"""Sealing evidence files: waiting files, a report's files, and moving one to the other.

A file is cleaned (bot/incidents/evidence.py), then sealed in chunks of CHUNK_BYTES, each
bound to its own row, with a sealed description holding the SHA-256 of the whole, checked
when the chunks are put together again (so chunks moved between files are noticed).

A file first waits in `incident_intake_files` (nothing readable beside it): while its report
is a draft, while an anonymous report or addition waits in the intake, or while `check report`
asks which report it is for. It becomes evidence of a report (`attach`) when a confidential or
named report is submitted or added to, or when the intake is released; it is then sealed
afresh under new random ids, and the waiting rows are deleted (and vacuumed with the intake).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents import evidence_repo as repo
from bot.incidents.evidence import (
    KINDS,
    CleanFile,
    FileKind,
    clean,
    neutral_name,
    safe_name,
    size_text,
)
from bot.incidents.models import (
    IncidentEvidence,
    IncidentEvidenceChunk,
    IncidentIntakeChunk,
    IncidentIntakeFile,
    IncidentReport,
    evidence_chunk_context,
    evidence_meta_context,
    evidence_name_context,
    intake_chunk_context,
    intake_file_context,
    random_row_id,
)
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed

log = logging.getLogger("bot.incidents")

CHUNK_BYTES = 64 * 1024
# A file sent at `check report` waits only while the person says which report it is for.
CHECK_WAIT_DAYS = 1


@dataclass(frozen=True)
class EvidenceLimits:
    """How big a file may be, how many a report may hold, how long a draft's files wait."""

    max_bytes: int = 10 * 1024 * 1024
    max_files: int = 5
    keep_days: int = 30


@dataclass(frozen=True)
class FileInfo:
    """A file as it is listed: its id (a report's file, or a waiting one), name, kind, size."""

    id: int
    name: str
    kind: FileKind
    size: int
    added_on: date

    @property
    def label(self) -> str:
        """ "photo.jpg (JPEG image, 1.2 MB)"."""
        return f"{self.name} ({self.kind.label}, {size_text(self.size)})"


class EvidenceStore:
    """Seals, lists, moves and opens evidence files, in the caller's transaction."""

    def __init__(self, cipher: FieldCipher, limits: EvidenceLimits) -> None:
        self._cipher = cipher
        self.limits = limits

    def clean(self, data: bytes) -> CleanFile:
        """The file as it will be kept, or EvidenceRefused (decodes images: use a thread)."""
        return clean(data, max_bytes=self.limits.max_bytes)

    def _open_json(self, token: str, key_id: str, context: str) -> dict[str, Any]:
        opened: dict[str, Any] = json.loads(
            self._cipher.open(Sealed(key_id, token), context=context)
        )
        return opened

    def _seal_json(self, value: dict[str, Any], context: str) -> Sealed:
        return self._cipher.seal(json.dumps(value, ensure_ascii=False), context=context)

    # ---- waiting files ------------------------------------------------------------------------

    async def stage(
        self, session: AsyncSession, file: CleanFile, *, name: str, today: date, purpose: str
    ) -> FileInfo:
        """Keep a cleaned file until it belongs to a report (`purpose`: "draft" or "check")."""
        file_id = random_row_id()
        shown = safe_name(name, file.kind, number=1)
        meta = {
            "name": shown,
            "type": file.kind.media_type,
            "size": len(file.data),
            "sha256": file.digest,
            "on": today.isoformat(),
            "for": purpose,
        }
        sealed = self._seal_json(meta, intake_file_context(file_id))
        session.add(IncidentIntakeFile(id=file_id, meta=sealed.token, meta_key=sealed.key_id))
        await session.flush()
        for seq, chunk in enumerate(_chunks(file.data), start=1):
            chunk_id = random_row_id()
            data = self._cipher.seal(chunk, context=intake_chunk_context(chunk_id))
            session.add(
                IncidentIntakeChunk(
                    id=chunk_id, file_id=file_id, seq=seq, data=data.token, data_key=data.key_id
                )
            )
        await session.flush()
        return FileInfo(file_id, shown, file.kind, len(file.data), today)

    async def _waiting(self, session: AsyncSession, ids: list[int] | None) -> list[dict[str, Any]]:
        """Waiting files' descriptions, with their ids ("id"), in the order of `ids`."""
        found = {}
        for row in await repo.waiting_files(session, ids=ids):
            try:
                meta = self._open_json(row.meta, row.meta_key, intake_file_context(row.id))
            except DecryptionError:
                log.error("incident.waiting_file_unreadable")
                continue
            found[row.id] = {**meta, "id": row.id}
        order = ids if ids is not None else list(found)
        return [found[i] for i in order if i in found]

    async def waiting(self, session: AsyncSession, ids: list[int]) -> list[FileInfo]:
        """These waiting files as they are listed (those that still exist)."""
        return [_info(meta["id"], meta["name"], meta) for meta in await self._waiting(session, ids)]

    async def drop(self, session: AsyncSession, ids: list[int]) -> int:
        """Delete waiting files (a draft discarded, a file removed, nothing to add to)."""
        return await repo.delete_waiting_files(session, ids=[int(i) for i in ids])

    async def forget_stale(self, session: AsyncSession, *, today: date, keep: set[int]) -> int:
        """Delete waiting files nobody will come back for: a draft's after `keep_days` (as
        the draft itself), a `check report` file's after a day; never one in `keep` (an
        intake item's, released within a day)."""
        stale = []
        for meta in await self._waiting(session, None):
            days = CHECK_WAIT_DAYS if meta.get("for") == "check" else self.limits.keep_days
            if meta["id"] not in keep and date.fromisoformat(meta["on"]) < today - timedelta(
                days=days
            ):
                stale.append(meta["id"])
        return await repo.delete_waiting_files(session, ids=stale)

    # ---- a report's files ---------------------------------------------------------------------

    async def attach(
        self, session: AsyncSession, report: IncidentReport, ids: list[int], *, named: bool
    ) -> int:
        """Make waiting files `report`'s, sealed afresh under new ids, and delete the waiting
        rows. `named` keeps the names they were sent with (confidential and named reports);
        otherwise they are shown by neutral names ("image-1.jpg"). Files attached."""
        seq = await repo.next_file_seq(session, report_id=report.id)
        attached = 0
        for meta in await self._waiting(session, [int(i) for i in ids]):
            kind = KINDS.get(str(meta["type"]))
            if kind is None:
                continue
            evidence_id = random_row_id()
            described = {
                "type": kind.media_type,
                "size": int(meta["size"]),
                "sha256": meta["sha256"],
                "neutral_name": neutral_name(kind, seq),
            }
            sealed = self._seal_json(described, evidence_meta_context(evidence_id))
            row = IncidentEvidence(
                id=evidence_id,
                report_id=report.id,
                seq=seq,
                added_on=date.fromisoformat(meta["on"]),
                meta=sealed.token,
                meta_key=sealed.key_id,
            )
            if named:
                name = self._cipher.seal(
                    str(meta["name"]), context=evidence_name_context(evidence_id)
                )
                row.name, row.name_key = name.token, name.key_id
            session.add(row)
            await session.flush()
            await self._move_chunks(session, meta["id"], evidence_id)
            seq += 1
            attached += 1
        await repo.delete_waiting_files(session, ids=[int(i) for i in ids])
        return attached

    async def _move_chunks(self, session: AsyncSession, file_id: int, evidence_id: int) -> None:
        for chunk in await repo.waiting_chunks(session, file_id=file_id):
            plain = self._cipher.open(
                Sealed(chunk.data_key, chunk.data), context=intake_chunk_context(chunk.id)
            )
            chunk_id = random_row_id()
            data = self._cipher.seal(plain, context=evidence_chunk_context(chunk_id))
            session.add(
                IncidentEvidenceChunk(
                    id=chunk_id,
                    evidence_id=evidence_id,
                    seq=chunk.seq,
                    data=data.token,
                    data_key=data.key_id,
                )
            )
        await session.flush()

    async def files_of(self, session: AsyncSession, report_id: int) -> list[FileInfo]:
        """A report's files as they are listed, in order."""
        return [
            self._describe(row)[0] for row in await repo.report_files(session, report_id=report_id)
        ]

    async def count(self, session: AsyncSession, report_id: int) -> int:
        """How many files a report holds."""
        return await repo.file_count(session, report_id=report_id)

    def _describe(self, row: IncidentEvidence) -> tuple[FileInfo, str]:
        meta = self._open_json(row.meta, row.meta_key, evidence_meta_context(row.id))
        name = meta["neutral_name"]
        if row.name is not None and row.name_key is not None:
            name = self._cipher.open(
                Sealed(row.name_key, row.name), context=evidence_name_context(row.id)
            )
        return _info(row.id, name, meta, row.added_on), str(meta["sha256"])

    async def content(
        self, session: AsyncSession, *, report_id: int, evidence_id: int
    ) -> tuple[FileInfo, bytes] | None:
        """One of a report's files and its bytes, checked whole; None if there is no such
        file, or its chunks do not make up the file that was sealed."""
        row = await repo.report_file(session, evidence_id=evidence_id, report_id=report_id)
        if row is None:
            return None
        info, digest = self._describe(row)
        data = b"".join(
            base64.b64decode(
                self._cipher.open(Sealed(c.data_key, c.data), context=evidence_chunk_context(c.id))
            )
            for c in await repo.file_chunks(session, evidence_id=row.id)
        )
        if CleanFile(data, info.kind).digest != digest:
            log.error("incident.evidence_damaged")
            return None
        return info, data


def neutral_names(files: list[FileInfo], *, after: int) -> list[FileInfo]:
    """Files as an anonymous report's are shown: "image-3.jpg", numbered after `after`."""
    return [
        replace(file, name=neutral_name(file.kind, after + number))
        for number, file in enumerate(files, start=1)
    ]


def _chunks(data: bytes) -> list[str]:
    """The bytes in chunks, each as base64 text (what the cipher seals)."""
    return [
        base64.b64encode(data[start : start + CHUNK_BYTES]).decode("ascii")
        for start in range(0, len(data), CHUNK_BYTES)
    ]


def _info(file_id: int, name: str, meta: dict[str, Any], added: date | None = None) -> FileInfo:
    kind = KINDS.get(str(meta["type"]), KINDS["text/plain"])
    on = added or date.fromisoformat(str(meta["on"]))
    return FileInfo(int(file_id), str(name), kind, int(meta["size"]), on)
