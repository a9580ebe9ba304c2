"""The report's conversation, able to begin from a private record and to offer one instead.

`ReportFromRecord` is the report dialog (report_incident.py) with four additions, each an
override, so the report's own steps stay as they are:
- begun with a record (`{"command": "report", "record": ID}` from the record's card), the
  draft is filled in from it and starts at "how would you like to report?"; the story and
  details it already has are not asked again (Edit on the review changes them);
- the report keeps when the record was written down: to the minute when confidential or
  named, the month alone when anonymous (bot/incidents/written_down.py), on the review, the
  receipt and the case;
- submitted anonymously, the record is deleted in the same transaction: kept beside the
  report it would link the person to it (docs/privacy.md, "Private records"); otherwise the
  person is asked whether to keep it, and it notes the report made from it;
- the "how would you like to report?" card offers to keep a private record instead, taking
  what they typed to start with them (keep_record.py).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.content import Content
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.incidents.service import Incidents
from bot.incidents.written_down import written_down_for, written_down_text
from bot.records.service import PrivateRecords, Record
from dialogs.incidents.evidence_ui import FileIntake
from dialogs.incidents.incident_ui import card, pick, text
from dialogs.incidents.keep_record import KeepRecordDialog
from dialogs.incidents.record_ui import (
    RECORD_INSTEAD,
    in_london,
    moment_text,
    record_words,
)
from dialogs.incidents.report_incident import ReportIncidentDialog
from dialogs.incidents.report_states import pretty_day

# Answered by the record: skipped on the way to the first review.
GIVEN_BY_RECORD = ("narrative", "details")
# What only a report asks: never taken from a record.
REPORT_ONLY = (
    "mode",
    "relationship",
    "wants_contact",
    "consent_monitoring",
    "consent_police",
    "consent_hr",
)
# Where `_receipt` leaves the reference for `_submit` (the draft itself is gone by then).
SUBMITTED_AS = "_submitted_as"


class ReportFromRecord(ReportIncidentDialog):
    """The report, begun from a private record when asked (see the module's docstring)."""

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
        self._records = records
        self._rw = record_words(content)

    # ---- beginning from a record ------------------------------------------------------------

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """A report as usual, or one filled in from the record the button names."""
        asked = options.get("record") if isinstance(options, dict) else None
        asked = asked or Turn.of(dialog_context.context).value.get("record")
        if asked is None:
            return await super().begin_dialog(dialog_context, options)
        context = dialog_context.context
        if not Turn.of(context).personal:
            await context.send_activity(text(self._rw["private_only"]))
            return await dialog_context.end_dialog()
        person = Turn.of(context).person
        record = None if person is None else await self._records.find(turn_session(), person, asked)
        if record is None:  # deleted, someone else's, or an odd card
            await context.send_activity(text(self._rw["my_records"]["not_found"]))
            return await dialog_context.end_dialog()
        draft = await self._drafts.get(context, None)
        if draft is not None and draft["step"] != "safety" and not self._expired(draft):
            # An unsent report is never thrown away for this: finish it (or cancel) first.
            started = pretty_day(draft["started"])
            await context.send_activity(
                text(self._rw["report"]["unfinished"].format(started=started))
            )
            await self._prompt(context, draft)
            return Dialog.end_of_turn
        draft, left_out = self._draft_from(record)
        await self._drafts.set(context, draft)
        words = self._rw["report"]
        said = [words["filled_in"].format(written=moment_text(record.written_at))]
        if left_out:
            said.append(words["did_not_fit"].format(count=left_out))
        await context.send_activity(text("\n\n".join(said)))
        await self._prompt(context, draft)
        return Dialog.end_of_turn

    def _draft_from(self, record: Record) -> tuple[dict[str, Any], int]:
        """A report's draft from the record, and how many additions did not fit in its story
        (each joins it with the month it was added, while the report's limit allows)."""
        draft = self._new_draft()
        answers = {k: v for k, v in record.answers.items() if k not in REPORT_ONLY}
        added, limit = self._rw["report"]["added_later"], self._tax.limits["narrative_chars"]
        story = str(answers.get("narrative") or "")
        left_out = 0
        for addition in record.additions:
            month = in_london(addition.at).strftime("%B %Y")
            longer = story + "\n\n" + added.format(month=month, text=addition.text)
            if len(longer) > limit:
                left_out += 1
            else:
                story = longer
        answers["narrative"] = story
        answers["written_down"] = in_london(record.written_at).isoformat()
        draft.update(step="mode", answers=answers, record=str(record.id), given=GIVEN_BY_RECORD)
        return draft, left_out

    async def discard_draft(self, context: TurnContext) -> None:
        """ "cancel": the report's draft is deleted; a record it came from is kept."""
        draft = await self._drafts.get(context, None)
        await super().discard_draft(context)
        if draft is not None and "record" in draft:
            await context.send_activity(text(self._rw["report"]["record_unchanged"]))

    def _advance(self, draft: dict[str, Any], after: str) -> None:
        super()._advance(draft, after)
        while draft["step"] in draft.get("given", ()):
            super()._advance(draft, draft["step"])
        if draft["step"] == "review":
            draft.pop("given", None)  # from now on, Edit asks whatever it names

    # ---- offering a record instead ----------------------------------------------------------

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """ "Keep a private record instead" on the mode card; anything else as usual."""
        context = dialog_context.context
        draft = await self._drafts.get(context, None)
        if draft is not None and self._wants_record(dialog_context, draft):
            said = draft["answers"].get("narrative") if draft.get("seeded") else None
            await self._drafts.delete(context)
            options = {"said": said} if said else None
            return await dialog_context.replace_dialog(KeepRecordDialog.__name__, options)
        return await super().continue_dialog(dialog_context)

    def _wants_record(self, dialog_context: DialogContext, draft: dict[str, Any]) -> bool:
        if not self._offers_record(draft) or dialog_context.active_dialog.state.get(
            "asking_resume"
        ):
            return False
        turn = Turn.of(dialog_context.context)
        if turn.value and turn.value.get("draft") not in (None, draft["id"]):
            return False  # a button from an earlier card: the report says so
        options = {"record": [RECORD_INSTEAD, "private record instead", "record instead", "4"]}
        return pick(turn.text, options) == "record"

    @staticmethod
    def _offers_record(draft: dict[str, Any]) -> bool:
        """The first time "how would you like to report?" is asked, of a report not made
        from a record."""
        return draft["step"] == "mode" and "record" not in draft and "mode" not in draft["answers"]

    async def _ask_mode(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["modes"]
        sections = [
            {"title": o["label"], "facts": [], "lines": [o["explain"]]} for o in words["options"]
        ]
        buttons = [self._button(draft, o["label"], o["id"]) for o in words["options"]]
        if self._offers_record(draft):
            offer = self._rw["report"]
            sections.append(
                {"title": offer["offer_heading"], "facts": [], "lines": [offer["offer"]]}
            )
            buttons.append(self._button(draft, offer["offer_button"], RECORD_INSTEAD))
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                paragraphs=[words["explain"]],
                sections=sections,
                buttons=buttons,
            )
        )

    # ---- when it was written down, and what happens to the record ---------------------------

    def _detail_facts(self, answers: dict[str, Any], none: str) -> list[dict[str, str]]:
        facts = super()._detail_facts(answers, none)
        anonymous = answers.get("mode") == "anonymous"
        kept = written_down_for(answers.get("written_down"), anonymous=anonymous)
        if kept:
            label = self._rw["report"]["written_down_label"]
            facts.insert(0, {"title": label, "value": written_down_text(kept)})
        return facts

    async def _ask_review(self, context: TurnContext, draft: dict[str, Any]) -> None:
        answers = draft["answers"]
        if "record" in draft and answers.get("mode") == "anonymous":
            month = written_down_text(written_down_for(answers.get("written_down"), anonymous=True))
            await context.send_activity(
                text(self._rw["report"]["anonymous_note"].format(month=month))
            )
        await super()._ask_review(context, draft)

    def _receipt(self, answers: dict[str, Any], reference: str, passphrase: str | None) -> Any:
        answers[SUBMITTED_AS] = reference
        return super()._receipt(answers, reference, passphrase)

    async def _submit(self, context: TurnContext, draft: dict[str, Any]) -> bool:
        answers, record_id = draft["answers"], draft.get("record")
        sent = await super()._submit(context, draft)
        person = Turn.of(context).person
        if not sent or record_id is None or person is None:
            return sent
        words = self._rw["report"]
        written = answers.get("written_down")
        if answers.get("mode") == "anonymous":
            # In this same transaction, with no log line or audit entry (docs/privacy.md).
            await self._records.delete(turn_session(), person, record_id)
            month = written_down_text(written_down_for(written, anonymous=True))
            moment = written_down_text(written_down_for(written, anonymous=False))
            await context.send_activity(
                text(words["anonymous_done"].format(written=moment, month=month))
            )
            return sent
        if await self._records.mark_reported(
            turn_session(),
            person,
            record_id,
            reference=str(answers.get(SUBMITTED_AS, "")),
            mode=str(answers.get("mode")),
            now=utcnow(),
        ):
            await context.send_activity(self._keep_or_delete(record_id, written))
        return sent

    def _keep_or_delete(self, record_id: str, written: object) -> Any:
        words = self._rw["report"]
        moment = written_down_text(written_down_for(written, anonymous=False))
        ask = {"command": "my records", "record": record_id}
        return card(
            self._content,
            heading=words["keep_heading"],
            paragraphs=[words["keep_question"].format(written=moment)],
            buttons=[
                {"title": words["keep_it"], "data": {**ask, "do": "keep"}},
                {"title": words["delete_it"], "data": {**ask, "do": "delete"}},
            ],
        )
