"""A job's rehearsal: one run "as of" a moment, in a transaction that is then rolled back.

The job runs exactly as the schedule would run it (the same code, the same database, read as
it stands), on sessions joined to one outer transaction: each of the job's own commits only
releases a savepoint, and at the end the outer transaction is rolled back, so nothing it
wrote is kept: no outbox message, no nudge record, no frozen quarter, no audit entry, no
released intake. Before the rollback the messages it queued are read back, to say what
would have been sent, to whom (by role and count), and, for the kinds whose words are not
private (nudges, bulletins, reminders), what they say.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channel.card_text import CardTextRenderer
from bot.outbox.queue import payload_context
from bot.outbox.repo import Pending, last_message_id, messages_after
from bot.privacy.crypto import Sealed
from bot.privacy.names_repo import names_of
from bot.privacy.roles import list_grants
from bot.runtime import Runtime, build_runtime
from scheduler.jobs import Job, Summary

if TYPE_CHECKING:
    from bot.config import Settings

# Kinds whose words are not shown in a rehearsal: case messages (about someone's report) and
# HR's figures (for HR only). Their count and recipients' roles still are.
PRIVATE_KINDS = ("incident.", "hr.")
NAMES_SHOWN = 5  # recipients named in a rehearsal's account of one message


@dataclass(frozen=True)
class Rehearsed:
    """One message the run would have queued."""

    kind: str
    reachable: int  # people it would be sent to now
    unreachable: int  # people named who cannot be reached (never used the bot)
    roles: dict[str, int]  # of the reachable: how many hold each privileged role
    words: list[str] | None  # the message as text, or None when not shown
    names: list[str]  # the display names of the first few reachable, where known


@dataclass(frozen=True)
class Rehearsal:
    """What one rehearsed run did: its counts and the messages it would have sent."""

    job: Job
    now: datetime
    summary: Summary
    messages: list[Rehearsed]


async def rehearse(job: Job, settings: Settings, engine: AsyncEngine, now: datetime) -> Rehearsal:
    """Run `job` as of `now` and roll everything back; what it would have sent."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        try:
            sessions = async_sessionmaker(
                bind=connection,
                class_=AsyncSession,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
            )
            runtime = build_runtime(settings, engine, sessions=sessions)
            async with sessions() as session:
                before = await last_message_id(session)
            summary = await job.run(runtime, now, True)
            async with sessions() as session:
                queued = await messages_after(session, after_id=before)
                grants = await list_grants(session)
                ids = {person for pending in queued for person in pending.recipients}
                names = await names_of(session, runtime.privacy.cipher, ids)
        finally:
            await outer.rollback()
    roles: dict[str, set[str]] = {}
    for grant in grants:
        if grant.aad_object_id:
            roles.setdefault(grant.aad_object_id.lower(), set()).add(grant.role.value)
    messages = [_rehearsed(runtime, pending, roles, names) for pending in queued]
    return Rehearsal(job, now, summary, messages)


def _rehearsed(
    runtime: Runtime, pending: Pending, roles: dict[str, set[str]], names: dict[str, str]
) -> Rehearsed:
    held: Counter[str] = Counter()
    for person in pending.recipients:
        held.update(roles.get(person.lower(), set()))
    words = None
    if not pending.kind.startswith(PRIVATE_KINDS):
        sealed = Sealed(pending.key_id, pending.payload)
        opened = runtime.privacy.cipher.open(sealed, context=payload_context(pending.message_id))
        words = _as_text(json.loads(opened))
    known = [names[p.lower()] for p in pending.recipients if p.lower() in names][:NAMES_SHOWN]
    return Rehearsed(
        pending.kind,
        len(pending.recipients),
        pending.unreachable,
        dict(sorted(held.items())),
        words,
        known,
    )


def _as_text(message: dict[str, Any]) -> list[str]:
    """A queued message (a card or a text) as the terminal chat shows it."""
    if "text" in message:
        return [str(message["text"])]
    return list(CardTextRenderer().render_card(message.get("card") or {}).lines)
