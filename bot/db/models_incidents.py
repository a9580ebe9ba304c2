"""Hate-incident reports, their case history and follow-up messages."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.
#
# What is stored about the reporter depends on how they chose to report:
#   anonymous     nothing: no id, no name, no pseudonym; dates only (not times), so a report
#                 cannot be lined up with when someone used the bot
#   confidential  their identity, encrypted (`reporter`), and a keyed pseudonym to find
#   named         "my reports" by; only case handlers can read the identity

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow


class IncidentReport(Base):
    """One submitted report and the state of its case."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    mode: Mapped[str] = mapped_column(String(16))  # anonymous | confidential | named
    relationship: Mapped[str] = mapped_column(String(16))  # victim | witness | on_behalf
    received_on: Mapped[date] = mapped_column(Date)
    # Categories stay readable (comma-separated codes from content/incidents.yaml) so that
    # trends can be counted without decrypting anything.
    motivations: Mapped[str] = mapped_column(String(256), default="")
    kinds: Mapped[str] = mapped_column(String(256), default="")
    location: Mapped[str | None] = mapped_column(String(32), nullable=True)
    perpetrator: Mapped[str | None] = mapped_column(String(32), nullable=True)
    frequency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    possible_crime: Mapped[str | None] = mapped_column(String(16), nullable=True)
    occurred_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The narrative, the approximate date, impact and other free text, sealed as one JSON.
    details: Mapped[str] = mapped_column(Text)
    details_key: Mapped[str] = mapped_column(String(32))
    # Who reported it (confidential and named only), sealed JSON; NULL when anonymous.
    reporter: Mapped[str | None] = mapped_column(Text, nullable=True)
    reporter_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reporter_pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Anonymous only: scrypt hash of the passphrase shown once at submission.
    passphrase_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wants_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_monitoring: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_police: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_hr: Mapped[bool] = mapped_column(Boolean, default=False)
    # The case.
    status: Mapped[str] = mapped_column(String(16), default="new")
    assigned_to: Mapped[str | None] = mapped_column(String(256), nullable=True)
    assigned_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    risk: Mapped[str | None] = mapped_column(String(16), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(16), nullable=True)
    acknowledge_by: Mapped[date] = mapped_column(Date)
    feedback_by: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    feedback_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Deadline reminders already sent: a comma-separated set of codes.
    reminders_sent: Mapped[str] = mapped_column(String(128), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_incident_reports_status", "status"),
        Index("ix_incident_reports_reporter_pseudonym", "reporter_pseudonym"),
        Index("ix_incident_reports_received_on", "received_on"),
    )


class IncidentMessage(Base):
    """A message on a case: from the handler to the reporter, or more information from the
    reporter. `body` is sealed. Anonymous cases keep dates only."""

    __tablename__ = "incident_messages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(16))  # reporter | handler
    written_on: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    body_key: Mapped[str] = mapped_column(String(32))


class IncidentEvent(Base):
    """The case history a handler sees: acknowledged, triaged, assigned, messaged, closed.
    Who did it is a handler's name; the audit log has the full record of every access."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    happened_on: Mapped[date] = mapped_column(Date)
    what: Mapped[str] = mapped_column(String(32))
    by_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    note: Mapped[str] = mapped_column(String(256), default="")
