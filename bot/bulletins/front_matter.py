"""A bulletin's front matter, as a pydantic model: the keys it has and what each may hold.

`bot.core.content.validate_yaml` checks the YAML against `FrontMatter` and reports each problem
as "<file> line N: <key>: <message>". The messages are for the comms officer who writes the
bulletin: pydantic's own ("Field required", "Extra inputs are not permitted") are reworded by
error type where they arise, the way pydantic's documentation customises its messages, and the
checks written here raise their own words.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from bot.core.content import ContentModel

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# An event's id in the bot's events (bot/events/): the card's "Sign me up" button names it.
EVENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_TITLE = 200
MAX_SUMMARY = 250


def _shown(value: object) -> str:
    """A value as the author wrote it, quoted (a YAML date reads 2026-11-01, not date(...))."""
    return repr(value if isinstance(value, str) else str(value))


def _words(value: object) -> str:
    """Some text, its line breaks and runs of spaces made single spaces."""
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("bulletin_text", "must be some text")
    return " ".join(value.split())


def _https(value: object) -> str:
    """A web address the card may link to."""
    if not isinstance(value, str) or not value.startswith("https://") or " " in value.strip():
        raise PydanticCustomError("bulletin_url", f"must start https:// (got {_shown(value)})")
    return value.strip()


def _month(value: object) -> str:
    """A month written YYYY-MM."""
    if not isinstance(value, str) or not MONTH.match(value):
        raise PydanticCustomError(
            "bulletin_month", f"must be YYYY-MM, e.g. 2026-11 (got {_shown(value)})"
        )
    return value


def _event_id(value: object) -> str:
    """An event's id, as the events feature names it."""
    if not isinstance(value, str) or not EVENT_ID.match(value):
        raise PydanticCustomError("bulletin_event", "must be an event's id, e.g. 2027-01-20-talk")
    return value


Text = Annotated[str, BeforeValidator(_words)]
HttpsUrl = Annotated[str, BeforeValidator(_https)]
Month = Annotated[str, BeforeValidator(_month)]
EventId = Annotated[str, BeforeValidator(_event_id)]


def _plain(model: type[_Part], error: ErrorDetails) -> str:
    """Pydantic's message about one of `model`'s own keys (or the whole of it), reworded."""
    kind, keys = error["type"], ", ".join(model.model_fields)
    if kind == "missing":
        return f"is missing ({model.model_fields[str(error['loc'][-1])].description})"
    if kind == "extra_forbidden":
        return f"unknown key ({model.label} has {keys})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be 'key: value' lines ({keys})"
    if kind in ("tuple_type", "list_type"):
        return "must be a list, one '- ' line for each"
    if kind.startswith("date_"):
        given = str(error["input"])
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", given):
            return f"{given} is not a date in the calendar"
        return "must be a date, YYYY-MM-DD"
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"is {len(str(error['input']))} characters; at most {limit}"
    return error["msg"]


def _problem(loc: tuple[int | str, ...], kind: str, message: str, given: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=given)


class _Part(ContentModel):
    """A mapping in the front matter whose problems are told in plain English."""

    label: ClassVar[str]

    @classmethod
    def _also_wrong(cls, data: dict[str, Any]) -> dict[str, str]:
        """Problems with keys as written that their own checks cannot see: key to message."""
        return {}

    @model_validator(mode="wrap")
    @classmethod
    def _in_plain_english(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        written = data if isinstance(data, dict) else {}
        found = [
            _problem((key,), "bulletin", message, written[key])
            for key, message in cls._also_wrong(written).items()
        ]
        try:
            part = handler(data)
        except ValidationError as error:
            # A nested part has already reworded its own (their loc is longer here).
            found += [
                _problem(
                    tuple(item["loc"]),
                    "bulletin" if len(item["loc"]) <= 1 else item["type"],
                    _plain(cls, item) if len(item["loc"]) <= 1 else item["msg"],
                    item["input"],
                )
                for item in error.errors(include_url=False)
            ]
            raise ValidationError.from_exception_data(error.title, found) from None
        if found:
            raise ValidationError.from_exception_data(cls.__name__, found)
        return part


class LinkItem(_Part):
    """One of `links`: a link at the foot of the bulletin."""

    label: ClassVar[str] = "a link"

    title: Text = Field(description="the words shown")
    url: HttpsUrl = Field(description="the address, https://...")


class EventItem(_Part):
    """One of `events`: an event the bulletin features."""

    label: ClassVar[str] = "an event"

    title: Text = Field(description="the event's name")
    date: dt.date = Field(description="the day it is on, YYYY-MM-DD")
    where: Text | None = None
    description: Text | None = None
    url: HttpsUrl | None = None
    event: EventId | None = None


class FrontMatter(_Part):
    """The lines between the two '---' at the top of content/bulletins/YYYY-MM.md."""

    label: ClassVar[str] = "a bulletin"
    # The month in the file's name, when it has one: the front matter must say the same.
    file_name: ClassVar[str | None] = None

    title: Text = Field(max_length=MAX_TITLE, description="the bulletin's title")
    month: Month = Field(description="the month it is for, YYYY-MM")
    summary: Text = Field(max_length=MAX_SUMMARY, description="one line for the notification")
    publish_date: dt.date | None = None
    links: tuple[LinkItem, ...] | None = None
    events: tuple[EventItem, ...] | None = None

    @classmethod
    def _also_wrong(cls, data: dict[str, Any]) -> dict[str, str]:
        """A month that is not the file's: checked here, so publish_date is still checked."""
        month = data.get("month")
        if cls.file_name is None or not isinstance(month, str) or not MONTH.match(month):
            return {}
        if month == Path(cls.file_name).stem:
            return {}
        return {"month": f"{month} does not match the file name {cls.file_name}"}

    @field_validator("publish_date")
    @classmethod
    def _in_its_month(cls, day: dt.date | None, info: ValidationInfo) -> dt.date | None:
        month = info.data.get("month")  # absent when the month itself is wrong
        if day is not None and month is not None and f"{day:%Y-%m}" != month:
            raise PydanticCustomError("bulletin_publish_date", f"{day} is not in {month}")
        return day


def front_matter_model(source: Path) -> type[FrontMatter]:
    """The model for one file's front matter: in YYYY-MM.md, the month must be YYYY-MM."""
    return _named(source.name) if MONTH.match(source.stem) else FrontMatter


@cache
def _named(name: str) -> type[FrontMatter]:
    class NamedFrontMatter(FrontMatter):
        file_name: ClassVar[str | None] = name

    return NamedFrontMatter
