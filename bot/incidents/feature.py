"""Hate-incident reports: what the feature declares to the app, CLI and privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
    from bot.core.content import Content
    from bot.incidents.patterns import PatternConfig
    from bot.privacy.crypto import FieldCipher


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.incidents.repo import export_reports

    return {
        "incident_reports": await export_reports(
            session, cipher=cipher, pseudonym=subject.pseudonym
        )
    }


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.incidents.evidence_repo import forget_file_names
    from bot.incidents.repo import unassign_from, unlink_reporter

    return {
        # Before the reports are unlinked from the person: the names their files were sent with.
        "incident_file_names_removed": await forget_file_names(
            session, pseudonym=subject.pseudonym
        ),
        "incident_reports_unlinked": await unlink_reporter(session, pseudonym=subject.pseudonym),
        "cases_unassigned": await unassign_from(session, actor=subject.actor),
    }


def _retention(settings: Settings) -> list[RetentionRule]:
    years = settings.retention_incidents_years

    async def purge(session: AsyncSession, now: datetime) -> int:
        from bot.incidents.repo import purge_closed_before

        cutoff = now - timedelta(days=365 * years + years // 4)
        return await purge_closed_before(session, cutoff=cutoff.date())

    # Their files go with them (repo.purge_closed_before); the words stay as operators know them.
    policy = (
        f"hate-incident reports, their messages and history, {years} years after the case "
        "was closed"
    )
    return [RetentionRule("incidents", policy, purge)]


def _columns() -> list[EncryptedColumn]:
    from bot.incidents import models

    reports = models.IncidentReport.__table__.c
    messages = models.IncidentMessage.__table__.c
    intake = models.IncidentIntake.__table__.c
    return [
        EncryptedColumn(
            "incident_reports.details",
            reports.reference,
            reports.details,
            reports.details_key,
            models.details_context,
        ),
        EncryptedColumn(
            "incident_reports.reporter",
            reports.reference,
            reports.reporter,
            reports.reporter_key,
            models.reporter_context,
        ),
        EncryptedColumn(
            "incident_messages.body",
            messages.id,
            messages.body,
            messages.body_key,
            models.message_context,
        ),
        EncryptedColumn(
            "incident_intake.payload",
            intake.id,
            intake.payload,
            intake.payload_key,
            models.intake_context,
        ),
        *_file_columns(),
    ]


def _file_columns() -> list[EncryptedColumn]:
    """Evidence files' sealed names, descriptions and chunks, kept and waiting."""
    from bot.incidents import models

    evidence = models.IncidentEvidence.__table__.c
    chunks = models.IncidentEvidenceChunk.__table__.c
    waiting = models.IncidentIntakeFile.__table__.c
    waiting_chunks = models.IncidentIntakeChunk.__table__.c
    return [
        EncryptedColumn(
            "incident_evidence.name",
            evidence.id,
            evidence.name,
            evidence.name_key,
            models.evidence_name_context,
        ),
        EncryptedColumn(
            "incident_evidence.meta",
            evidence.id,
            evidence.meta,
            evidence.meta_key,
            models.evidence_meta_context,
        ),
        EncryptedColumn(
            "incident_evidence_chunks.data",
            chunks.id,
            chunks.data,
            chunks.data_key,
            models.evidence_chunk_context,
        ),
        EncryptedColumn(
            "incident_intake_files.meta",
            waiting.id,
            waiting.meta,
            waiting.meta_key,
            models.intake_file_context,
        ),
        EncryptedColumn(
            "incident_intake_chunks.data",
            waiting_chunks.id,
            waiting_chunks.data,
            waiting_chunks.data_key,
            models.intake_chunk_context,
        ),
    ]


def _service(kit: Kit) -> object:
    from bot.incidents.evidence_store import EvidenceLimits
    from bot.incidents.service import Incidents

    privacy = kit.privacy
    settings = kit.settings
    return Incidents(
        patterns=_patterns(kit),
        content=kit.content,
        cipher=privacy.cipher,
        audit=privacy.audit,
        pseudonyms=privacy.pseudonyms,
        outbox=kit.outbox,
        token_key=privacy.keys.pseudonym,
        evidence_limits=EvidenceLimits(
            max_bytes=settings.evidence_max_bytes,
            max_files=settings.evidence_max_files,
            keep_days=settings.retention_drafts_days,
        ),
    )


# ---- for other features (HR's aggregates) ---------------------------------------------------


def received_select(*, start: date, end: date) -> Select[str, date, str, str, str | None]:
    """(reference, received_on, motivations, kinds, location) of reports received in the
    period: categories only."""
    from bot.incidents import repo

    return repo.received_select(start=start, end=end)


def category_labels(content: Content) -> dict[str, dict[str, str]]:
    """The report's category codes and their words, by list (motivations, kinds, location)."""
    from bot.incidents.taxonomy import Taxonomy

    categories = Taxonomy(content.data("incidents/words"))
    return {
        name: {code: categories.label(name, code) for code in categories.codes(name)}
        for name in ("motivations", "kinds", "location")
    }


# ---- the pattern check across reports (bot/incidents/pattern_checks.py) -------------------


def _patterns(kit: Kit) -> PatternConfig:
    from bot.incidents.pattern_feature import pattern_config

    return pattern_config(kit.settings, kit.privacy.keys.pseudonym)


def _columns_and_patterns() -> list[EncryptedColumn]:
    from bot.incidents.pattern_feature import pattern_columns

    return [*_columns(), *pattern_columns()]


def _retention_and_patterns(settings: Settings) -> list[RetentionRule]:
    from bot.incidents.pattern_feature import pattern_retention

    return [*_retention(settings), *pattern_retention(settings)]


COMMANDS = Commands(
    "bot.incidents.cli",
    {
        "cases": "incident cases, for case handlers (audited)",
    },
)


INCIDENTS = Feature(
    name="incidents",
    models="bot.incidents.models",
    service=_service,
    conversations="dialogs.incidents.wiring:conversations",
    jobs="scheduler.jobs:incidents_jobs",
    commands=COMMANDS,
    export=_export,
    erase=_erase,
    retention=_retention_and_patterns,
    encrypted_columns=_columns_and_patterns,
    content=(
        ContentFile("incidents/words.yaml", "bot.incidents.content_models:IncidentWords"),
        ContentFile(
            "incidents/passphrase_words.yaml", "bot.incidents.content_models:PassphraseWords"
        ),
        ContentFile("incidents/patterns.yaml", "bot.incidents.pattern_content:PatternWords"),
    ),
)
