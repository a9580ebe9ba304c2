"""The pure parts: what a report keeps of when its record was written down, and which card
values can be a record's id."""

from __future__ import annotations

import pytest

from bot.incidents.written_down import written_down_for, written_down_text
from bot.records.service import record_id_of


@pytest.mark.parametrize(
    ("written", "anonymous", "kept"),
    [
        ("2026-03-03T10:14:59.123456+00:00", False, "2026-03-03T10:14:00+00:00"),
        ("2026-03-03T10:14:59+00:00", True, "2026-03"),
        # A moment in London's summer: the month is London's, the moment stored in UTC.
        ("2026-07-01T00:30:00+01:00", False, "2026-06-30T23:30:00+00:00"),
        ("2026-06-30T23:30:00+00:00", True, "2026-07"),
        ("2026-03-03T10:14:00", True, "2026-03"),  # no zone: UTC, as stored
        ("", False, ""),
        ("not a time", True, ""),
        (None, False, ""),
        (1234567890, True, ""),
    ],
)
def test_a_report_keeps_the_minute_or_for_an_anonymous_one_the_month(
    written: object, anonymous: bool, kept: str
) -> None:
    assert written_down_for(written, anonymous=anonymous) == kept


@pytest.mark.parametrize(
    ("kept", "words"),
    [
        ("2026-03", "March 2026"),
        ("2026-03-03T10:14:00+00:00", "3 March 2026 at 10:14"),
        ("2026-07-01T09:00:00+00:00", "1 July 2026 at 10:00"),  # London's summer time
        ("2026-13", ""),
        ("yesterday", ""),
    ],
)
def test_what_a_report_keeps_reads_as_words(kept: str, words: str) -> None:
    assert written_down_text(kept) == words


@pytest.mark.parametrize(
    ("value", "record_id"),
    [
        ("123", 123),
        (123, 123),
        (2**62 + 1, 2**62 + 1),
        (str(2**63 - 1), 2**63 - 1),
        (2**63, None),
        ("9" * 20, None),
        ("0", None),
        ("-1", None),
        (-1, None),
        ("12a", None),
        (" 12", None),
        (True, None),
        (1.0, None),
        (None, None),
        (["1"], None),
        ({"id": 1}, None),
    ],
)
def test_only_what_could_be_a_record_id_is_read_as_one(
    value: object, record_id: int | None
) -> None:
    assert record_id_of(value) == record_id
