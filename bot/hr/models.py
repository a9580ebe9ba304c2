"""Workforce roster (denominators, by pseudonym only) and HR report history (issue 6)."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.
#
# No column here holds an Entra object id, a UPN, a name or an e-mail address. A roster row
# names its person by the same keyed pseudonym their declaration uses; a row the roster gave
# by UPN alone carries a keyed hash of the UPN instead (`upn_key`) until the person is seen
# and the two are linked (see bot/hr/roster.py and docs/hr_reports.md).

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow

KEY_LENGTH = 64


class RosterPerson(Base):
    """One member of staff on the latest roster import: department and grade band."""

    __tablename__ = "roster_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The declarations' pseudonym; NULL while the row is known only by its UPN's key.
    pseudonym: Mapped[str | None] = mapped_column(String(KEY_LENGTH), nullable=True)
    upn_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH), nullable=True)
    department: Mapped[str] = mapped_column(String(120))
    grade_band: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    imported_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        Index("ix_roster_people_pseudonym", "pseudonym"),
        Index("ix_roster_people_upn_key", "upn_key"),
        Index("ix_roster_people_department", "department"),
    )


class RosterUpnLink(Base):
    """A UPN's keyed hash and the pseudonym of the person who used it, once seen.

    Both sides are keyed HMACs: the pair says nothing to anyone without the pseudonym key,
    and it lets the next roster that names the person by UPN find their declarations.
    """

    __tablename__ = "roster_upn_links"

    upn_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(KEY_LENGTH))
    linked_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_roster_upn_links_pseudonym", "pseudonym"),)


class HrSnapshot(Base):
    """One quarter's aggregate counts (never people), frozen the first time it is reported.

    Every release for a quarter (the card, "hr report", the CLI report, later trends) comes
    from this one document, so two releases can never be differenced against each other.
    The document is sealed (AES-256-GCM, bound to its quarter) because it holds small counts
    before disclosure control.
    """

    __tablename__ = "hr_snapshots"

    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-Q3"
    taken_on: Mapped[date] = mapped_column(Date)
    counts: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # 1 when first frozen; each re-issue (after a late roster) adds one, the one before kept
    # in `hr_snapshot_versions`.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class HrSnapshotVersion(Base):
    """A version of a quarter's snapshot that a re-issue replaced: kept, sealed as it was, so
    what was released then can be shown again exactly."""

    __tablename__ = "hr_snapshot_versions"

    # "<quarter>/v<version>", e.g. "2026-Q3/v1".
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    taken_on: Mapped[date] = mapped_column(Date)
    counts: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    replaced_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_hr_snapshot_versions_quarter", "quarter"),)
