"""Hate-incident reports: a draft becomes a report, reporters follow up, handlers run cases.

What identifies a reporter (see docs/incidents.md):
- anonymous: nothing. No id, name or pseudonym; the report keeps dates, not times; no audit
  entry is written for the submission and the handlers' alert goes out with the next sweep
  rather than at the moment of submission, so neither can be lined up with the chat's
  activity. Follow-up needs the reference and the passphrase shown once.
- confidential / named: the identity sealed in `reporter` (handlers only) and a keyed
  pseudonym to recognise the reporter when they check their report.

Handlers' every look at a case and every change is written to the audit log.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import hmac
import json
import logging
import os
import random
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord, utcnow
from bot.incidents.models import (
    IncidentCheckAttempts,
    IncidentEvent,
    IncidentIntake,
    IncidentMessage,
    IncidentReport,
    details_context,
    intake_context,
    message_context,
    random_row_id,
    reporter_context,
)
from bot.outbox.service import Outbox, card_activity, text_activity
from bot.privacy.audit import AuditLog
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.pseudonym import Pseudonymiser
from bot.privacy.roles import Role, list_grants

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0 or 1
MODES = ("anonymous", "confidential", "named")
OPEN_STATUSES = ("new", "acknowledged", "in_progress")


# ---- references and passphrases ---------------------------------------------------------------


def new_reference() -> str:
    """Eight characters that can be read aloud without confusion: ABCD-EFGH."""
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


_REFERENCE_CANDIDATE = re.compile(
    # Overlapping (a lookahead), and whole: not inside a longer word or hyphenated run.
    r"(?=(?<![A-Za-z0-9-])([A-Za-z0-9]{4})([\s-]?)([A-Za-z0-9]{4})(?![A-Za-z0-9-]))"
)


def find_reference(text: str) -> str | None:
    """The reference in what someone typed ("abcd efgh", "ABCD-EFGH", "open abcd-efgh"), or
    None. Written with a hyphen or as one word wins; split by a space, the last one does
    (in "take abcd efgh", "take abcd" would also read as a reference)."""
    spaced: list[str] = []
    for first, gap, second in _REFERENCE_CANDIDATE.findall(text or ""):
        raw = f"{first}{second}".upper()
        if not all(ch in REFERENCE_ALPHABET for ch in raw):
            continue
        if gap in ("", "-"):
            return f"{raw[:4]}-{raw[4:]}"
        spaced.append(raw)
    return f"{spaced[-1][:4]}-{spaced[-1][4:]}" if spaced else None


def new_passphrase(words: Sequence[str]) -> str:
    """Four common words and a number, e.g. "otter-candle-summit-plum-42" (about 39 bits;
    guessing is also limited by attempts and a cool-down per report)."""
    chosen = [secrets.choice(words) for _ in range(4)]
    return "-".join([*chosen, f"{secrets.randbelow(90) + 10}"])


def normalise_passphrase(text: str) -> str:
    """How a passphrase is compared: lower case, words joined by single hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", (text or "").lower()))


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_passphrase(passphrase: str) -> str:
    """scrypt with a random salt, as "scrypt$salt$hash" (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(normalise_passphrase(passphrase).encode(), salt=salt, **_SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def passphrase_matches(passphrase: str, stored: str) -> bool:
    """Whether `passphrase` is the one `stored` was made from."""
    try:
        scheme, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            normalise_passphrase(passphrase).encode(), salt=base64.b64decode(salt), **_SCRYPT
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ---- the answer lists -----------------------------------------------------------------------


class Taxonomy:
    """The answer lists and limits in content/incidents.yaml."""

    SINGLE = ("location", "perpetrator", "frequency", "possible_crime")
    MULTI = ("motivations", "kinds")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.limits: dict[str, int] = {k: int(v) for k, v in data["limits"].items()}
        details = data["details"]
        self._labels: dict[str, dict[str, str]] = {
            name: {str(o["id"]): str(o["label"]) for o in details[name]["options"]}
            for name in (*self.SINGLE, *self.MULTI)
        }
        self._labels["mode"] = {o["id"]: o["label"] for o in data["modes"]["options"]}
        self._labels["relationship"] = {
            o["id"]: o["label"] for o in data["relationships"]["options"]
        }
        cases = data["cases"]
        self._labels["risk"] = {o["id"]: o["label"] for o in cases["risk"]}
        self._labels["classification"] = {o["id"]: o["label"] for o in cases["classification"]}
        self._labels["outcome"] = {o["id"]: o["label"] for o in cases["outcomes"]}
        self.outcome_needs: dict[str, str] = {
            o["id"]: o["needs"] for o in cases["outcomes"] if o.get("needs")
        }

    def codes(self, name: str) -> list[str]:
        """The codes of one list, in order."""
        return list(self._labels[name])

    def valid(self, name: str, code: object) -> bool:
        """Whether `code` is on the list `name`."""
        return isinstance(code, str) and code in self._labels[name]

    def label(self, name: str, code: str | None) -> str:
        """The words for a code (the code itself if the list no longer has it)."""
        if code is None:
            return ""
        return self._labels[name].get(code, code)

    def labels(self, name: str, codes: Iterable[str]) -> str:
        """Several codes' words, joined."""
        return "; ".join(self.label(name, code) for code in codes)


# ---- what the service works with ------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone using the bot: where Teams says they are, and the name Teams shows."""

    key: PersonKey
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"teams:{self.key.tenant_id}/{self.key.aad_object_id}"


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
    messages: list[tuple[str, date, str]] = field(default_factory=list)
    events: list[IncidentEvent] = field(default_factory=list)


