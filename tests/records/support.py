"""What the private-record tests share: keeping one in the chat, and reading the table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core.people import PersonKey
from bot.db.session import unit_of_work
from bot.records.models import PrivateRecord
from bot.records.repo import secure_delete
from tests.chat import Chat
from tests.incidents.test_incidents import runtime_of
from tests.service import Service

STORY = "My manager mocked my accent again in the Tuesday team meeting and everyone laughed."


async def keep_record(chat: Chat, story: str = STORY) -> str:
    """Keep a private record in the chat, with a few details; what the person then sees."""
    seen = await chat.say("keep a record")
    assert "A private record is for you alone" in seen
    assert "In your own words, what happened?" in seen
    seen = await chat.press("Next", narrative=story)
    assert "A few more details" in seen
    seen = await chat.press(
        "Next",
        motivations="race",
        kinds="verbal",
        perpetrator="manager",
        frequency="ongoing",
        occurred_on=(date.today() - timedelta(days=1)).isoformat(),
    )
    assert "Check your record" in seen and story in seen
    return await chat.press("Keep my record")


async def stored_records(service: Service) -> list[PrivateRecord]:
    """Every private record, as stored."""
    async with runtime_of(service).sessions() as session:
        return list((await session.execute(select(PrivateRecord))).scalars())


def pseudonym_of(service: Service, chat: Chat) -> str:
    """The keyed pseudonym the person's records are kept under."""
    person = PersonKey(chat.user.tenant_id, chat.user.aad_object_id)
    return runtime_of(service).privacy.pseudonyms.of(person)


async def written_down_at(service: Service, record_id: int, moment: datetime) -> None:
    """As if the record had been written down at `moment` (weeks ago, say)."""
    async with unit_of_work(runtime_of(service).sessions) as session:
        await secure_delete(session)  # as every change the bot makes to a record
        await session.execute(
            update(PrivateRecord)
            .where(PrivateRecord.id == record_id)
            .values(created_at=moment, updated_at=moment)
        )


def columns(row: PrivateRecord) -> dict[str, Any]:
    """A stored row's columns, as a database administrator reads them."""
    return {prop.key: getattr(row, prop.key) for prop in PrivateRecord.__mapper__.column_attrs}
