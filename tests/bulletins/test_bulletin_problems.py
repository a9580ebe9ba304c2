"""A broken bulletin file: every problem names the file and the line an author must fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.bulletins.authoring import BulletinError, load_bulletin, parse_bulletin
from tests.bulletins.test_bulletin_authoring import VALID

BROKEN = """---
title: EDI bulletin
month: 2027-01
summary: What is in it.
publish_date: 2027-01-32
colour: blue
events:
  - title: Holocaust Memorial Day
    where: Online
---
An introduction.

## A section
Some text, and a picture:

![the council's logo](https://example.org/logo.png)

> A quote the card would show as plain text.
"""


def problems(text: str, name: str = "2026-11.md") -> list[str]:
    with pytest.raises(BulletinError) as raised:
        parse_bulletin(text, source=Path(name))
    return str(raised.value).splitlines()


def test_a_broken_bulletin_names_its_file_and_the_line_of_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "2027-01.md"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(BulletinError) as raised:
        load_bulletin(tmp_path, "2027-01")
    # Every problem at once, each at its own line: an impossible date does not hide the rest.
    assert str(raised.value).splitlines() == [
        f"{path}:5: publish_date: 2027-01-32 is not a date in the calendar",
        f"{path}:6: colour: unknown key (a bulletin has title, month, summary, publish_date, "
        "links, events)",
        f"{path}:8: events, item 1, date: is missing (the day it is on, YYYY-MM-DD)",
        f"{path}:16: the card cannot show an image",
        f"{path}:18: the card cannot show a quote ('> ')",
    ]
    assert len(raised.value.problems) == 5
    # With the date put right, it is no longer reported and the rest still are.
    path.write_text(BROKEN.replace("2027-01-32", "2027-01-04"), encoding="utf-8")
    with pytest.raises(BulletinError) as raised:
        load_bulletin(tmp_path, "2027-01")
    assert len(raised.value.problems) == 4


def front_matter(**values: str) -> str:
    """A bulletin whose front matter has these values: title on line 2, month 3, summary 4,
    publish_date 5, links 6."""
    given = {"title": "EDI bulletin", "month": "2026-11", "summary": "What is in it."}
    lines = [f"{key}: {value}" for key, value in (given | values).items()]
    return "---\n" + "\n".join(lines) + "\n---\n## A section\nSome text.\n"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("publish_date", "next Tuesday", "5: publish_date: must be a date, YYYY-MM-DD"),
        ("publish_date", "2026-11-31", "5: publish_date: 2026-11-31 is not a date in the calendar"),
        ("publish_date", "2026-13-01", "5: publish_date: 2026-13-01 is not a date in the calendar"),
        ("title", "[a, list]", "2: title: must be some text"),
        ("title", "x" * 201, "2: title: is 201 characters; at most 200"),
        ("month", "2026-11-01", "3: month: must be YYYY-MM, e.g. 2026-11 (got '2026-11-01')"),
        ("links", "a link", "6: links: must be a list, one '- ' line for each"),
    ],
)
def test_values_of_the_wrong_kind_are_told_in_plain_words(
    key: str, value: str, problem: str
) -> None:
    assert problems(front_matter(**{"publish_date": "2026-11-02", key: value})) == [
        f"2026-11.md:{problem}"
    ]


def test_an_events_keys_are_checked_where_they_are() -> None:
    text = VALID.replace(
        "    where: Online\n",
        "    where: Online\n    url: www.example.org\n    event: Lunch and learn\n    room: 2\n",
    ).replace("    date: 2026-11-20\n", "    date: 2026-11-31\n")
    assert problems(text) == [
        "2026-11.md:10: events, item 1, date: 2026-11-31 is not a date in the calendar",
        "2026-11.md:12: events, item 1, url: must start https:// (got 'www.example.org')",
        "2026-11.md:13: events, item 1, event: must be an event's id, e.g. 2027-01-20-talk",
        "2026-11.md:14: events, item 1, room: unknown key (an event has title, date, where, "
        "description, url, event)",
    ]
    text = text.replace("2026-11-31", "2026-11-30")
    assert problems(text) == [
        "2026-11.md:12: events, item 1, url: must start https:// (got 'www.example.org')",
        "2026-11.md:13: events, item 1, event: must be an event's id, e.g. 2027-01-20-talk",
        "2026-11.md:14: events, item 1, room: unknown key (an event has title, date, where, "
        "description, url, event)",
    ]


@pytest.mark.parametrize(
    ("markdown", "problem"),
    [
        ("![a chart](https://example.org/chart.png)", "the card cannot show an image"),
        ("> Quoted words", "the card cannot show a quote ('> ')"),
        ("```\ncode\n```", "the card cannot show a code block"),
        ("    indented four spaces", "the card cannot show indented text (4 spaces make it code)"),
        ("Some `code` in a line", "the card cannot show code in `backticks`"),
        ("<div>HTML</div>", "the card cannot show HTML"),
        ("Some <b>HTML</b> in a line", "the card cannot show HTML"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "the card cannot show a table"),
        ("Some ~~crossed out~~ words", "the card cannot show crossed-out text (~~)"),
        ("***", "the card cannot show a line across ('---' or '***')"),
        ("#### A small heading", "use '## ' for a section and '### ' for a sub-heading"),
        (
            "A [link](http://example.org)",
            "a link must start https:// or mailto: (got 'http://example.org')",
        ),
    ],
)
def test_markdown_the_card_cannot_show_is_refused_at_its_line(markdown: str, problem: str) -> None:
    text = VALID.replace("More text.\n", f"More text.\n\n{markdown}\n")
    assert problems(text) == [f"2026-11.md:26: {problem}"]


def test_what_the_card_shows_becomes_its_blocks() -> None:
    text = VALID.replace(
        "More text.\n",
        "More text, [a link](https://example.org) and [mail](mailto:edi@example.org).\n\n"
        "### A sub-heading\n\n1. first\n2. second\n   - nested, which\n     carries on\n",
    )
    bulletin = parse_bulletin(text, source=Path("2026-11.md"))
    assert bulletin.sections[1].blocks == (
        "More text, [a link](https://example.org) and [mail](mailto:edi@example.org).",
        "**A sub-heading**",
        "1. first\n2. second\n- nested, which carries on",
    )


def test_line_numbers_hold_with_blank_lines_around_the_front_matter() -> None:
    text = VALID.replace("---\n", "---\n\n", 1).replace("---\nAn intro", "---\n\n\nAn intro")
    text = text.replace("month: 2026-11", "month: November")
    assert problems(text) == ["2026-11.md:4: month: must be YYYY-MM, e.g. 2026-11 (got 'November')"]
    text = text.replace("month: November", "month: 2026-11").replace("## First", "# First")
    assert problems(text)[0].startswith("2026-11.md:19: use '## ' for section headings")


def test_headings_without_text_or_words_under_them_are_named_at_their_line() -> None:
    text = VALID.replace("## Second section\nMore text.\n", "## Second section\n\n##\nWords.\n")
    assert problems(text) == [
        "2026-11.md:23: section 'Second section' has no text under it",
        "2026-11.md:25: a '## ' heading has no text",
    ]


def test_a_valid_bulletin_still_parses() -> None:
    bulletin = parse_bulletin(VALID, source=Path("2026-11.md"))
    assert bulletin.events[0].day == date(2026, 11, 20)
    assert bulletin.links[0].title == "The Equality Act"
