"""Report a hate incident: safety first, how to report, who, what happened, details,
support and consent, review, submit.

The draft lives in its own conversation-state property (encrypted with the rest of the
state), not in the dialog stack: "menu" steps aside and keeps it, "report" or "continue my
report" picks it up again, and "cancel" (or Discard) deletes it. Submitting deletes it too,
so after submission the conversation's state holds nothing about the report.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.incidents.service import Incidents, ReportError, Taxonomy
from dialogs.incidents.incident_ui import (
    card,
    choice_input,
    codes,
    date_input,
    person,
    pick,
    said,
    text,
    text_input,
    toggle_input,
    truthy,
)

LONDON = ZoneInfo("Europe/London")
STEPS = ("safety", "mode", "relationship", "narrative", "details", "support", "review")
EDITABLE = ("mode", "relationship", "narrative", "details", "support")
CONTINUE_WORDS = ("continue my report", "continue report", "resume report")


def today_in_london() -> date:
    """The date in the council's time zone."""
    return datetime.now(LONDON).date()


class ReportIncidentDialog(Dialog):
    """The reporting conversation, one step per turn, driven by the draft's `step`."""

    COMMAND = "report"

    def __init__(
        self,
        content: Content,
        incidents: Incidents,
        drafts: StatePropertyAccessor,
        *,
        draft_days: int,
    ) -> None:
        super().__init__(ReportIncidentDialog.__name__)
        self._content = content
        self._incidents = incidents
        self._tax: Taxonomy = incidents.taxonomy
        self._w: dict[str, Any] = incidents.words
        self._drafts = drafts
        self._draft_days = draft_days

    # ---- the Dialog protocol ------------------------------------------------------------

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Start, or offer to pick up an unfinished draft."""
        context = dialog_context.context
        draft = await self._drafts.get(context, None)
        if draft is not None and self._expired(draft):
            await self._drafts.delete(context)
            await context.send_activity(
                text(
                    self._w["resume"]["expired"].format(
                        started=_pretty(draft["started"]), days=self._draft_days
                    )
                )
            )
            draft = None
        if draft is not None and draft["step"] != "safety":
            typed = (context.activity.text or "").strip().lower()
            if typed in CONTINUE_WORDS:
                await context.send_activity(text(self._w["resume"]["picked_up"]))
                await self._prompt(context, draft)
                return Dialog.end_of_turn
            dialog_context.active_dialog.state["asking_resume"] = True
            await self._ask_resume(context, draft)
            return Dialog.end_of_turn
        draft = self._new_draft()
        await self._drafts.set(context, draft)
        await self._prompt(context, draft)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Take the answer to the current step and ask the next."""
        context = dialog_context.context
        typed, value = said(context)
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
                draft = self._new_draft()
                await self._drafts.set(context, draft)
            else:
                await context.send_activity(text(self._w["resume"]["picked_up"]))
            await self._prompt(context, draft)
            return Dialog.end_of_turn
        if value and (
            value.get("step") not in (None, draft["step"])
            or value.get("draft") not in (None, draft["id"])
        ):
            await context.send_activity(text(self._w["old_button"]))
            await self._prompt(context, draft)
            return Dialog.end_of_turn
        handler = getattr(self, f"_answer_{draft['step']}")
        finished: bool = await handler(context, draft, typed, value)
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
        """ "cancel": the draft is deleted."""
        if await self._drafts.get(context, None) is not None:
            await self._drafts.delete(context)
            await context.send_activity(text(self._w["review"]["discarded"]))

    # ---- drafts ---------------------------------------------------------------------------

    def _new_draft(self) -> dict[str, Any]:
        return {
            "id": secrets.token_hex(6),
            "started": today_in_london().isoformat(),
            "step": "safety",
            "review_next": False,
            "answers": {},
        }

    def _expired(self, draft: dict[str, Any]) -> bool:
        started = date.fromisoformat(draft["started"])
        return today_in_london() - started > timedelta(days=self._draft_days)

    def _advance(self, draft: dict[str, Any], after: str) -> None:
        if draft.get("review_next"):
            draft["step"] = "review"
            draft["review_next"] = False
        else:
            draft["step"] = STEPS[STEPS.index(after) + 1]

    def _button(
        self, draft: dict[str, Any], title: str, choice: str, **more: Any
    ) -> dict[str, Any]:
        return {
            "title": title,
            "data": {"choice": choice, "step": draft["step"], "draft": draft["id"], **more},
        }

    def _form(self, draft: dict[str, Any], title: str, form: str) -> dict[str, Any]:
        return {"title": title, "data": {"form": form, "step": draft["step"], "draft": draft["id"]}}

    # ---- questions ------------------------------------------------------------------------

    async def _ask_resume(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["resume"]
        resume = {"step": "resume", "draft": draft["id"]}
        await context.send_activity(
            card(
                self._content,
                heading=words["question"].format(started=_pretty(draft["started"])),
                buttons=[
                    {"title": words["continue"], "data": {"choice": "continue", **resume}},
                    {"title": words["restart"], "data": {"choice": "restart", **resume}},
                ],
            )
        )

    async def _prompt(self, context: TurnContext, draft: dict[str, Any]) -> None:
        await getattr(self, f"_ask_{draft['step']}")(context, draft)

    async def _ask_safety(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["safety"]
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                buttons=[
                    self._button(draft, words["say_yes"], "yes"),
                    self._button(draft, words["say_no"], "no"),
                ],
            )
        )

    async def _ask_mode(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["modes"]
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                paragraphs=[words["explain"]],
                sections=[
                    {"title": o["label"], "facts": [], "lines": [o["explain"]]}
                    for o in words["options"]
                ],
                buttons=[self._button(draft, o["label"], o["id"]) for o in words["options"]],
            )
        )

    async def _ask_relationship(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["relationships"]
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                buttons=[self._button(draft, o["label"], o["id"]) for o in words["options"]],
            )
        )

    async def _ask_narrative(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["narrative"]
        paragraphs = [words["hint"]]
        if draft["answers"].get("relationship") == "on_behalf":
            paragraphs.append(self._w["relationships"]["on_behalf_guidance"])
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                paragraphs=paragraphs,
                inputs=[
                    text_input(
                        "narrative",
                        words["question"],
                        multiline=True,
                        max_length=self._tax.limits["narrative_chars"],
                        value=draft["answers"].get("narrative"),
                        placeholder=words["placeholder"],
                    )
                ],
                buttons=[self._form(draft, "Next", "incident.narrative")],
                note="You can also just type it here in the chat.",
            )
        )

    async def _ask_details(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["details"]
        answers = draft["answers"]
        short = self._tax.limits["short_chars"]
        inputs = [
            choice_input(
                name,
                words[name]["label"],
                words[name]["options"],
                multi=name in Taxonomy.MULTI,
                value=",".join(answers.get(name) or [])
                if name in Taxonomy.MULTI
                else answers.get(name),
            )
            for name in ("motivations", "kinds", "location", "perpetrator", "frequency")
        ]
        inputs += [
            date_input(
                "occurred_on",
                words["when_label"],
                value=answers.get("occurred_on"),
                latest=today_in_london().isoformat(),
            ),
            text_input(
                "occurred_approx",
                words["approx_label"],
                max_length=short,
                value=answers.get("occurred_approx"),
            ),
            choice_input(
                "possible_crime",
                words["possible_crime"]["label"],
                words["possible_crime"]["options"],
                value=answers.get("possible_crime"),
            ),
            text_input(
                "impact",
                words["impact_label"],
                multiline=True,
                max_length=self._tax.limits["note_chars"],
                value=answers.get("impact"),
            ),
        ]
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                inputs=inputs,
                buttons=[
                    self._form(draft, "Next", "incident.details"),
                    {**self._button(draft, "Skip all of these", "skip"), "skip_inputs": True},
                ],
            )
        )

    async def _ask_support(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["support"]
        answers = draft["answers"]
        inputs = []
        paragraphs = []
        if answers.get("mode") == "anonymous":
            paragraphs.append(words["contact_anonymous"])
        else:
            inputs.append(
                toggle_input(
                    "wants_contact",
                    words["contact_label"],
                    value=bool(answers.get("wants_contact")),
                )
            )
        inputs.append(
            {"type": "TextBlock", "text": words["consent_intro"], "wrap": True, "separator": True}
        )
        for name in ("consent_monitoring", "consent_police", "consent_hr"):
            inputs.append(toggle_input(name, words[name], value=bool(answers.get(name))))
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=paragraphs,
                inputs=inputs,
                buttons=[self._form(draft, "Next", "incident.support")],
            )
        )

    async def _ask_review(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["review"]
        answers = draft["answers"]
        tax = self._tax
        none = words["not_given"]
        titles = words["sections"]

        def edit(section: str) -> dict[str, Any]:
            return self._button(draft, words["edit"], f"edit {section}")

        detail_facts = [
            {
                "title": "Motivation",
                "value": tax.labels("motivations", answers.get("motivations") or []) or none,
            },
            {"title": "Kind", "value": tax.labels("kinds", answers.get("kinds") or []) or none},
            {
                "title": "When",
                "value": _pretty(answers.get("occurred_on"))
                or answers.get("occurred_approx")
                or none,
            },
            {"title": "Where", "value": tax.label("location", answers.get("location")) or none},
            {
                "title": "Who did it",
                "value": tax.label("perpetrator", answers.get("perpetrator")) or none,
            },
            {
                "title": "How often",
                "value": tax.label("frequency", answers.get("frequency")) or none,
            },
            {
                "title": "Possibly a crime",
                "value": tax.label("possible_crime", answers.get("possible_crime")) or none,
            },
            {"title": "Impact", "value": answers.get("impact") or none},
        ]
        support = self._w["support"]
        consents = [
            support[name]
            for name in ("consent_monitoring", "consent_police", "consent_hr")
            if answers.get(name)
        ]
        support_lines = []
        if answers.get("mode") != "anonymous":
            support_lines.append(
                "You'd like to be contacted about support."
                if answers.get("wants_contact")
                else "You haven't asked to be contacted."
            )
        support_lines.append(
            "You agree to: " + "; ".join(consents) if consents else "Nothing will be passed on."
        )
        sections = [
            {
                "title": titles["mode"],
                "facts": [],
                "lines": [tax.label("mode", answers.get("mode"))],
                "button": edit("mode"),
            },
            {
                "title": titles["relationship"],
                "facts": [],
                "lines": [tax.label("relationship", answers.get("relationship"))],
                "button": edit("relationship"),
            },
            {
                "title": titles["narrative"],
                "facts": [],
                "lines": [plain_text(answers.get("narrative") or none)],
                "button": edit("narrative"),
            },
            {
                "title": titles["details"],
                "facts": detail_facts,
                "lines": [],
                "button": edit("details"),
            },
            {
                "title": titles["support"],
                "facts": [],
                "lines": support_lines,
                "button": edit("support"),
            },
        ]
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                sections=sections,
                buttons=[
                    self._button(draft, words["submit"], "submit"),
                    self._button(draft, words["discard"], "discard"),
                ],
            )
        )

    # ---- answers --------------------------------------------------------------------------

    async def _answer_safety(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        words = self._w["safety"]
        answer = pick(
            typed,
            {
                "yes": [words["say_yes"], "y", "danger", "help"],
                "no": [words["say_no"], "n", "nobody", "no one"],
            },
        )
        if answer is None:
            await self._ask_safety(context, draft)
            return False
        if answer == "yes":
            await self._drafts.delete(context)
            await context.send_activity(
                card(
                    self._content,
                    heading=words["danger_heading"],
                    paragraphs=[*words["danger_paragraphs"], words["danger_after"]],
                )
            )
            return True
        self._advance(draft, "safety")
        await self._prompt(context, draft)
        return False

    async def _answer_choice(
        self,
        context: TurnContext,
        draft: dict[str, Any],
        typed: str,
        options: dict[str, list[str]],
    ) -> str | None:
        """Store the option chosen for the current step and ask the next question; if
        nothing matched, ask this one again. Returns the option chosen."""
        step = draft["step"]
        answer = pick(typed, options)
        if answer is None:
            await self._prompt(context, draft)
            return None
        draft["answers"][step] = answer
        self._advance(draft, step)
        await self._prompt(context, draft)
        return answer

    async def _answer_mode(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        options = {
            "anonymous": ["anonymously", "anon", "anonymous"],
            "confidential": ["confidentially", "confidential"],
            "named": ["with my name", "named", "name"],
        }
        if await self._answer_choice(context, draft, typed, options) == "anonymous":
            draft["answers"].pop("wants_contact", None)  # an anonymous reporter can't be called
        return False

    async def _answer_relationship(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        options = {
            "victim": ["it happened to me", "me", "myself", "victim"],
            "witness": ["i saw it happen", "i saw it", "witness", "saw it"],
            "on_behalf": [
                "i'm reporting for someone else",
                "someone else",
                "on behalf",
                "for someone else",
                "on behalf of someone",
            ],
        }
        await self._answer_choice(context, draft, typed, options)
        return False

    async def _answer_narrative(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        words = self._w["narrative"]
        story = value.get("narrative") if value.get("form") else typed
        story = story.strip() if isinstance(story, str) else ""
        limit = self._tax.limits["narrative_chars"]
        if not story:
            await context.send_activity(text(words["empty"]))
            await self._ask_narrative(context, draft)
            return False
        if len(story) > limit:
            await context.send_activity(
                text(words["too_long"].format(length=f"{len(story):,}", limit=f"{limit:,}"))
            )
            return False
        draft["answers"]["narrative"] = story
        self._advance(draft, "narrative")
        await self._prompt(context, draft)
        return False

    async def _answer_details(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        words = self._w["details"]
        answers = draft["answers"]
        if value.get("choice") == "skip" or (
            not value.get("form")
            and pick(typed, {"skip": ["skip all", "skip all of these", "no", "none"]})
        ):
            for name in (
                *Taxonomy.MULTI,
                *Taxonomy.SINGLE,
                "occurred_on",
                "occurred_approx",
                "impact",
            ):
                answers.pop(name, None)
            self._advance(draft, "details")
            await self._prompt(context, draft)
            return False
        if not value.get("form"):
            await context.send_activity(text(self._w["typed_at_form"]))
            return False
        problem = self._read_details(value, answers)
        if problem is not None:
            await context.send_activity(text(words[problem]))
            await self._ask_details(context, draft)
            return False
        self._advance(draft, "details")
        await self._prompt(context, draft)
        return False

    def _read_details(self, value: dict[str, Any], answers: dict[str, Any]) -> str | None:
        """Check every field first; store them only if all are acceptable."""
        tax = self._tax
        limits = tax.limits
        found: dict[str, Any] = {}
        for name in Taxonomy.MULTI:
            chosen = codes(value.get(name))
            if any(not tax.valid(name, code) for code in chosen):
                return "unknown_choice"
            found[name] = list(dict.fromkeys(chosen))
        for name in Taxonomy.SINGLE:
            chosen_one = value.get(name)
            if chosen_one in (None, ""):
                found[name] = None
            elif not tax.valid(name, chosen_one):
                return "unknown_choice"
            else:
                found[name] = chosen_one
        raw_date = value.get("occurred_on")
        if raw_date in (None, ""):
            found["occurred_on"] = None
        else:
            try:
                when = date.fromisoformat(str(raw_date)[:10])
            except ValueError:
                return "bad_date"
            if when > today_in_london():
                return "future_date"
            found["occurred_on"] = when.isoformat()
        for name, limit in (
            ("occurred_approx", limits["short_chars"]),
            ("impact", limits["note_chars"]),
        ):
            given = value.get(name)
            found[name] = given.strip()[:limit] if isinstance(given, str) else ""
        for name, given in found.items():
            if given in (None, "", []):
                answers.pop(name, None)
            else:
                answers[name] = given
        return None

    async def _answer_support(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        answers = draft["answers"]
        if not value.get("form"):
            if pick(typed, {"skip": ["no", "none", "nothing"]}) is None:
                await context.send_activity(text(self._w["typed_at_form"]))
                return False
            value = {}
        for name in ("wants_contact", "consent_monitoring", "consent_police", "consent_hr"):
            answers[name] = truthy(value.get(name))
        if answers.get("mode") == "anonymous":
            answers["wants_contact"] = False
        self._advance(draft, "support")
        await self._prompt(context, draft)
        return False

    async def _answer_review(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        choice = words_choice = typed.lower().strip()
        options: dict[str, list[str]] = {
            "submit": ["submit my report", "send", "send it", "yes"],
            "discard": ["discard it", "delete", "delete it", "throw it away"],
        }
        for section in EDITABLE:
            options[f"edit {section}"] = [f"edit {section}", f"change {section}"]
        choice = pick(words_choice, options) or ""
        if choice == "discard":
            await self._drafts.delete(context)
            await context.send_activity(text(self._w["review"]["discarded"]))
            return True
        if choice.startswith("edit "):
            draft["step"] = choice.removeprefix("edit ")
            draft["review_next"] = True
            await self._prompt(context, draft)
            return False
        if choice != "submit":
            await self._ask_review(context, draft)
            return False
        return await self._submit(context, draft)

    async def _submit(self, context: TurnContext, draft: dict[str, Any]) -> bool:
        answers = draft["answers"]
        session = turn_session()
        anonymous = answers.get("mode") == "anonymous"
        today = today_in_london()
        try:
            submitted = await self._incidents.submit(
                session, answers, reporter=None if anonymous else person(context), today=today
            )
        except ReportError as problem:
            await context.send_activity(text(str(problem)))
            await self._ask_review(context, draft)
            return False
        await self._drafts.delete(context)
        await context.send_activity(
            self._receipt(answers, submitted.reference, submitted.passphrase)
        )
        return True

    def _receipt(self, answers: dict[str, Any], reference: str, passphrase: str | None) -> Any:
        words = self._w["receipt"]
        tax = self._tax
        ack_days = tax.limits["acknowledge_days"]
        facts = [
            {"title": words["reference_label"], "value": reference},
        ]
        paragraphs = []
        if passphrase:
            facts.append({"title": words["passphrase_label"], "value": passphrase})
            paragraphs.append(words["passphrase_warning"])
            paragraphs.append(words["anonymous_next"].format(ack_days=ack_days))
        else:
            paragraphs.append(words["named_next"].format(ack_days=ack_days))
        submitted_at = datetime.now(LONDON).strftime("%-d %B %Y, %H:%M")
        summary = [
            {"title": words["submitted_label"], "value": submitted_at},
            {"title": "How", "value": tax.label("mode", answers.get("mode"))},
            {"title": "Who", "value": tax.label("relationship", answers.get("relationship"))},
        ]
        if answers.get("motivations"):
            summary.append(
                {"title": "Motivation", "value": tax.labels("motivations", answers["motivations"])}
            )
        if answers.get("kinds"):
            summary.append({"title": "Kind", "value": tax.labels("kinds", answers["kinds"])})
        services = [
            f"**{service['name']}**: {service['detail']}"
            for service in self._w["support_services"]
            if _applies(service.get("when", []), answers)
        ]
        return card(
            self._content,
            heading=words["heading"],
            paragraphs=paragraphs,
            sections=[
                {"title": words["reference_label"], "facts": facts, "lines": []},
                {
                    "title": words["summary_heading"],
                    "facts": summary,
                    "lines": [plain_text(answers.get("narrative", ""))],
                },
                {"title": words["support_heading"], "facts": [], "lines": services},
            ],
        )


def _applies(conditions: list[str], answers: dict[str, Any]) -> bool:
    """Whether a support service fits these answers (see content/incidents.yaml)."""
    crime = answers.get("possible_crime") in ("yes", "unsure") or bool(
        {"physical", "damage"} & set(answers.get("kinds") or [])
    )
    for condition in conditions:
        if condition == "always" or (condition == "crime" and crime):
            return True
        if condition.startswith("motivation:") and condition.split(":", 1)[1] in (
            answers.get("motivations") or []
        ):
            return True
    return False


def _pretty(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return date.fromisoformat(iso).strftime("%-d %B %Y")
    except ValueError:
        return iso
