"""Files in the report conversation: sent at any step, listed on the review with "Remove".

The draft keeps, for each file, only its waiting id, name, size and kind (answers["files"]);
the file itself waits, sealed, in `incident_intake_files` until the report is submitted (or
is deleted with the draft: discarded, cancelled, expired).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from bot.db.session import turn_session
from dialogs.incidents.evidence_ui import FileIntake, as_draft_file, shown
from dialogs.incidents.incident_ui import text
from dialogs.incidents.report_questions import ReportQuestions


class ReportFiles(ReportQuestions):
    """Takes files into the draft, removes one, and deletes them with the draft."""

    _files: FileIntake

    async def _take_files(self, context: TurnContext, draft: dict[str, Any]) -> None:
        """Keep this message's files with the draft (within the limit), saying of each
        whether it was kept and, if any was not, that nothing else changed."""
        answers = draft["answers"]
        files: list[dict[str, Any]] = answers.setdefault("files", [])
        intake = self._files
        room = intake.max_files - len(files)
        received = await intake.receive(context, room=room, purpose="draft")
        files.extend(as_draft_file(info) for info in received.kept)
        words = intake.words
        said = [words["added"].format(file=shown(f.name, f.size)) for f in received.kept]
        said += received.refused
        if received.refused:
            said.append(words["nothing_lost"])
        if received.kept:
            left = intake.max_files - len(files)
            limits = intake.limits()
            said.append(
                words["room_left"].format(left=left)
                if left
                else words["room_none"].format(**limits)
            )
            if answers.get("mode") == "anonymous":
                said.append(words["anonymous_note"])
        await context.send_activity(text(" ".join(said)))

    async def _remove_file(
        self, context: TurnContext, draft: dict[str, Any], which: object
    ) -> None:
        """Take one file off the draft and delete it, saying which (or that it had gone)."""
        files: list[dict[str, Any]] = draft["answers"].get("files") or []
        found = [f for f in files if str(f["id"]) == str(which)]
        words = self._files.words
        if not found:
            await context.send_activity(text(words["remove_gone"]))
            return
        await self._incidents.evidence.drop(turn_session(), [int(found[0]["id"])])
        draft["answers"]["files"] = [f for f in files if f is not found[0]]
        await context.send_activity(
            text(words["removed"].format(file=shown(found[0]["name"], int(found[0]["size"]))))
        )

    async def _forget_draft(self, context: TurnContext, draft: dict[str, Any] | None) -> None:
        """Delete the draft and the files waiting with it."""
        ids = [int(f["id"]) for f in ((draft or {}).get("answers") or {}).get("files") or []]
        if ids:
            await self._incidents.evidence.drop(turn_session(), ids)
        await self._drafts.delete(context)

    def _file_sections(self, draft: dict[str, Any]) -> list[dict[str, Any]]:
        """The review's files: a heading (what to do, or the anonymity note), then each file
        with its own "Remove" button."""
        words = self._files.words
        answers = draft["answers"]
        files: list[dict[str, Any]] = answers.get("files") or []
        lines = [] if files else [words["review_none"].format(**self._files.limits())]
        if files and answers.get("mode") == "anonymous":
            lines.append(words["anonymous_note"])
        sections: list[dict[str, Any]] = [
            {"title": words["review_heading"], "facts": [], "lines": lines}
        ]
        for file in files:
            sections.append(
                {
                    "title": shown(file["name"], int(file["size"])),
                    "facts": [],
                    "lines": [],
                    "button": self._button(draft, words["remove"], "remove", file=str(file["id"])),
                }
            )
        return sections
