"""The outbox: one row per message and one per (message, recipient)."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
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


class OutboxMessage(Base):
    """One proactive message: what is sent (sealed), of what kind, and from when."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    # What the message is about, for its feature (e.g. the bulletin month "2026-11"); no ids.
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Enqueuing again with the same key returns this message instead of a second one.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The queued message (a card or a text, bot/outbox/queue.py) as JSON, sealed with the
    # field cipher; rows from before held the wire-format activity itself.
    payload: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Recipients who had no active conversation reference when it was enqueued.
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
        Index("ix_outbox_messages_kind_subject", "kind", "subject"),
        Index("ix_outbox_messages_created_at", "created_at"),
    )


class OutboxDelivery(Base):
    """One message to one person's stored conversation reference, and how it went.

    `status` is queued, sent, failed or gone. A worker claims a queued row by writing its
    `claim_token` and a `lease_until`; an expired lease makes the row claimable again.
    """

    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE", name="fk_outbox_deliveries_message")
    )
    reference_id: Mapped[int] = mapped_column(
        ForeignKey(
            "conversation_references.id",
            ondelete="CASCADE",
            name="fk_outbox_deliveries_reference",
        )
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Why the last attempt failed, as a class ("http_503", "connection", "timeout"): no text.
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("message_id", "reference_id", name="uq_outbox_deliveries_recipient"),
        Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
        Index("ix_outbox_deliveries_reference", "reference_id"),
    )


class OutboxSendSlot(Base):
    """A slice of time whose sends one worker has claimed (see `SendSlots` in bot/outbox/).

    Slot n covers [n * length, (n + 1) * length) seconds of Unix time; a row means taken
    (by one worker, or by nobody after a 429's Retry-After). Old rows are deleted as workers go.
    """

    __tablename__ = "outbox_send_slots"

    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
