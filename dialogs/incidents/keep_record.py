"""Keep a private record: the report's own free-recall and details steps, then "keep".

A second use of the report's conversation (report_incident.py): the same questions, cards and
checks, its own draft (in the conversation's encrypted state, "RecordDraft"), and a last
step that keeps the record (bot/records/) instead of submitting a report. Nothing is sent to
anyone. "cancel" deletes the unsaved draft; "menu" keeps it for later, as a report's.

States, in order: narrative -> details -> keep (with Edit back to either).
"""

from __future__ import annotations

import secrets
from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.incidents.service import Incidents
from bot.records.service import PrivateRecords, RecordError
from dialogs.incidents.evidence_ui import FileIntake
from dialogs.incidents.incident_ui import card, pick, text
from dialogs.incidents.record_ui import moment_text, record_words, words_for_records
from dialogs.incidents.report_incident import ReportIncidentDialog

STATES = ("narrative", "details", "keep")


class KeepRecordDialog(ReportIncidentDialog):
    """The record's conversation: the report's steps in a table of its own."""

    COMMAND = "keep a record"

    def __init__(
        self,
        content: Content,
        incidents: Incidents,
        records: PrivateRecords,
        drafts: StatePropertyAccessor,
        *,
        draft_days: int,
        files: FileIntake,
    ) -> None:
        super().__init__(content, incidents, drafts, draft_days=draft_days, files=files)
        # Its own id: the report's conversation and this one are two dialogs.
        Dialog.__init__(self, KeepRecordDialog.__name__)
        self._records = records
        self._rw = record_words(content)
        self._w = words_for_records(incidents.words, self._rw)
        self._steps = {
            "narrative": (self._ask_narrative, self._answer_narrative),
            "details": (self._ask_details, self._answer_details),
            "keep": (self._ask_keep, self._answer_keep),
        }

    async def _take_files(self, context: TurnContext, draft: dict[str, Any]) -> None:
        """A record keeps words only: files sent while writing one are not fetched."""
        await context.send_activity(text(self._rw["no_files"]))

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Say what a private record is (unless one is being picked up), then begin; only in
        the one-to-one chat."""
        if not Turn.of(dialog_context.context).personal:
            await dialog_context.context.send_activity(text(self._rw["private_only"]))
            return await dialog_context.end_dialog()
        if await self._drafts.get(dialog_context.context, None) is None:
            await dialog_context.context.send_activity(text(self._rw["keep"]["intro"]))
        return await super().begin_dialog(dialog_context, options)

    def _new_draft(self) -> dict[str, Any]:
        return {
            "id": secrets.token_hex(6),
            "started": today_in_london().isoformat(),
            "step": STATES[0],
            "review_next": False,
            "answers": {},
        }

    def _advance(self, draft: dict[str, Any], after: str) -> None:
        if draft.get("review_next"):
            draft["step"], draft["review_next"] = "keep", False
        else:
            draft["step"] = STATES[STATES.index(after) + 1]

    async def _ask_keep(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._rw["keep"]
        answers = draft["answers"]
        none = self._w["review"]["not_given"]
        sections = [
            {
                "title": words["sections"]["narrative"],
                "facts": [],
                "lines": [plain_text(answers.get("narrative") or none)],
                "button": self._button(draft, words["edit"], "edit narrative"),
            },
            {
                "title": words["sections"]["details"],
                "facts": self._detail_facts(answers, none),
                "lines": [],
                "button": self._button(draft, words["edit"], "edit details"),
            },
        ]
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                sections=sections,
                buttons=[
                    self._button(draft, words["keep"], "keep"),
                    self._button(draft, words["discard"], "discard"),
                ],
            )
        )

    async def _answer_keep(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        words = self._rw["keep"]
        choice = pick(
            typed,
            {
                "keep": [words["keep"], "keep it", "save", "save it", "yes"],
                "discard": [words["discard"], "delete it", "throw it away"],
                "edit narrative": ["edit narrative", "change what happened"],
                "edit details": ["edit details", "change the details"],
            },
        )
        if choice == "discard":
            await self._drafts.delete(context)
            await context.send_activity(text(words["discarded"]))
            return True
        if choice in ("edit narrative", "edit details"):
            draft["step"], draft["review_next"] = choice.removeprefix("edit "), True
            await self._prompt(context, draft)
            return False
        if choice != "keep":
            await self._ask_keep(context, draft)
            return False
        return await self._keep(context, draft)

    async def _keep(self, context: TurnContext, draft: dict[str, Any]) -> bool:
        words = self._rw["keep"]
        person = Turn.of(context).person
        if person is None:
            await context.send_activity(text(self._rw["my_records"]["not_found"]))
            return False
        try:
            record = await self._records.keep(
                turn_session(), person, draft["answers"], now=utcnow()
            )
        except RecordError as problem:
            limit = self._records.limits.records_per_person
            await context.send_activity(text(words[problem.code].format(limit=limit)))
            await self._ask_keep(context, draft)
            return False
        await self._drafts.delete(context)
        await context.send_activity(
            card(
                self._content,
                heading=words["kept_heading"],
                paragraphs=[words["kept"].format(written=moment_text(record.written_at))],
                buttons=[
                    {"title": words["open_records"], "data": {"command": "my records"}},
                    {
                        "title": words["report_now"],
                        "data": {"command": "report", "record": str(record.id)},
                    },
                ],
            )
        )
        return True
