"""The incidents feature's conversations: report, check a report, add to it, and cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel.handler import Conversation
from bot.incidents.service import Incidents
from dialogs.incidents.cases import CasesDialog
from dialogs.incidents.check_report import AddToReportDialog, CheckReportDialog
from dialogs.incidents.evidence_ui import FileIntake, evidence_links_for, file_policy
from dialogs.incidents.report_incident import ReportIncidentDialog
from dialogs.incidents.wiring_records import report_dialog

if TYPE_CHECKING:
    from bot.runtime import Wiring


def conversations(wiring: Wiring) -> list[Conversation]:
    """Each conversation with the menu entry that starts it."""
    content, incidents = wiring.content, wiring.service("incidents", Incidents)
    files = FileIntake(incidents, file_policy(wiring.settings))
    report = report_dialog(wiring, incidents, files)
    return [
        Conversation(wiring.entry(ReportIncidentDialog.COMMAND), report),
        Conversation(
            wiring.entry(CheckReportDialog.COMMAND), CheckReportDialog(content, incidents, files)
        ),
        Conversation(
            wiring.entry(AddToReportDialog.COMMAND), AddToReportDialog(content, incidents)
        ),
        Conversation(
            wiring.entry(CasesDialog.COMMAND),
            CasesDialog(content, incidents, evidence_links_for(wiring.settings, wiring.privacy)),
        ),
    ]
