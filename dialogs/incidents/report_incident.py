"""Report a hate incident: safety first, how to report, who, what happened, details,
support and consent, review, submit.

The draft lives in its own conversation-state property (encrypted with the rest of the
state), not in the dialog stack: "menu" steps aside and keeps it, "report" or "continue my
report" picks it up again, and "cancel" (or Discard) deletes it. Submitting deletes it too,
so after submission the conversation's state holds nothing about the report.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.turn import Turn
from bot.core.content import Content
from bot.incidents.service import Incidents
from bot.incidents.taxonomy import Taxonomy
from dialogs.incidents.evidence_ui import FileIntake
from dialogs.incidents.incident_ui import (
    pick,
    text,
)
from dialogs.incidents.report_pattern import ReportPattern
from dialogs.incidents.report_states import (
    CONTINUE_WORDS,
    Answer,
    Ask,
    pretty_day,
)


class ReportIncidentDialog(ReportPattern):
    """The reporting conversation, one step per turn, driven by the draft's `step`."""

    COMMAND = "report"

    def __init__(
        self,
        content: Content,
        incidents: Incidents,
        drafts: StatePropertyAccessor,
        *,
        draft_days: int,
        files: FileIntake,
    ) -> None:
        super().__init__(ReportIncidentDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._files = files
        self._tax: Taxonomy = incidents.taxonomy
        self._w: dict[str, Any] = incidents.words
        self._drafts = drafts
        self._draft_days = draft_days
        self._steps: dict[str, tuple[Ask, Answer]] = {
            "safety": (self._ask_safety, self._answer_safety),
            "mode": (self._ask_mode, self._answer_mode),
            "relationship": (self._ask_relationship, self._answer_relationship),
            "narrative": (self._ask_narrative, self._answer_narrative),
            "details": (self._ask_details, self._answer_details),
            "pattern": (self._ask_pattern, self._answer_pattern),
            "support": (self._ask_support, self._answer_support),
            "review": (self._ask_review, self._answer_review),
        }

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Start, or offer to pick up an unfinished draft."""
        context = dialog_context.context
        draft = await self._drafts.get(context, None)
        if draft is not None and self._expired(draft):
            await self._forget_draft(context, draft)
            await context.send_activity(
                text(
                    self._w["resume"]["expired"].format(
                        started=pretty_day(draft["started"]), days=self._draft_days
                    )
                )
            )
            draft = None
        if draft is not None and draft["step"] != "safety":
            typed = Turn.of(context).text.lower()
            if typed in CONTINUE_WORDS:
                await context.send_activity(text(self._w["resume"]["picked_up"]))
                await self._prompt(context, draft)
                return Dialog.end_of_turn
            dialog_context.active_dialog.state["asking_resume"] = True
            await self._ask_resume(context, draft)
            return Dialog.end_of_turn
        draft = self._new_draft()
        said = self._said(context, options)
        if said:
            # What they typed to get here is the start of what happened (they can change it).
            draft["answers"]["narrative"], draft["seeded"] = said, True
        await self._drafts.set(context, draft)
        await self._prompt(context, draft)
        return Dialog.end_of_turn

    def _said(self, context: TurnContext, options: object) -> str:
        """Words typed before the report began (from the shell, or carried by its button)."""
        said = options.get("said") if isinstance(options, dict) else None
        said = said if isinstance(said, str) else Turn.of(context).value.get("said")
        if not isinstance(said, str) or len(said) > self._tax.limits["narrative_chars"]:
            return ""
        return said.strip()

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Take the answer to the current step and ask the next."""
        context = dialog_context.context
        turn = Turn.of(context)
        typed, value = turn.text, turn.value
        draft = await self._drafts.get(context, None)
        if draft is None:
            # The draft expired or was deleted meanwhile: start again cleanly.
            return await dialog_context.end_dialog()
        state = dialog_context.active_dialog.state
        if state.get("asking_resume"):
            answer = value.get("choice") if value.get("step") == "resume" else None
            answer = answer or pick(
                typed,
                {
                    "continue": ["carry on", "yes", "resume"],
                    "restart": ["start again", "new", "no"],
                },
            )
            if answer not in ("continue", "restart"):
                await self._ask_resume(context, draft)
                return Dialog.end_of_turn
            state.pop("asking_resume", None)
            if answer == "restart":
                await self._forget_draft(context, draft)
                draft = self._new_draft()
                await self._drafts.set(context, draft)
            else:
                await context.send_activity(text(self._w["resume"]["picked_up"]))
            await self._prompt(context, draft)
            return Dialog.end_of_turn
        if turn.files:
            # Files can come at any step; the step's question is asked again after them
            # (or answered by words sent with them).
            await self._take_files(context, draft)
            if not typed:
                await self._drafts.set(context, draft)
                await self._prompt(context, draft)
                return Dialog.end_of_turn
        if value and (
            value.get("step") not in (None, draft["step"])
            or value.get("draft") not in (None, draft["id"])
        ):
            await context.send_activity(text(self._w["old_button"]))
            await self._prompt(context, draft)
            return Dialog.end_of_turn
        _, answer_step = self._steps[draft["step"]]
        finished = await answer_step(context, draft, typed, value)
        if finished:
            return await dialog_context.end_dialog()
        await self._drafts.set(context, draft)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Ask the current question again (after "welcome back")."""
        draft = await self._drafts.get(context, None)
        if draft is None:
            return
        if instance.state.get("asking_resume"):
            await self._ask_resume(context, draft)
        else:
            await self._prompt(context, draft)

    async def discard_draft(self, context: TurnContext) -> None:
        """ "cancel": the draft (and any files sent with it) is deleted."""
        draft = await self._drafts.get(context, None)
        if draft is not None:
            await self._forget_draft(context, draft)
            await context.send_activity(text(self._w["review"]["discarded"]))
