"""Hate-incident reports, their case history and follow-up messages."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.
#
# What is stored about the reporter depends on how they chose to report:
#   anonymous     nothing: no id, no name, no pseudonym; dates only (not times), so a report
#                 cannot be lined up with when someone used the bot
#   confidential  their identity, encrypted (`reporter`), and a keyed pseudonym to find
#   named         "my reports" by; only case handlers can read the identity

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow

# Random row ids: a sequential id would give away the order in which reports (and their
# messages) arrived, so an anonymous report could be placed between two confidential ones.
# On SQLite the id is the rowid itself (INTEGER PRIMARY KEY), so no hidden sequential
# rowid is kept beside it either.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def random_row_id() -> int:
    """A random positive 62-bit id (collisions are as unlikely as guessing a key)."""
    return secrets.randbits(62) | 1


class IncidentReport(Base):
    """One submitted report and the state of its case."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    mode: Mapped[str] = mapped_column(String(16))  # anonymous | confidential | named
    relationship: Mapped[str] = mapped_column(String(16))  # victim | witness | on_behalf
    received_on: Mapped[date] = mapped_column(Date)
    # Categories stay readable (comma-separated codes from content/incidents/words.yaml) so that
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

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    report_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    # The message's place in its case's conversation (ids are random, so they can't say).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str] = mapped_column(String(16))  # reporter | handler
    written_on: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    body_key: Mapped[str] = mapped_column(String(32))


class IncidentEvent(Base):
    """The case history a handler sees: acknowledged, triaged, assigned, messaged, closed.
    Who did it is a handler's name; the audit log has the full record of every access."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    report_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    happened_on: Mapped[date] = mapped_column(Date)
    # The entry's place in its case's history (ids are random, so they can't say).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(String(32))
    by_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    note: Mapped[str] = mapped_column(String(256), default="")


class IncidentIntake(Base):
    """An anonymous report, or an anonymous reporter's later message, waiting to be released
    into the case list (see `Incidents.release`).

    Written in the reporter's own turn, so it shares that turn's transaction; it is deleted
    when released, by a job whose transaction touches no person's rows. It holds nothing
    readable: a random id and one sealed, padded document (no reference, no date, no time).
    """

    __tablename__ = "incident_intake"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    payload: Mapped[str] = mapped_column(Text)
    payload_key: Mapped[str] = mapped_column(String(32))


class IncidentEvidence(Base):
    """A file a reporter sent with their report (an image, a PDF, a text file).

    `meta` is sealed JSON: its kind, size, SHA-256 and number of chunks. `name` is the file
    name the reporter sent (confidential and named reports), sealed; NULL for anonymous
    reports and after erasure, when the file is shown by a neutral name ("image-1.jpg").
    The bytes are in `incident_evidence_chunks`. Dates only, as for messages."""

    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    report_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    # The file's place among its case's files (ids are random, so they can't say).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    added_on: Mapped[date] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    name_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    meta: Mapped[str] = mapped_column(Text)
    meta_key: Mapped[str] = mapped_column(String(32))


class IncidentEvidenceChunk(Base):
    """Part of an evidence file's bytes (at most 64 KiB), sealed: files are kept in chunks so
    that reading, serving and re-encrypting one never holds more than a chunk at a time."""

    __tablename__ = "incident_evidence_chunks"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    evidence_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("incident_evidence.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[str] = mapped_column(Text)
    data_key: Mapped[str] = mapped_column(String(32))


class IncidentIntakeFile(Base):
    """A file sent before it belongs to a stored report: in a report's draft, with an
    anonymous report or addition waiting in the intake, or while `check report` asks which
    report it is for. Like the intake, nothing readable: a random id and a sealed document
    (name, kind, size, day, what it waits for); its bytes in `incident_intake_chunks`.
    Released (re-sealed as evidence) or deleted; stale ones are deleted by the incident job."""

    __tablename__ = "incident_intake_files"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    meta: Mapped[str] = mapped_column(Text)
    meta_key: Mapped[str] = mapped_column(String(32))


class IncidentIntakeChunk(Base):
    """Part of a waiting file's bytes, sealed (see `IncidentEvidenceChunk`)."""

    __tablename__ = "incident_intake_chunks"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    file_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("incident_intake_files.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[str] = mapped_column(Text)
    data_key: Mapped[str] = mapped_column(String(32))


class IncidentCheckAttempts(Base):
    """Wrong tries at checking a report, per person and short time window.

    Keyed by a pseudonym made for this purpose only (it matches no other table), never by or
    beside a reference, so a stranger's guesses cannot pause the real reporter, and the rows
    say nothing about which report anyone tried. Old windows are deleted as new ones start.
    """

    __tablename__ = "incident_check_attempts"

    who: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class IncidentPatternCheck(Base):
    """A reporter's "tell the case team only if someone else reports the same person"
    (bot/incidents/pattern_checks.py): a keyed hash of the person named and, sealed, the
    report's reference.

    Nothing about the reporter, and neither the named person's id nor their name: only the
    hash, made with a key of its own (bot/incidents/patterns.py). The reference is sealed, so
    the table alone cannot say which reports share a hash. An anonymous report's row is
    written when the intake releases the report, in that transaction, never in the turn.
    """

    __tablename__ = "incident_pattern_checks"

    id: Mapped[int] = mapped_column(
        RowId, primary_key=True, autoincrement=False, default=random_row_id
    )
    person_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # directory | typed
    report: Mapped[str] = mapped_column(Text)
    report_key: Mapped[str] = mapped_column(String(32))
    created_on: Mapped[date] = mapped_column(Date)
    # Case handlers have been told of a pattern this entry is part of.
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


def pattern_context(row_id: object) -> str:
    """The associated data a pattern check's sealed reference is bound to: its random row."""
    return f"incident_pattern_checks.report:{row_id}"


def details_context(reference: object) -> str:
    """The associated data a report's sealed details are bound to: its reference."""
    return f"incident_reports.details:{reference}"


def reporter_context(reference: object) -> str:
    """The associated data a report's sealed reporter is bound to: its reference."""
    return f"incident_reports.reporter:{reference}"


def message_context(message_id: object) -> str:
    """The associated data a case message's sealed body is bound to: its row."""
    return f"incident_messages.body:{message_id}"


def intake_context(row_id: object) -> str:
    """The associated data a sealed intake item is bound to: its random row id."""
    return f"incident_intake:{row_id}"


def evidence_name_context(evidence_id: object) -> str:
    """The associated data an evidence file's sealed name is bound to: its row."""
    return f"incident_evidence.name:{evidence_id}"


def evidence_meta_context(evidence_id: object) -> str:
    """The associated data an evidence file's sealed description is bound to: its row."""
    return f"incident_evidence.meta:{evidence_id}"


def evidence_chunk_context(chunk_id: object) -> str:
    """The associated data a sealed chunk of an evidence file is bound to: its row."""
    return f"incident_evidence_chunks:{chunk_id}"


def intake_file_context(file_id: object) -> str:
    """The associated data a waiting file's sealed description is bound to: its row."""
    return f"incident_intake_files:{file_id}"


def intake_chunk_context(chunk_id: object) -> str:
    """The associated data a sealed chunk of a waiting file is bound to: its row."""
    return f"incident_intake_chunks:{chunk_id}"
