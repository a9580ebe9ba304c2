"""Conversation references: where each person's personal chat with the bot can be reached."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord, utcnow

Status = Literal["active", "gone"]


@dataclass(frozen=True, slots=True)
class StoredReference:
    """A stored reference, as the outbox will read it."""

    person: PersonKey
    conversation_id: str
    service_url: str
    reference: dict[str, Any]
    status: Status


async def upsert_reference(
    session: AsyncSession,
    *,
    person: PersonKey,
    conversation_id: str,
    service_url: str,
    reference: dict[str, Any],
) -> None:
    """Store or refresh a person's reference; writes only when something changed."""
    document = json.dumps(reference, sort_keys=True, separators=(",", ":"))
    # To the day only: a precise time of someone's first message could be lined up with an
    # anonymous report's (which is also stored to the day).
    now = _today()
    table = ConversationReferenceRecord
    values = {
        "tenant_id": person.tenant_id,
        "aad_object_id": person.aad_object_id,
        "conversation_id": conversation_id,
        "service_url": service_url,
        "reference": document,
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.tenant_id, table.aad_object_id],
        set_={
            "conversation_id": conversation_id,
            "service_url": service_url,
            "reference": document,
            "status": "active",
            "updated_at": now,
        },
        where=or_(table.reference != document, table.status != "active"),
    )
    await session.execute(statement)


def _today() -> datetime:
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


async def mark_gone(session: AsyncSession, *, person: PersonKey) -> bool:
    """Mark a person's reference unusable (the bot was uninstalled); True if one existed."""
    table = ConversationReferenceRecord
    statement = (
        update(table)
        .where(table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id)
        .values(status="gone", updated_at=_today())
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_reference(session: AsyncSession, *, person: PersonKey) -> StoredReference | None:
    """The stored reference for one person, active or gone."""
    table = ConversationReferenceRecord
    query = select(table).where(
        table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        return None
    return StoredReference(
        person=person,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        reference=json.loads(row.reference),
        status="gone" if row.status == "gone" else "active",
    )


async def active_people(session: AsyncSession) -> list[PersonKey]:
    """Everyone the bot can currently reach proactively (an active personal-chat reference)."""
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(table.tenant_id, table.aad_object_id).where(table.status == "active")
    )
    return [PersonKey(tenant_id, aad_object_id) for tenant_id, aad_object_id in rows]
