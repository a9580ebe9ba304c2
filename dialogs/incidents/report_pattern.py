"""The report's pattern-check step (state "pattern", after the details): when the pattern
check is on and who did it was a colleague or manager, "Do you want to name them so the case
team can see if others report the same person?"

Three answers: no; "I'll name them in my report" (their name goes in what happened, as any
report's words do); or "tell the case team only if someone else reports the same person",
which asks who: Teams' people picker (an Adaptive Card `Input.ChoiceSet` whose choices come
from the organisation's directory) and, beside it, a box for their name, which is all the
terminal chat and the Agents Playground can offer (they cannot search a directory).

The draft (encrypted conversation state) holds who was named until the report is submitted;
the report keeps only a keyed hash (bot/incidents/pattern_checks.py). The review shows
"Named for a pattern check" with a button to remove it.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from bot.channel.turn import Turn
from bot.incidents.patterns import DIRECTORY, TYPED, is_directory_id, normalise_name
from dialogs.incidents.incident_ui import card, pick, text, text_input, words_of
from dialogs.incidents.report_answers import ReportAnswers

# Teams' people picker: its choices are found in the organisation's directory as they type.
PEOPLE_DATASET = "graph.microsoft.com/users"

REMOVE = "remove pattern"
ADD = "edit pattern"


def people_picker(input_id: str, label: str, *, value: str | None = None) -> dict[str, Any]:
    """An Input.ChoiceSet that Teams fills from the directory: it submits the chosen person's
    Entra object id (never their name); `value`, an object id, shows that person chosen."""
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "isMultiSelect": False,
        "choices": [],
        "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
    }
    if value:
        element["value"] = value
    return element


class ReportPattern(ReportAnswers):
    """Asks the pattern-check question, reads the person named, and shows it on the review."""

    @property
    def _pw(self) -> dict[str, Any]:
        words: dict[str, Any] = self._incidents.pattern_words
        return words

    def _advance(self, draft: dict[str, Any], after: str) -> None:
        """The next step, with "pattern" asked once, after the details, only when it applies
        (and a pattern check dropped if the details no longer call for one)."""
        applies = self._incidents.pattern_applies(draft["answers"])
        if not applies:
            draft["answers"].pop("pattern", None)
        if after == "details" and applies and not draft.get("pattern_asked"):
            draft["step"] = "pattern"  # then on, or back to the review if editing
            return
        super()._advance(draft, after)
        if draft["step"] == "pattern":
            super()._advance(draft, "pattern")

    async def _ask_pattern(self, context: TurnContext, draft: dict[str, Any]) -> None:
        if not self._incidents.pattern_applies(draft["answers"]):
            # Turned off, or the details changed, since this step was reached.
            self._advance(draft, "pattern")
            await self._prompt(context, draft)
            return
        if draft.get("pattern_picking"):
            await self._ask_pattern_person(context, draft)
            return
        words = self._pw["question"]
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["explain"]],
                sections=[
                    {"title": c["label"], "facts": [], "lines": [c["explain"]]}
                    for c in words["choices"]
                ],
                buttons=[self._button(draft, c["label"], c["id"]) for c in words["choices"]],
            )
        )

    async def _ask_pattern_person(self, context: TurnContext, draft: dict[str, Any]) -> None:
        words = self._pw["person"]
        named = draft["answers"].get("pattern") or {}
        chosen = named.get("value") if named.get("kind") == DIRECTORY else None
        typed = named.get("value") if named.get("kind") == TYPED else None
        await context.send_activity(
            card(
                self._content,
                heading=words["heading"],
                paragraphs=[words["hint"]],
                inputs=[
                    people_picker("pattern_person", words["picker_label"], value=chosen),
                    text_input(
                        "pattern_name",
                        words["name_label"],
                        max_length=int(self._pw["limits"]["name_chars"]),
                        value=typed,
                    ),
                ],
                note=words["name_hint"],
                buttons=[
                    self._form(draft, words["next"], "incident.pattern"),
                    {**self._button(draft, words["skip"], "no"), "skip_inputs": True},
                ],
            )
        )

    async def _answer_pattern(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        answers = draft["answers"]
        if value.get("form") == "incident.pattern" and draft.get("pattern_picking"):
            problem = self._read_person(context, answers, value)
            if problem is not None:
                await context.send_activity(text(problem))
                await self._ask_pattern_person(context, draft)
                return False
            return await self._pattern_answered(context, draft)
        choices = {c["id"]: [c["label"]] for c in self._pw["question"]["choices"]}
        choices["no"] += ["skip", "don't name them"]
        pressed = value.get("choice")
        choice = pressed if pressed in choices else pick(typed, choices)
        if choice == "pattern":
            draft["pattern_picking"] = True
            await self._ask_pattern_person(context, draft)
            return False
        if choice is None:
            if draft.get("pattern_picking") and typed:
                await context.send_activity(text(self._w["typed_at_form"]))
            await self._ask_pattern(context, draft)
            return False
        answers.pop("pattern", None)
        if choice == "in_report":
            await context.send_activity(text(self._pw["question"]["in_report_hint"]))
        return await self._pattern_answered(context, draft)

    async def _pattern_answered(self, context: TurnContext, draft: dict[str, Any]) -> bool:
        draft["pattern_asked"] = True
        draft.pop("pattern_picking", None)
        self._advance(draft, "pattern")
        await self._prompt(context, draft)
        return False

    def _read_person(
        self, context: TurnContext, answers: dict[str, Any], value: dict[str, Any]
    ) -> str | None:
        """Keep who was named in the draft; or why not, as a sentence. The picker's value must
        be one directory id (anything else was not sent by Teams' picker)."""
        words = self._pw["person"]
        picked, name = value.get("pattern_person"), value.get("pattern_name")
        picked = picked.strip() if isinstance(picked, str) else ""
        name = " ".join(name.split()) if isinstance(name, str) else ""
        limit = int(self._pw["limits"]["name_chars"])
        if len(name) > limit:
            return str(words["name_too_long"]).format(length=f"{len(name):,}", limit=limit)
        me = Turn.of(context).person
        tenant = me.tenant_id if me is not None else ""
        review = self._pw["review"]
        if picked:
            if "," in picked:
                return str(words["one_person"])
            if not is_directory_id(picked):
                return str(words["not_a_person"])
            if me is not None and picked.lower() == me.aad_object_id.lower():
                return str(words["yourself"])
            label = review["chosen_as"].format(name=name) if name else review["chosen"]
            answers["pattern"] = {
                "kind": DIRECTORY,
                "value": picked.lower(),
                "tenant": tenant,
                "label": label,
            }
            return None
        if not name:
            return str(words["nothing"])
        if len(normalise_name(name)) < 2:
            return str(words["name_too_short"])
        answers["pattern"] = {"kind": TYPED, "value": name, "tenant": tenant, "label": name}
        return None

    def _pattern_sections(self, draft: dict[str, Any]) -> list[dict[str, Any]]:
        """The review's pattern-check section, when the question applies."""
        if not self._incidents.pattern_applies(draft["answers"]):
            return []
        words = self._pw["review"]
        named = draft["answers"].get("pattern")
        if not isinstance(named, dict):
            return [
                {
                    "title": words["title"],
                    "facts": [],
                    "lines": [words["none"]],
                    "button": self._button(draft, words["add"], ADD),
                }
            ]
        return [
            {
                "title": words["title"],
                "facts": [{"title": words["label"], "value": str(named.get("label", ""))}],
                "lines": [words["explain"]],
                "button": self._button(draft, words["remove"], REMOVE),
            }
        ]

    async def _answer_review(
        self, context: TurnContext, draft: dict[str, Any], typed: str, value: dict[str, Any]
    ) -> bool:
        """The review's pattern-check buttons; everything else as ReportAnswers takes it."""
        choice = words_of(typed)
        if choice in (REMOVE, "remove pattern check") and draft["answers"].get("pattern"):
            draft["answers"].pop("pattern")
            await context.send_activity(text(self._pw["review"]["removed"]))
            await self._ask_review(context, draft)
            return False
        if choice in (ADD, "change pattern"):
            if not self._incidents.pattern_applies(draft["answers"]):
                await self._ask_review(context, draft)
                return False
            draft["pattern_asked"] = False
        return await super()._answer_review(context, draft, typed, value)
