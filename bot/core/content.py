"""Loads the words, menu and card templates in content/ and fills them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, ValidationError

# Teams refuses a message over 100 KB (HTTP 413); keep every card well under it.
MAX_CARD_BYTES = 80 * 1024


class ContentError(ValueError):
    """A content file is missing, malformed, or lacks a key the code asks for."""


def _to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---- people's words in cards: always plain text --------------------------------------------
#
# Teams renders a subset of Markdown in a TextBlock's text and a Fact's title and value (and in
# a message's text): **bold**, _italic_, lists at the start of a line, [links](url), and it makes
# bare URLs, www. names and e-mail addresses into links. Anything a person typed is shown through
# `plain_text`, so it appears exactly as typed and can never become a link, an image, emphasis,
# a list, a heading or HTML. See docs/architecture.md, "People's words in cards".


class Markdown(str):
    """Text that may be shown as Teams Markdown: bot-authored, or escaped by `plain_text`."""

    __slots__ = ()


# Invisible, and not a line break opportunity: breaks the patterns that autolinkers look for
# (scheme://, www., name.tld, name@host) without changing what a person sees.
WORD_JOINER = "\u2060"
# Backslash-escaped wherever they stand: emphasis, code, links and images, HTML and autolinks,
# strikethrough and fences, tables, and Adaptive Cards' {{DATE()}} and {{TIME()}} functions.
_ALWAYS = frozenset("\\`*_[]<|~{")
# At the start of a line (after any spaces), "#", ">", "-", "+", "=" and "1." or "1)" are
# escaped where they would make a heading, quote, list item, thematic break or underline.
_ORDERED = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# "](" is a link to Teams' older mobile parser even with the bracket escaped.
_LINK_OPEN = re.compile(r"(?<=\\\])\(")
# A word joiner goes after a scheme's colon, an "@", the first of "//", and a dot before a letter.
_BREAK_AFTER = re.compile(r"(:(?=/|[^\W\d_])|@(?=\S)|/(?=/)|\.(?=[^\W\d_]))")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def _starts_block(line: str) -> bool:
    """Whether a line's first character makes a heading, quote, list item, break or underline."""
    first, rest = line[:1], line[1:]
    if not first:
        return False
    if first == "#":
        return bool(re.match(r"#{0,5}(\s|$)", rest))
    if first in "-+=":
        return rest[:1] in ("", first) or rest[:1].isspace()
    return first == ">"


def _intraword(text: str, index: int) -> bool:
    """An underscore between letters or digits (snake_case, 55_64): never emphasis."""
    return (
        text[index] == "_"
        and 0 < index < len(text) - 1
        and text[index - 1].isalnum()
        and text[index + 1].isalnum()
    )


def _escape_line(line: str) -> str:
    body = line.lstrip(" \t")
    # Leading spaces would make an indented code block: no-break spaces look the same.
    indent = "\u00a0" * (len(line) - len(body))
    out: list[str] = []
    ordered = _ORDERED.match(body)
    if ordered:
        out.append(ordered.group(1) + "\\" + ordered.group(2))
        body = body[ordered.end() :]
    elif _starts_block(body):
        out.append("\\" + body[0])
        body = body[1:]
    out.extend(
        "\\" + char if char in _ALWAYS and not _intraword(body, index) else char
        for index, char in enumerate(body)
    )
    text = _LINK_OPEN.sub("\\(", _ENTITY.sub("\\&", "".join(out)))
    return indent + _BREAK_AFTER.sub(lambda m: m.group(1) + WORD_JOINER, text)


def plain_text(text: str) -> Markdown:
    """People's words, escaped so Teams shows them exactly as typed: no link, format or HTML."""
    if isinstance(text, Markdown):
        return text
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markdown("\n".join(_escape_line(line) for line in lines))


def as_typed(text: str) -> str:
    """What `plain_text` escaped, as the person typed it (for the terminal and tests)."""
    return _ESCAPED.sub(r"\1", text.replace(WORD_JOINER, "")).replace("\u00a0", " ")


def _plain_filter(value: object) -> Markdown:
    """Jinja `|plain`: a slot shown as plain text; Markdown the bot vouches for passes."""
    if value is None:
        return Markdown("")
    return plain_text(value if isinstance(value, str) else str(value))


def _plain_facts_filter(facts: object) -> list[dict[str, Any]]:
    """Jinja `|plain_facts`: a FactSet's facts, titles and values shown as plain text."""
    if not isinstance(facts, list):
        raise ContentError(f"facts must be a list of {{title, value}}, not {type(facts).__name__}")
    return [
        {**fact, "title": _plain_filter(fact["title"]), "value": _plain_filter(fact["value"])}
        for fact in facts
    ]


def _markdown_filter(value: object) -> str:
    """Jinja `|md`: a slot of bot-written Markdown; people's words in it came via plain_text."""
    return str(value)


