"""Key rotation: re-encrypt every encrypted column under the active key, batch by batch.

Each batch commits on its own, so an interrupted rotation keeps what it did and a re-run
carries on. Once `key_usage` shows no value under an old key id, that key can be removed
from EDI_ENCRYPTION_KEYS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bulletins.models import BulletinFeedback
from bot.bulletins.service import comment_context
from bot.db.models import BotStateDocument
from bot.db.session import unit_of_work
from bot.db.state import state_context
from bot.declarations.models import DeclarationDescription
from bot.declarations.repo import description_context
from bot.events.models import EventSignup, NetworkMember
from bot.events.service import member_who_context, signup_needs_context, signup_who_context
from bot.hr.models import HrSnapshot
from bot.incidents.models import IncidentIntake, IncidentMessage, IncidentReport
from bot.outbox.models import OutboxMessage
from bot.outbox.service import payload_context
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed


@dataclass(frozen=True)
class EncryptedColumn:
    """A column of sealed values, the column naming their key, and how each is bound."""

    name: str
    primary_key: ColumnElement[Any]
    value: Any  # a table Column: .table and .name are used
    key_id: Any
    context: Callable[[Any], str]


# Every encrypted column in the schema. A feature that adds one adds it here too.
ENCRYPTED_COLUMNS: list[EncryptedColumn] = [
    EncryptedColumn(
        name="bot_state.document",
        primary_key=BotStateDocument.__table__.c.key,
        value=BotStateDocument.__table__.c.document,
        key_id=BotStateDocument.__table__.c.key_id,
        context=state_context,
    ),
    EncryptedColumn(
        name="outbox_messages.payload",
        primary_key=OutboxMessage.__table__.c.id,
        value=OutboxMessage.__table__.c.payload,
        key_id=OutboxMessage.__table__.c.key_id,
        context=payload_context,
    ),
    EncryptedColumn(
        name="bulletin_feedback.comment",
        primary_key=BulletinFeedback.__table__.c.id,
        value=BulletinFeedback.__table__.c.comment,
        key_id=BulletinFeedback.__table__.c.comment_key_id,
        context=comment_context,
    ),
    EncryptedColumn(
        name="incident_reports.details",
        primary_key=IncidentReport.__table__.c.reference,
        value=IncidentReport.__table__.c.details,
        key_id=IncidentReport.__table__.c.details_key,
        context=lambda reference: f"incident_reports.details:{reference}",
    ),
    EncryptedColumn(
        name="incident_reports.reporter",
        primary_key=IncidentReport.__table__.c.reference,
        value=IncidentReport.__table__.c.reporter,
        key_id=IncidentReport.__table__.c.reporter_key,
        context=lambda reference: f"incident_reports.reporter:{reference}",
    ),
    EncryptedColumn(
        name="incident_messages.body",
        primary_key=IncidentMessage.__table__.c.id,
        value=IncidentMessage.__table__.c.body,
        key_id=IncidentMessage.__table__.c.body_key,
        context=lambda message_id: f"incident_messages.body:{message_id}",
    ),
    EncryptedColumn(
        name="incident_intake.payload",
        primary_key=IncidentIntake.__table__.c.id,
        value=IncidentIntake.__table__.c.payload,
        key_id=IncidentIntake.__table__.c.payload_key,
        context=lambda row_id: f"incident_intake:{row_id}",
    ),
    EncryptedColumn(
        name="declaration_descriptions.text",
        primary_key=DeclarationDescription.__table__.c.id,
        value=DeclarationDescription.__table__.c.text,
        key_id=DeclarationDescription.__table__.c.key_id,
        context=description_context,
    ),
    EncryptedColumn(
        name="hr_snapshots.counts",
        primary_key=HrSnapshot.__table__.c.quarter,
        value=HrSnapshot.__table__.c.counts,
        key_id=HrSnapshot.__table__.c.key_id,
        context=lambda quarter: f"hr_snapshots:{quarter}",  # bot/stats/service.py
    ),
    EncryptedColumn(
        name="event_signups.who",
        primary_key=EventSignup.__table__.c.id,
        value=EventSignup.__table__.c.who,
        key_id=EventSignup.__table__.c.who_key,
        context=signup_who_context,
    ),
    EncryptedColumn(
        name="event_signups.needs",
        primary_key=EventSignup.__table__.c.id,
        value=EventSignup.__table__.c.needs,
        key_id=EventSignup.__table__.c.needs_key,
        context=signup_needs_context,
    ),
    EncryptedColumn(
        name="network_members.who",
        primary_key=NetworkMember.__table__.c.id,
        value=NetworkMember.__table__.c.who,
        key_id=NetworkMember.__table__.c.who_key,
        context=member_who_context,
    ),
]


@dataclass
class RotationResult:
    """What a rotation did to one column."""

    column: str
    reencrypted: int = 0
    # Values that would not open with any configured key, or that a turn rewrote meanwhile
    # (already under the active key then). A re-run shows which remain in key_usage().
    skipped: int = 0


async def key_usage(session: AsyncSession) -> dict[str, dict[str, int]]:
    """For each encrypted column: how many values each key id holds ("none" = not yet sealed)."""
    usage: dict[str, dict[str, int]] = {}
    for column in ENCRYPTED_COLUMNS:
        rows = await session.execute(
            select(column.key_id, func.count())
            .where(column.value.is_not(None))
            .group_by(column.key_id)
        )
        usage[column.name] = {str(kid or "none"): int(count) for kid, count in rows}
    return usage


async def rotate(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    *,
    batch_size: int = 500,
    progress: Callable[[str], None] = lambda _: None,
) -> list[RotationResult]:
    """Re-encrypt every value not under the active key; report progress per batch."""
    results = []
    for column in ENCRYPTED_COLUMNS:
        result = RotationResult(column.name)
        # A NULL value (an optional encrypted column left empty) has nothing to re-encrypt.
        stale = and_(
            column.value.is_not(None),
            or_(column.key_id.is_(None), column.key_id != cipher.active_id),
        )
        async with sessions() as session:
            total = (await session.execute(select(func.count()).where(stale))).scalar() or 0
        cursor: Any = None
        while True:
            async with unit_of_work(sessions) as session:
                query = select(column.primary_key, column.value, column.key_id).where(stale)
                if cursor is not None:
                    query = query.where(column.primary_key > cursor)
                batch = (
                    await session.execute(query.order_by(column.primary_key).limit(batch_size))
                ).all()
                done = 0
                for pk, value, key_id in batch:
                    done += await _reseal(session, column, cipher, pk, value, key_id)
                result.reencrypted += done
                result.skipped += len(batch) - done
            if not batch:
                break
            cursor = batch[-1][0]
            progress(f"{column.name}: {result.reencrypted:,} of {total:,} re-encrypted")
        results.append(result)
    return results


async def _reseal(
    session: AsyncSession,
    column: EncryptedColumn,
    cipher: FieldCipher,
    pk: Any,
    value: str,
    key_id: str | None,
) -> int:
    context = column.context(pk)
    try:
        plain = value if key_id is None else cipher.open(Sealed(key_id, value), context=context)
    except DecryptionError:
        return 0
    sealed = cipher.seal(plain, context=context)
    guard = column.key_id.is_(None) if key_id is None else column.key_id == key_id
    changed = await session.execute(
        update(column.value.table)
        .where(column.primary_key == pk, guard)
        .values({column.value.name: sealed.token, column.key_id.name: sealed.key_id})
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]
