"""Events and staff networks: what the feature declares to the app, CLI and privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.registry import Commands, EncryptedColumn, Feature, RetentionRule, Subject

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.privacy.crypto import FieldCipher

# How long a sign-up's sealed identity is kept after its event (bot/events/service.py).
IDENTITY_DAYS = 30


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.events.service import export_event_data

    return {"events": await export_event_data(session, cipher, pseudonym=subject.pseudonym)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.events.service import erase_event_data

    rows = await erase_event_data(session, pseudonym=subject.pseudonym, person=subject.person)
    return {"event_rows": rows}


def _retention(settings: Settings) -> list[RetentionRule]:
    async def purge(session: AsyncSession, now: datetime) -> int:
        from bot.events.service import purge_event_data

        return await purge_event_data(session, now)

    policy = (
        "reasonable-adjustment needs, the day after the event; who signed up (sealed), "
        f"{IDENTITY_DAYS} days after it (attendance counts are kept by pseudonym)"
    )
    return [RetentionRule("events", policy, purge)]


def _columns() -> list[EncryptedColumn]:
    from bot.events import service
    from bot.events.models import EventSignup, NetworkMember

    signups = EventSignup.__table__.c
    members = NetworkMember.__table__.c
    return [
        EncryptedColumn(
            "event_signups.who",
            signups.id,
            signups.who,
            signups.who_key,
            service.signup_who_context,
        ),
        EncryptedColumn(
            "event_signups.needs",
            signups.id,
            signups.needs,
            signups.needs_key,
            service.signup_needs_context,
        ),
        EncryptedColumn(
            "network_members.who",
            members.id,
            members.who,
            members.who_key,
            service.member_who_context,
        ),
    ]


COMMANDS = Commands(
    "bot.events.cli",
    {
        "events": "staff network events and Big Conversations",
    },
)


EVENTS = Feature(
    name="events",
    models="bot.events.models",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    retention=_retention,
    encrypted_columns=_columns,
)