_URL_UNSAFE = re.compile(r"[\s()<>\[\]\\`\"']")


def _link_filter(title: object, url: object) -> Markdown:
    """Jinja `|link(url)`: a Markdown link, plain-text title, to an http(s) or mailto URL."""
    address = str(url)
    if not re.match(r"(https?://[^\s/]|mailto:[^\s@]+@)", address, re.IGNORECASE):
        raise ContentError(f"a card link must be an http(s) or mailto URL, not {address!r}")
    safe = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", address)
    return Markdown(f"[{_plain_filter(title)}]({safe})")


def load_yaml(path: Path) -> Any:
    """Parse one YAML file of content, naming the file in any error."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: {error}") from error


class ContentModel(BaseModel):
    """A content file's shape: an unknown key is an error (a misspelt key would be ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """The 0-based line of the deepest YAML node that `loc` (a pydantic error's path) reaches:
    a mapping entry's key line (where a person looks for it), a list item's own line."""
    line = node.start_mark.line if node is not None else 0
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(part)]
            if not found:
                break
            key, node = found[0]
            line = key.start_mark.line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic path in words: "limits.narrative_chars", "events, item 2, date"."""
    out = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            out += f", item {part + 1}"
        else:
            after_item = index > 0 and isinstance(loc[index - 1], int)
            out += (", " if after_item else "." if out else "") + str(part)
    return out or "the file"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Pydantic's messages, for the council officer who edits the file.
_SAID = {
    "missing": "is missing",
    "extra_forbidden": "is not a key this file has (misspelt, or in the wrong place?)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "list_type": "must be a list, one '- ' line for each",
    "dict_type": "must be 'key: value' lines",
    "model_type": "must be 'key: value' lines",
    "model_attributes_type": "must be 'key: value' lines",
}


def _plain_message(item: Any) -> str:
    """What is wrong, in words: a validator's own sentence, or pydantic's said plainly."""
    kind, given, context = item["type"], item.get("input"), item.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", item["msg"]))
    if kind.startswith("date"):
        if isinstance(given, str) and _DATE.fullmatch(given):
            return f"{given} is not a date in the calendar"
        return "must be a date, YYYY-MM-DD"
    if kind == "too_short" and isinstance(given, list | dict):
        return f"needs at least {context.get('min_length', 1)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {context.get('ge', context.get('gt'))}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is {len(str(given))} characters; at most {context.get('max_length')}"
    return _SAID.get(kind, str(item["msg"]))


class _PlainDates(yaml.SafeLoader):
    """YAML without implicit dates: "2026-11-31" stays text, so the model, not the parser,
    says it is no date (with its line) and a date where text belongs is still text."""


_PlainDates.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def validate_yaml(model: type[M], text: str, source: str, first_line: int = 1) -> M:
    """Parse YAML `text` and check it against `model`.

    Every problem is reported as "<source> line N: <where>: <what>", N counting from
    `first_line` (front matter starts a line or two into its file), so a person editing the
    content can go straight to it. Raises ContentError listing all of them.
    """
    try:
        loader = _PlainDates(text)
        try:
            # One parse: the node tree gives each problem its line, and the data is built
            # from the same tree.
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + first_line if mark is not None else first_line
        problem = getattr(error, "problem", None) or str(error)
        raise ContentError(f"{source} line {line}: not valid YAML: {problem}") from error
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as error:
        found = sorted(
            (
                _line_of(node, tuple(item["loc"])) + first_line,
                _where(tuple(item["loc"])),
                _plain_message(item),
            )
            for item in error.errors(include_url=False)
        )
        problems = [f"{source} line {line}: {where}: {what}" for line, where, what in found]
        raise ContentError("\n".join(problems)) from error


def load_model(path: Path, model: type[M]) -> M:
    """One content file checked against its pydantic model (errors name file and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContentError(f"{path}: {error.strerror or error}") from error
    return validate_yaml(model, text, str(path))


class Texts:
    """Sentences from text.yaml, looked up by dotted key and filled by name."""

    def __init__(self, tree: Mapping[str, Any]) -> None:
        self._tree = tree

    def __call__(self, key: str, **fields: object) -> str:
        """The sentence at `key` (e.g. "shell.cancelled") with `{name}` fields filled."""
        node: Any = self._tree
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ContentError(f"text.yaml has no {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise ContentError(f"text.yaml {key!r} is not a sentence")
        return node.format(**fields) if fields else node


def _blocks(elements: object) -> Iterator[dict[str, Any]]:
    """A card's elements in reading order, containers' and columns' contents included."""
    if not isinstance(elements, list):
        return
    for element in elements:
        if isinstance(element, dict):
            yield element
            for key in ("items", "columns"):
                yield from _blocks(element.get(key))


