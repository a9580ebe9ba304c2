"""HR aggregates and the workforce roster: what the feature declares to the app, CLI and
privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.registry import Commands, ContentFile, EncryptedColumn, Feature, Kit, Subject

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.privacy.crypto import FieldCipher


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.hr import repo

    return {"workforce_roster": await repo.export_roster(session, pseudonym=subject.pseudonym)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.hr import repo

    return {"roster_rows": await repo.erase_roster(session, pseudonym=subject.pseudonym)}


def _columns() -> list[EncryptedColumn]:
    from bot.hr.models import HrSnapshot, HrSnapshotVersion
    from bot.hr.service import snapshot_context

    table = HrSnapshot.__table__.c
    earlier = HrSnapshotVersion.__table__.c
    return [
        EncryptedColumn(
            "hr_snapshots.counts", table.quarter, table.counts, table.key_id, snapshot_context
        ),
        # Sealed for their quarter, as they were when current ("2026-Q3/v1" -> "2026-Q3").
        EncryptedColumn(
            "hr_snapshot_versions.counts",
            earlier.id,
            earlier.counts,
            earlier.key_id,
            lambda key: snapshot_context(str(key).split("/")[0]),
        ),
    ]


def _service(kit: Kit) -> object:
    from bot.hr.factory import build_hr_reports

    return build_hr_reports(kit.settings, kit.content, kit.privacy, kit.outbox)


COMMANDS = Commands(
    "bot.hr.cli",
    {
        "roster": "the workforce roster (HR's denominators)",
        "report": "anonymised reports for HR",
    },
)


HR = Feature(
    name="hr",
    models="bot.hr.models",
    service=_service,
    conversations="dialogs.hr.wiring:conversations",
    jobs="scheduler.jobs:hr_jobs",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    encrypted_columns=_columns,
    content=(ContentFile("hr/report.yaml", "bot.hr.report_file:HrReportFile"),),
)
