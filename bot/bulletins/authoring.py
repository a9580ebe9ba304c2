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
"### " makes a bold sub-heading.
```

python-frontmatter finds the two '---' lines; the front matter is checked against
`front_matter.FrontMatter` (pydantic) by `bot.core.content.validate_yaml`; markdown-it-py reads
the body, which becomes the card's TextBlocks: what a TextBlock cannot show (images, quotes,
code, HTML, tables, rules, other headings) is refused. Every problem is reported with the file
and line it is on, so an author can fix all of them in one go (`edi-bot bulletin validate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot.bulletins.front_matter import MONTH as MONTH  # the dialogs read it from here
from bot.bulletins.front_matter import FrontMatter, front_matter_model
from bot.core.clock import first_working_day
from bot.core.content import Content, ContentError, validate_yaml

# python-frontmatter's YAML handler, with a '---' line that ends at its line break: its own
# pattern (`^-{3,}\s*$`) takes blank lines after a '---' with it, which would shift line numbers.
_SPLITTER = YAMLHandler(fm_boundary=re.compile(r"^-{3,}[ \t\r]*$", re.MULTILINE))
# CommonMark, with tables and ~~strikethrough~~ recognised so that they can be refused.
_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# What markdown-it finds that a Teams TextBlock does not show, named for the author.
_NOT_SHOWN = {
    "blockquote": "a quote ('> ')",
    "code_block": "indented text (4 spaces make it code)",
    "fence": "a code block",
    "hr": "a line across ('---' or '***')",
    "html_block": "HTML",
    "table": "a table",
    "image": "an image",
    "code_inline": "code in `backticks`",
    "html_inline": "HTML",
    "s": "crossed-out text (~~)",
}
_LINK_SCHEMES = ("https://", "mailto:")


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


def check_bulletin_file(path: Path) -> None:
    """For `edi-bot content check`: ContentError with every problem of a YYYY-MM.md file."""
    try:
        load_bulletin(path.parent, path.stem)
    except BulletinError as error:
        raise ContentError(
            "\n".join(
                f"{path} line {p.line}: {p.message}" if p.line else f"{path}: {p.message}"
                for p in error.problems
            )
        ) from None
    except ValueError as error:  # a file name that is not a month
        raise ContentError(f"{path}: a bulletin's file is named YYYY-MM.md ({error})") from None


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
    front_text, body, body_line = _split(text, source)
    problems: list[Problem] = []
    front = _front_matter(front_text, source, problems)
    intro, sections = _read_body(body, body_line, problems)
    if front is None or problems:
        raise BulletinError(source, problems)
    year, month = (int(part) for part in front.month.split("-"))
    return Bulletin(
        month=front.month,
        title=front.title,
        summary=front.summary,
        publish_date=front.publish_date or first_working_day(year, month),
        intro=intro,
        sections=sections,
        links=tuple(Link(item.title, item.url) for item in front.links or ()),
        events=tuple(
            FeaturedEvent(item.title, item.date, item.where, item.description, item.url, item.event)
            for item in front.events or ()
        ),
        source=source,
    )


def _split(text: str, source: Path) -> tuple[str, str, int]:
    """The front matter (from line 2), the Markdown body, and the line the body starts on."""
    if not _SPLITTER.detect(text):
        raise BulletinError(
            source, [Problem(1, "a bulletin starts with a '---' line, then its front matter")]
        )
    try:
        front, body = _SPLITTER.split(text)
    except ValueError:  # one '---' line only
        raise BulletinError(
            source, [Problem(1, "the front matter has no closing '---' line")]
        ) from None
    # Each part begins with the line break that ends its '---' line.
    body_line = text.count("\n", 0, len(text) - len(body)) + 2
    return front.removeprefix("\n"), body.removeprefix("\n"), body_line


def _front_matter(text: str, source: Path, problems: list[Problem]) -> FrontMatter | None:
    """The front matter checked against its model, or None with its problems added."""
    try:
        # python-frontmatter's own loading gives values without their lines; this names them.
        return validate_yaml(front_matter_model(source), text, str(source), first_line=2)
    except ContentError as error:
        problems += _problems_named(error, source)
    return None


