"""Bulletins as content: `content/bulletins/YYYY-MM.md`, YAML front matter then Markdown.

```
---
title: Equality, diversity and inclusion bulletin, November 2026
month: 2026-11
summary: One line for the Teams notification.
publish_date: 2026-11-02      # optional; default the first working day of the month
links:                        # optional
  - title: The Equality Act 2010
    url: https://www.legislation.gov.uk/ukpga/2010/15/contents
events:                       # optional: featured events
  - title: ...
    date: 2026-11-20
    where: Online              # optional
    description: ...           # optional
    url: https://...           # optional
    event: 2026-11-20-lunch-and-learn  # optional: an event's id; adds "Sign me up"
---
An optional introduction.

## A section heading
Paragraphs, separated by blank lines; "- " lists; **bold**, _italic_ and [links](https://...).
```

Every problem is reported with the file and line it is on, so an author can fix all of
them in one go (`edi-bot bulletin validate MONTH`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.core.clock import first_working_day
from bot.core.content import Content, ContentError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")
_KEYS = {
    "title": "the bulletin's title",
    "month": "the month it is for, YYYY-MM",
    "summary": "one line for the notification",
    "publish_date": "the day it goes out (default: the first working day)",
    "links": "a list of {title, url}",
    "events": "a list of {title, date, where, description, url}",
}
_REQUIRED = ("title", "month", "summary")
_LINK_KEYS = ("title", "url")
_EVENT_KEYS = ("title", "date", "where", "description", "url", "event")
# An event's id in the bot's events (bot/events/): the card's "Sign me up" button names it.
_EVENT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_TITLE = 200
MAX_SUMMARY = 250


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bulletin file, and the line it is on."""

    line: int
    message: str


class BulletinError(ValueError):
    """A bulletin file that cannot be published; lists every problem with its line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(
            "\n".join(
                f"{path}:{p.line}: {p.message}" if p.line else f"{path}: {p.message}"
                for p in self.problems
            )
        )


@dataclass(frozen=True)
class Link:
    """A link at the foot of the bulletin."""

    title: str
    url: str


@dataclass(frozen=True)
class FeaturedEvent:
    """An event the bulletin features."""

    title: str
    day: date
    where: str | None = None
    description: str | None = None
    url: str | None = None
    event: str | None = None


@dataclass(frozen=True)
class Section:
    """A `## heading` and the blocks of text under it."""

    heading: str
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class Bulletin:
    """One month's bulletin, parsed and checked."""

    month: str
    title: str
    summary: str
    publish_date: date
    intro: tuple[str, ...]
    sections: tuple[Section, ...]
    links: tuple[Link, ...] = ()
    events: tuple[FeaturedEvent, ...] = ()
    source: Path = field(default=Path(), compare=False)

    @property
    def month_label(self) -> str:
        """ "November 2026"."""
        year, month = (int(part) for part in self.month.split("-"))
        return date(year, month, 1).strftime("%B %Y")


def parse_month(text: str) -> str:
    """A "YYYY-MM" month as given, or ValueError with what is expected."""
    if not MONTH.match(text.strip()):
        raise ValueError(f"a month is written YYYY-MM, e.g. 2026-11 (got {text!r})")
    return text.strip()


def bulletin_path(directory: Path, month: str) -> Path:
    """Where the bulletin for `month` is kept."""
    return directory / f"{month}.md"


