""" "hr report": the quarterly workforce equality summary card, for people holding `hr`.

The handler checks the role on the server before this dialog starts (its menu entry has
`role: hr`), and refuses and audits anyone else. Every figure on the card comes from the
disclosure-controlled release (bot/stats); each showing is audited.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.hr.links import ReportLinks
from bot.hr.quarters import Quarter
from bot.hr.service import HrReports, QuarterUnavailable
from bot.privacy.roles import Role


class HrReportDialog(ComponentDialog):
    """One summary card for a quarter (default: the quarter just ended)."""

    COMMAND = "hr report"
    ROLE = Role.HR

    def __init__(self, reports: HrReports, links: ReportLinks) -> None:
        super().__init__(HrReportDialog.__name__)
        self._reports = reports
        self._links = links
        self.add_dialog(WaterfallDialog("hr_report", [self.show_step]))
        self.initial_dialog_id = "hr_report"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the quarter's summary card and finish."""
        texts = self._reports.config.texts
        today = today_in_london()
        turn = Turn.of(step.context)
        asked = _asked_quarter(turn.value, turn.text)
        try:
            quarter = Quarter.parse(asked) if asked else Quarter.last_completed(today)
        except ValueError:
            await step.context.send_activity(MessageFactory.text(texts("text.not_quarter")))
            return await step.end_dialog()
        session = turn_session()
        try:
            report = await self._reports.report(session, quarter=quarter, today=today)
        except QuarterUnavailable as error:
            await step.context.send_activity(
                MessageFactory.text(texts(f"text.{error.key}", quarter=str(quarter)))
            )
            return await step.end_dialog()
        person = turn.person
        actor = f"teams:{person.tenant_id}/{person.aad_object_id}" if person else "teams:unknown"
        full = isinstance(turn.value, dict) and turn.value.get("full") is True
        if full and person is not None and not report.empty:
            await self._reports.audit_access(session, actor=actor, quarter=quarter, how="link")
            await step.context.send_activity(card_message(self._link_card(person, quarter)))
            return await step.end_dialog()
        await self._reports.audit_access(session, actor=actor, quarter=quarter, how="chat")
        await step.context.send_activity(card_message(self._reports.summary_card(report)))
        return await step.end_dialog()

    def _link_card(self, person: PersonKey, quarter: Quarter) -> dict[str, Any]:
        """A card with this person's own, expiring link to the quarter's full report."""
        texts = self._reports.config.texts
        url = self._links.url(person, quarter, now=utcnow())
        return self._reports.content.card(
            "event_card",
            heading=texts("text.card_heading", quarter=str(quarter)),
            paragraphs=[
                texts("text.full_ready", quarter=str(quarter), minutes=self._links.minutes)
            ],
            facts=[],
            sections=[],
            inputs=[],
            links=[{"title": texts("text.full_download"), "url": url}],
            buttons=[],
        )


def _asked_quarter(value: Any, text: str | None) -> str | None:
    """The quarter a button carried ({"quarter": "2026-Q3"}) or typed after the command."""
    if isinstance(value, dict) and isinstance(value.get("quarter"), str):
        return str(value["quarter"])[:16]
    words = (text or "").strip().lower()
    for prefix in ("hr report", "hr reports"):
        if words.startswith(prefix) and words[len(prefix) :].strip():
            return words[len(prefix) :].strip()[:16]
    return None
