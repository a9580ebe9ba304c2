"""The EDI action plans: what the feature declares to the app, CLI and privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.registry import Commands, ContentFile, Feature, Kit, RetentionRule, Subject

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.privacy.crypto import FieldCipher

# How long nudge records and decided lead claims are kept (bot/actions/repo.py).
RECORD_DAYS = 730


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.actions import repo

    return {"action_plans": await repo.export_person(session, person=subject.person)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.actions import repo

    return {"action_plan_rows": await repo.erase_person(session, person=subject.person)}


def _retention(settings: Settings) -> list[RetentionRule]:
    async def purge(session: AsyncSession, now: datetime) -> int:
        from bot.actions import repo

        return await repo.purge_before(session, before=now - timedelta(days=RECORD_DAYS))

    policy = (
        f"action-plan nudge records and decided lead claims, {RECORD_DAYS} days "
        "after (progress updates are the plan's record and are kept)"
    )
    return [RetentionRule("actions", policy, purge)]


def _service(kit: Kit) -> object:
    from bot.actions.service import ActionsService

    return ActionsService(
        content=kit.content,
        settings=kit.settings,
        outbox=kit.outbox,
        audit=kit.privacy.audit,
        sessions=kit.sessions,
    )


COMMANDS = Commands(
    "bot.actions.cli",
    {
        "actions": "the EDI action plans: validate, progress, report",
        "leads": "who leads the action plans' teams and actions",
    },
)


ACTIONS = Feature(
    name="actions",
    models="bot.actions.models",
    service=_service,
    conversations="dialogs.actions.wiring:conversations",
    jobs="scheduler.jobs:actions_jobs",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    retention=_retention,
    content=(
        ContentFile("actions/words.yaml", "bot.actions.content_models:ActionWords"),
        ContentFile("actions/plans/*.yaml", "bot.actions.plans:check_plan_file"),
    ),
)
