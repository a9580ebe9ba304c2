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

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import utcnow
from bot.incidents import repo
from bot.incidents.evidence_links import EvidenceLink
from bot.incidents.evidence_store import FileInfo
from bot.incidents.models import IncidentReport
from bot.incidents.pattern_checks import PatternChecks
from bot.incidents.records import (
    Assigned,
    Person,
    ReportError,
)
from bot.incidents.taxonomy import codes_of
from bot.outbox.queue import queued_card, queued_text

log = logging.getLogger("bot.incidents")


class Incidents(PatternChecks):
    """Reports and cases, in the caller's transaction."""

    async def sweep(self, session: AsyncSession, *, today: date) -> dict[str, int]:
        """Alerts for new anonymous reports and information, deadline reminders to the
        assigned handler, escalation to every handler when a deadline is missed, and (when
        the pattern check is on) alerts of reports that name the same person."""
        counts = {"alerts": 0, "reminders": 0, "escalations": 0}
        await self.forget_old_attempts(session, now=utcnow())
        keep = self.waiting_file_ids(await self._held(session))
        await self.evidence.forget_stale(session, today=today, keep=keep)
        limits = self.taxonomy.limits
        words = self.words["notify"]
        for report in await repo.open_cases(session):
            sent = set(codes_of(report.reminders_sent))
            if "alerted" not in sent:
                await self._alert_handlers(session, report)
                counts["alerts"] += 1
            if "info_pending" in sent:
                self._unmark(report, "info_pending")
                text = words["handler_info"].format(reference=report.reference)
                await self._tell_handlers(session, report, queued_text(text), kind="incident.info")
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
                        queued_text(text),
                        kind="incident.escalation",
                        everyone=True,
                    )
                    counts["escalations"] += 1
                elif today >= due - timedelta(days=notice) and f"{name}_reminded" not in sent:
                    self._mark(report, f"{name}_reminded")
                    text = words[f"remind_{name}"].format(reference=report.reference, due=due_text)
                    await self._tell_handlers(
                        session, report, queued_text(text), kind="incident.reminder"
                    )
                    counts["reminders"] += 1
        if self.patterns.enabled:
            counts["pattern_alerts"] = await self.pattern_alerts(session)
        return counts

    async def file_for_handler(
        self, session: AsyncSession, link: EvidenceLink
    ) -> tuple[FileInfo, bytes] | None:
        """The file a handler's link names, if it is still one of that case's files."""
        report = await self.by_reference(session, link.reference)
        if report is None:
            return None
        return await self.evidence.content(
            session, report_id=report.id, evidence_id=link.evidence_id
        )

    async def open_cases(self, session: AsyncSession) -> list[IncidentReport]:
        """Open cases, oldest first."""
        return await repo.open_cases(session)

    async def all_cases(self, session: AsyncSession) -> list[IncidentReport]:
        """Every case, newest first."""
        return await repo.all_cases(session)

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
        """Assign the case to `by`; False if someone else changed it meanwhile."""
        assigned = await self.assign(
            session, report, to=by, by=by, today=today, expected_version=expected_version
        )
        return assigned.done

    async def assign(
        self,
        session: AsyncSession,
        report: IncidentReport,
        *,
        to: Person,
        by: Person,
        today: date,
        expected_version: int | None = None,
    ) -> Assigned:
        """Make `to` (a case handler) the case's handler, whether or not the bot can reach
        them; a colleague the bot can reach is sent a card in Teams."""
        if not await self.is_handler(session, to.key):
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
        if not (done and colleague and self._outbox is not None):
            return Assigned(done=done, told=False)
        words = self.words["notify"]
        title = words["handler_assigned"].format(reference=report.reference, name=by.name)
        card = self.case_card(title, words["handler_assigned_body"], report.reference)
        sent = await self._outbox.enqueue(
            session,
            kind="incident.assigned",
            recipients=[to.key],
            message=queued_card(card, summary=title),
        )
        return Assigned(done=True, told=sent.queued > 0)

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
