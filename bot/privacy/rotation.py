"""Key rotation: re-encrypt every encrypted column under the active key, batch by batch.

Each batch commits on its own, so an interrupted rotation keeps what it did and a re-run
carries on. Once `key_usage` shows no value under an old key id, that key can be removed
from EDI_ENCRYPTION_KEYS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.registry import EncryptedColumn, Feature, columns_of
from bot.db.models import BotStateDocument, PersonName
from bot.db.session import unit_of_work
from bot.db.state import state_context
from bot.outbox.models import OutboxMessage
from bot.outbox.queue import payload_context
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.names_repo import name_context

__all__ = ["EncryptedColumn", "encrypted_columns", "key_usage", "rotate"]


def encrypted_columns(features: Sequence[Feature]) -> list[EncryptedColumn]:
    """Every encrypted column in the schema: the core's, then each feature's."""
    state = BotStateDocument.__table__.c
    outbox = OutboxMessage.__table__.c
    names = PersonName.__table__.c
    return [
        EncryptedColumn(
            "bot_state.document", state.key, state.document, state.key_id, state_context
        ),
        EncryptedColumn(
            "outbox_messages.payload", outbox.id, outbox.payload, outbox.key_id, payload_context
        ),
        EncryptedColumn("people_names.name", names.person, names.name, names.key_id, name_context),
        *columns_of(features),
    ]


@dataclass
class RotationResult:
    """What a rotation did to one column."""

    column: str
    reencrypted: int = 0
    # Values that would not open with any configured key, or that a turn rewrote meanwhile
    # (already under the active key then). A re-run shows which remain in key_usage().
    skipped: int = 0


async def key_usage(
    session: AsyncSession, features: Sequence[Feature]
) -> dict[str, dict[str, int]]:
    """For each encrypted column: how many values each key id holds ("none" = not yet sealed)."""
    usage: dict[str, dict[str, int]] = {}
    for column in encrypted_columns(features):
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
    features: Sequence[Feature],
    *,
    batch_size: int = 500,
    progress: Callable[[str], None] = lambda _: None,
) -> list[RotationResult]:
    """Re-encrypt every value not under the active key; report progress per batch."""
    results = []
    for column in encrypted_columns(features):
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
