"""One person's data across every table: what a subject access request or an erasure needs.

The privacy core's own tables (conversations, roles, audit, proactive messages) are handled
here; each feature's part comes from its `Feature.export` and `Feature.erase`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.core.registry import Feature, Subject
from bot.db.models import AuditEntry, BotStateDocument, ConversationReferenceRecord, RoleGrant
from bot.db.state import state_context
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import Sealed
from bot.privacy.names_repo import erase_name, name_of


async def _conversation_keys(session: AsyncSession, person: PersonKey) -> list[str]:
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(table.conversation_id).where(
            table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
        )
    )
    return [f"msteams/conversations/{conversation_id}" for (conversation_id,) in rows]


def _grants_of(person: PersonKey, upn: str | None) -> ColumnElement[bool]:
    """The person's role grants: by object id, and by UPN when it is given."""
    mine = RoleGrant.aad_object_id == person.aad_object_id.lower()
    return or_(mine, RoleGrant.upn == upn.strip().lower()) if upn and upn.strip() else mine


def subject_of(privacy: PrivacyCore, person: PersonKey) -> Subject:
    """The person with the pseudonym their feature data is kept under."""
    return Subject(person=person, pseudonym=privacy.pseudonyms.of(person))


async def export_person(
    session: AsyncSession,
    privacy: PrivacyCore,
    features: Sequence[Feature],
    *,
    tenant_id: str,
    aad_object_id: str,
    upn: str | None = None,
) -> dict[str, Any]:
    """Everything held about the person, decrypted, as plain data; `upn` adds the roles
    granted to their UPN that they have not used yet (not bound to the object id)."""
    person = PersonKey(tenant_id, aad_object_id)
    subject = subject_of(privacy, person)
    grants = (await session.execute(select(RoleGrant).where(_grants_of(person, upn)))).scalars()
    acted = await session.execute(select(AuditEntry).where(AuditEntry.actor == subject.actor))
    held: dict[str, Any] = {
        "pseudonym": subject.pseudonym,
        "display_name": await name_of(session, privacy.cipher, person),
        "conversation_references": await _references(session, person),
        "unfinished_conversations": await _unfinished(session, privacy, person),
        "roles": [
            {"role": g.role, "granted_at": g.granted_at, "granted_by": g.granted_by} for g in grants
        ],
        "audited_actions": [
            {"at": e.at, "action": e.action, "object_type": e.object_type} for e in acted.scalars()
        ],
        "proactive_messages": await _deliveries(session, person),
    }
    for feature in features:
        if feature.export is not None:
            held.update(await feature.export(session, privacy.cipher, subject))
    return held


async def _references(session: AsyncSession, person: PersonKey) -> list[dict[str, Any]]:
    table = ConversationReferenceRecord
    references = await session.execute(
        select(table).where(
            table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
        )
    )
    return [
        {
            "conversation_id": r.conversation_id,
            "service_url": r.service_url,
            "status": r.status,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in references.scalars()
    ]


async def _unfinished(
    session: AsyncSession, privacy: PrivacyCore, person: PersonKey
) -> list[dict[str, Any]]:
    """The person's saved conversation state (a half-written report, say), decrypted."""
    keys = await _conversation_keys(session, person)
    if not keys:
        return []
    states = []
    rows = await session.execute(select(BotStateDocument).where(BotStateDocument.key.in_(keys)))
    for row in rows.scalars():
        document = row.document
        if row.key_id is not None:
            document = privacy.cipher.open(
                Sealed(row.key_id, document), context=state_context(row.key)
            )
        states.append(
            {
                "conversation": row.key,
                "updated_at": row.updated_at,
                "unfinished_conversation": document,
            }
        )
    return states


async def _deliveries(session: AsyncSession, person: PersonKey) -> list[dict[str, Any]]:
    """Proactive messages sent (or to be sent) to the person: kinds and subjects, no contents."""
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(OutboxMessage.kind, OutboxMessage.subject, OutboxDelivery.status)
        .add_columns(OutboxDelivery.sent_at, OutboxDelivery.updated_at)
        .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id)
        .join(table, table.id == OutboxDelivery.reference_id)
        .where(table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id)
        .order_by(OutboxDelivery.id)
    )
    return [
        {"kind": k, "about": about, "status": status, "sent_at": sent, "updated_at": at}
        for k, about, status, sent, at in rows
    ]


async def erase_person(
    session: AsyncSession,
    privacy: PrivacyCore,
    features: Sequence[Feature],
    *,
    tenant_id: str,
    aad_object_id: str,
    upn: str | None = None,
) -> tuple[dict[str, int], str]:
    """Delete the person's data; returns counts per kind and their pseudonym (for the audit).

    Audit entries of things the person did in a privileged role are kept: the audit log is
    the council's record of who exercised access, and deleting from it would break the chain.
    """
    person = PersonKey(tenant_id, aad_object_id)
    keys = await _conversation_keys(session, person)
    counts: dict[str, int] = {}
    result = await session.execute(
        delete(BotStateDocument).where(BotStateDocument.key.in_(keys or [""]))
    )
    counts["unfinished_conversations"] = int(result.rowcount)  # type: ignore[attr-defined]
    table = ConversationReferenceRecord
    mine = select(table.id).where(
        table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
    )
    result = await session.execute(
        delete(OutboxDelivery).where(OutboxDelivery.reference_id.in_(mine.scalar_subquery()))
    )
    counts["proactive_messages"] = int(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(
        delete(table).where(
            table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
        )
    )
    counts["conversation_references"] = int(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(delete(RoleGrant).where(_grants_of(person, upn)))
    counts["roles"] = int(result.rowcount)  # type: ignore[attr-defined]
    counts["display_name"] = await erase_name(session, person)
    subject = subject_of(privacy, person)
    for feature in features:
        if feature.erase is not None:
            counts.update(await feature.erase(session, subject))
    return counts, subject.pseudonym
