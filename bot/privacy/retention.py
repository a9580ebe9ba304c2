"""Retention: how long each kind of data is kept, applied by one purge.

Each rule deletes what is due and the purge writes the counts (never contents) to the audit
log. The privacy core's own kinds (unfinished conversations, the audit log, proactive
messages) are here; each feature adds its own through `Feature.retention`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.core.registry import Feature, RetentionRule
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.db.state import purge_state_older_than
from bot.outbox.repo import purge_finished_before
from bot.privacy.audit import AuditLog

__all__ = ["RetentionRule", "purge", "retention_rules"]


def retention_rules(
    settings: Settings, audit: AuditLog, features: Sequence[Feature]
) -> list[RetentionRule]:
    """Every rule in force, from settings: the core's, then each feature's."""

    async def drafts(session: AsyncSession, now: datetime) -> int:
        return await purge_state_older_than(
            session, now - timedelta(days=settings.retention_drafts_days)
        )

    async def audit_entries(session: AsyncSession, now: datetime) -> int:
        years = settings.retention_audit_years
        return await audit.purge_before(session, now - timedelta(days=365 * years + years // 4))

    async def outbox_messages(session: AsyncSession, now: datetime) -> int:
        return await purge_finished_before(
            session, now - timedelta(days=settings.retention_outbox_days)
        )

    core = [
        RetentionRule(
            "drafts",
            f"unfinished conversations, {settings.retention_drafts_days} days after last use",
            drafts,
        ),
        RetentionRule(
            "audit",
            f"audit entries, {settings.retention_audit_years} years after writing",
            audit_entries,
        ),
        RetentionRule(
            "outbox",
            f"proactive messages and who they went to, {settings.retention_outbox_days} days "
            "after queueing once nothing is left to send",
            outbox_messages,
        ),
    ]
    return core + [rule for feature in features for rule in feature.retention(settings)]


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    rules: list[RetentionRule],
    audit: AuditLog,
    *,
    actor: str = "system:retention",
    now: datetime | None = None,
) -> dict[str, int]:
    """Apply every rule in one transaction; audit the counts. Safe to run twice."""
    moment = now or utcnow()
    counts: dict[str, int] = {}
    async with unit_of_work(sessions) as session:
        for rule in rules:
            counts[rule.kind] = await rule.purge(session, moment)
        await audit.append(session, actor=actor, action="retention.purge", detail=counts)
    return counts