def _problems_named(error: ContentError, source: Path) -> list[Problem]:
    """validate_yaml's "<file> line N: <key>: <message>" lines, as problems on line N."""
    problems = []
    for text in str(error).splitlines():
        number, _, message = text.removeprefix(f"{source} line ").partition(": ")
        problems.append(Problem(int(number), message) if number.isdigit() else Problem(0, text))
    return problems


# ---- the body ------------------------------------------------------------------------------


def _read_body(
    body: str, first_line: int, problems: list[Problem]
) -> tuple[tuple[str, ...], tuple[Section, ...]]:
    """The introduction's blocks and the `## ` sections of the Markdown body."""
    intro: list[str] = []
    sections: list[tuple[str, list[str], int]] = []
    for node in SyntaxTreeNode(_MARKDOWN.parse(body)).children:
        line = _line_of(node, first_line)
        problems += _not_shown(node, first_line)
        if node.type == "heading" and node.tag == "h2":
            sections.append((_flowed(node), [], line))
            continue
        block = _block(node, line, problems)
        if block:
            (sections[-1][1] if sections else intro).append(block)
    if not sections:
        problems.append(Problem(first_line, "the body needs at least one '## ' section"))
    for heading, blocks, line in sections:
        if not heading:
            problems.append(Problem(line, "a '## ' heading has no text"))
        elif not blocks:
            problems.append(Problem(line, f"section {heading!r} has no text under it"))
    return tuple(intro), tuple(Section(h, tuple(b)) for h, b, _ in sections)


def _block(node: SyntaxTreeNode, line: int, problems: list[Problem]) -> str | None:
    """One block of Markdown as a TextBlock shows it: lists keep their lines, prose flows."""
    if node.type == "paragraph":
        return _flowed(node)
    if node.type in ("bullet_list", "ordered_list"):
        return "\n".join(
            f"{item.info}{item.markup} {_flowed(item)}"
            for item in node.walk()
            if item.type == "list_item"
        )
    if node.type == "heading" and node.tag == "h3":
        return f"**{_flowed(node)}**"
    if node.type == "heading" and node.tag == "h1":
        problems.append(
            Problem(line, "use '## ' for section headings; the title comes from the front matter")
        )
    elif node.type == "heading":
        problems.append(Problem(line, "use '## ' for a section and '### ' for a sub-heading"))
    return None


def _flowed(node: SyntaxTreeNode) -> str:
    """The Markdown of a block's own paragraphs (not a list's inside it), on one line."""
    inlines: list[SyntaxTreeNode] = []
    for child in node.children:
        if child.type in ("inline", "paragraph"):
            inlines += [child] if child.type == "inline" else child.children
    return " ".join(" ".join(inline.content.split()) for inline in inlines)


def _not_shown(node: SyntaxTreeNode, first_line: int) -> list[Problem]:
    """What in this block a TextBlock would not show, and links it should not make (once each)."""
    problems: dict[Problem, None] = {}
    for part in node.walk():
        line = _line_of(part, first_line)
        if part.type in _NOT_SHOWN:
            problems[Problem(line, f"the card cannot show {_NOT_SHOWN[part.type]}")] = None
        elif part.type == "link" and not str(part.attrGet("href")).startswith(_LINK_SCHEMES):
            href = part.attrGet("href")
            problems[Problem(line, f"a link must start https:// or mailto: (got {href!r})")] = None
    return list(problems)


def _line_of(node: SyntaxTreeNode, first_line: int) -> int:
    """The file's line for a node: its block's first line (inline parts have no lines)."""
    found: SyntaxTreeNode | None = node
    while found is not None and found.map is None:
        found = found.parent
    return first_line + (found.map[0] if found is not None and found.map else 0)


# ---- the card ------------------------------------------------------------------------------


def bulletin_card(
    content: Content, bulletin: Bulletin, *, subscribed: bool = True
) -> dict[str, Any]:
    """The Adaptive Card every member of staff receives (and `bulletin` shows on demand);
    someone who unsubscribed is offered the bulletin again instead of "stop"."""
    words = content.data("bulletins/words")["card"]
    return content.card(
        "bulletin",
        subscribed=subscribed,
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


def check_card(content: Content, bulletin: Bulletin, *, subscribed: bool = True) -> dict[str, Any]:
    """The card, or a BulletinError saying why it cannot be built (too big for Teams)."""
    try:
        return bulletin_card(content, bulletin, subscribed=subscribed)
    except ContentError as error:
        raise BulletinError(bulletin.source, [Problem(1, str(error))]) from None
