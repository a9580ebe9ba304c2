"""What admins ask of the outbox: counts by kind and status, requeueing, retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import utcnow
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.outbox.queue import STATUSES

_MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
_DELIVERIES: Table = OutboxDelivery.__table__  # type: ignore[assignment]


@dataclass
class DeliveryCounts:
    """Deliveries by status, and failures by reason class."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    gone: int = 0
    unreachable: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every delivery, whatever its status."""
        return self.queued + self.sent + self.failed + self.gone


async def delivery_counts(
    session: AsyncSession,
    *,
    kind: str | None = None,
    subject: str | None = None,
    message_id: int | None = None,
) -> DeliveryCounts:
    """Counts for the messages matching the filters (all messages when none is given)."""
    where = []
    if kind is not None:
        where.append(_MESSAGES.c.kind == kind)
    if subject is not None:
        where.append(_MESSAGES.c.subject == subject)
    if message_id is not None:
        where.append(_MESSAGES.c.id == message_id)
    joined = _DELIVERIES.join(_MESSAGES, _MESSAGES.c.id == _DELIVERIES.c.message_id)
    counts = DeliveryCounts()
    rows = await session.execute(
        select(_DELIVERIES.c.status, _DELIVERIES.c.last_error, func.count())
        .select_from(joined)
        .where(*where)
        .group_by(_DELIVERIES.c.status, _DELIVERIES.c.last_error)
    )
    for status, reason, count in rows:
        if status in STATUSES:
            setattr(counts, status, getattr(counts, status) + int(count))
        if status == "failed":
            counts.failures[reason or "unknown"] = counts.failures.get(
                reason or "unknown", 0
            ) + int(count)
    unreachable = (
        await session.execute(
            select(func.coalesce(func.sum(_MESSAGES.c.unreachable), 0)).where(*where)
        )
    ).scalar_one()
    counts.unreachable = int(unreachable)
    return counts


@dataclass(frozen=True)
class KindCounts:
    """One kind of message: how many messages, and their deliveries by status."""

    kind: str
    messages: int
    counts: DeliveryCounts
    oldest_queued: datetime | None


async def status_by_kind(session: AsyncSession) -> list[KindCounts]:
    """Counts for every kind of message in the outbox, for `edi-bot outbox status`."""
    kinds = (
        await session.execute(
            select(_MESSAGES.c.kind, func.count())
            .group_by(_MESSAGES.c.kind)
            .order_by(_MESSAGES.c.kind)
        )
    ).all()
    found = []
    for kind, messages in kinds:
        oldest = (
            await session.execute(
                select(func.min(_MESSAGES.c.created_at))
                .select_from(
                    _DELIVERIES.join(_MESSAGES, _MESSAGES.c.id == _DELIVERIES.c.message_id)
                )
                .where(_MESSAGES.c.kind == kind, _DELIVERIES.c.status == "queued")
            )
        ).scalar_one_or_none()
        counts = await delivery_counts(session, kind=kind)
        found.append(KindCounts(str(kind), int(messages), counts, oldest))
    return found


async def requeue_failed(session: AsyncSession, *, message_id: int | None = None) -> int:
    """Put failed deliveries back in the queue with fresh attempts; how many."""
    query = (
        update(_DELIVERIES)
        .where(_DELIVERIES.c.status == "failed")
        .values(
            status="queued",
            attempts=0,
            next_attempt_at=utcnow(),
            claim_token=None,
            lease_until=None,
            updated_at=utcnow(),
        )
    )
    if message_id is not None:
        query = query.where(_DELIVERIES.c.message_id == message_id)
    result = await session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_finished_before(session: AsyncSession, before: datetime) -> int:
    """Delete messages created before `before` with nothing left to send (retention)."""
    pending = select(_DELIVERIES.c.id).where(
        _DELIVERIES.c.message_id == _MESSAGES.c.id, _DELIVERIES.c.status == "queued"
    )
    old = select(_MESSAGES.c.id).where(_MESSAGES.c.created_at < before, ~pending.exists())
    ids = [int(i) for (i,) in await session.execute(old)]
    if not ids:
        return 0
    await session.execute(delete(_DELIVERIES).where(_DELIVERIES.c.message_id.in_(ids)))
    await session.execute(delete(_MESSAGES).where(_MESSAGES.c.id.in_(ids)))
    return len(ids)


@dataclass(frozen=True)
class Pending:
    """A message in the outbox and the people it is queued for (a rehearsal's account)."""

    message_id: int
    kind: str
    payload: str
    key_id: str
    unreachable: int
    recipients: tuple[str, ...]  # Entra object ids of the conversation references


async def last_message_id(session: AsyncSession) -> int:
    """The newest outbox message's id (0 when empty)."""
    return int((await session.execute(select(func.max(OutboxMessage.id)))).scalar() or 0)


async def messages_after(session: AsyncSession, *, after_id: int) -> list[Pending]:
    """Every message queued after `after_id`, oldest first, with its recipients."""
    from bot.db.models import ConversationReferenceRecord as Reference

    messages = (
        await session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.payload,
                OutboxMessage.key_id,
                OutboxMessage.unreachable,
            )
            .where(OutboxMessage.id > after_id)
            .order_by(OutboxMessage.id)
        )
    ).all()
    people: dict[int, list[str]] = {}
    rows = await session.execute(
        select(OutboxDelivery.message_id, Reference.aad_object_id)
        .join(Reference, Reference.id == OutboxDelivery.reference_id)
        .where(OutboxDelivery.message_id > after_id)
        .order_by(OutboxDelivery.id)
    )
    for message_id, aad in rows:
        people.setdefault(int(message_id), []).append(str(aad))
    return [
        Pending(
            int(m[0]),
            str(m[1]),
            str(m[2]),
            str(m[3]),
            int(m[4] or 0),
            tuple(people.get(int(m[0]), [])),
        )
        for m in messages
    ]
