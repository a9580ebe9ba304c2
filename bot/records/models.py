"""Private records: what a person wrote down about a hate incident, kept for them alone.

A record is not a report: no case handler, HR or operator sees it. It is stored under the
person's keyed pseudonym (no Entra id, name or conversation id), its words and details
sealed in one document bound to its row, with the moment it was written down. Nothing
deletes it but the person (or their erasure); see docs/records.md.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow

# A random id, as incident reports have: a sequential one would give away the order in which
# records were written. On SQLite it is the rowid itself, so no hidden sequential rowid either.
RecordId = BigInteger().with_variant(Integer(), "sqlite")


def random_record_id() -> int:
    """A random positive 62-bit id."""
    return secrets.randbits(62) | 1


class PrivateRecord(Base):
    """One private record. `document` is sealed JSON: the owner's pseudonym again (so a row
    whose owner was changed no longer opens), the answers (the report's free recall and
    details), later additions with their times, and when it was reported, if it was."""

    __tablename__ = "private_records"

    id: Mapped[int] = mapped_column(
        RecordId, primary_key=True, autoincrement=False, default=random_record_id
    )
    owner: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    document_key: Mapped[str] = mapped_column(String(32))
    # The moment it was written down (kept), and of the last change (an addition).
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_private_records_owner", "owner"),)


def record_context(record_id: object) -> str:
    """The associated data a record's sealed document is bound to: its row."""
    return f"private_records.document:{record_id}"
