"""The report conversation's answers: each state's reply read, checked and kept in the draft;
the last one submits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from botbuilder.core import TurnContext

from bot.core.clock import LONDON, today_in_london
from bot.core.content import plain_text
from bot.db.session import turn_session
from bot.incidents.records import ReportError
from bot.incidents.taxonomy import Taxonomy
from dialogs.incidents.incident_ui import (
    card,
    codes,
    person,
    pick,
    text,
    truthy,
    words_of,
)
from dialogs.incidents.report_files import ReportFiles
from dialogs.incidents.report_states import EDITABLE, applies

# The "Yes, report anonymously" button when that drops a request to be contacted.
ANONYMOUS_ANYWAY = "anonymous anyway"


class ReportAnswers(ReportFiles):
    """Takes each state's reply and moves the draft on; submits from the review."""

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
            await self._forget_draft(context, draft)
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
            "anonymous": ["anonymously", "anon", "anonymous", ANONYMOUS_ANYWAY],
            "confidential": ["confidentially", "confidential"],
            "named": ["with my name", "named", "name"],
        }
        answers = draft["answers"]
        if (
            pick(typed, options) == "anonymous"
            and answers.get("wants_contact")
            and words_of(typed) != ANONYMOUS_ANYWAY
        ):
            # Anonymous reporters can't be contacted: say what would be dropped, and ask.
            words = self._w["modes"]
            keep = answers.get("mode") or "confidential"
            await context.send_activity(
                card(
                    self._content,
                    heading=words["drop_contact"],
                    buttons=[
                        self._button(draft, words["drop_contact_yes"], ANONYMOUS_ANYWAY),
                        self._button(draft, words["drop_contact_no"], keep),
                    ],
                )
            )
            return False
        if await self._answer_choice(context, draft, typed, options) == "anonymous":
            answers.pop(
                "wants_contact", None
            )  # agreed above: an anonymous reporter can't be called
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
                "others",
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
        # What "something else" was, in their words (kept even if the box was not ticked).
        others = {}
        for name in self._w["details"]["other_labels"]:
            given = value.get(f"{name}_other")
            if isinstance(given, str) and given.strip():
                others[name] = given.strip()[: limits["short_chars"]]
        found["others"] = others
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
        if value.get("choice") == "remove":
            await self._remove_file(context, draft, value.get("file"))
            await self._ask_review(context, draft)
            return False
        choice = words_choice = typed.lower().strip()
        options: dict[str, list[str]] = {
            "submit": ["submit my report", "send", "send it", "yes"],
            "discard": ["discard it", "delete", "delete it", "throw it away"],
        }
        for section in EDITABLE:
            options[f"edit {section}"] = [f"edit {section}", f"change {section}"]
        choice = pick(words_choice, options) or ""
        if choice == "discard":
            await self._forget_draft(context, draft)
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
        none = self._w["review"]["not_given"]
        summary = [
            {"title": words["submitted_label"], "value": submitted_at},
            {"title": "How", "value": tax.label("mode", answers.get("mode"))},
            {"title": "Who", "value": tax.label("relationship", answers.get("relationship"))},
            # Every answer given, as on the review, so the receipt is a whole record.
            *(fact for fact in self._detail_facts(answers, none) if fact["value"] != none),
        ]
        if answers.get("files"):
            files = answers["files"]
            summary.append(
                {"title": self._files.words["files_label"], "value": self._files.count(len(files))}
            )
        services = [
            f"**{service['name']}**: {service['detail']}"
            for service in self._w["support_services"]
            if applies(service.get("when", []), answers)
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
                {
                    "title": self._w["review"]["sections"]["support"],
                    "facts": [],
                    "lines": self._support_lines(answers),
                },
                {"title": words["support_heading"], "facts": [], "lines": services},
            ],
        )
