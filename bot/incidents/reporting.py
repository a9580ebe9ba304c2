"""The reporter's side: submitting a report, checking it later, adding to it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.incidents import repo
from bot.incidents.evidence_store import neutral_names
from bot.incidents.intake import AnonymousIntake
from bot.incidents.models import IncidentReport, reporter_context
from bot.incidents.records import (
    ADDED,
    CLOSED,
    FULL,
    HELD,
    MODES,
    NOT_FOUND,
    PAUSED,
    PendingReport,
    Person,
    ReportError,
    ReporterView,
    Submitted,
)
from bot.incidents.references import (
    hash_passphrase,
    new_passphrase,
    new_reference,
    passphrase_matches,
)
from bot.incidents.taxonomy import Taxonomy
from bot.incidents.written_down import written_down_for
from bot.outbox.queue import queued_text

log = logging.getLogger("bot.incidents")


class Reporting(AnonymousIntake):
    """What a reporter can do: submit, find their report again (probing-resistant), add to it."""

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
        if len(draft.get("files") or []) > self.evidence.limits.max_files:
            raise ReportError("There are too many files; please remove some on the review.")

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
        files = [int(f["id"]) for f in draft.get("files") or []]
        details = self._details_of(draft)
        # A report made from a private record: when it was written down (a month if anonymous).
        if written := written_down_for(draft.get("written_down"), anonymous=anonymous):
            details["written_down"] = written
        if anonymous:
            passphrase = new_passphrase(self._words)
            passphrase_hash = await asyncio.to_thread(hash_passphrase, passphrase)
            # Nothing of the report is written beside this turn's state but one sealed,
            # padded intake row; no audit entry, no log line, no alert (see `release`).
            await self._hold(
                session,
                {
                    **self._pattern_item(draft),
                    "kind": "report",
                    "on": today.isoformat(),
                    "fields": fields,
                    "details": details,
                    "passphrase_hash": passphrase_hash,
                    # Its files wait (sealed, nothing readable) and go with it at release.
                    "files": files,
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
        attached = await self.evidence.attach(session, report, files, named=True)
        await self._audit.append(
            session,
            actor="reporter",
            action="incident.submitted",
            object_type="incident",
            object_id=reference,
            detail={"mode": mode, "files": attached},
        )
        await self._alert_handlers(session, report)
        # Never the reference or anything else about the report in the logs.
        log.info("incident.submitted", extra={"mode": mode})
        return Submitted(reference, None, today)

    @staticmethod
    def _details_of(draft: dict[str, Any]) -> dict[str, Any]:
        """The free text of a draft, to be sealed with the report."""
        return {
            "narrative": str(draft["narrative"]).strip(),
            "occurred_approx": str(draft.get("occurred_approx") or "").strip(),
            "impact": str(draft.get("impact") or "").strip(),
            "others": {
                str(name): str(text).strip()
                for name, text in (draft.get("others") or {}).items()
                if str(text).strip()
            },
        }

    async def _unused_reference(self, session: AsyncSession) -> str:
        held = {
            h.item["fields"]["reference"]
            for h in await self._held(session)
            if h.item.get("kind") == "report"
        }
        while True:
            reference = new_reference()
            taken = await repo.reference_taken(session, reference=reference)
            if not taken and reference not in held:
                return reference

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
            await repo.check_failures(session, who=who, window=window)
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
        # Short-lived: this person's earlier windows go now, everyone's at the next sweep.
        await repo.count_check_failure(session, who=who, window=window)
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
        waiting = await self.evidence.waiting(session, await self._held_file_ids(session, found))
        if isinstance(found, PendingReport):
            return ReporterView(
                found.reference,
                "new",
                found.received_on,
                None,
                True,
                sorted(held),
                neutral_names(waiting, after=0),
            )
        view = await self.view(session, found)
        if found.mode == "anonymous":
            # As the case team will see them once released: by neutral names.
            waiting = neutral_names(waiting, after=len(view.files))
        return ReporterView(
            found.reference,
            found.status,
            found.received_on,
            found.outcome,
            found.mode == "anonymous",
            sorted([*view.messages, *held], key=lambda m: m[1]),
            [*view.files, *waiting],
        )

    async def _held_file_ids(
        self, session: AsyncSession, found: IncidentReport | PendingReport
    ) -> list[int]:
        """The waiting files that go to `found` at the next release: the report's own first
        (as the release numbers them), then those added later."""
        mine = [
            h
            for h in await self._held(session)
            if h.item.get("reference", (h.item.get("fields") or {}).get("reference"))
            == found.reference
        ]
        mine.sort(key=lambda h: (h.item.get("kind") != "report", h.item.get("on", "")))
        return [int(i) for h in mine for i in h.item.get("files") or []]

    async def reporter_adds_files(
        self, session: AsyncSession, reference: str, ids: list[int], *, today: date
    ) -> tuple[str, int]:
        """Waiting files from the reporter of `reference` (checked by the caller), made part
        of it as `reporter_adds` does with words: (ADDED, HELD, CLOSED, NOT_FOUND or FULL,
        how many). Those over the report's limit are deleted."""
        report = await self.by_reference(session, reference)
        pending = None if report is not None else await self._pending_report(session, reference)
        if report is None and pending is None:
            await self.evidence.drop(session, ids)
            return NOT_FOUND, 0
        if report is not None and report.status == "closed":
            await self.evidence.drop(session, ids)
            return CLOSED, 0
        found: IncidentReport | PendingReport = report or PendingReport(reference, today)
        held = len(await self._held_file_ids(session, found))
        stored = await self.evidence.count(session, report.id) if report is not None else 0
        room = max(self.evidence.limits.max_files - held - stored, 0)
        taken, over = ids[:room], ids[room:]
        await self.evidence.drop(session, over)
        if not taken:
            return FULL, 0
        if report is None or report.mode == "anonymous":
            item = {
                "kind": "files",
                "reference": reference,
                "files": taken,
                "on": today.isoformat(),
            }
            await self._hold(session, item)
            return HELD, len(taken)
        await self.evidence.attach(session, report, taken, named=True)
        words = self.words["notify"]
        activity = queued_text(words["handler_info"].format(reference=report.reference))
        await self._tell_handlers(session, report, activity, kind="incident.info")
        return ADDED, len(taken)

    def _attempts_pseudonym(self, person: PersonKey | None, sender: str) -> str:
        """A keyed pseudonym for counting one person's tries, used nowhere else."""
        who = f"{person.tenant_id}/{person.aad_object_id}" if person else f"sender:{sender}"
        return hmac.new(self._attempts_key, who.encode(), hashlib.sha256).hexdigest()

    def _attempt_window(self, moment: datetime) -> int:
        return int(moment.timestamp()) // (60 * self.taxonomy.limits["cooldown_minutes"])

    async def forget_old_attempts(self, session: AsyncSession, *, now: datetime) -> int:
        """Delete every person's tries from windows that have ended."""
        return await repo.forget_check_failures_before(session, window=self._attempt_window(now))

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
        activity = queued_text(words["handler_info"].format(reference=report.reference))
        await self._tell_handlers(session, report, activity, kind="incident.info")
        return ADDED

    def _pattern_item(self, draft: dict[str, Any]) -> dict[str, Any]:
        """What an anonymous report's intake document carries for a pattern check: nothing
        here; bot/incidents/pattern_checks.py adds the claim's hash."""
        return {}
