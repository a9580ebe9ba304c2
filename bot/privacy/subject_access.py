"""One person's data across every table: what a subject access request or an erasure needs.

Each feature that stores something about a person adds it to both functions here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import repo as repo_actions
from bot.bulletins.service import erase_bulletin_data, export_bulletin_data
from bot.core.people import PersonKey
from bot.db.models import AuditEntry, BotStateDocument, ConversationReferenceRecord, RoleGrant
from bot.db.state import state_context
from bot.declarations import export_declaration, withdraw_declaration
from bot.events.service import erase_event_data, export_event_data
from bot.hr import repo as repo_hr
from bot.incidents.models import IncidentReport
from bot.incidents.service import export_reports, unlink_reporter
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import Sealed


async def _conversation_keys(session: AsyncSession, person: PersonKey) -> list[str]:
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(table.conversation_id).where(
            table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
        )
    )
    return [f"msteams/conversations/{conversation_id}" for (conversation_id,) in rows]


async def export_person(
    session: AsyncSession, privacy: PrivacyCore, *, tenant_id: str, aad_object_id: str
) -> dict[str, Any]:
    """Everything held about the person, decrypted, as plain data."""
    person = PersonKey(tenant_id, aad_object_id)
    table = ConversationReferenceRecord
    references = (
        await session.execute(
            select(table).where(
                table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id
            )
        )
    ).scalars()
    states = []
    keys = await _conversation_keys(session, person)
    if keys:
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
    grants = (
        await session.execute(
            select(RoleGrant).where(RoleGrant.aad_object_id == person.aad_object_id.lower())
        )
    ).scalars()
    actor = f"teams:{person.tenant_id}/{person.aad_object_id}"
    acted = await session.execute(select(AuditEntry).where(AuditEntry.actor == actor))
    deliveries = await session.execute(
        select(OutboxMessage.kind, OutboxMessage.subject, OutboxDelivery.status)
        .add_columns(OutboxDelivery.sent_at, OutboxDelivery.updated_at)
        .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id)
        .join(table, table.id == OutboxDelivery.reference_id)
        .where(table.tenant_id == person.tenant_id, table.aad_object_id == person.aad_object_id)
        .order_by(OutboxDelivery.id)
    )
    return {
        "pseudonym": privacy.pseudonyms.of(person),
        "conversation_references": [
            {
                "conversation_id": r.conversation_id,
                "service_url": r.service_url,
                "status": r.status,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in references
        ],
        "unfinished_conversations": states,
        "roles": [
            {"role": g.role, "granted_at": g.granted_at, "granted_by": g.granted_by} for g in grants
        ],
        "incident_reports": await export_reports(
            session, privacy.cipher, privacy.pseudonyms.of(person)
        ),
        "equality_declaration": await export_declaration(
            session, privacy.cipher, pseudonym=privacy.pseudonyms.of(person)
        ),
        "audited_actions": [
            {"at": e.at, "action": e.action, "object_type": e.object_type} for e in acted.scalars()
        ],
        "proactive_messages": [
            {"kind": k, "about": subject, "status": status, "sent_at": sent, "updated_at": at}
            for k, subject, status, sent, at in deliveries
        ],
        "bulletin": await export_bulletin_data(
            session, privacy.cipher, pseudonym=privacy.pseudonyms.of(person)
        ),
        "events": await export_event_data(
            session, privacy.cipher, pseudonym=privacy.pseudonyms.of(person)
        ),
        "action_plans": await repo_actions.export_person(session, person=person),
        "workforce_roster": await repo_hr.export_roster(
            session, pseudonym=privacy.pseudonyms.of(person)
        ),
    }


async def erase_person(
    session: AsyncSession, privacy: PrivacyCore, *, tenant_id: str, aad_object_id: str
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
    result = await session.execute(
        delete(RoleGrant).where(RoleGrant.aad_object_id == person.aad_object_id.lower())
    )
    counts["roles"] = int(result.rowcount)  # type: ignore[attr-defined]
    counts["incident_reports_unlinked"] = await unlink_reporter(
        session, privacy.pseudonyms.of(person)
    )
    result = await session.execute(
        update(IncidentReport)
        .where(IncidentReport.assigned_to == f"teams:{person.tenant_id}/{person.aad_object_id}")
        .values(assigned_to=None)
    )
    counts["cases_unassigned"] = int(result.rowcount)  # type: ignore[attr-defined]
    declaration = await withdraw_declaration(session, pseudonym=privacy.pseudonyms.of(person))
    counts["equality_declaration_rows"] = sum(declaration.values())
    counts["bulletin_rows"] = await erase_bulletin_data(
        session, pseudonym=privacy.pseudonyms.of(person)
    )
    counts["event_rows"] = await erase_event_data(
        session, pseudonym=privacy.pseudonyms.of(person), person=person
    )
    counts["action_plan_rows"] = await repo_actions.erase_person(session, person=person)
    counts["roster_rows"] = await repo_hr.erase_roster(
        session, pseudonym=privacy.pseudonyms.of(person)
    )
    return counts, privacy.pseudonyms.of(person)
