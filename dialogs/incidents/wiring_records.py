"""The private records' conversations: the records feature's (`RECORDS.conversations`:
"keep a record" and "my records") and the report dialog that can begin from a record, which
the incidents feature's wiring builds with `report_dialog`.

They live here, beside the report's, because they are the report's own steps and cards used
again (one feature's dialogs may not import another's); the records themselves are the
records feature's (bot/records/), reached through its service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel.handler import Conversation
from bot.incidents.service import Incidents
from bot.records.service import PrivateRecords
from dialogs.incidents.evidence_ui import FileIntake, file_policy
from dialogs.incidents.keep_record import KeepRecordDialog
from dialogs.incidents.my_records import MyRecordsDialog
from dialogs.incidents.report_from_record import ReportFromRecord

if TYPE_CHECKING:
    from bot.runtime import Wiring


def report_dialog(wiring: Wiring, incidents: Incidents, files: FileIntake) -> ReportFromRecord:
    """The report's conversation, able to begin from a private record."""
    return ReportFromRecord(
        wiring.content,
        incidents,
        wiring.service("records", PrivateRecords),
        wiring.state.create_property("IncidentDraft"),
        draft_days=wiring.settings.retention_drafts_days,
        files=files,
    )


def conversations(wiring: Wiring) -> list[Conversation]:
    """The records feature's: "keep a record" and "my records", with their menu entries
    (content/records/menu.yaml)."""
    incidents = wiring.service("incidents", Incidents)
    records = wiring.service("records", PrivateRecords)
    keep = KeepRecordDialog(
        wiring.content,
        incidents,
        records,
        wiring.state.create_property("RecordDraft"),
        draft_days=wiring.settings.retention_drafts_days,
        files=FileIntake(incidents, file_policy(wiring.settings)),
    )
    mine = MyRecordsDialog(wiring.content, records, wiring.copy_links, incidents.taxonomy)
    return [
        Conversation(wiring.entry(KeepRecordDialog.COMMAND), keep),
        Conversation(wiring.entry(MyRecordsDialog.COMMAND), mine),
    ]
