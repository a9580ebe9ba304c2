"""People's display names (bot/db/models.py `PersonName`), sealed: remembered when a person
uses the bot, read when operators pick or list people, exported and erased with the person.

A name is sealed for its row ("people_names:<tenant>/<object id>"), so a sealed value moved to
another person's row does not open. Where no name is known, callers show the id: `label`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import PersonName, utcnow
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed

MAX_NAME = 200  # characters kept of a display name


def person_id(tenant_id: str, aad_object_id: str) -> str:
    """The row key of a person's name."""
    return f"{tenant_id}/{aad_object_id}".lower()


def name_context(person: str) -> str:
    """What a name is sealed for: its own row."""
    return f"people_names:{person}"


async def remember_name(
    session: AsyncSession, cipher: FieldCipher, person: PersonKey, name: str | None
) -> None:
    """Keep `person`'s display name (sealed), replacing an older one; nothing for none."""
    shown = " ".join((name or "").split())[:MAX_NAME]
    if not shown:
        return
    key = person_id(person.tenant_id, person.aad_object_id)
    sealed = cipher.seal(shown, context=name_context(key))
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(PersonName).values(
        person=key,
        tenant_id=person.tenant_id,
        aad_object_id=person.aad_object_id.lower(),
        name=sealed.token,
        key_id=sealed.key_id,
        updated_at=today,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PersonName.person],
            set_={"name": sealed.token, "key_id": sealed.key_id, "updated_at": today},
        )
    )


async def names_of(
    session: AsyncSession, cipher: FieldCipher, aad_object_ids: Iterable[str]
) -> dict[str, str]:
    """The known display names of these people, by object id (lower case)."""
    wanted = sorted({aad.lower() for aad in aad_object_ids if aad})
    if not wanted:
        return {}
    rows = await session.execute(
        select(PersonName.person, PersonName.aad_object_id, PersonName.name, PersonName.key_id)
        .where(PersonName.aad_object_id.in_(wanted))
        .order_by(PersonName.updated_at)
    )
    found: dict[str, str] = {}
    for person, aad, token, key_id in rows:
        try:
            found[str(aad)] = cipher.open(Sealed(key_id, token), context=name_context(person))
        except DecryptionError:
            continue  # a key no longer configured: shown by id
    return found


def label(names: dict[str, str], aad_object_id: str | None, upn: str | None = None) -> str:
    """How operators see a person: "Sam Patel (3f2a…)"; the UPN or the id when no name is
    known yet."""
    if aad_object_id and aad_object_id.lower() in names:
        return f"{names[aad_object_id.lower()]} ({aad_object_id})"
    return upn or aad_object_id or "someone"


async def name_of(session: AsyncSession, cipher: FieldCipher, person: PersonKey) -> str | None:
    """One person's display name, if known (their own copy of their data)."""
    return (await names_of(session, cipher, [person.aad_object_id])).get(
        person.aad_object_id.lower()
    )


async def erase_name(session: AsyncSession, person: PersonKey) -> int:
    """Delete the person's name; how many rows went."""
    result = await session.execute(
        delete(PersonName).where(
            PersonName.person == person_id(person.tenant_id, person.aad_object_id)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
