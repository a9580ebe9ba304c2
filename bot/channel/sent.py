"""What a message carries, sorted before it is routed: a card's button or form, files, or
something the bot cannot read."""

from __future__ import annotations

import json
from typing import Any

from bot.channel.files import files_in

# Longer messages are refused politely here; each dialog may set a tighter limit of its own.
MAX_TEXT_CHARS = 20_000

UNREADABLE = object()  # a card value that is not an object, or names nothing
FORM = object()  # a form's inputs, for the dialog that sent the form
TOO_BIG = object()  # a card value larger than any form the bot sends
FILES = object()  # files with no words: for the conversation under way, if any


def what_was_sent(activity: Any) -> str | object | None:
    """What a message asks for: a command or choice as text (a card's button), FORM,
    FILES, TOO_BIG or UNREADABLE; None for typed words."""
    value = activity.value
    if value is None:
        return FILES if not activity.text and files_in(activity) else None
    if isinstance(value, dict):
        if len(json.dumps(value, ensure_ascii=False)) > MAX_TEXT_CHARS * 2:
            return TOO_BIG
        form = value.get("form")
        if isinstance(form, str) and form.strip():
            return FORM
        for key in ("command", "choice"):
            chosen = value.get(key)
            if isinstance(chosen, str) and chosen.strip():
                return chosen
    return UNREADABLE
