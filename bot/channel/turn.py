"""What a dialog reads about the person's turn, in one place: what they sent and who they are.

Dialogs never read `activity.text`, `activity.value` or `activity.from_property` themselves;
they ask a `Turn`. A move to another SDK changes this module, not the conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from bot.channel.files import FilePolicy, SentFile, bot_token, fetch, files_in
from bot.channel.teams import is_personal, normalise_command, person_of
from bot.core.people import PersonKey


def text_field(value: dict[str, Any], key: str, limit: int = 100) -> str:
    """A string field of a card's values, or "" if missing, not text or too long."""
    found = value.get(key)
    return found.strip() if isinstance(found, str) and len(found) <= limit else ""


@dataclass(frozen=True)
class Turn:
    """The person's side of one turn."""

    context: TurnContext

    @classmethod
    def of(cls, context: TurnContext) -> Turn:
        """The turn `context` carries."""
        return cls(context)

    @property
    def text(self) -> str:
        """What they typed (or a button's text), trimmed; "" for a card submission."""
        return (self.context.activity.text or "").strip()

    @property
    def command(self) -> str:
        """What they typed as a command word: lower case, mentions and closing punctuation
        removed (`normalise_command`)."""
        return normalise_command(self.context.activity.text)

    @property
    def value(self) -> dict[str, Any]:
        """A card's values (empty for typed text or anything that is not an object)."""
        value = self.context.activity.value
        return value if isinstance(value, dict) else {}

    def field(self, key: str, limit: int = 100) -> str:
        """One string field of the card's values ("" if missing, not text or too long)."""
        return text_field(self.value, key, limit)

    @property
    def person(self) -> PersonKey | None:
        """Tenant + Entra object id of the sender, when Teams supplied both."""
        return person_of(self.context.activity)

    @property
    def name(self) -> str:
        """The sender's display name, as Teams gives it ("" when it does not)."""
        sender = getattr(self.context.activity, "from_property", None)
        return str(getattr(sender, "name", None) or "")

    @property
    def sender_id(self) -> str:
        """The sender's channel id (a Teams user id), "" when missing."""
        sender = getattr(self.context.activity, "from_property", None)
        return str(getattr(sender, "id", None) or "")

    @property
    def personal(self) -> bool:
        """True in a one-to-one chat with the bot."""
        return is_personal(self.context.activity)

    @property
    def files(self) -> list[SentFile]:
        """The files sent with the message (Teams file downloads and inline images)."""
        return files_in(self.context.activity)

    async def fetch_file(self, file: SentFile, policy: FilePolicy) -> bytes:
        """One sent file's bytes, fetched only from where `policy` allows (FetchRefused)."""
        token = await bot_token(self.context) if file.inline else None
        service_url = str(self.context.activity.service_url or "")
        return await fetch(file, service_url=service_url, token=token, policy=policy)
