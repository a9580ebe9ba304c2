"""What the pattern check adds to the incidents feature's record (bot/incidents/feature.py):
its setting and key, its sealed column (key rotation), and its retention rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.registry import EncryptedColumn, RetentionRule
from bot.incidents import pattern_repo
from bot.incidents.models import IncidentPatternCheck, pattern_context
from bot.incidents.patterns import PatternConfig, pattern_key
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.keys import load_keys


def pattern_config(settings: Settings, pseudonym_key: bytes) -> PatternConfig:
    """EDI_PATTERNS_ENABLED and EDI_PATTERNS_UNMATCHED_YEARS, and the check's own key."""
    return PatternConfig(
        enabled=settings.patterns_enabled,
        key=pattern_key(pseudonym_key),
        unmatched_years=settings.patterns_unmatched_years,
    )


def pattern_columns() -> list[EncryptedColumn]:
    """The sealed reference of each pattern-check entry."""
    table = IncidentPatternCheck.__table__.c
    return [
        EncryptedColumn(
            "incident_pattern_checks.report",
            table.id,
            table.report,
            table.report_key,
            pattern_context,
        )
    ]


async def purge_pattern_checks(
    session: AsyncSession, cipher: FieldCipher, *, cutoff: datetime
) -> int:
    """Delete the entries whose report is gone (closed cases purged, or deleted), and those
    made before `cutoff` that never matched another report. An entry that will not open is
    kept (and counted by `keys status`): the report may still be there."""
    references = {}
    for entry in await pattern_repo.every_check(session):
        try:
            references[entry.id] = cipher.open(
                Sealed(entry.report_key, entry.report), context=pattern_context(entry.id)
            )
        except DecryptionError:
            continue
    held = await pattern_repo.reports_named(session, references=set(references.values()))
    orphans = [entry_id for entry_id, ref in references.items() if ref not in held]
    deleted = await pattern_repo.delete_checks(session, ids=orphans)
    return deleted + await pattern_repo.delete_unmatched_before(session, cutoff=cutoff.date())


def pattern_retention(settings: Settings) -> list[RetentionRule]:
    """Entries go with their report; one nobody else's report matched goes after
    EDI_PATTERNS_UNMATCHED_YEARS."""
    years = settings.patterns_unmatched_years

    async def purge(session: AsyncSession, now: datetime) -> int:
        # The references are sealed: the rule opens them with the keys the settings name.
        cipher = FieldCipher(load_keys(settings))
        cutoff = now - timedelta(days=365 * years + years // 4)
        return await purge_pattern_checks(session, cipher, cutoff=cutoff)

    policy = (
        "pattern-check entries (a keyed hash of who a report named), with their report; one "
        f"no other report matched, {years} years after it was made"
    )
    return [RetentionRule("incident_patterns", policy, purge)]
