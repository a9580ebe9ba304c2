"""The HR feature's conversation: the quarter's summary card."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel.handler import Conversation
from bot.hr.links import report_links
from bot.hr.service import HrReports
from dialogs.hr.hr_report import HrReportDialog

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """The conversation with the menu entry that starts it."""
    reports = wiring.service("hr", HrReports)
    links = report_links(wiring.settings, wiring.privacy)
    return [Conversation(wiring.entry(HrReportDialog.COMMAND), HrReportDialog(reports, links))]
