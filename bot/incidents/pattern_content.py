"""The shape of content/incidents/patterns.yaml: the pattern check's words and limits.

Checked like every content file (`edi-bot content check`, and at start-up): a key misspelt,
missing or of the wrong kind is reported with the file and line.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.content import ContentModel as _Model


class PatternLimits(_Model):
    """The `limits` section."""

    name_chars: int = Field(ge=2, le=300)
    alert_buttons: int = Field(ge=1, le=5)


class PatternChoice(_Model):
    """One answer to the question: `no`, `in_report` or `pattern`."""

    id_: str = Field(alias="id")
    label: str
    explain: str


class PatternQuestion(_Model):
    """The `question` section: name them for a pattern check?"""

    heading: str
    explain: str
    choices: list[PatternChoice]
    in_report_hint: str

    @field_validator("choices")
    @classmethod
    def _the_three_answers(cls, choices: list[PatternChoice]) -> list[PatternChoice]:
        if sorted(choice.id_ for choice in choices) != ["in_report", "no", "pattern"]:
            raise ValueError("needs exactly the answers no, in_report and pattern")
        return choices


class PatternPerson(_Model):
    """The `person` section: the people picker, the typed name, and what can go wrong."""

    heading: str
    hint: str
    picker_label: str
    name_label: str
    name_hint: str
    next: str
    skip: str
    nothing: str
    not_a_person: str
    one_person: str
    yourself: str
    name_too_long: str
    name_too_short: str


class PatternReview(_Model):
    """The `review` section: the pattern check on the review card."""

    title: str
    label: str
    chosen: str
    chosen_as: str
    explain: str
    remove: str
    removed: str
    none: str
    add: str


class PatternAlert(_Model):
    """The `alert` section: what case handlers are sent ({count}, {references})."""

    title_person: str
    title_name: str
    body_person: str
    body_name: str
    next: str


class PatternCommandLine(_Model):
    """The `command_line` section: what `edi-bot cases patterns ...` says."""

    on: str
    off: str
    status: str
    alerted: str
    not_alerted: str
    unreadable: str
    found: str
    would_forget: str
    forgotten: str
    would_purge: str
    purged: str
    not_a_directory_id: str
    not_a_reference: str
    no_tenant: str


class PatternWords(_Model):
    """The whole file."""

    ask_when_perpetrator: list[str] = Field(min_length=1)
    limits: PatternLimits
    question: PatternQuestion
    person: PatternPerson
    review: PatternReview
    alert: PatternAlert
    command_line: PatternCommandLine
