"""Patterns across reports, with consent: "tell the case team only if someone else reports
the same person" (docs/incidents.md, "Patterns across reports").

A report whose reporter asked for it keeps one entry in `incident_pattern_checks`: the keyed
hash of the person named (bot/incidents/patterns.py) and the report's reference, sealed.
When two or more reports by different reporters share a hash, every case handler is sent
one alert naming them all, and their entries are marked, so a re-run or a second replica
never alerts twice; a later report naming the same person brings one new alert naming every
report so far. One report alone never alerts.

When an entry is written depends on how the report was made, as everything else about it:
- confidential or named: in the reporter's turn, with the report, and checked at once;
- anonymous: the hash travels inside the report's sealed intake document and the entry is
  written when the intake is released (in that transaction, in shuffled order, dated with
  the report's day), so it carries nothing of the reporter's turn; the incident job's sweep,
  in the next transaction, looks for patterns.

Off (EDI_PATTERNS_ENABLED false): the question is never asked, nothing new is kept, no
alerts; entries already kept stay until their retention (or `cases patterns purge`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents import pattern_repo
from bot.incidents.models import (
    IncidentPatternCheck,
    IncidentReport,
    pattern_context,
    random_row_id,
)
from bot.incidents.patterns import DIRECTORY, Claim, PatternConfig, claim_of
from bot.incidents.records import Person, Submitted
from bot.incidents.reporting import Reporting
from bot.outbox.queue import queued_card
from bot.privacy.crypto import DecryptionError, Sealed

log = logging.getLogger("bot.incidents")


class PatternChecks(Reporting):
    """Reporting, with the pattern check's entries kept and matched."""

    def __init__(self, *, patterns: PatternConfig | None = None, **parts: Any) -> None:
        super().__init__(**parts)
        self.patterns = patterns or PatternConfig()
        self.pattern_words: dict[str, Any] = self.content.data("incidents/patterns")

    def pattern_applies(self, answers: dict[str, Any]) -> bool:
        """Whether a report with these answers is asked about a pattern check: the check is
        on, and who did it is one of `ask_when_perpetrator` (a colleague, a manager)."""
        return (
            self.patterns.enabled
            and answers.get("perpetrator") in self.pattern_words["ask_when_perpetrator"]
        )

    def _claim(self, draft: dict[str, Any]) -> Claim | None:
        if not self.pattern_applies(draft):
            return None
        limit = int(self.pattern_words["limits"]["name_chars"])
        return claim_of(self.patterns, draft, name_chars=limit)

    def _pattern_item(self, draft: dict[str, Any]) -> dict[str, Any]:
        """An anonymous report's claim, hashed, for its sealed intake document."""
        claim = self._claim(draft)
        return {"pattern": claim.as_item()} if claim is not None else {}

    async def submit(
        self,
        session: AsyncSession,
        draft: dict[str, Any],
        *,
        reporter: Person | None,
        today: date,
    ) -> Submitted:
        """Store the report (Reporting.submit); a confidential or named report's claim is
        kept now and checked at once (an anonymous one waits in the intake with it)."""
        submitted = await super().submit(session, draft, reporter=reporter, today=today)
        claim = self._claim(draft)
        if claim is None or draft.get("mode") == "anonymous":
            return submitted
        report = await self.by_reference(session, submitted.reference)
        if report is not None:
            await self._keep_claim(session, report, claim)
            await self.pattern_alerts(session, person_hash=claim.person_hash)
        return submitted

    async def release(
        self,
        session: AsyncSession,
        *,
        today: date,
        force: bool = False,
        rng: random.Random | None = None,
    ) -> dict[str, int]:
        """Release the intake (AnonymousIntake.release); with it, in the same transaction and
        shuffled, keep the claims the released anonymous reports carried."""
        chooser = rng or random.SystemRandom()
        waiting: list[tuple[dict[str, Any], Claim]] = []
        if self.patterns.enabled:
            for held in await self._held(session, lock=True):
                claim = Claim.from_item(held.item.get("pattern"))
                if held.item.get("kind") == "report" and claim is not None:
                    waiting.append((held.item["fields"], claim))
        counts = await super().release(session, today=today, force=force, rng=chooser)
        if not counts["released_reports"]:
            return counts
        chooser.shuffle(waiting)
        for fields, claim in waiting:
            report = await self.by_reference(session, str(fields["reference"]))
            if (
                report is not None
                and report.mode == "anonymous"
                and report.received_on.isoformat() == fields["received_on"]
            ):
                await self._keep_claim(session, report, claim)
        return counts

    async def _keep_claim(
        self, session: AsyncSession, report: IncidentReport, claim: Claim
    ) -> None:
        """One entry: the hash, and the reference sealed to the entry's random row."""
        row_id = random_row_id()
        sealed = self._cipher.seal(report.reference, context=pattern_context(row_id))
        session.add(
            IncidentPatternCheck(
                id=row_id,
                person_hash=claim.person_hash,
                kind=claim.kind,
                report=sealed.token,
                report_key=sealed.key_id,
                created_on=report.received_on,
                alerted=False,
            )
        )
        await session.flush()

    async def pattern_alerts(self, session: AsyncSession, *, person_hash: str | None = None) -> int:
        """Tell every case handler of each pattern they have not been told of (the one
        `person_hash` makes, when given): two or more reports, by different reporters as far
        as can be told, naming the same person. How many alerts were queued."""
        if not self.patterns.enabled:
            return 0
        alerts = 0
        for found in await pattern_repo.hashes_to_check(session, person_hash=person_hash):
            entries = await pattern_repo.checks_with_hash(session, person_hash=found, lock=True)
            if all(entry.alerted for entry in entries):
                continue  # another replica told them while this one waited for the lock
            reports = await self._reports_of(session, entries)
            if len(reports) < 2:
                continue
            await self._alert_pattern(session, reports, kind=entries[0].kind)
            await pattern_repo.mark_alerted(session, ids=[entry.id for entry in entries])
            alerts += 1
        return alerts

    def opened_reference(self, entry: IncidentPatternCheck) -> str | None:
        """An entry's report reference, or None if it will not open (a retired key)."""
        try:
            return self._cipher.open(
                Sealed(entry.report_key, entry.report), context=pattern_context(entry.id)
            )
        except DecryptionError:
            log.error("incident.pattern_unreadable")
            return None

    async def _reports_of(
        self, session: AsyncSession, entries: Sequence[IncidentPatternCheck]
    ) -> list[IncidentReport]:
        """The reports these entries belong to, oldest first, if they make a pattern: held
        still, not withdrawn, and from two or more reporters. Two confidential or named
        reports by one person count once (their pseudonyms match); anonymous reports cannot be
        told apart by reporter, so each counts on its own."""
        references = {ref for entry in entries if (ref := self.opened_reference(entry))}
        found = await pattern_repo.reports_named(session, references=references)
        reports = [
            report
            for report in sorted(found.values(), key=lambda r: (r.received_on, r.reference))
            if report.outcome != "withdrawn"
        ]
        reporters = {report.reporter_pseudonym or report.reference for report in reports}
        return reports if len(reporters) >= 2 else []

    async def _alert_pattern(
        self, session: AsyncSession, reports: Sequence[IncidentReport], *, kind: str
    ) -> None:
        words = self.pattern_words["alert"]
        same = "person" if kind == DIRECTORY else "name"
        references = [report.reference for report in reports]
        listed = ", ".join(references[:-1]) + " and " + references[-1]
        title = words[f"title_{same}"].format(count=len(references))
        body = words[f"body_{same}"].format(count=len(references), references=listed)
        card = self.content.card(
            "info",
            heading=title,
            paragraphs=[body, words["next"]],
            bullets=[],
            source=None,
            question=None,
            buttons=[
                {
                    "title": self.words["cases"]["open_button"].format(reference=reference),
                    "data": {"command": "cases", "open": reference},
                }
                for reference in references[: int(self.pattern_words["limits"]["alert_buttons"])]
            ],
        )
        # The same set of reports is one alert, however often it is found: the key is keyed,
        # so the outbox's table does not say which reports were linked.
        joined = ",".join(sorted(references)).encode()
        digest = hmac.new(self.patterns.key, b"pattern-alert:" + joined, hashlib.sha256)
        await self._tell_handlers(
            session,
            reports[-1],
            queued_card(card, summary=title),
            kind="incident.pattern",
            everyone=True,
            dedupe_key=f"incident.pattern:{digest.hexdigest()[:40]}",
        )
        log.info("incident.pattern_alerted", extra={"reports": len(references), "kind": kind})
