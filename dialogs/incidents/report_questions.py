"""The report conversation's questions: one card per state (see report_states.py)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog

from bot.core.clock import today_in_london
from bot.core.content import Content, plain_text
from bot.incidents.evidence import size_text
from bot.incidents.service import Incidents
from bot.incidents.taxonomy import Taxonomy
from dialogs.incidents.incident_ui import (
    card,
    choice_input,
    date_input,
    detail_facts,
    text_input,
    toggle_input,
    when_text,
)
from dialogs.incidents.report_states import STEPS, Answer, Ask, pretty_day


class ReportQuestions(Dialog):
    """Sends each state's question; the draft, not the dialog stack, holds the answers."""

    _content: Content
    _incidents: Incidents
    _tax: Taxonomy
    _w: dict[str, Any]
    _drafts: StatePropertyAccessor
    _draft_days: int
    _steps: dict[str, tuple[Ask, Answer]]

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

    async def _ask_resume(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["resume"]
        resume = {"step": "resume", "draft": draft["id"]}
        await context.send_activity(
            card(
                self._content,
                heading=words["question"].format(started=pretty_day(draft["started"])),
                buttons=[
                    {"title": words["continue"], "data": {"choice": "continue", **resume}},
                    {"title": words["restart"], "data": {"choice": "restart", **resume}},
                ],
            )
        )

    async def _prompt(self, context: TurnContext, draft: dict[str, Any]) -> None:
        ask, _ = self._steps[draft["step"]]
        await ask(context, draft)

    async def _ask_safety(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["safety"]
        await context.send_activity(
            card(
                self._content,
                heading=words["question"],
                paragraphs=[words["first"]],
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
        if draft.get("seeded") and draft["answers"].get("narrative"):
            paragraphs.insert(0, words["started_with"])
        if draft["answers"].get("relationship") == "on_behalf":
            paragraphs.append(self._w["relationships"]["on_behalf_guidance"])
        paragraphs.append(self._w["evidence"]["hint"].format(**self._limits()))
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
                note=words["type_here"],
            )
        )

    async def _ask_details(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._w["details"]
        answers = draft["answers"]
        short = self._tax.limits["short_chars"]
        others = answers.get("others") or {}
        inputs = []
        for name in ("motivations", "kinds", "location", "perpetrator", "frequency"):
            chosen = answers.get(name)
            inputs.append(
                choice_input(
                    name,
                    words[name]["label"],
                    words[name]["options"],
                    multi=name in Taxonomy.MULTI,
                    value=",".join(chosen or []) if name in Taxonomy.MULTI else chosen,
                )
            )
            if name in words["other_labels"]:
                label = words["other_labels"][name]
                inputs.append(
                    text_input(f"{name}_other", label, max_length=short, value=others.get(name))
                )
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
        parts = {
            "mode": ([], [tax.label("mode", answers.get("mode"))]),
            "relationship": ([], [tax.label("relationship", answers.get("relationship"))]),
            "narrative": ([], [plain_text(answers.get("narrative") or none)]),
            "details": (self._detail_facts(answers, none), []),
            "support": ([], self._support_lines(answers)),
        }
        sections = [
            {
                "title": titles[name],
                "facts": facts,
                "lines": lines,
                "button": self._button(draft, words["edit"], f"edit {name}"),
            }
            for name, (facts, lines) in parts.items()
        ]
        sections += self._file_sections(draft)
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                sections=sections + self._pattern_sections(draft),
                buttons=[
                    self._button(draft, words["submit"], "submit"),
                    self._button(draft, words["discard"], "discard"),
                ],
            )
        )

    def _limits(self) -> dict[str, str]:
        """The file limits, as the words fill them in ({max_files}, {max_size})."""
        limits = self._incidents.evidence.limits
        return {"max_files": str(limits.max_files), "max_size": size_text(limits.max_bytes)}

    def _file_sections(self, draft: dict[str, Any]) -> list[dict[str, Any]]:
        """The review's sections about files (report_files.py)."""
        raise NotImplementedError

    def _detail_facts(self, answers: dict[str, Any], none: str) -> list[dict[str, str]]:
        """The details step's answers, in words, as the review and the receipt show them."""
        when = when_text(pretty_day(answers.get("occurred_on")), answers.get("occurred_approx"))
        return detail_facts(self._tax, answers, when=when, none=none)

    def _support_lines(self, answers: dict[str, Any]) -> list[str]:
        """What the reporter asked for: contact about support, and referrals agreed to."""
        support = self._w["support"]
        consents = [
            support[name]
            for name in ("consent_monitoring", "consent_police", "consent_hr")
            if answers.get(name)
        ]
        lines = []
        if answers.get("mode") != "anonymous":
            lines.append(
                "You'd like to be contacted about support."
                if answers.get("wants_contact")
                else "You haven't asked to be contacted."
            )
        lines.append(
            "You agree to: " + "; ".join(consents) if consents else "Nothing will be passed on."
        )
        return lines

    def _pattern_sections(self, draft: dict[str, Any]) -> list[dict[str, Any]]:
        """The review's pattern-check section: none here (report_pattern.py adds it)."""
        return []
