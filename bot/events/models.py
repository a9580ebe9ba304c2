"""Staff network events, sign-ups, waitlist, network membership (issue 8).

A person is their keyed pseudonym (bot/privacy/pseudonym.py), the same one declarations use,
so HR aggregates can join attendance and membership to the roster without names. Where the
bot must reach a person (reminders, waitlist offers) or an organiser must see who is coming,
their identity (tenant, Entra object id, display name) is sealed beside the pseudonym
(`who`, AES-256-GCM, bound to its row) and wiped once no longer needed.
"""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow

PSEUDONYM_LENGTH = 64


class Event(Base):
    """One staff network event or Big Conversation. Times are UTC; `local_date` is the
    Europe/London day it starts (what reports group by)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # "network" or "big_conversation"
    network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_date: Mapped[date] = mapped_column(Date)
    signup_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    online_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    accessibility: Mapped[str | None] = mapped_column(Text, nullable=True)
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # or "cancelled"
    # RFC 5545 SEQUENCE: raised on every change people's calendars must follow.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Who created it: "teams:<tenant>/<object id>" or "cli:<operator>" (staff acting in a role).
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_events_starts_at", "starts_at"),
        Index("ix_events_local_date", "local_date"),
    )


class EventSignup(Base):
    """One person's place (or place in the queue) at one event."""

    __tablename__ = "event_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id", ondelete="CASCADE"))
    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH))
    # confirmed, waitlisted, offered (a freed place held for them), cancelled, lapsed
    status: Mapped[str] = mapped_column(String(16))
    # Waitlist order: when they joined it.
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    offer_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # Sealed JSON {tenant_id, aad_object_id, name}; NULL once wiped (30 days after the event).
    who: Mapped[str | None] = mapped_column(Text, nullable=True)
    who_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Sealed JSON {needs: [codes], details: text}; NULL when none or deleted after the event.
    needs: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attended: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    signed_up_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("event_id", "pseudonym", name="uq_event_signups_person"),
        Index("ix_event_signups_pseudonym", "pseudonym"),
        Index("ix_event_signups_event_status", "event_id", "status"),
    )


class NetworkMember(Base):
    """One person's membership of one staff network (confidential: see docs/events.md)."""

    __tablename__ = "network_members"

    # Random, so the identity can be sealed (bound to this id) before the row is written.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    network: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH))
    # Sealed JSON {tenant_id, aad_object_id, name}, for that network's organisers only.
    who: Mapped[str] = mapped_column(Text)
    who_key: Mapped[str] = mapped_column(String(32))
    joined_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("network", "pseudonym", name="uq_network_members_person"),
        Index("ix_network_members_pseudonym", "pseudonym"),
    )


class NetworkOrganiser(Base):
    """An organiser's scope: which network's events (or "big_conversation") they run and
    whose members they may see. Managed by admins with `edi-bot events organisers`."""

    __tablename__ = "network_organisers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(128))
    aad_object_id: Mapped[str] = mapped_column(String(128))
    granted_by: Mapped[str] = mapped_column(String(256))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "network", "tenant_id", "aad_object_id", name="uq_network_organisers_scope"
        ),
        Index("ix_network_organisers_person", "aad_object_id"),
    )
