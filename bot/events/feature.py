"""Events and staff networks: what the feature declares to the app, CLI and privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.registry import (
    Commands,
    ContentFile,
    EncryptedColumn,
    Feature,
    Kit,
    RetentionRule,
    Subject,
)

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy import Select
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
    from bot.events import records
    from bot.events.models import EventSignup, NetworkMember

    signups = EventSignup.__table__.c
    members = NetworkMember.__table__.c
    return [
        EncryptedColumn(
            "event_signups.who",
            signups.id,
            signups.who,
            signups.who_key,
            records.signup_who_context,
        ),
        EncryptedColumn(
            "event_signups.needs",
            signups.id,
            signups.needs,
            signups.needs_key,
            records.signup_needs_context,
        ),
        EncryptedColumn(
            "network_members.who",
            members.id,
            members.who,
            members.who_key,
            records.member_who_context,
        ),
    ]


def _service(kit: Kit) -> object:
    from bot.events.service import build_event_service

    return build_event_service(kit.settings, kit.content, kit.privacy, kit.outbox)


# ---- for other features (HR's aggregates) ---------------------------------------------------


def membership_select() -> Select[str, str]:
    """(pseudonym, network) of every current staff network membership."""
    from bot.events import repo

    return repo.membership_select()


def attendance_select(*, now: datetime | None = None) -> Select[Any]:
    """(pseudonym, kind, network, event_date, attended) of every place held at an event
    that has started by `now`."""
    from bot.events import repo

    return repo.attendance_select(now=now)


def events_held_select(
    *, start: date, end: date, now: datetime | None = None
) -> Select[str, str | None]:
    """(kind, network) of every event held in the period."""
    from bot.events import repo

    return repo.events_held_select(start=start, end=end, now=now)


COMMANDS = Commands(
    "bot.events.cli",
    {
        "events": "staff network events and Big Conversations",
    },
)


EVENTS = Feature(
    name="events",
    models="bot.events.models",
    service=_service,
    conversations="dialogs.events.wiring:conversations",
    jobs="scheduler.jobs:events_jobs",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    retention=_retention,
    encrypted_columns=_columns,
    content=(
        ContentFile("events/words.yaml", "bot.events.content_models:EventWords"),
        ContentFile("events/networks.yaml", "bot.events.event_files:NetworksFile"),
        ContentFile("events/calendar/*.yaml", "bot.events.event_files:EventFileModel"),
    ),
)
