"""The monthly bulletin: what was published, who it reached and what they thought, by
pseudonym only (no Entra ids or names in these tables)."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow


class BulletinIssue(Base):
    """One month's bulletin, once published: when, and to how many."""

    __tablename__ = "bulletin_issues"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    title: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(256))
    # The outbox message it went out as (the outbox row itself is purged by retention).
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    unsubscribed: Mapped[int] = mapped_column(Integer, default=0)


class BulletinReach(Base):
    """One person (by pseudonym) was sent one month's bulletin, on a day."""

    __tablename__ = "bulletin_reach"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivered_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_bulletin_reach_pseudonym", "pseudonym"),)


class BulletinFeedback(Base):
    """One person's reaction to one month's bulletin, and their comment (sealed)."""

    __tablename__ = "bulletin_feedback"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7))
    pseudonym: Mapped[str] = mapped_column(String(64))
    rating: Mapped[str] = mapped_column(String(16))  # "useful" or "not_useful"
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("month", "pseudonym", name="uq_bulletin_feedback_person"),
        Index("ix_bulletin_feedback_pseudonym", "pseudonym"),
    )


class BulletinUnsubscribe(Base):
    """A person (by pseudonym) who asked not to be sent the bulletin."""

    __tablename__ = "bulletin_unsubscribes"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[date] = mapped_column(Date)
