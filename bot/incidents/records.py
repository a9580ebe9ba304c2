"""What the incident service hands out: reports, views and outcomes as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from bot.core.people import PersonKey
from bot.incidents.evidence_store import FileInfo
from bot.incidents.models import (
    IncidentEvent,
    IncidentReport,
)

MODES = ("anonymous", "confidential", "named")


OPEN_STATUSES = ("new", "acknowledged", "in_progress")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    return day + relativedelta(months=months)


@dataclass(frozen=True)
class Person:
    """Someone using the bot: where Teams says they are, and the name Teams shows."""

    key: PersonKey
    name: str
    # How they acted when not in their chat with the bot ("cli:<os user>"), for the audit log.
    via: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"teams:{self.key.tenant_id}/{self.key.aad_object_id}"


@dataclass(frozen=True)
class Assigned:
    """What assigning a case did."""

    done: bool  # False: someone else changed the case meanwhile, and nothing was written
    told: bool  # a colleague was sent a card in Teams (never for assigning to yourself)


class ReportError(ValueError):
    """A draft that cannot become a report, with a sentence for the person."""


@dataclass(frozen=True)
class Submitted:
    """What the reporter is given: the reference, and the passphrase if anonymous."""

    reference: str
    passphrase: str | None
    received_on: date


@dataclass
class CaseView:
    """A report as a handler or its reporter sees it (decrypted)."""

    report: IncidentReport
    narrative: str
    occurred_approx: str
    impact: str
    reporter: dict[str, str] | None
    # What "another difference", "something else" or "somewhere else" was, by list name.
    others: dict[str, str] = field(default_factory=dict)
    messages: list[tuple[str, date, str]] = field(default_factory=list)
    events: list[IncidentEvent] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    # Made from a private record: when it was written down (bot/incidents/written_down.py).
    written_down: str = ""


NOT_FOUND = "not_found"


PAUSED = "paused"


ADDED = "added"


HELD = "held"


CLOSED = "closed"


FULL = "full"


# Sealed intake documents are padded to a multiple of this many characters, so their size
# says little about the narrative's (and nothing that matches the released report's).
INTAKE_PAD = 4096


@dataclass(frozen=True)
class PendingReport:
    """An anonymous report still in the intake, as its reporter may see it."""

    reference: str
    received_on: date


@dataclass(frozen=True)
class ReporterView:
    """What a reporter sees when they check their report."""

    reference: str
    status: str
    received_on: date
    outcome: str | None
    anonymous: bool
    messages: list[tuple[str, date, str]]
    files: list[FileInfo] = field(default_factory=list)


@dataclass(frozen=True)
class HeldItem:
    """One intake row, opened."""

    row_id: int
    item: dict[str, Any]
