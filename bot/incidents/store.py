"""Reports and their messages: sealing, reading, numbering, and the audit of every look.

The bottom layer of the incident service (`Incidents` in service.py); each layer above adds
one part of the work: handler notices, the anonymous intake, reporting, then case handling."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.incidents import repo
from bot.incidents.evidence_store import EvidenceLimits, EvidenceStore
from bot.incidents.models import (
    IncidentEvent,
    IncidentMessage,
    IncidentReport,
    details_context,
    message_context,
    random_row_id,
    reporter_context,
)
from bot.incidents.records import (
    CaseView,
    Person,
    add_months,
)
from bot.incidents.references import hash_passphrase
from bot.incidents.taxonomy import Taxonomy, codes_of
from bot.outbox.queue import Outbox, queued_text
from bot.privacy.audit import AuditLog
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.pseudonym import Pseudonymiser
from bot.privacy.roles import Role


class IncidentStore:
    """The service's keys, words and outbox, and what every other layer builds on."""

    def __init__(
        self,
        *,
        content: Content,
        cipher: FieldCipher,
        audit: AuditLog,
        pseudonyms: Pseudonymiser,
        outbox: Outbox | None,
        token_key: bytes,
        evidence_limits: EvidenceLimits | None = None,
    ) -> None:
        self.content = content
        self.evidence = EvidenceStore(cipher, evidence_limits or EvidenceLimits())
        self.taxonomy = Taxonomy(content.data("incidents/words"))
        self._cipher = cipher
        self._audit = audit
        self._pseudonyms = pseudonyms
        self._outbox = outbox
        self._token_key = hashlib.sha256(b"edi-bot incident follow-up\x00" + token_key).digest()
        self._attempts_key = hashlib.sha256(b"edi-bot check attempts\x00" + token_key).digest()
        # Checked when there is no report to check against, so every check costs one hash.
        self._decoy_hash = hash_passphrase(secrets.token_hex(16))
        self._words: list[str] = list(content.data("incidents/passphrase_words")["words"])
        self._passphrase_words = frozenset(word.lower() for word in self._words)

    @property
    def words(self) -> dict[str, Any]:
        """The sentences and labels of content/incidents/words.yaml."""
        return self.taxonomy.data

    def could_be_passphrase(self, text: str) -> bool:
        """Whether `text` is nothing but passphrase words and numbers (or nothing at all):
        "otter candle summit plum 42" could be; "it happened again by the lifts" could not."""
        known = self._passphrase_words
        return all(
            part.isdigit() or part in known for part in re.findall(r"[a-z0-9]+", text.lower())
        )

    def _seal(self, value: dict[str, Any], context: str) -> Sealed:
        return self._cipher.seal(json.dumps(value, ensure_ascii=False), context=context)

    def _open(self, token: str, key_id: str, context: str) -> dict[str, Any]:
        opened: dict[str, Any] = json.loads(
            self._cipher.open(Sealed(key_id, token), context=context)
        )
        return opened

    async def by_reference(self, session: AsyncSession, reference: str) -> IncidentReport | None:
        """The report with this reference, if any."""
        return await repo.report_by_reference(session, reference=reference)

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
            others={str(k): str(v) for k, v in (details.get("others") or {}).items()},
            written_down=str(details.get("written_down") or ""),
        )
        for message in await repo.case_messages(session, report_id=report.id):
            try:
                body = self._cipher.open(
                    Sealed(message.body_key, message.body),
                    context=message_context(message.id),
                )
            except DecryptionError:
                body = "(this message could not be decrypted)"
            view.messages.append((message.author, message.written_on, body))
        view.events = await repo.case_events(session, report_id=report.id)
        view.files = await self.evidence.files_of(session, report.id)
        return view

    async def add_message(
        self, session: AsyncSession, report: IncidentReport, *, author: str, body: str, on: date
    ) -> None:
        """Store a message on the case, sealed."""
        message_id = random_row_id()
        seq = await repo.next_seq(session, table=IncidentMessage, report_id=report.id)
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

    def _new_report(
        self, fields: dict[str, Any], details: dict[str, Any], *, passphrase_hash: str | None = None
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

    @staticmethod
    def _mark(report: IncidentReport, code: str) -> None:
        sent = set(codes_of(report.reminders_sent))
        sent.add(code)
        report.reminders_sent = ",".join(sorted(sent))

    @staticmethod
    def _unmark(report: IncidentReport, code: str) -> None:
        report.reminders_sent = ",".join(c for c in codes_of(report.reminders_sent) if c != code)

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
            session, kind=kind, recipients=[person], message=queued_text(text)
        )
        return True

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
        if not await repo.change_report(
            session, report=report, version=version, values=values, at=utcnow()
        ):
            return False
        session.add(
            IncidentEvent(
                id=random_row_id(),
                report_id=report.id,
                seq=await repo.next_seq(session, table=IncidentEvent, report_id=report.id),
                happened_on=today,
                what=what,
                by_name=by.name,
                note=note,
            )
        )
        await session.flush()
        if by.via:
            detail["via"] = by.via
        await self.audit_access(
            session, actor=by.actor, action=f"incident.{what}", reference=report.reference, **detail
        )
        return True
