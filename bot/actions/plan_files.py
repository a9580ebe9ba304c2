"""The shape of an action plan file, content/actions/plans/PLAN.yaml (pydantic).

A key misspelt, missing or of the wrong kind is reported with the file and line by
`bot.core.content.load_model`. What needs the whole plan (an action's objective exists, a
number used once, a deadline the bot can read) is checked by `bot/actions/plans.py`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from bot.core.content import ContentModel


def _words(value: object) -> object:
    """Text as written, on one line (the source PDFs wrap mid-sentence); numbers as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return " ".join(value.split()) if isinstance(value, str) else value


def _written(pattern: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"is written like {example} (got {value!r})")
        return value

    return AfterValidator(check)


Words = Annotated[str, BeforeValidator(_words)]
Said = Annotated[Words, StringConstraints(min_length=1)]
PlanId = Annotated[Words, _written(r"\d{4}-\d{2}", '"2022-23"')]
# Upper-cased before it is checked: "d1" is D1.
Number = Annotated[
    Words, StringConstraints(to_upper=True), _written(r"[A-Z]\d{1,2}|\d{1,2}\.\d{1,2}", "4.1 or D1")
]


class ObjectiveEntry(ContentModel):
    """One objective (or theme)."""

    id: Said
    title: Words = ""
    confirm: Words | None = None


class ActionEntry(ContentModel):
    """One action, as the plan writes it."""

    number: Number
    objective: Said
    action: Said
    leads: list[Said] = Field(min_length=1)
    deadline: Words = ""
    success_measures: list[Words] = Field(default_factory=list)
    # A note for the policy team where the source text was garbled (listed by validate).
    confirm: Words | None = None


class PlanFile(ContentModel):
    """One plan: `plan: "2022-23"`, its title, the day it starts, objectives and actions.

    `status: closed` with `closed_on:` (the day the admins closed it) ends the plan's
    nudges and escalations; a plan is active until then."""

    plan: PlanId
    title: Words = ""
    starts: date
    status: Literal["active", "closed"] = "active"
    # Checked even when missing: a closed plan without the day it closed is an error.
    closed_on: date | None = Field(default=None, validate_default=True)
    objectives: list[ObjectiveEntry] = Field(default_factory=list)
    actions: list[ActionEntry] = Field(min_length=1)

    @field_validator("closed_on")
    @classmethod
    def _closed_with_a_day(cls, value: date | None, info: ValidationInfo) -> date | None:
        status, starts = info.data.get("status"), info.data.get("starts")
        if status == "closed" and value is None:
            raise ValueError("a closed plan needs closed_on: the day it was closed (YYYY-MM-DD)")
        if status == "active" and value is not None:
            raise ValueError("is given but the plan is not closed: add status: closed")
        if value is not None and isinstance(starts, date) and value < starts:
            raise ValueError(f"{value} is before the plan starts ({starts})")
        return value
