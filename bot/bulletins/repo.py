"""Bulletin issues, reach, feedback and unsubscribes: queries by month and pseudonym."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bulletins.models import (
    BulletinFeedback,
    BulletinIssue,
    BulletinReach,
    BulletinUnsubscribe,
)
from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord

RATINGS = ("useful", "not_useful")


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT (both offer ON CONFLICT)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@dataclass(frozen=True)
class Issue:
    """A published bulletin."""

    month: str
    title: str
    published_at: datetime
    published_by: str
    message_id: int | None
    queued: int
    unreachable: int
    unsubscribed: int


def _issue(row: BulletinIssue) -> Issue:
    return Issue(
        month=row.month,
        title=row.title,
        published_at=row.published_at,
        published_by=row.published_by,
        message_id=row.message_id,
        queued=row.queued,
        unreachable=row.unreachable,
        unsubscribed=row.unsubscribed,
    )


async def claim_issue(
    session: AsyncSession, *, month: str, title: str, published_by: str, at: datetime
) -> bool:
    """Record that `month` is being published; False if it already was (by anyone)."""
    statement = (
        _insert(session)(BulletinIssue)
        .values(
            month=month,
            title=title,
            published_at=at,
            published_by=published_by,
            message_id=None,
            queued=0,
            unreachable=0,
            unsubscribed=0,
        )
        .on_conflict_do_nothing(index_elements=[BulletinIssue.month])
        .returning(BulletinIssue.month)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def record_enqueued(
    session: AsyncSession,
    *,
    month: str,
    message_id: int,
    queued: int,
    unreachable: int,
    unsubscribed: int,
) -> None:
    """Store what publishing `month` queued."""
    await session.execute(
        update(BulletinIssue)
        .where(BulletinIssue.month == month)
        .values(
            message_id=message_id,
            queued=queued,
            unreachable=unreachable,
            unsubscribed=unsubscribed,
        )
    )


async def get_issue(session: AsyncSession, *, month: str) -> Issue | None:
    """The published issue for `month`, if any."""
    row = await session.get(BulletinIssue, month)
    return _issue(row) if row is not None else None


async def latest_issue(session: AsyncSession) -> Issue | None:
    """The most recent published issue."""
    row = (
        await session.execute(select(BulletinIssue).order_by(BulletinIssue.month.desc()).limit(1))
    ).scalar_one_or_none()
    return _issue(row) if row is not None else None


async def active_people(session: AsyncSession) -> list[PersonKey]:
    """Everyone with an active personal-chat reference (whom a bulletin could reach)."""
    table = ConversationReferenceRecord
    rows = await session.execute(
        select(table.tenant_id, table.aad_object_id)
        .where(table.status == "active")
        .order_by(table.id)
    )
    return [PersonKey(tenant, aad) for tenant, aad in rows]


async def unsubscribed(session: AsyncSession) -> set[str]:
    """Pseudonyms of everyone who asked not to be sent the bulletin."""
    return set((await session.execute(select(BulletinUnsubscribe.pseudonym))).scalars())


async def is_unsubscribed(session: AsyncSession, *, pseudonym: str) -> bool:
    """Whether this person asked not to be sent the bulletin."""
    found = await session.execute(
        select(BulletinUnsubscribe.pseudonym).where(BulletinUnsubscribe.pseudonym == pseudonym)
    )
    return found.scalar_one_or_none() is not None


async def unsubscribe(session: AsyncSession, *, pseudonym: str, today: date) -> bool:
    """Stop sending the bulletin to this person; False if already stopped."""
    statement = (
        _insert(session)(BulletinUnsubscribe)
        .values(pseudonym=pseudonym, since=today)
        .on_conflict_do_nothing(index_elements=[BulletinUnsubscribe.pseudonym])
        .returning(BulletinUnsubscribe.pseudonym)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def subscribe(session: AsyncSession, *, pseudonym: str) -> bool:
    """Send the bulletin to this person again; False if they were not unsubscribed."""
    result = await session.execute(
        delete(BulletinUnsubscribe).where(BulletinUnsubscribe.pseudonym == pseudonym)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_reach(session: AsyncSession, *, month: str, pseudonym: str, day: date) -> None:
    """Note that this person was sent (or opened) `month`'s bulletin; once per month."""
    await session.execute(
        _insert(session)(BulletinReach)
        .values(month=month, pseudonym=pseudonym, delivered_on=day)
        .on_conflict_do_nothing(index_elements=[BulletinReach.month, BulletinReach.pseudonym])
    )


async def save_feedback(
    session: AsyncSession,
    *,
    month: str,
    pseudonym: str,
    rating: str,
    today: date,
) -> int:
    """Record (or change) a person's rating of `month`; the feedback row's id."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}")
    statement = _insert(session)(BulletinFeedback).values(
        month=month, pseudonym=pseudonym, rating=rating, updated_on=today
    )
    statement = statement.on_conflict_do_update(
        index_elements=[BulletinFeedback.month, BulletinFeedback.pseudonym],
        set_={"rating": rating, "updated_on": today},
    ).returning(BulletinFeedback.id)
    return int((await session.execute(statement)).scalar_one())


@dataclass(frozen=True)
class EarlierFeedback:
    """A person's reaction to a month, as stored before this one: rating, sealed comment."""

    feedback_id: int
    rating: str
    comment: tuple[str, str] | None  # (token, key id)


