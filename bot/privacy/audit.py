"""The audit log: append-only, each entry chained to the one before by a keyed hash.

An entry's hash is HMAC-SHA256(audit key, previous hash + the entry's canonical JSON). Editing
or deleting an entry breaks every later link; someone with database access but not the key
cannot rebuild the chain. Retention may remove the oldest entries, and says so in an entry of
its own, so a missing head is explained rather than hidden.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, utcnow

GENESIS = "0" * 64
PURGE_ACTION = "retention.purge_audit"
_PG_LOCK_ID = 4270_0001


def audit_key(pseudonym_key: bytes) -> bytes:
    """The audit chain's key, derived from (not equal to) the pseudonym key."""
    return hmac.new(pseudonym_key, b"edi-bot audit chain v1", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit entry, as shown by `edi-bot audit show`."""

    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]


def _canonical(entry: AuditEntry) -> bytes:
    at = entry.at.replace(tzinfo=None).isoformat(timespec="microseconds")
    body = [
        entry.id,
        at,
        entry.actor,
        entry.role,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.detail,
    ]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()


def _link(key: bytes, previous: str, entry: AuditEntry) -> str:
    return hmac.new(key, previous.encode() + _canonical(entry), hashlib.sha256).hexdigest()


class AuditLog:
    """Appends to and checks the chain."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    async def append(
        self,
        session: AsyncSession,
        *,
        actor: str,
        action: str,
        role: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Add an entry in the caller's transaction; returns its id. Never put contents in
        `detail`: counts, ids and outcomes only."""
        if session.get_bind().dialect.name == "postgresql":
            # One appender at a time, so two entries never claim the same predecessor.
            await session.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_ID})"))
        last = await session.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        )
        row = last.first()
        previous_id, previous_hash = (row[0], row[1]) if row else (0, GENESIS)
        entry = AuditEntry(
            id=previous_id + 1,
            at=utcnow(),
            actor=actor,
            role=role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
            prev_hash=previous_hash,
            hash="",
        )
        entry.hash = _link(self._key, previous_hash, entry)
        session.add(entry)
        await session.flush()
        return entry.id

    async def verify(self, session: AsyncSession) -> list[str]:
        """Problems found walking the chain; empty when every link holds."""
        problems: list[str] = []
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        previous: AuditEntry | None = None
        purged_up_to = 0
        for entry in rows:
            if previous is None:
                if entry.prev_hash != GENESIS and entry.id != 1:
                    purged_up_to = await self._purged_up_to(session)
                    if purged_up_to < entry.id - 1:
                        problems.append(
                            f"entries before #{entry.id} are missing and no retention purge "
                            "accounts for them"
                        )
                elif entry.id != 1 or entry.prev_hash != GENESIS:
                    problems.append(f"entry #{entry.id} does not start the chain")
            else:
                if entry.id != previous.id + 1:
                    problems.append(f"entries #{previous.id + 1}-#{entry.id - 1} are missing")
                if entry.prev_hash != previous.hash:
                    problems.append(f"entry #{entry.id} does not follow entry #{previous.id}")
            if not hmac.compare_digest(entry.hash, _link(self._key, entry.prev_hash, entry)):
                problems.append(f"entry #{entry.id} was altered")
            previous = entry
        return problems

    async def _purged_up_to(self, session: AsyncSession) -> int:
        details = await session.execute(
            select(AuditEntry.detail).where(AuditEntry.action == PURGE_ACTION)
        )
        return max((int(json.loads(d).get("up_to_id", 0)) for (d,) in details), default=0)

    async def recent(self, session: AsyncSession, *, limit: int = 50) -> list[AuditRecord]:
        """The newest entries, oldest of them first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        rows = list((await session.execute(query)).scalars())
        return [_record(entry) for entry in reversed(rows)]

    async def purge_before(self, session: AsyncSession, cutoff: datetime) -> int:
        """Delete entries older than `cutoff` and record that (with the last id removed)."""
        last_id = (
            await session.execute(select(func.max(AuditEntry.id)).where(AuditEntry.at < cutoff))
        ).scalar()
        if last_id is None:
            return 0
        result = await session.execute(
            delete(AuditEntry)
            .where(AuditEntry.id <= last_id)
            .execution_options(synchronize_session=False)
        )
        removed = int(result.rowcount)  # type: ignore[attr-defined]
        await self.append(
            session,
            actor="system:retention",
            action=PURGE_ACTION,
            object_type="audit_log",
            detail={"removed": removed, "up_to_id": int(last_id)},
        )
        return removed


def _record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        role=entry.role,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        detail=json.loads(entry.detail),
    )


def describe(records: Iterable[AuditRecord]) -> list[str]:
    """Entries as lines for a terminal."""
    return [
        f"#{r.id} {r.at:%Y-%m-%d %H:%M:%S} {r.actor}"
        f"{' (' + r.role + ')' if r.role else ''} {r.action}"
        f"{' ' + (r.object_type or '') + ':' + (r.object_id or '') if r.object_type else ''}"
        f"{' ' + json.dumps(r.detail, sort_keys=True) if r.detail else ''}"
        for r in records
    ]