# A card's default fallbackText: its first blocks of text, at most this long.
FALLBACK_BLOCKS = 3
FALLBACK_CHARS = 500


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One feature on the welcome card."""

    command: str
    words: tuple[str, ...]
    title: str
    description: str
    role: str | None = None
    # Reached from a card's button only (e.g. "add to report"): not listed on the menu.
    hidden: bool = False
    # Sentences people type when they want this (bot/core/understanding.py learns from them).
    examples: tuple[str, ...] = ()


SHELL = "shell"


def card_folders(root: Path) -> list[Path]:
    """Where card templates are found: shell/cards, then each feature's <feature>/cards."""
    shell = root / SHELL / "cards"
    return [shell, *sorted(p for p in root.glob("*/cards") if p != shell)]


class Content:
    """Everything under content/, loaded lazily and cached for the process."""

    def __init__(self, root: Path, features: Sequence[str] = ()) -> None:
        """`features` orders the welcome card's entries (the rest follow by folder name)."""
        self.root = root
        self.features = tuple(features)
        self._templates = Environment(
            loader=FileSystemLoader(card_folders(root)),
            finalize=_to_json,
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )
        self._templates.filters.update(
            plain=_plain_filter,
            plain_facts=_plain_facts_filter,
            md=_markdown_filter,
            link=_link_filter,
        )
        self._data_cache: dict[str, Any] = {}

    @cached_property
    def texts(self) -> Texts:
        """The bot's sentences (shell/text.yaml)."""
        return Texts(load_yaml(self.root / SHELL / "text.yaml"))

    @cached_property
    def menu(self) -> dict[str, Any]:
        """The welcome card's title, intro and tips, and the shell's entries (shell/menu.yaml)."""
        data = load_yaml(self.root / SHELL / "menu.yaml")
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise ContentError(f"{self.root / SHELL / 'menu.yaml'}: needs a list of entries")
        return data

    def menu_folders(self) -> list[Path]:
        """The folders whose menu.yaml adds entries: the features in order, then any other."""
        found = {path.parent.name: path.parent for path in self.root.glob("*/menu.yaml")}
        found.pop(SHELL, None)
        named = [found.pop(name) for name in self.features if name in found]
        return named + [found[name] for name in sorted(found)]

    def menu_entries(self) -> list[MenuEntry]:
        """The shell's entries, then each feature's; everyone's before those for a role."""
        items = list(self.menu["entries"])
        for folder in self.menu_folders():
            data = self.data(f"{folder.name}/menu")
            if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
                raise ContentError(f"{folder / 'menu.yaml'}: needs a list of entries")
            items.extend(data["entries"])
        entries = [
            MenuEntry(
                command=str(item["command"]),
                words=tuple(str(word) for word in item.get("words", [])),
                title=str(item["title"]),
                description=str(item["description"]),
                role=str(item["role"]) if item.get("role") else None,
                hidden=bool(item.get("hidden", False)),
                examples=tuple(str(example) for example in item.get("examples", [])),
            )
            for item in items
        ]
        return sorted(entries, key=lambda entry: entry.role is not None)

    def data(self, name: str) -> Any:
        """Another YAML file of content, e.g. data("about_edi"), read once."""
        if name not in self._data_cache:
            self._data_cache[name] = load_yaml(self.root / f"{name}.yaml")
        return self._data_cache[name]

    def card(self, template: str, **values: object) -> dict[str, Any]:
        """Fill cards/<template>.json.j2 and return the Adaptive Card as a dict."""
        rendered = self._templates.get_template(f"{template}.json.j2").render(**values)
        try:
            card = json.loads(rendered)
        except json.JSONDecodeError as error:
            raise ContentError(
                f"cards/{template}.json.j2 rendered invalid JSON: {error}"
            ) from error
        if len(rendered.encode("utf-8")) > MAX_CARD_BYTES:
            raise ContentError(f"cards/{template}.json.j2 rendered over {MAX_CARD_BYTES} bytes")
        if not isinstance(card, dict):
            raise ContentError(f"cards/{template}.json.j2 is not a card object")
        if not card.get("fallbackText"):
            card["fallbackText"] = self.fallback_text(card)
        return card

    def fallback_text(self, card: dict[str, Any]) -> str:
        """What a client that cannot show the card shows instead: its first few sentences,
        and where to see the rest (a template may set its own `fallbackText`)."""
        said: list[str] = []
        for element in _blocks(card.get("body", [])):
            text = element.get("text")
            if element.get("type") == "TextBlock" and isinstance(text, str) and text.strip():
                said.append(text.strip())
            if len(said) == FALLBACK_BLOCKS:
                break
        summary = "\n\n".join(said)
        if len(summary) > FALLBACK_CHARS:
            summary = summary[: FALLBACK_CHARS - 1].rstrip() + "\u2026"
        return "\n\n".join(part for part in (summary, self.texts("shell.card_fallback")) if part)