async def get_feedback(
    session: AsyncSession, *, month: str, pseudonym: str
) -> EarlierFeedback | None:
    """This person's stored reaction to `month`, if any."""
    row = (
        await session.execute(
            select(
                BulletinFeedback.id,
                BulletinFeedback.rating,
                BulletinFeedback.comment,
                BulletinFeedback.comment_key_id,
            ).where(BulletinFeedback.month == month, BulletinFeedback.pseudonym == pseudonym)
        )
    ).one_or_none()
    if row is None:
        return None
    sealed = (str(row[2]), str(row[3])) if row[2] is not None and row[3] is not None else None
    return EarlierFeedback(int(row[0]), str(row[1]), sealed)


async def was_reached(session: AsyncSession, *, month: str, pseudonym: str) -> bool:
    """Whether this person was sent (or opened) `month`'s bulletin before."""
    found = await session.execute(
        select(BulletinReach.month).where(
            BulletinReach.month == month, BulletinReach.pseudonym == pseudonym
        )
    )
    return found.scalar_one_or_none() is not None


async def save_comment(session: AsyncSession, *, feedback_id: int, token: str, key_id: str) -> None:
    """Store a sealed comment on a feedback row."""
    await session.execute(
        update(BulletinFeedback)
        .where(BulletinFeedback.id == feedback_id)
        .values(comment=token, comment_key_id=key_id)
    )


@dataclass(frozen=True)
class FeedbackCounts:
    """Reactions and comments to one bulletin."""

    useful: int
    not_useful: int
    comments: int
    reached: int


async def feedback_counts(session: AsyncSession, *, month: str) -> FeedbackCounts:
    """How many found `month` useful or not, commented, and were reached."""
    rows = await session.execute(
        select(BulletinFeedback.rating, func.count(), func.count(BulletinFeedback.comment))
        .where(BulletinFeedback.month == month)
        .group_by(BulletinFeedback.rating)
    )
    ratings: dict[str, int] = {}
    comments = 0
    for rating, count, with_comment in rows:
        ratings[rating] = int(count)
        comments += int(with_comment)
    reached = (
        await session.execute(
            select(func.count()).select_from(BulletinReach).where(BulletinReach.month == month)
        )
    ).scalar_one()
    return FeedbackCounts(
        ratings.get("useful", 0), ratings.get("not_useful", 0), comments, int(reached)
    )


@dataclass(frozen=True)
class StoredComment:
    """One sealed comment, with what it needs to be opened."""

    feedback_id: int
    rating: str
    token: str
    key_id: str


async def comments(session: AsyncSession, *, month: str) -> list[StoredComment]:
    """The sealed comments on `month`'s bulletin, oldest first."""
    rows = await session.execute(
        select(
            BulletinFeedback.id,
            BulletinFeedback.rating,
            BulletinFeedback.comment,
            BulletinFeedback.comment_key_id,
        )
        .where(BulletinFeedback.month == month, BulletinFeedback.comment.is_not(None))
        .order_by(BulletinFeedback.id)
    )
    return [
        StoredComment(int(i), r, c, k) for i, r, c, k in rows if c is not None and k is not None
    ]


async def person_rows(
    session: AsyncSession, *, pseudonym: str
) -> dict[str, list[dict[str, object]]]:
    """Everything bulletin-related held under one pseudonym, sealed comments as stored."""
    reach = await session.execute(
        select(BulletinReach.month, BulletinReach.delivered_on).where(
            BulletinReach.pseudonym == pseudonym
        )
    )
    feedback = await session.execute(
        select(BulletinFeedback).where(BulletinFeedback.pseudonym == pseudonym)
    )
    stopped = await session.get(BulletinUnsubscribe, pseudonym)
    return {
        "reach": [{"month": m, "on": d} for m, d in reach],
        "feedback": [
            {
                "id": f.id,
                "month": f.month,
                "rating": f.rating,
                "comment": f.comment,
                "comment_key_id": f.comment_key_id,
                "updated_on": f.updated_on,
            }
            for f in feedback.scalars()
        ],
        "unsubscribed": [{"since": stopped.since}] if stopped is not None else [],
    }


async def erase_person(session: AsyncSession, *, pseudonym: str) -> dict[str, int]:
    """Delete everything bulletin-related held under one pseudonym; counts per kind."""
    counts = {}
    for name, table in (
        ("bulletin_reach", BulletinReach),
        ("bulletin_feedback", BulletinFeedback),
        ("bulletin_unsubscribes", BulletinUnsubscribe),
    ):
        result = await session.execute(delete(table).where(table.pseudonym == pseudonym))
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts


async def purge_before(session: AsyncSession, *, month: str) -> int:
    """Delete reach and feedback for bulletins before `month` (retention); rows deleted."""
    total = 0
    for table in (BulletinReach, BulletinFeedback):
        result = await session.execute(delete(table).where(table.month < month))
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


# ---- what HR counts (asked for through bot/bulletins/feature.py) ------------------------------


def reach_select(*, months: Sequence[str]) -> Select[str, str]:
    """(month, pseudonym) of each person a bulletin of these months reached."""
    return select(
        BulletinReach.month.label("month"), BulletinReach.pseudonym.label("pseudonym")
    ).where(BulletinReach.month.in_(list(months)))


def feedback_select(*, months: Sequence[str]) -> Select[str, str, str]:
    """(month, rating, pseudonym) of each reaction to a bulletin of these months."""
    return select(
        BulletinFeedback.month.label("month"),
        BulletinFeedback.rating.label("rating"),
        BulletinFeedback.pseudonym.label("pseudonym"),
    ).where(BulletinFeedback.month.in_(list(months)))
