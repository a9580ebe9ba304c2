"""The shapes of content/events/: an event file (calendar/*.yaml) and networks.yaml (pydantic).

A key misspelt, missing or of the wrong kind is reported with the file and line by
`bot.core.content.load_model`; the rules about an event as a whole (it ends after it starts,
a network that exists, ...) are the same as for one made in chat (`bot/events/admin.py`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator

from bot.core.content import ContentModel
from bot.events.records import SLUG, parse_local

BIG_CONVERSATION = "big_conversation"
_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _text(value: object) -> object:
    """Numbers and dates written where text belongs are taken as written."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError("may use only lower-case letters, digits and hyphens")
    return value


def _uk_time(value: object) -> object:
    """ "YYYY-MM-DD HH:MM", UK time."""
    if isinstance(value, str):
        return parse_local(value)
    return value


Text = Annotated[str, BeforeValidator(_text), StringConstraints(strip_whitespace=True)]
Said = Annotated[Text, StringConstraints(min_length=1)]
UkTime = Annotated[datetime, BeforeValidator(_uk_time)]


class EventFileModel(ContentModel):
    """One event kept as a file (see calendar/_example.yaml)."""

    slug: Annotated[Said, AfterValidator(_slug)]
    title: Said
    network: Said
    description: Text = ""
    start: UkTime
    end: UkTime
    signup_deadline: UkTime | None = None
    capacity: int = Field(strict=True)
    location: Text | None = None
    online_url: Text | None = None
    accessibility: Text | None = None


class NetworkEntry(ContentModel):
    """One staff network: its code (stored, never change it), name and description."""

    code: str
    name: Said
    description: Text = ""

    @field_validator("code")
    @classmethod
    def _code(cls, code: str) -> str:
        if not _CODE.fullmatch(code) or code == BIG_CONVERSATION:
            raise ValueError(
                f"{code!r} is not a network code: lower-case letters, digits and _, "
                f"not {BIG_CONVERSATION!r}"
            )
        return code


class NetworksFile(ContentModel):
    """networks.yaml: the staff networks people can join, codes used once."""

    networks: list[NetworkEntry]

    @field_validator("networks")
    @classmethod
    def _once(cls, networks: list[NetworkEntry]) -> list[NetworkEntry]:
        codes = [n.code for n in networks]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"a code is used twice: {', '.join(repeated)}")
        return networks
