"""The report conversation's states, in order, and the small helpers its parts share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from botbuilder.core import TurnContext

# The conversation's states, in order. Each has an `_ask_<step>` (sends its question) and an
# `_answer_<step>` (takes the reply, moves the draft on); `ReportIncidentDialog.__init__`
# pairs them in one table, which `continue_dialog` and `_prompt` follow.
# ("pattern" is asked only when the pattern check applies: report_pattern.py.)
STEPS = ("safety", "mode", "relationship", "narrative", "details", "pattern", "support", "review")


EDITABLE = ("mode", "relationship", "narrative", "details", "pattern", "support")


CONTINUE_WORDS = ("continue my report", "continue report", "resume report")


Ask = Callable[[TurnContext, dict[str, Any]], Awaitable[None]]


Answer = Callable[[TurnContext, dict[str, Any], str, dict[str, Any]], Awaitable[bool]]


def applies(conditions: list[str], answers: dict[str, Any]) -> bool:
    """Whether a support service fits these answers (see content/incidents/words.yaml)."""
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


def pretty_day(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return date.fromisoformat(iso).strftime("%-d %B %Y")
    except ValueError:
        return iso
