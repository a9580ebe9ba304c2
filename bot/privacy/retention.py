"""Retention: how long each kind of data is kept, applied by one purge.

Each rule deletes what is due and the purge writes the counts (never contents) to the audit
log. Features that add a kind of data add a rule here (incident reports: 6 years after
closure; adjustment needs: the day after the event).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions.repo import RECORD_DAYS as ACTION_RECORD_DAYS
from bot.actions.repo import purge_before as purge_action_records
from bot.bulletins.repo import purge_before as purge_bulletin_data_before
from bot.config import Settings
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.db.state import purge_state_older_than
from bot.events.service import IDENTITY_DAYS, purge_event_data
from bot.incidents.service import purge_closed_before
from bot.outbox.service import purge_finished_before
from bot.privacy.audit import AuditLog


@dataclass(frozen=True)
class RetentionRule:
    """One kind of data, its policy in words, and how to delete what is past it."""

    kind: str
    policy: str
    purge: Callable[[AsyncSession, datetime], Awaitable[int]]


def retention_rules(settings: Settings, audit: AuditLog) -> list[RetentionRule]:
    """Every rule in force, from settings."""

    async def drafts(session: AsyncSession, now: datetime) -> int:
        return await purge_state_older_than(
            session, now - timedelta(days=settings.retention_drafts_days)
        )

    async def audit_entries(session: AsyncSession, now: datetime) -> int:
        years = settings.retention_audit_years
        return await audit.purge_before(session, now - timedelta(days=365 * years + years // 4))

    async def incident_reports(session: AsyncSession, now: datetime) -> int:
        years = settings.retention_incidents_years
        cutoff = now - timedelta(days=365 * years + years // 4)
        return await purge_closed_before(session, cutoff.date())

    async def bulletin_feedback(session: AsyncSession, now: datetime) -> int:
        months = now.year * 12 + now.month - 1 - settings.retention_bulletin_months
        cutoff = f"{months // 12:04d}-{months % 12 + 1:02d}"
        return await purge_bulletin_data_before(session, month=cutoff)

    async def outbox_messages(session: AsyncSession, now: datetime) -> int:
        return await purge_finished_before(
            session, now - timedelta(days=settings.retention_outbox_days)
        )

    async def event_data(session: AsyncSession, now: datetime) -> int:
        return await purge_event_data(session, now)

    async def action_records(session: AsyncSession, now: datetime) -> int:
        return await purge_action_records(session, before=now - timedelta(days=ACTION_RECORD_DAYS))

    return [
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
            "incidents",
            f"hate-incident reports, their messages and history, "
            f"{settings.retention_incidents_years} years after the case was closed",
            incident_reports,
        ),
        RetentionRule(
            "bulletin",
            f"bulletin reach, reactions and comments, {settings.retention_bulletin_months} "
            "months after the bulletin's month",
            bulletin_feedback,
        ),
        RetentionRule(
            "outbox",
            f"proactive messages and who they went to, {settings.retention_outbox_days} days "
            "after queueing once nothing is left to send",
            outbox_messages,
        ),
        RetentionRule(
            "events",
            "reasonable-adjustment needs, the day after the event; who signed up (sealed), "
            f"{IDENTITY_DAYS} days after it (attendance counts are kept by pseudonym)",
            event_data,
        ),
        RetentionRule(
            "actions",
            f"action-plan nudge records and decided lead claims, {ACTION_RECORD_DAYS} days "
            "after (progress updates are the plan's record and are kept)",
            action_records,
        ),
    ]


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
