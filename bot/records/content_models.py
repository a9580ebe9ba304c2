"""The shape of content/records/words.yaml.

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from bot.core.content import ContentModel as _Model

if TYPE_CHECKING:
    from bot.core.content import Content
    from bot.records.service import RecordLimits


class RecordLimitsWords(_Model):
    """The `limits` section."""

    records_per_person: int = Field(ge=1)
    additions_per_record: int = Field(ge=1)
    addition_chars: int = Field(ge=1)
    additions_shown: int = Field(ge=1)
    document_chars: int = Field(ge=1000)


class RecordKeepSections(_Model):
    """The `keep_sections` section."""

    narrative: str
    details: str


class RecordKeep(_Model):
    """The `keep` section: writing a record down."""

    intro: str
    heading: str
    hint: str
    keep: str
    discard: str
    edit: str
    sections: RecordKeepSections
    discarded: str
    kept_heading: str
    kept: str
    open_records: str
    report_now: str
    too_many: str
    too_long: str
    empty: str


class RecordResume(_Model):
    """The `resume` section: a record started and not kept."""

    question: str
    continue_: str = Field(alias="continue")
    restart: str
    expired: str
    picked_up: str


class RecordMine(_Model):
    """The `my_records` section."""

    heading: str
    intro: str
    none: str
    item: str
    reported: str
    open_: str = Field(alias="open")
    new: str
    copy_: str = Field(alias="copy")
    done: str
    record_heading: str
    written: str
    what_happened: str
    details: str
    additions: str
    earlier_additions: str
    addition: str
    add_label: str
    add: str
    report: str
    delete: str
    back: str
    added: str
    add_empty: str
    add_too_long: str
    too_many_additions: str
    typed_heading: str
    typed: str
    typed_yes: str
    typed_no: str
    not_added: str
    confirm_heading: str
    confirm: str
    delete_yes: str
    delete_no: str
    deleted: str
    kept: str
    not_found: str
    copy_heading: str
    copy_text: str
    download: str
    done_message: str
    not_understood: str


class RecordReport(_Model):
    """The `report` section: a record turned into a report, and the offer of one."""

    offer_heading: str
    offer: str
    offer_button: str
    filled_in: str
    added_later: str
    did_not_fit: str
    record_unchanged: str
    unfinished: str
    anonymous_note: str
    anonymous_done: str
    keep_heading: str
    keep_question: str
    keep_it: str
    delete_it: str
    written_down_label: str


class RecordWords(_Model):
    """The whole file."""

    limits: RecordLimitsWords
    keep: RecordKeep
    resume: RecordResume
    no_files: str
    private_only: str
    narrative_too_long: str
    my_records: RecordMine
    report: RecordReport


def records_limits(content: Content) -> RecordLimits:
    """The limits in content/records/words.yaml, for the service."""
    from bot.records.service import RecordLimits

    limits = content.data("records/words")["limits"]
    return RecordLimits(
        records_per_person=int(limits["records_per_person"]),
        additions_per_record=int(limits["additions_per_record"]),
        addition_chars=int(limits["addition_chars"]),
        document_chars=int(limits["document_chars"]),
    )
