"""The monthly bulletin: what the feature declares to the app, CLI and privacy core.

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
    from collections.abc import Sequence

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.privacy.crypto import FieldCipher


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.bulletins.service import export_bulletin_data

    return {"bulletin": await export_bulletin_data(session, cipher, pseudonym=subject.pseudonym)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.bulletins.service import erase_bulletin_data

    return {"bulletin_rows": await erase_bulletin_data(session, pseudonym=subject.pseudonym)}


def _retention(settings: Settings) -> list[RetentionRule]:
    months_kept = settings.retention_bulletin_months

    async def purge(session: AsyncSession, now: datetime) -> int:
        from bot.bulletins.repo import purge_before

        months = now.year * 12 + now.month - 1 - months_kept
        return await purge_before(session, month=f"{months // 12:04d}-{months % 12 + 1:02d}")

    policy = (
        f"bulletin reach, reactions and comments, {months_kept} months after the bulletin's month"
    )
    return [RetentionRule("bulletin", policy, purge)]


def _columns() -> list[EncryptedColumn]:
    from bot.bulletins.models import BulletinFeedback
    from bot.bulletins.service import comment_context

    table = BulletinFeedback.__table__.c
    return [
        EncryptedColumn(
            "bulletin_feedback.comment",
            table.id,
            table.comment,
            table.comment_key_id,
            comment_context,
        )
    ]


def _service(kit: Kit) -> object:
    from bot.bulletins.service import BulletinService

    return BulletinService(
        content=kit.content, outbox=kit.outbox, privacy=kit.privacy, sessions=kit.sessions
    )


# ---- for other features (HR's aggregates) ---------------------------------------------------


def reach_select(months: Sequence[str]) -> Select[str, str]:
    """(month, pseudonym) of each person a bulletin of these months reached."""
    from bot.bulletins import repo

    return repo.reach_select(months=months)


def feedback_select(months: Sequence[str]) -> Select[str, str, str]:
    """(month, rating, pseudonym) of each reaction to a bulletin of these months."""
    from bot.bulletins import repo

    return repo.feedback_select(months=months)


COMMANDS = Commands(
    "bot.bulletins.cli",
    {
        "bulletin": "the monthly EDI bulletin",
    },
)


BULLETINS = Feature(
    name="bulletins",
    models="bot.bulletins.models",
    service=_service,
    conversations="dialogs.bulletins.wiring:conversations",
    jobs="scheduler.jobs:bulletins_jobs",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    retention=_retention,
    encrypted_columns=_columns,
    content=(
        ContentFile("bulletins/words.yaml", "bot.bulletins.content_models:BulletinWords"),
        ContentFile("bulletins/*.md", "bot.bulletins.authoring:check_bulletin_file"),
    ),
)
