"""The core tables (conversation state and references, roles, the audit log) and the Base
every feature's models derive from. `bot.features.metadata()` gives the whole schema, which
the one Alembic chain under migrations/ must match."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""


class BotStateDocument(Base):
    """One botbuilder state document (a conversation's dialog stack) with its e-tag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    # Encrypted JSON (base64 of nonce + ciphertext); key_id names the key that sealed it.
    # Rows written before encryption arrived have key_id NULL and plain JSON until rewritten.
    document: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    etag: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_bot_state_updated_at", "updated_at"),)


class ConversationReferenceRecord(Base):
    """Where to reach one person proactively: their personal chat with the bot."""

    __tablename__ = "conversation_references"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    aad_object_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(512))
    reference: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "aad_object_id", name="uq_conversation_references_person"),
        Index("ix_conversation_references_status", "status"),
    )


class PersonName(Base):
    """A person's display name as Teams gave it when they last used the bot, sealed: for
    operators picking or listing people (roles, leads, case handlers, organisers). Never
    beside anything the person told the bot; erased with the person."""

    __tablename__ = "people_names"

    # "<tenant id>/<object id>" (lower case): the key the name is sealed for.
    person: Mapped[str] = mapped_column(String(300), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    aad_object_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    # To the day only, like a conversation reference's.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_people_names_aad_object_id", "aad_object_id"),)


class RoleGrant(Base):
    """One person holding one privileged role, named by Entra object id or by UPN."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(32))
    aad_object_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    upn: Mapped[str | None] = mapped_column(String(256), nullable=True)
    tenant_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    granted_by: Mapped[str] = mapped_column(String(256))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_role_grants_role_aad", "role", "aad_object_id"),
        Index("ix_role_grants_role_upn", "role", "upn"),
    )


class AuditEntry(Base):
    """One privileged action; `hash` chains it to the entry before (see bot/privacy/audit.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(256))
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))
