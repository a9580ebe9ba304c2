"""Bulletin files, the working-day calendar and the 09:00 trigger: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.bulletins.authoring import (
    BulletinError,
    bulletin_card,
    load_bulletin,
    parse_bulletin,
)
from bot.config import DEFAULT_CONTENT_DIR
from bot.core.clock import LONDON, first_working_day, is_working_day
from bot.core.content import Content
from scheduler.jobs import bulletin_trigger
from tests.cards import buttons, visible_text

VALID = """---
title: EDI bulletin
month: 2026-11
summary: What is in it.
links:
  - title: The Equality Act
    url: https://www.legislation.gov.uk/ukpga/2010/15/contents
events:
  - title: A featured event
    date: 2026-11-20
    where: Online
---
An introduction that
flows over two lines.

## First section
Some text.

- a list item that
  carries on
- another

## Second section
More text.
"""


def problems(text: str, name: str = "2026-11.md") -> list[str]:
    with pytest.raises(BulletinError) as raised:
        parse_bulletin(text, source=Path(name))
    return str(raised.value).splitlines()


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_the_real_bulletins_are_valid_and_fit_in_a_card(month: str) -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    bulletin = load_bulletin(DEFAULT_CONTENT_DIR / "bulletins", month)
    assert bulletin.month == month
    assert bulletin.publish_date == first_working_day(int(month[:4]), int(month[5:]))
    card = bulletin_card(content, bulletin)
    shown = visible_text(
        {
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ]
        }
    )
    assert bulletin.title in shown
    for section in bulletin.sections:
        assert section.heading in shown


def test_a_valid_file_parses_into_intro_sections_links_and_events() -> None:
    bulletin = parse_bulletin(VALID, source=Path("2026-11.md"))
    assert bulletin.intro == ("An introduction that flows over two lines.",)
    assert [s.heading for s in bulletin.sections] == ["First section", "Second section"]
    assert bulletin.sections[0].blocks == (
        "Some text.",
        "- a list item that carries on\n- another",
    )
    assert bulletin.links[0].url.startswith("https://www.legislation.gov.uk/")
    assert bulletin.events[0].day == date(2026, 11, 20)
    assert bulletin.publish_date == date(2026, 11, 2)  # the 1st is a Sunday
    assert bulletin.month_label == "November 2026"


def test_the_card_carries_feedback_and_unsubscribe_commands() -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    card = bulletin_card(content, parse_bulletin(VALID, source=Path("2026-11.md")))
    activity = {
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
    }
    assert buttons(activity) == [
        ("Useful", {"command": "bulletin feedback", "bulletin": "2026-11", "rating": "useful"}),
        (
            "Not useful",
            {"command": "bulletin feedback", "bulletin": "2026-11", "rating": "not_useful"},
        ),
        ("Stop sending me the bulletin", {"command": "unsubscribe bulletin"}),
    ]
    [comment] = [e for e in card["body"] if e["type"] == "Input.Text"]
    assert (comment["id"], comment["maxLength"]) == ("comment", 1000)
    text = visible_text(activity)
    assert "A featured event" in text
    assert "Friday 20 November 2026, Online" in text
    assert "- [The Equality Act](https://www.legislation.gov.uk/ukpga/2010/15/contents)" in text


def test_errors_name_the_line_they_are_on() -> None:
    text = (
        VALID.replace("month: 2026-11", "month: 2026-13")
        .replace("url: https://www.legislation", "url: http://www.legislation")
        .replace("summary: What is in it.\n", "summary: What is in it.\ncolour: blue\n")
    )
    assert problems(text) == [
        "2026-11.md:3: month: must be YYYY-MM, e.g. 2026-11 (got '2026-13')",
        "2026-11.md:5: colour: unknown key (a bulletin has title, month, summary, "
        "publish_date, links, events)",
        "2026-11.md:8: links, item 1, url: must start https:// "
        "(got 'http://www.legislation.gov.uk/ukpga/2010/15/contents')",
    ]


def test_broken_yaml_is_reported_at_its_line() -> None:
    text = VALID.replace("summary: What is in it.", "summary: [not closed")
    [line] = problems(text)
    assert line.startswith("2026-11.md:5: not valid YAML")


def test_missing_front_matter_and_missing_keys() -> None:
    assert problems("## Just a section\ntext\n") == [
        "2026-11.md:1: a bulletin starts with a '---' line, then its front matter"
    ]
    assert problems("---\ntitle: x\n") == [
        "2026-11.md:1: the front matter has no closing '---' line"
    ]
    found = problems("---\ntitle: x\n---\n## A\ntext\n")
    assert "2026-11.md:2: month: is missing (the month it is for, YYYY-MM)" in found
    assert "2026-11.md:2: summary: is missing (one line for the notification)" in found


def test_dates_headings_and_file_names_are_checked() -> None:
    text = VALID.replace(
        "summary: What is in it.\n", "summary: What is in it.\npublish_date: 2026-12-01\n"
    )
    text = text.replace("## Second section", "# Second section")
    assert problems(text, "2026-10.md") == [
        "2026-10.md:3: month: 2026-11 does not match the file name 2026-10.md",
        "2026-10.md:5: publish_date: 2026-12-01 is not in 2026-11",
        "2026-10.md:24: use '## ' for section headings; the title comes from the front matter",
    ]
    no_sections = VALID.split("## First section")[0]
    assert problems(no_sections)[-1].endswith("the body needs at least one '## ' section")


def test_an_event_without_a_date_is_refused() -> None:
    text = VALID.replace("    date: 2026-11-20\n", "")
    assert problems(text) == [
        "2026-11.md:9: events, item 1, date: is missing (the day it is on, YYYY-MM-DD)"
    ]


# ---- the calendar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 11, date(2026, 11, 2)),  # the 1st is a Sunday
        (2026, 12, date(2026, 12, 1)),  # a Tuesday
        (2027, 1, date(2027, 1, 4)),  # New Year's Day on a Friday, then the weekend
        (2027, 5, date(2027, 5, 4)),  # a Saturday, then the Early May bank holiday
        (2026, 8, date(2026, 8, 3)),  # a Saturday
        (2027, 3, date(2027, 3, 1)),  # a Monday
    ],
)
def test_first_working_day_skips_weekends_and_bank_holidays(
    year: int, month: int, expected: date
) -> None:
    assert first_working_day(year, month) == expected


def test_substitute_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute day)
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday
    assert is_working_day(date(2026, 12, 29))


def test_the_trigger_fires_at_nine_london_time_either_side_of_the_clock_change() -> None:
    trigger = bulletin_trigger()

    def next_after(moment: datetime) -> datetime:
        fired = trigger.get_next_fire_time(None, moment)
        assert isinstance(fired, datetime)
        return fired.astimezone(UTC)

    # Spring forward on Sunday 28 March 2027: 09:00 GMT is 09:00 UTC; 09:00 BST is 08:00 UTC.
    assert next_after(datetime(2027, 3, 26, 10, tzinfo=LONDON)) == datetime(
        2027, 3, 29, 8, tzinfo=UTC
    )
    assert next_after(datetime(2027, 3, 25, 10, tzinfo=LONDON)) == datetime(
        2027, 3, 26, 9, tzinfo=UTC
    )
    # Fall back on Sunday 25 October 2026.
    assert next_after(datetime(2026, 10, 23, 10, tzinfo=LONDON)) == datetime(
        2026, 10, 26, 9, tzinfo=UTC
    )
    assert next_after(datetime(2026, 10, 22, 10, tzinfo=LONDON)) == datetime(
        2026, 10, 23, 8, tzinfo=UTC
    )


def test_a_missing_month_says_so_plainly(tmp_path: Path) -> None:
    with pytest.raises(BulletinError) as raised:
        load_bulletin(tmp_path, "2027-02")
    assert str(raised.value) == f"{tmp_path / '2027-02.md'}: no such file"
    with pytest.raises(ValueError, match="a month is written YYYY-MM"):
        load_bulletin(tmp_path, "Feb 2027")
