"""Private records: what the feature declares to the app, CLI and privacy core.

The conversations that write and read records are second uses of the report's own question
steps and cards, so they live beside them in dialogs/incidents/ (one feature's dialogs may
not import another's; `conversations` names their wiring there). This feature keeps the
records, exports, erases, rotates and describes them, and its job makes the database forget
deleted ones. See docs/records.md.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.registry import ContentFile, EncryptedColumn, Feature, Kit, RetentionRule, Subject

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.privacy.crypto import FieldCipher

SECTION = "private_records"
KEPT_UNTIL_DELETED = (
    "private records: kept until the person deletes them (or is erased); nothing deletes them "
    "by age"
)


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.records.service import export_records

    return {SECTION: await export_records(session, cipher, owner=subject.pseudonym)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.records.repo import delete_all_of

    return {"private_records": await delete_all_of(session, owner=subject.pseudonym)}


def _retention(settings: Settings) -> list[RetentionRule]:
    async def nothing_by_age(session: AsyncSession, now: datetime) -> int:
        # Kept until the person deletes a record: the purge never touches them.
        return 0

    return [RetentionRule("private_records", KEPT_UNTIL_DELETED, nothing_by_age)]


def _columns() -> list[EncryptedColumn]:
    from bot.records.models import PrivateRecord, record_context

    table = PrivateRecord.__table__.c
    return [
        EncryptedColumn(
            "private_records.document", table.id, table.document, table.document_key, record_context
        )
    ]


def _service(kit: Kit) -> object:
    from bot.records.content_models import records_limits
    from bot.records.service import PrivateRecords

    privacy = kit.privacy
    return PrivateRecords(
        cipher=privacy.cipher,
        pseudonyms=privacy.pseudonyms,
        limits=records_limits(kit.content),
    )


RECORDS = Feature(
    name="records",
    models="bot.records.models",
    service=_service,
    conversations="dialogs.incidents.wiring_records:conversations",
    jobs="scheduler.jobs:records_jobs",
    export=_export,
    erase=_erase,
    retention=_retention,
    encrypted_columns=_columns,
    content=(ContentFile("records/words.yaml", "bot.records.content_models:RecordWords"),),
)
