"""The declaration conversations' states, words and small types, shared by "declare" and
"my data" (see declare.py for the states' map)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from botbuilder.core import TurnContext
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from bot.channel.turn import Turn

REPLY = "declaration.reply"


START = "declaration.start"


RESUME = "declaration.resume"


NOTICE = "declaration.notice"


QUESTION = "declaration.question"


DESCRIBE = "declaration.describe"


PART = "declaration.part"


CONFIRM = "declaration.confirm"


MY_DATA = "declaration.my_data"


COPY = "declaration.copy"


PICK = "declaration.pick"


WITHDRAW = "declaration.withdraw"


OBJECT = "declaration.object"


# The conversation-state property the draft is kept in (see bot/runtime.py).
DRAFT_PROPERTY = "DeclarationDraft"


PART_FORM = "declaration_part"


DESCRIBE_FORM = "declaration_describe"


WITHDRAW_WORDS = frozenset(
    {"delete my data", "withdraw", "withdraw my data", "delete all my data", "delete everything"}
)


EXPORT_WORDS = frozenset({"export my data", "export", "copy of my data"})


# The privacy notice says "type my data at any time": these open it from any question.
MY_DATA_WORDS = frozenset(
    {"my data", "see my data", "show my data", "my equality data", "what do you hold"}
)


LATER_WORDS = frozenset({"later", "finish later", "not now", "save for later", "pause"})


SKIP_WORDS = frozenset({"skip", "skip this question", "skip this part"})


BACK_WORDS = frozenset({"back", "go back", "previous"})


YES_WORDS = frozenset({"yes", "y", "ok", "okay", "confirm"})


NO_WORDS = frozenset({"no", "n"})


# Keys a card might use to name a person; none of our cards do, so any is a forgery.
PERSON_KEYS = ("pseudonym", "person", "aadObjectId", "aad_object_id")


class Draft(TypedDict):
    """Answers being given, kept apart from the dialog stack (JSON in conversation state)."""

    version: str
    purpose: str  # "new" or "change"
    mode: str  # "questions" or "form"
    answers: dict[str, dict[str, str]]  # question -> {"code": ..., "description": ...}
    only: list[str]  # the questions a change is about; empty = all of them
    position: str  # the question (or part) being asked; "" = ready to confirm
    group: str  # the answer group chosen for a grouped question, "" before
    token: str
    started: str  # ISO date


@dataclass(frozen=True, slots=True)
class Reply:
    """What the person sent: a command-like text, what they typed, or a form's values."""

    text: str
    raw: str
    form: dict[str, Any] | None


class ReplyPrompt(Prompt):
    """Waits for the next message and returns it as a `Reply`; any message will do."""

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        """Send the card (again, when the chat is reopened)."""
        if options.prompt is not None:
            await turn_context.send_activity(options.prompt)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        """Anything the person sends is a reply; the step decides what it means."""
        turn = Turn.of(turn_context)
        form = turn.value if isinstance(turn.value.get("form"), str) else None
        return PromptRecognizerResult(True, Reply(turn.command, turn.text, form))


def choice_of(title: str, data: str) -> dict[str, Any]:
    return {"title": title, "data": {"choice": data}}


def new_token() -> str:
    return secrets.token_urlsafe(12)


def day_text(value: date | None) -> str:
    """A date as people write it: 3 May 2026."""
    return f"{value.day} {value:%B %Y}" if value else ""