NOT_FOUND = "not_found"
PAUSED = "paused"
ADDED = "added"
HELD = "held"
CLOSED = "closed"

# Sealed intake documents are padded to a multiple of this many characters, so their size
# says little about the narrative's (and nothing that matches the released report's).
_INTAKE_PAD = 4096


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


@dataclass(frozen=True)
class _Held:
    """One intake row, opened."""

    row_id: int
    item: dict[str, Any]


class Incidents:
    """Reports and cases, in the caller's transaction."""

    def __init__(
        self,
        *,
        content: Content,
        cipher: FieldCipher,
        audit: AuditLog,
        pseudonyms: Pseudonymiser,
        outbox: Outbox | None,
        token_key: bytes,
    ) -> None:
        self.content = content
        self.taxonomy = Taxonomy(content.data("incidents"))
        self._cipher = cipher
        self._audit = audit
        self._pseudonyms = pseudonyms
        self._outbox = outbox
        self._token_key = hashlib.sha256(b"edi-bot incident follow-up\x00" + token_key).digest()
        self._attempts_key = hashlib.sha256(b"edi-bot check attempts\x00" + token_key).digest()
        # Checked when there is no report to check against, so every check costs one hash.
        self._decoy_hash = hash_passphrase(secrets.token_hex(16))
        self._words: list[str] = list(content.data("passphrase_words")["words"])

    @property
    def words(self) -> dict[str, Any]:
        """The sentences and labels of content/incidents.yaml."""
        return self.taxonomy.data

    # ---- sealing --------------------------------------------------------------------------

    def _seal(self, value: dict[str, Any], context: str) -> Sealed:
        return self._cipher.seal(json.dumps(value, ensure_ascii=False), context=context)

    def _open(self, token: str, key_id: str, context: str) -> dict[str, Any]:
        opened: dict[str, Any] = json.loads(
            self._cipher.open(Sealed(key_id, token), context=context)
        )
        return opened

    # ---- submitting -----------------------------------------------------------------------

    def check_draft(self, draft: dict[str, Any]) -> None:
        """Raise ReportError unless `draft` can be submitted as it stands."""
        tax = self.taxonomy
        if draft.get("mode") not in MODES:
            raise ReportError("Please choose how you'd like to report.")
        if not tax.valid("relationship", draft.get("relationship")):
            raise ReportError("Please say who this happened to.")
        narrative = str(draft.get("narrative") or "").strip()
        if not narrative:
            raise ReportError("Please describe what happened before submitting.")
        if len(narrative) > tax.limits["narrative_chars"]:
            raise ReportError("The description is too long; please shorten it.")
        for name in Taxonomy.MULTI:
            if any(not tax.valid(name, code) for code in draft.get(name) or []):
                raise ReportError("Some details aren't on the current lists; please edit them.")
        for name in Taxonomy.SINGLE:
            code = draft.get(name)
            if code is not None and not tax.valid(name, code):
                raise ReportError("Some details aren't on the current lists; please edit them.")

    async def submit(
        self,
        session: AsyncSession,
        draft: dict[str, Any],
        *,
        reporter: Person | None,
        today: date,
    ) -> Submitted:
        """Store the report. An anonymous draft stores nothing about `reporter`, and goes to
        the intake rather than the case list (see `release`)."""
        self.check_draft(draft)
        mode = draft["mode"]
        anonymous = mode == "anonymous"
        if not anonymous and reporter is None:
            raise ReportError("A confidential or named report needs to know who you are.")
        reference = await self._unused_reference(session)
        fields = self._report_fields(draft, reference=reference, today=today)
        details = {
            "narrative": str(draft["narrative"]).strip(),
            "occurred_approx": str(draft.get("occurred_approx") or "").strip(),
            "impact": str(draft.get("impact") or "").strip(),
        }
        if anonymous:
            passphrase = new_passphrase(self._words)
            passphrase_hash = await asyncio.to_thread(hash_passphrase, passphrase)
            # Nothing of the report is written beside this turn's state but one sealed,
            # padded intake row; no audit entry, no log line, no alert (see `release`).
            await self._hold(
                session,
                {
                    "kind": "report",
                    "on": today.isoformat(),
                    "fields": fields,
                    "details": details,
                    "passphrase_hash": passphrase_hash,
                },
            )
            return Submitted(reference, passphrase, today)
        assert reporter is not None
        report = self._new_report(fields, details)
        who = {
            "tenant_id": reporter.key.tenant_id,
            "aad_object_id": reporter.key.aad_object_id,
            "name": reporter.name,
        }
        sealed = self._seal(who, reporter_context(reference))
        report.reporter, report.reporter_key = sealed.token, sealed.key_id
        report.reporter_pseudonym = self._pseudonyms.of(reporter.key)
        session.add(report)
        await session.flush()
        await self._audit.append(
            session,
            actor="reporter",
            action="incident.submitted",
            object_type="incident",
            object_id=reference,
            detail={"mode": mode},
        )
        await self._alert_handlers(session, report)
        # Never the reference or anything else about the report in the logs.
        log.info("incident.submitted", extra={"mode": mode})
        return Submitted(reference, None, today)

    def _report_fields(
        self, draft: dict[str, Any], *, reference: str, today: date
    ) -> dict[str, Any]:
        """The report's readable columns (JSON-safe: dates as ISO text)."""
        limits = self.taxonomy.limits
        anonymous = draft["mode"] == "anonymous"
        return {
            "reference": reference,
            "mode": draft["mode"],
            "relationship": draft["relationship"],
            "received_on": today.isoformat(),
            "motivations": ",".join(draft.get("motivations") or []),
            "kinds": ",".join(draft.get("kinds") or []),
            "location": draft.get("location"),
            "perpetrator": draft.get("perpetrator"),
            "frequency": draft.get("frequency"),
            "possible_crime": draft.get("possible_crime"),
            "occurred_on": draft.get("occurred_on") or None,
            "wants_contact": bool(draft.get("wants_contact")) and not anonymous,
            "consent_monitoring": bool(draft.get("consent_monitoring")),
            "consent_police": bool(draft.get("consent_police")),
            "consent_hr": bool(draft.get("consent_hr")),
            "acknowledge_by": (today + timedelta(days=limits["acknowledge_days"])).isoformat(),
            "feedback_by": add_months(today, limits["feedback_months"]).isoformat(),
        }

    def _new_report(
        self, fields: dict[str, Any], details: dict[str, str], *, passphrase_hash: str | None = None
    ) -> IncidentReport:
        """A report row from `_report_fields`, with its details sealed under its reference."""
        dates = ("received_on", "occurred_on", "acknowledge_by", "feedback_by")
        values = {
            name: date.fromisoformat(value) if name in dates and value else value
            for name, value in fields.items()
        }
        received: date = values["received_on"]
        sealed = self._seal(details, details_context(fields["reference"]))
        return IncidentReport(
            id=random_row_id(),
            **values,
            details=sealed.token,
            details_key=sealed.key_id,
            passphrase_hash=passphrase_hash,
            status="new",
            reminders_sent="",
            version=1,
            # The day only, in UTC as every stored time is: never the moment of arrival.
            updated_at=datetime(received.year, received.month, received.day, tzinfo=UTC),
        )

    async def _unused_reference(self, session: AsyncSession) -> str:
        held = {
            h.item["fields"]["reference"]
            for h in await self._held(session)
            if h.item.get("kind") == "report"
        }
        while True:
            reference = new_reference()
            taken = await session.execute(
                select(IncidentReport.id).where(IncidentReport.reference == reference)
            )
            if taken.first() is None and reference not in held:
                return reference

    # ---- reading a report -----------------------------------------------------------------

    async def view(self, session: AsyncSession, report: IncidentReport) -> CaseView:
        """The report decrypted, with its messages and history."""
        details = self._open(report.details, report.details_key, details_context(report.reference))
        reporter = None
        if report.reporter is not None and report.reporter_key is not None:
            reporter = self._open(
                report.reporter,
                report.reporter_key,
                reporter_context(report.reference),
            )
        view = CaseView(
            report=report,
            narrative=str(details.get("narrative", "")),
            occurred_approx=str(details.get("occurred_approx", "")),
            impact=str(details.get("impact", "")),
            reporter=reporter,
        )
        rows = await session.execute(
            select(IncidentMessage)
            .where(IncidentMessage.report_id == report.id)
            .order_by(IncidentMessage.seq)
        )
        for message in rows.scalars():
            try:
                body = self._cipher.open(
                    Sealed(message.body_key, message.body),
                    context=message_context(message.id),
                )
            except DecryptionError:
                body = "(this message could not be decrypted)"
            view.messages.append((message.author, message.written_on, body))
        events = await session.execute(
            select(IncidentEvent)
            .where(IncidentEvent.report_id == report.id)
            .order_by(IncidentEvent.seq)
        )
        view.events = list(events.scalars())
        return view

    async def by_reference(self, session: AsyncSession, reference: str) -> IncidentReport | None:
        """The report with this reference, if any."""
        rows = await session.execute(
            select(IncidentReport).where(IncidentReport.reference == reference)
        )
        return rows.scalar_one_or_none()

    async def find_for_reporter(
        self,
        session: AsyncSession,
        reference: str,
        *,
        person: PersonKey | None,
        sender: str,
        passphrase: str | None,
        now: datetime | None = None,
    ) -> IncidentReport | PendingReport | str:
        """The report if this person may see it, else NOT_FOUND, or PAUSED when this person
        (`person`, or the chat's `sender` id without one) has tried too often lately.

        A made-up reference, someone else's report and a wrong passphrase get the same
        answer by the same path (one passphrase hash every time, a decoy's when there is no
        report to check against), and nothing is ever written beside the report: wrong
        tries count against the person trying, so nobody can lock the real reporter out."""
        moment = now or utcnow()
        who = self._attempts_pseudonym(person, sender)
        window = self._attempt_window(moment)
        if (
            await self._failures(session, who, window)
            >= self.taxonomy.limits["passphrase_attempts"]
        ):
            return PAUSED
        report = await self.by_reference(session, reference)
        pending = await self._pending_report(session, reference)  # looked for every time
        stored = self._decoy_hash
        if report is not None:
            if report.mode == "anonymous" and report.passphrase_hash:
                stored = report.passphrase_hash
        elif pending is not None:
            stored = str(pending.item.get("passphrase_hash") or self._decoy_hash)
        matches = await asyncio.to_thread(passphrase_matches, passphrase or "", stored)
        if report is not None:
            if report.mode == "anonymous" and matches:
                return report
            mine = person is not None and report.reporter_pseudonym == self._pseudonyms.of(person)
            if report.mode != "anonymous" and mine:
                return report
        elif pending is not None and matches:
            fields = pending.item["fields"]
            return PendingReport(reference, date.fromisoformat(fields["received_on"]))
        await self._count_failure(session, who, window)
        return NOT_FOUND

    async def reporter_view(
        self, session: AsyncSession, found: IncidentReport | PendingReport
    ) -> ReporterView:
        """The status and messages a reporter sees, including what is still in the intake."""
        held = [
            (str(h.item["author"]), date.fromisoformat(h.item["on"]), str(h.item["body"]))
            for h in await self._held(session)
            if h.item.get("kind") == "message" and h.item.get("reference") == found.reference
        ]
        if isinstance(found, PendingReport):
            return ReporterView(found.reference, "new", found.received_on, None, True, sorted(held))
        view = await self.view(session, found)
        return ReporterView(
            found.reference,
            found.status,
            found.received_on,
            found.outcome,
            found.mode == "anonymous",
            sorted([*view.messages, *held], key=lambda m: m[1]),
        )

    # ---- the per-person limit on checking -------------------------------------------------

    def _attempts_pseudonym(self, person: PersonKey | None, sender: str) -> str:
        """A keyed pseudonym for counting one person's tries, used nowhere else."""
        who = f"{person.tenant_id}/{person.aad_object_id}" if person else f"sender:{sender}"
        return hmac.new(self._attempts_key, who.encode(), hashlib.sha256).hexdigest()

    def _attempt_window(self, moment: datetime) -> int:
        return int(moment.timestamp()) // (60 * self.taxonomy.limits["cooldown_minutes"])

    async def _failures(self, session: AsyncSession, who: str, window: int) -> int:
        found = await session.execute(
            select(IncidentCheckAttempts.failures).where(
                IncidentCheckAttempts.who == who, IncidentCheckAttempts.window == window
            )
        )
        return int(found.scalar() or 0)

    async def _count_failure(self, session: AsyncSession, who: str, window: int) -> None:
        table = IncidentCheckAttempts
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(who=who, window=window, failures=1)
        statement = statement.on_conflict_do_update(
            index_elements=[table.who, table.window],
            set_={"failures": table.failures + 1},
        )
        await session.execute(statement)
        # Short-lived: this person's earlier windows go now, everyone's at the next sweep.
        await session.execute(
            delete(IncidentCheckAttempts).where(
                IncidentCheckAttempts.who == who, IncidentCheckAttempts.window < window
            )
        )

    async def forget_old_attempts(self, session: AsyncSession, *, now: datetime) -> int:
        """Delete every person's tries from windows that have ended."""
        result = await session.execute(
            delete(IncidentCheckAttempts).where(
                IncidentCheckAttempts.window < self._attempt_window(now)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # ---- the anonymous intake -------------------------------------------------------------

    async def _hold(self, session: AsyncSession, item: dict[str, Any]) -> None:
        """Put an anonymous report or message in the intake: one sealed, padded row."""
        row_id = random_row_id()
        document = json.dumps(item, ensure_ascii=False)
        document += " " * (-len(document) % _INTAKE_PAD)
        sealed = self._cipher.seal(document, context=intake_context(row_id))
        session.add(IncidentIntake(id=row_id, payload=sealed.token, payload_key=sealed.key_id))
        await session.flush()

    async def _held(self, session: AsyncSession, *, lock: bool = False) -> list[_Held]:
        """Everything in the intake, opened (a handful of rows: it is emptied daily);
        `lock` claims the rows, so two replicas never release the same ones."""
        query = select(IncidentIntake)
        if lock:
            query = query.with_for_update(skip_locked=True)
        rows = await session.execute(query)
        held = []
        for row in rows.scalars():
            try:
                item = self._open(row.payload, row.payload_key, intake_context(row.id))
            except DecryptionError:
                log.error("incident.intake_unreadable")
                continue
            held.append(_Held(row.id, item))
        return held

    async def _pending_report(self, session: AsyncSession, reference: str) -> _Held | None:
        found = None
        for held in await self._held(session):  # every row, every time: no early exit
            if held.item.get("kind") == "report" and held.item["fields"]["reference"] == reference:
                found = held
        return found

    async def intake_size(self, session: AsyncSession) -> int:
        """How many anonymous reports and messages wait to be released."""
        return len(await self._held(session))

    def release_due(self, held: Sequence[_Held], *, today: date, chance: float) -> bool:
        """Whether to release the intake now: anything from an earlier day always (so
        nothing waits past the first run after midnight), otherwise only once there are
        `release_batch` items, and then at a random run (`chance` below one half), so a
        release does not follow the submission that completed the batch."""
        if not held:
            return False
        if any(date.fromisoformat(h.item["on"]) < today for h in held):
            return True
        return len(held) >= self.taxonomy.limits["release_batch"] and chance < 0.5

    async def release(
        self,
        session: AsyncSession,
        *,
        today: date,
        force: bool = False,
        rng: random.Random | None = None,
    ) -> dict[str, int]:
        """Move the intake into the case list, in shuffled order, in this transaction alone
        (which touches no person's rows). Case handlers are alerted by the next `sweep`."""
        chooser = rng or random.SystemRandom()
        held = await self._held(session, lock=True)
        counts = {"released_reports": 0, "released_messages": 0, "waiting": len(held)}
        if not (force and held) and not self.release_due(
            held, today=today, chance=chooser.random()
        ):
            return counts
        reports = [h for h in held if h.item["kind"] == "report"]
        messages = [h for h in held if h.item["kind"] == "message"]
        chooser.shuffle(reports)
        chooser.shuffle(messages)
        for h in reports:
            item = h.item
            if await self.by_reference(session, item["fields"]["reference"]) is not None:
                # Two references alike (about one in 10^12): the older report keeps it.
                log.error("incident.intake_reference_taken")
                continue
            session.add(
                self._new_report(
                    item["fields"], item["details"], passphrase_hash=item["passphrase_hash"]
                )
            )
            counts["released_reports"] += 1
        await session.flush()
        for h in messages:
            report = await self.by_reference(session, str(h.item["reference"]))
            if report is None:
                continue  # the report was purged meanwhile
            await self.add_message(
                session,
                report,
                author="reporter",
                body=str(h.item["body"]),
                on=date.fromisoformat(h.item["on"]),
            )
            if report.status != "closed":
                self._mark(report, "info_pending")
            counts["released_messages"] += 1
        if session.get_bind().dialect.name == "sqlite":
            # Deleted rows are overwritten with zeros, not just marked free.
            await session.execute(text("PRAGMA secure_delete = ON"))
        await session.execute(
            delete(IncidentIntake).where(IncidentIntake.id.in_([h.row_id for h in held]))
        )
        counts["waiting"] = 0
        return counts

    # ---- follow-up cards --------------------------------------------------------------------

    def followup_token(self, reference: str, *, now: float | None = None) -> str:
        """A token for a card that adds information to `reference`, valid for a while.
        The card carries it instead of the passphrase, and the bot keeps nothing."""
        expires = int((now or time.time()) + 60 * self.taxonomy.limits["followup_card_minutes"])
        message = f"{reference}|{expires}".encode()
        mac = hmac.new(self._token_key, message, hashlib.sha256).hexdigest()[:32]
        return f"{reference}|{expires}|{mac}"

    def check_token(self, token: object, *, now: float | None = None) -> str | None:
        """The reference a follow-up token is for, if it is genuine and unexpired."""
        if not isinstance(token, str) or token.count("|") != 2:
            return None
        reference, expires, mac = token.split("|")
        expected = hmac.new(
            self._token_key, f"{reference}|{expires}".encode(), hashlib.sha256
        ).hexdigest()[:32]
        if not hmac.compare_digest(mac, expected) or not expires.isdigit():
            return None
        if int(expires) < (now or time.time()):
            return None
        return reference

    async def add_message(
        self, session: AsyncSession, report: IncidentReport, *, author: str, body: str, on: date
    ) -> None:
        """Store a message on the case, sealed."""
        message_id = random_row_id()
        seq = await _next_seq(session, IncidentMessage, report.id)
        sealed = self._cipher.seal(body, context=message_context(message_id))
        session.add(
            IncidentMessage(
                id=message_id,
                report_id=report.id,
                seq=seq,
                author=author,
                written_on=on,
                body=sealed.token,
                body_key=sealed.key_id,
            )
        )
        await session.flush()

    async def reporter_adds(
        self, session: AsyncSession, reference: str, text: str, *, today: date
    ) -> str:
        """More information from the reporter of `reference`: ADDED (the handler is told),
        HELD (anonymous: it joins the intake and reaches the case at the next release, so
        it cannot be lined up with this turn either), CLOSED, or NOT_FOUND."""
        report = await self.by_reference(session, reference)
        if report is None:
            if await self._pending_report(session, reference) is None:
                return NOT_FOUND
        elif report.status == "closed":
            return CLOSED
        if report is None or report.mode == "anonymous":
            await self._hold(
                session,
                {
                    "kind": "message",
                    "reference": reference,
                    "author": "reporter",
                    "body": text,
                    "on": today.isoformat(),
                },
            )
            return HELD
        await self.add_message(session, report, author="reporter", body=text, on=today)
        words = self.words["notify"]
        activity = text_activity(words["handler_info"].format(reference=report.reference))
        await self._tell_handlers(session, report, activity, kind="incident.info")
        return ADDED

    # ---- notifications ----------------------------------------------------------------------

    async def handlers(self, session: AsyncSession) -> list[PersonKey]:
        """Every case handler the bot can reach (grants bound to an Entra object id)."""
        grants = await list_grants(session, role=Role.CASE_HANDLER)
        people: list[PersonKey] = []
        unbound = [g.aad_object_id for g in grants if g.aad_object_id and not g.tenant_id]
        for grant in grants:
            if grant.aad_object_id and grant.tenant_id:
                people.append(PersonKey(grant.tenant_id, grant.aad_object_id))
        if unbound:
            table = ConversationReferenceRecord
            rows = await session.execute(
                select(table.tenant_id, table.aad_object_id).where(table.aad_object_id.in_(unbound))
            )
            people.extend(PersonKey(t, a) for t, a in rows)
        return list(dict.fromkeys(people))

    async def handler_choices(self, session: AsyncSession) -> list[Person]:
        """Every reachable case handler with the name Teams last showed for them, for
        assigning a case to a colleague."""
        keys = await self.handlers(session)
        if not keys:
            return []
        table = ConversationReferenceRecord
        rows = await session.execute(
            select(table.tenant_id, table.aad_object_id, table.reference).where(
                table.aad_object_id.in_([k.aad_object_id for k in keys])
            )
        )
        names: dict[PersonKey, str] = {}
        for tenant, aad, reference in rows:
            try:
                name = json.loads(reference).get("user", {}).get("name")
            except (ValueError, AttributeError):
                name = None
            if isinstance(name, str) and name.strip():
                names[PersonKey(tenant, aad)] = name.strip()
        people = [Person(k, names.get(k, self.words["cases"]["unnamed_handler"])) for k in keys]
        return sorted(people, key=lambda p: p.name.casefold())

    def _assigned(self, report: IncidentReport) -> PersonKey | None:
        if not report.assigned_to or "/" not in report.assigned_to:
            return None
        tenant, aad = report.assigned_to.removeprefix("teams:").split("/", 1)
        return PersonKey(tenant, aad)

    async def _tell_handlers(
        self,
        session: AsyncSession,
        report: IncidentReport,
        activity: dict[str, Any],
        *,
        kind: str,
        everyone: bool = False,
        dedupe_key: str | None = None,
    ) -> None:
        if self._outbox is None:
            return
        assigned = None if everyone else self._assigned(report)
        recipients = [assigned] if assigned is not None else await self.handlers(session)
        if not recipients:
            log.warning("incident.no_handlers", extra={"kind": kind})
            return
        await self._outbox.enqueue(
            session, kind=kind, recipients=recipients, activity=activity, dedupe_key=dedupe_key
        )

    async def _alert_handlers(self, session: AsyncSession, report: IncidentReport) -> None:
        words = self.words["notify"]
        tax = self.taxonomy
        categories = (
            "; ".join(
                part
                for part in (
                    tax.labels("motivations", _codes(report.motivations)),
                    tax.labels("kinds", _codes(report.kinds)),
                )
                if part
            )
            or "No categories given"
        )
        title = words["handler_new"].format(reference=report.reference)
        body = words["handler_new_body"].format(
            received=report.received_on.strftime("%-d %B %Y"), categories=categories
        )
        card = self.content.card(
            "info",
            heading=title,
            paragraphs=[body],
            bullets=[],
            source=None,
            question=None,
            buttons=[
                {
                    "title": self.words["cases"]["open_button"].format(reference=report.reference),
                    "data": {"command": "cases", "open": report.reference},
                }
            ],
        )
        self._mark(report, "alerted")
        await self._tell_handlers(
            session,
            report,
            card_activity(card, summary=title),
            kind="incident.alert",
            everyone=True,
            dedupe_key=f"incident.alert:{report.reference}",
        )

    async def tell_reporter(
        self, session: AsyncSession, report: IncidentReport, text: str, *, kind: str
    ) -> bool:
        """Tell a confidential or named reporter in Teams; False when anonymous."""
        if report.mode == "anonymous" or report.reporter is None or self._outbox is None:
            return False
        who = self._open(
            report.reporter,
            report.reporter_key or "",
            reporter_context(report.reference),
        )
        person = PersonKey(who["tenant_id"], who["aad_object_id"])
        await self._outbox.enqueue(
            session, kind=kind, recipients=[person], activity=text_activity(text)
        )
        return True

    @staticmethod
    def _mark(report: IncidentReport, code: str) -> None:
        sent = set(_codes(report.reminders_sent))
        sent.add(code)
        report.reminders_sent = ",".join(sorted(sent))

    @staticmethod
    def _unmark(report: IncidentReport, code: str) -> None:
        report.reminders_sent = ",".join(c for c in _codes(report.reminders_sent) if c != code)

    async def sweep(self, session: AsyncSession, *, today: date) -> dict[str, int]:
        """Alerts for new anonymous reports and information, deadline reminders to the
        assigned handler, and escalation to every handler when a deadline is missed."""
        counts = {"alerts": 0, "reminders": 0, "escalations": 0}
        await self.forget_old_attempts(session, now=utcnow())
        limits = self.taxonomy.limits
        words = self.words["notify"]
        rows = await session.execute(
            select(IncidentReport)
            .where(IncidentReport.status.in_(OPEN_STATUSES))
            .order_by(IncidentReport.received_on, IncidentReport.reference)
        )
        for report in rows.scalars():
            sent = set(_codes(report.reminders_sent))
            if "alerted" not in sent:
                await self._alert_handlers(session, report)
                counts["alerts"] += 1
            if "info_pending" in sent:
                self._unmark(report, "info_pending")
                text = words["handler_info"].format(reference=report.reference)
                await self._tell_handlers(
                    session, report, text_activity(text), kind="incident.info"
                )
            deadlines = []
            if report.acknowledged_on is None:
                deadlines.append(
                    ("acknowledge", report.acknowledge_by, limits["remind_days_before_acknowledge"])
                )
            if report.feedback_on is None:
                deadlines.append(
                    ("feedback", report.feedback_by, limits["remind_days_before_feedback"])
                )
            for name, due, notice in deadlines:
                due_text = due.strftime("%-d %B %Y")
                if today > due and f"{name}_escalated" not in sent:
                    self._mark(report, f"{name}_escalated")
                    text = words[f"escalate_{name}"].format(
                        reference=report.reference, due=due_text
                    )
                    await self._tell_handlers(
                        session,
                        report,
                        text_activity(text),
                        kind="incident.escalation",
                        everyone=True,
                    )
                    counts["escalations"] += 1
                elif today >= due - timedelta(days=notice) and f"{name}_reminded" not in sent:
                    self._mark(report, f"{name}_reminded")
                    text = words[f"remind_{name}"].format(reference=report.reference, due=due_text)
                    await self._tell_handlers(
                        session, report, text_activity(text), kind="incident.reminder"
                    )
                    counts["reminders"] += 1
        return counts

    # ---- case handling --------------------------------------------------------------------

    async def open_cases(self, session: AsyncSession) -> list[IncidentReport]:
        """Open cases, oldest first."""
        rows = await session.execute(
            select(IncidentReport)
            .where(IncidentReport.status.in_(OPEN_STATUSES))
            .order_by(IncidentReport.received_on, IncidentReport.reference)
        )
        return list(rows.scalars())

    async def all_cases(self, session: AsyncSession) -> list[IncidentReport]:
        """Every case, newest first."""
        rows = await session.execute(
            select(IncidentReport).order_by(
                IncidentReport.received_on.desc(), IncidentReport.reference
            )
        )
        return list(rows.scalars())

    async def audit_access(
        self, session: AsyncSession, *, actor: str, action: str, reference: str, **detail: Any
    ) -> None:
        """Record a handler's look at, or change to, a case."""
        await self._audit.append(
            session,
            actor=actor,
            role=Role.CASE_HANDLER.value,
            action=action,
            object_type="incident",
            object_id=reference,
            detail=detail,
        )

    async def _record(
        self,
        session: AsyncSession,
        report: IncidentReport,
        what: str,
        *,
        by: Person,
        today: date,
        expected_version: int | None,
        values: dict[str, Any],
        note: str = "",
        **detail: Any,
    ) -> bool:
        """Apply a handler's change unless someone else changed the case since
        `expected_version`; then add it to the case history and the audit log
        (`incident.<what>`). False, with nothing written, if the case had moved on."""
        version = report.version if expected_version is None else expected_version
        changed = await session.execute(
            update(IncidentReport)
            .where(IncidentReport.id == report.id, IncidentReport.version == version)
            .values(**values, version=version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await session.refresh(report)
        if not changed.rowcount:  # type: ignore[attr-defined]
            return False
        session.add(
            IncidentEvent(
                id=random_row_id(),
                report_id=report.id,
                seq=await _next_seq(session, IncidentEvent, report.id),
                happened_on=today,
                what=what,
                by_name=by.name,
                note=note,
            )
        )
        await session.flush()
        await self.audit_access(
            session, actor=by.actor, action=f"incident.{what}", reference=report.reference, **detail
        )
        return True

    async def acknowledge(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool:
        """Mark the case acknowledged (and assign it to `by` if nobody has it)."""
        values: dict[str, Any] = {"status": "acknowledged", "acknowledged_on": today}
        if report.assigned_to is None:
            values.update(assigned_to=by.actor, assigned_name=by.name)
        if not await self._record(
            session,
            report,
            "acknowledged",
            by=by,
            today=today,
            expected_version=expected_version,
            values=values,
        ):
            return False
        status = self.words["statuses"]["acknowledged"]
        await self.tell_reporter(
            session,
            report,
            self.words["notify"]["reporter_update"].format(
                reference=report.reference, status=status
            ),
            kind="incident.reporter_update",
        )
        return True

    async def take(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool:
        """Assign the case to `by`."""
        return await self.assign(
            session, report, to=by, by=by, today=today, expected_version=expected_version
        )

    async def assign(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        to: Person,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool:
        """Make `to` (a case handler) the case's handler; a colleague is told in Teams."""
        if to.key not in await self.handlers(session):
            raise ReportError(self.words["cases"]["not_a_handler"])
        colleague = to.key != by.key
        done = await self._record(
            session,
            report,
            "assigned",
            by=by,
            today=today,
            expected_version=expected_version,
            values={"assigned_to": to.actor, "assigned_name": to.name},
            note=self.words["cases"]["assigned_note"].format(name=to.name) if colleague else "",
        )
        if done and colleague and self._outbox is not None:
            words = self.words["notify"]
            title = words["handler_assigned"].format(reference=report.reference, name=by.name)
            card = self.content.card(
                "info",
                heading=title,
                paragraphs=[words["handler_assigned_body"]],
                bullets=[],
                source=None,
                question=None,
                buttons=[
                    {
                        "title": self.words["cases"]["open_button"].format(
                            reference=report.reference
                        ),
                        "data": {"command": "cases", "open": report.reference},
                    }
                ],
            )
            await self._outbox.enqueue(
                session,
                kind="incident.assigned",
                recipients=[to.key],
                activity=card_activity(card, summary=title),
            )
        return done

    async def triage(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        risk: str,
        classification: str,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool:
        """Record the risk to the reporter and whether it may be a crime."""
        if not (
            self.taxonomy.valid("risk", risk)
            and self.taxonomy.valid("classification", classification)
        ):
            raise ReportError(self.words["cases"]["bad_choice"])
        values: dict[str, Any] = {"risk": risk, "classification": classification}
        if report.status in ("new", "acknowledged"):
            values["status"] = "in_progress"
            if report.acknowledged_on is None:
                values["acknowledged_on"] = today
        return await self._record(
            session,
            report,
            "triaged",
            by=by,
            today=today,
            expected_version=expected_version,
            values=values,
            note=f"risk {risk}, {classification}",
            risk=risk,
            classification=classification,
        )

    async def message_reporter(
        self,
        session: AsyncSession,
        report: IncidentReport,
        text: str,
        *,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool | None:
        """Store a message for the reporter; None if the case changed meanwhile, else
        whether the reporter was told in Teams (anonymous reporters see it when they check)."""
        values: dict[str, Any] = {}
        if report.feedback_on is None:
            values["feedback_on"] = today
        if not await self._record(
            session,
            report,
            "messaged",
            by=by,
            today=today,
            expected_version=expected_version,
            values=values,
        ):
            return None
        await self.add_message(session, report, author="handler", body=text, on=today)
        return await self.tell_reporter(
            session,
            report,
            self.words["notify"]["reporter_message"].format(reference=report.reference),
            kind="incident.reporter_message",
        )

    async def close(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        outcome: str,
        note: str,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> bool:
        """Close the case with an outcome; a referral needs the reporter's consent."""
        words = self.words["cases"]
        if not self.taxonomy.valid("outcome", outcome):
            raise ReportError(words["bad_choice"])
        needs = self.taxonomy.outcome_needs.get(outcome)
        if needs and not getattr(report, needs):
            raise ReportError(words["no_consent"])
        values: dict[str, Any] = {"status": "closed", "outcome": outcome, "closed_on": today}
        if report.feedback_on is None:
            values["feedback_on"] = today
        if report.acknowledged_on is None:
            values["acknowledged_on"] = today
        if not await self._record(
            session,
            report,
            "closed",
            by=by,
            today=today,
            expected_version=expected_version,
            values=values,
            note=outcome,
            outcome=outcome,
        ):
            return False
        if note.strip():
            await self.add_message(session, report, author="handler", body=note.strip(), on=today)
        await self.tell_reporter(
            session,
            report,
            self.words["notify"]["reporter_update"].format(
                reference=report.reference, status=self.words["statuses"]["closed"]
            ),
            kind="incident.reporter_update",
        )
        return True


async def _next_seq(
    session: AsyncSession, table: type[IncidentMessage] | type[IncidentEvent], report_id: int
) -> int:
    """The next place in a case's messages or history."""
    found = await session.execute(select(func.max(table.seq)).where(table.report_id == report_id))
    return int(found.scalar() or 0) + 1


def _codes(text: str | None) -> list[str]:
    return [code for code in (text or "").split(",") if code]


def categories_of(report: IncidentReport) -> dict[str, list[str]]:
    """The report's category codes, as lists."""
    return {"motivations": _codes(report.motivations), "kinds": _codes(report.kinds)}


# ---- retention, and one person's data -------------------------------------------------------


async def purge_closed_before(session: AsyncSession, cutoff: date) -> int:
    """Delete cases closed before `cutoff`, with their messages and history (retention)."""
    old = select(IncidentReport.id).where(
        IncidentReport.status == "closed", IncidentReport.closed_on < cutoff
    )
    ids = list((await session.execute(old)).scalars())
    if not ids:
        return 0
    await session.execute(delete(IncidentMessage).where(IncidentMessage.report_id.in_(ids)))
    await session.execute(delete(IncidentEvent).where(IncidentEvent.report_id.in_(ids)))
    await session.execute(delete(IncidentReport).where(IncidentReport.id.in_(ids)))
    return len(ids)


async def export_reports(
    session: AsyncSession, cipher: FieldCipher, pseudonym: str
) -> list[dict[str, Any]]:
    """A person's confidential and named reports, decrypted, for a subject access request.
    (Anonymous reports are not linked to anyone, so they cannot be found or included.)"""
    rows = await session.execute(
        select(IncidentReport).where(IncidentReport.reporter_pseudonym == pseudonym)
    )
    reports = []
    for report in rows.scalars():
        details = json.loads(
            cipher.open(
                Sealed(report.details_key, report.details),
                context=details_context(report.reference),
            )
        )
        messages = await session.execute(
            select(IncidentMessage)
            .where(IncidentMessage.report_id == report.id)
            .order_by(IncidentMessage.seq)
        )
        reports.append(
            {
                "reference": report.reference,
                "how_reported": report.mode,
                "received_on": report.received_on,
                "status": report.status,
                "motivations": _codes(report.motivations),
                "kinds": _codes(report.kinds),
                "what_happened": details,
                "messages": [
                    {
                        "from": m.author,
                        "on": m.written_on,
                        "text": cipher.open(
                            Sealed(m.body_key, m.body), context=message_context(m.id)
                        ),
                    }
                    for m in messages.scalars()
                ],
            }
        )
    return reports


async def unlink_reporter(session: AsyncSession, pseudonym: str) -> int:
    """Erasure: remove the reporter's identity from their reports. The cases themselves are
    kept (the council may need them, e.g. for a crime or a claim) but no longer say who
    reported them: they become as anonymous as an anonymous report."""
    result = await session.execute(
        update(IncidentReport)
        .where(IncidentReport.reporter_pseudonym == pseudonym)
        .values(
            reporter=None,
            reporter_key=None,
            reporter_pseudonym=None,
            wants_contact=False,
            mode="anonymous",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_released(engine: AsyncEngine) -> None:
    """After a release commits, make the database drop the intake rows it deleted: on
    PostgreSQL the table is rewritten (VACUUM FULL), so the dead rows, whose transaction id
    is the reporter's turn's, are gone from its pages; on SQLite the write-ahead log, whose
    frames paired each intake row with its turn's state, is checkpointed and truncated."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            for wait in (0.5, 1, 2, 4, 0):
                await driver.execute("VACUUM FULL incident_intake")
                # An older snapshot elsewhere in the database (an autovacuum ANALYZE, a
                # long query) keeps deleted rows "recently dead": try again shortly.
                left = await driver.fetchval(
                    "SELECT pg_relation_size('incident_intake') > 0"
                    " AND NOT EXISTS (SELECT 1 FROM incident_intake)"
                )
                if not left or not wait:
                    break
                await asyncio.sleep(wait)
        elif engine.dialect.name == "sqlite":
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def unassign_from(session: AsyncSession, actor: str) -> int:
    """Erasure of a case handler: their cases go back to the unassigned queue."""
    result = await session.execute(
        update(IncidentReport).where(IncidentReport.assigned_to == actor).values(assigned_to=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