def load_bulletin(directory: Path, month: str) -> Bulletin:
    """Read and check the bulletin for `month` (BulletinError lists what is wrong)."""
    path = bulletin_path(directory, parse_month(month))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BulletinError(path, [Problem(0, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BulletinError(
            path, [Problem(0, f"cannot be read ({type(error).__name__})")]
        ) from None
    return parse_bulletin(text, source=path)


def parse_bulletin(text: str, *, source: Path) -> Bulletin:
    """Parse a bulletin file's text; every problem found is raised together."""
    problems: list[Problem] = []
    lines = text.splitlines()
    data, key_lines, closing = _front_matter(lines, source)
    for key, (line, _) in key_lines.items():
        if key not in _KEYS:
            known = ", ".join(_KEYS)
            problems.append(Problem(line, f"unknown key {key!r} (a bulletin has: {known})"))
    for key in _REQUIRED:
        if key not in data:
            problems.append(Problem(1, f"front matter needs {key!r}: {_KEYS[key]}"))

    def line_of(key: str) -> int:
        return key_lines[key][0] if key in key_lines else 1

    title = _text(data, "title", MAX_TITLE, line_of("title"), problems)
    summary = _text(data, "summary", MAX_SUMMARY, line_of("summary"), problems)
    month, publish_date = _month_and_day(data, source, line_of, problems)
    links = _links(data.get("links"), key_lines.get("links"), problems)
    events = _events(data.get("events"), key_lines.get("events"), problems)
    intro, sections = _body(lines[closing + 1 :], closing + 2, problems)
    if problems:
        raise BulletinError(source, problems)
    return Bulletin(
        month=month,
        title=title,
        summary=summary,
        publish_date=publish_date,
        intro=intro,
        sections=sections,
        links=links,
        events=events,
        source=source,
    )


def _front_matter(
    lines: list[str], source: Path
) -> tuple[dict[str, Any], dict[str, tuple[int, Any]], int]:
    """The front matter's values, each key's line and node, and the closing line's index.

    YAML is composed as well as loaded so that every problem can name its line (the reason
    this is not python-frontmatter, which gives the values only).
    """
    if not lines or lines[0].strip() != "---":
        raise BulletinError(
            source, [Problem(1, "a bulletin starts with a '---' line, then its front matter")]
        )
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if closing is None:
        raise BulletinError(source, [Problem(1, "the front matter has no closing '---' line")])
    front_text = "\n".join(lines[1:closing])
    try:
        node = yaml.compose(front_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(front_text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 2 if mark is not None else 1
        raise BulletinError(
            source, [Problem(line, f"front matter is not valid YAML: {error.problem}")]
        ) from None
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        raise BulletinError(source, [Problem(2, "front matter must be 'key: value' lines")])
    key_lines = {
        str(key.value): (key.start_mark.line + 2, value)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return data, key_lines, closing


def _month_and_day(
    data: dict[str, Any],
    source: Path,
    line_of: Callable[[str], int],
    problems: list[Problem],
) -> tuple[str, date]:
    """The bulletin's month, and the day it goes out (the first working day by default)."""
    month = str(data.get("month", ""))
    year = month_number = 0
    if "month" in data:
        if not isinstance(data["month"], str) or not MONTH.match(data["month"]):
            problems.append(
                Problem(line_of("month"), f"month must be YYYY-MM, e.g. 2026-11 (got {month!r})")
            )
        else:
            year, month_number = (int(part) for part in month.split("-"))
            if source.stem != month and MONTH.match(source.stem):
                problems.append(
                    Problem(
                        line_of("month"),
                        f"month {month} does not match the file name {source.name}",
                    )
                )
    publish_date = first_working_day(year, month_number) if year else date.min
    if "publish_date" in data:
        given = data["publish_date"]
        if not isinstance(given, date):
            problems.append(
                Problem(line_of("publish_date"), "publish_date must be a date, YYYY-MM-DD")
            )
        elif year and (given.year, given.month) != (year, month_number):
            problems.append(
                Problem(line_of("publish_date"), f"publish_date {given} is not in {month}")
            )
        else:
            publish_date = given
    return month, publish_date


def _text(data: dict[str, Any], key: str, limit: int, line: int, problems: list[Problem]) -> str:
    value = data.get(key)
    if key not in data:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(line, f"{key} must be some text"))
        return ""
    if len(value) > limit:
        problems.append(Problem(line, f"{key} is {len(value)} characters; at most {limit}"))
    return " ".join(value.split())


def _items(
    value: Any, where: tuple[int, Any] | None, name: str, problems: list[Problem]
) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a list-valued key, each with its line."""
    if value is None:
        return []
    line, node = where if where is not None else (1, None)
    if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
        problems.append(Problem(line, f"{name} must be a list ('- title: ...' lines)"))
        return []
    found = []
    for item, item_node in zip(value, node.value, strict=True):
        item_line = item_node.start_mark.line + 2
        if not isinstance(item, dict):
            problems.append(Problem(item_line, f"each of {name} needs 'title:' and more"))
            continue
        found.append((item_line, item))
    return found


def _url(value: Any, line: int, problems: list[Problem]) -> str | None:
    if not isinstance(value, str) or not value.startswith("https://") or " " in value.strip():
        problems.append(Problem(line, f"url must start https:// (got {value!r})"))
        return None
    return value.strip()


def _links(value: Any, where: tuple[int, Any] | None, problems: list[Problem]) -> tuple[Link, ...]:
    links = []
    for line, item in _items(value, where, "links", problems):
        unknown = sorted(set(item) - set(_LINK_KEYS))
        if unknown:
            problems.append(Problem(line, f"a link has only title and url (not {unknown[0]!r})"))
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(line, "a link needs a title"))
            continue
        url = _url(item.get("url"), line, problems)
        if url is not None:
            links.append(Link(" ".join(title.split()), url))
    return tuple(links)


def _events(
    value: Any, where: tuple[int, Any] | None, problems: list[Problem]
) -> tuple[FeaturedEvent, ...]:
    events = []
    for line, item in _items(value, where, "events", problems):
        unknown = sorted(set(item) - set(_EVENT_KEYS))
        if unknown:
            keys = ", ".join(_EVENT_KEYS)
            problems.append(Problem(line, f"an event has {keys} (not {unknown[0]!r})"))
        title = item.get("title")
        day = item.get("date")
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(line, "an event needs a title"))
            continue
        if not isinstance(day, date):
            problems.append(Problem(line, "an event needs a date, YYYY-MM-DD"))
            continue
        url = _url(item["url"], line, problems) if item.get("url") is not None else None
        slug = item.get("event")
        if slug is not None and not (isinstance(slug, str) and _EVENT_SLUG.match(slug)):
            problems.append(
                Problem(line, "an event's event must be an event id, e.g. 2027-01-20-talk")
            )
            slug = None
        texts = {}
        for key in ("where", "description"):
            text = item.get(key)
            if text is not None and not isinstance(text, str):
                problems.append(Problem(line, f"an event's {key} must be text"))
            texts[key] = " ".join(text.split()) if isinstance(text, str) else None
        events.append(
            FeaturedEvent(
                " ".join(title.split()), day, texts["where"], texts["description"], url, slug
            )
        )
    return tuple(events)


def _body(
    lines: list[str], first_line: int, problems: list[Problem]
) -> tuple[tuple[str, ...], tuple[Section, ...]]:
    """The introduction's blocks and the `## ` sections of the Markdown body."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            block = _block(paragraph)
            (sections[-1][1] if sections else intro).append(block)
            paragraph.clear()

    for offset, raw in enumerate(lines):
        line = raw.rstrip()
        if line.startswith("## "):
            flush()
            sections.append((line[3:].strip(), []))
        elif line.startswith("# "):
            problems.append(
                Problem(
                    first_line + offset,
                    "use '## ' for section headings; the title comes from the front matter",
                )
            )
        elif line.startswith("### "):
            flush()
            paragraph.append(f"**{line[4:].strip()}**")
            flush()
        elif not line.strip():
            flush()
        else:
            paragraph.append(line)
    flush()
    if not sections:
        problems.append(Problem(first_line, "the body needs at least one '## ' section"))
    for heading, blocks in sections:
        if not heading:
            problems.append(Problem(first_line, "a '## ' heading has no text"))
        if not blocks:
            problems.append(Problem(first_line, f"section {heading!r} has no text under it"))
    return tuple(intro), tuple(Section(h, tuple(b)) for h, b in sections)


def _block(lines: list[str]) -> str:
    """One block of Markdown as a TextBlock shows it: lists keep their lines, prose flows."""
    if _LIST_ITEM.match(lines[0]) and all(
        _LIST_ITEM.match(line) or line.startswith("  ") for line in lines
    ):
        items: list[str] = []
        for line in lines:
            if _LIST_ITEM.match(line):
                items.append(line.strip())
            else:  # an item's text continued on the next line
                items[-1] += " " + line.strip()
        return "\n".join(items)
    return " ".join(line.strip() for line in lines)


# ---- the card ------------------------------------------------------------------------------


def bulletin_card(content: Content, bulletin: Bulletin) -> dict[str, Any]:
    """The Adaptive Card every member of staff receives (and `bulletin` shows on demand)."""
    words = content.data("bulletins/words")["card"]
    return content.card(
        "bulletin",
        bulletin=bulletin.month,
        title=bulletin.title,
        month_label=bulletin.month_label,
        intro=list(bulletin.intro),
        sections=[{"heading": s.heading, "blocks": list(s.blocks)} for s in bulletin.sections],
        events=[
            {
                "title": e.title,
                "when": f"{e.day:%A} {e.day.day} {e.day:%B %Y}"
                + (f", {e.where}" if e.where else ""),
                "description": e.description,
                "url": e.url,
                "signup": e.event,
            }
            for e in bulletin.events
        ],
        links=[{"title": link.title, "url": link.url} for link in bulletin.links],
        words=words,
    )


def check_card(content: Content, bulletin: Bulletin) -> dict[str, Any]:
    """The card, or a BulletinError saying why it cannot be built (too big for Teams)."""
    try:
        return bulletin_card(content, bulletin)
    except ContentError as error:
        raise BulletinError(bulletin.source, [Problem(1, str(error))]) from None
