"""Adaptive Cards as plain text, and their inputs asked for one by one.

Used by `edi-bot chat` (bot/channel/terminal.py) and by CLI previews (a bulletin's card). It
reads card dicts and duck-typed activities (`.text`, `.attachments`, `.suggested_actions`),
so it needs nothing from the SDK.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from bot.core.content import WORD_JOINER

WIDTH = 78
INDENT = "  "
TEXT_WIDTH = WIDTH - len(INDENT)
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
HERO = "application/vnd.microsoft.card.hero"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_HELD = re.compile("\ue000([0-9]+)\ue001")
# What a person's words could use to move the cursor, recolour or retitle a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BULLET = re.compile(r"^\s*(?:([-*+•])|(\d{1,3}[.)]))\s+(.*)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TIGHT = ("none", "small")

InputFn = Callable[[str], str]


@dataclass
class CardAction:
    """One numbered action printed under a message."""

    title: str
    kind: str
    data: Any = None
    url: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    card: dict[str, Any] | None = None
    verb: str | None = None
    text: str | None = None


@dataclass
class Rendered:
    """A message as lines of text plus the actions a person can choose."""

    lines: list[str] = field(default_factory=list)
    actions: list[CardAction] = field(default_factory=list)


def _plain(text: object) -> str:
    """Markdown as plain text: bold/italic markers removed, links as "text (url)"; people's
    words (escaped by bot.core.content.plain_text) as typed; no terminal control characters."""
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(1))
        return f"\ue000{len(held) - 1}\ue001"

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        return url if label == url else f"{label} ({url})"

    value = _ESCAPED.sub(hold, str(text)).replace("**", "").replace("__", "")
    value = _HELD.sub(lambda m: held[int(m.group(1))], _LINK.sub(link, value))
    return _CONTROL.sub("", value.replace(WORD_JOINER, "").replace("\u00a0", " "))


def wrap(text: str, width: int = TEXT_WIDTH) -> list[str]:
    """Wrap text to `width`; markdown bullets and numbered items get a hanging indent."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        bullet = _BULLET.match(paragraph)
        if bullet:
            marker = "-" if bullet.group(1) else str(bullet.group(2))
            first, rest, body = f"{marker} ", " " * (len(marker) + 1), bullet.group(3)
        else:
            first, rest, body = "", "", paragraph.strip()
        out.extend(
            textwrap.wrap(
                body,
                width,
                initial_indent=first,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return out


class _Page:
    """Lines being built, with blank lines between blocks and numbered actions."""

    def __init__(self, first_number: int, width: int = TEXT_WIDTH) -> None:
        self.lines: list[str] = []
        self.actions: list[CardAction] = []
        self.first_number = first_number
        self.width = width
        self._gap = False

    def gap(self) -> None:
        """Put a blank line before whatever comes next (never at the top, never two)."""
        self._gap = bool(self.lines)

    def add(self, lines: Iterable[str]) -> None:
        """Append lines, after a blank line if one was asked for."""
        new = list(lines)
        if not new:
            return
        if self._gap and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self._gap = False
        self.lines.extend(new)

    def action(self, action: CardAction, note: str = "") -> None:
        """Number an action and list it."""
        number = self.first_number + len(self.actions)
        self.actions.append(action)
        self.add(wrap(f"[{number}] {action.title}{note}", self.width))

    @property
    def next_number(self) -> int:
        """The number the next action will get."""
        return self.first_number + len(self.actions)


def _input_label(element: dict[str, Any]) -> str:
    for key in ("label", "title", "placeholder", "id"):
        if element.get(key):
            return _plain(element[key]).strip()
    return "Answer"


def _input_hint(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if _is_people_picker(element):
        return "a person from the directory, in Teams only"
    if kind == "Input.ChoiceSet":
        titles = ", ".join(_plain(c.get("title", c.get("value", ""))) for c in _choices(element))
        return f"{'any' if element.get('isMultiSelect') else 'one'} of: {titles}"
    hints = {
        "Input.Toggle": "yes or no",
        "Input.Date": "a date",
        "Input.Time": "a time",
        "Input.Number": "a number",
    }
    return hints.get(str(kind), "text")


def _choices(element: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in element.get("choices") or [] if isinstance(c, dict)]


def _is_people_picker(element: dict[str, Any]) -> bool:
    """Teams' people picker: a ChoiceSet whose choices Teams finds in the directory
    (`choices.data`), which nothing here can search."""
    return element.get("type") == "Input.ChoiceSet" and isinstance(
        element.get("choices.data"), dict
    )


class CardTextRenderer:
    """Adaptive Card (and hero card) JSON to readable text."""

    def render_activity(self, activity: Any, first_number: int = 1) -> Rendered:
        """Text, cards and suggested actions of one outgoing activity."""
        page = _Page(first_number)
        if activity.text:
            page.add(wrap(_plain(activity.text)))
        for attachment in activity.attachments or []:
            content = attachment.content if isinstance(attachment.content, dict) else {}
            page.gap()
            if attachment.content_type == ADAPTIVE:
                self._card(content, page, [])
            elif attachment.content_type in (HERO, THUMBNAIL):
                self._hero(content, page)
            else:
                page.add([f"[attachment: {attachment.name or attachment.content_type}]"])
        suggested = getattr(activity, "suggested_actions", None)
        buttons = getattr(suggested, "actions", None) or []
        if buttons:
            page.gap()
        for button in buttons:
            page.action(_card_action(button))
        return Rendered(page.lines, page.actions)

    def render_card(self, card: dict[str, Any], first_number: int = 1) -> Rendered:
        """One Adaptive Card on its own."""
        page = _Page(first_number)
        self._card(card, page, [])
        return Rendered(page.lines, page.actions)

    def render_show_card(self, action: CardAction, first_number: int) -> Rendered:
        """The card an Action.ShowCard reveals, its actions carrying the outer card's inputs."""
        page = _Page(first_number)
        page.add(wrap(f"{action.title}:"))
        page.gap()
        self._card(action.card or {}, page, action.inputs)
        return Rendered(page.lines, page.actions)

    # ---- adaptive cards -------------------------------------------------------------------

    def _card(self, card: dict[str, Any], page: _Page, outer_inputs: list[dict[str, Any]]) -> None:
        inputs: list[dict[str, Any]] = []
        _collect_inputs(card.get("body") or [], inputs)
        every_input = [*outer_inputs, *inputs]
        self._elements(card.get("body") or [], page, every_input)
        actions = [a for a in card.get("actions") or [] if isinstance(a, dict)]
        if actions:
            page.gap()
            if inputs:
                page.add(wrap("(Choosing a button asks for the fields above.)", page.width))
        self._actions(actions, page, every_input)

    def _elements(self, elements: list[Any], page: _Page, inputs: list[dict[str, Any]]) -> None:
        for index, element in enumerate(elements or []):
            if not isinstance(element, dict) or element.get("isVisible") is False:
                continue
            if index and (
                element.get("separator")
                or str(element.get("spacing", "default")).lower() not in _TIGHT
            ):
                page.gap()
            self._element(element, page, inputs)

    def _element(self, element: dict[str, Any], page: _Page, inputs: list[dict[str, Any]]) -> None:
        kind = element.get("type")
        if kind == "TextBlock":
            self._text_block(element, page)
        elif kind == "RichTextBlock":
            runs = "".join(
                str(i.get("text", "") if isinstance(i, dict) else i)
                for i in element.get("inlines") or []
            )
            page.add(wrap(_plain(runs), page.width))
        elif kind == "FactSet":
            self._facts(element.get("facts") or [], page)
        elif kind in ("Container", "Column"):
            self._elements(element.get("items") or [], page, inputs)
        elif kind == "ColumnSet":
            self._columns(element.get("columns") or [], page, inputs)
        elif kind == "Table":
            self._table(element, page, inputs)
        elif kind == "Image":
            alt = element.get("altText")
            page.add([f"[image: {_plain(alt)}]" if alt else "[image]"])
        elif kind == "ImageSet":
            for image in element.get("images") or []:
                if isinstance(image, dict):
                    self._element({**image, "type": "Image"}, page, inputs)
        elif kind == "Media":
            page.add([f"[video: {_plain(element.get('altText') or 'not playable here')}]"])
        elif kind == "ActionSet":
            self._actions(element.get("actions") or [], page, inputs)
        elif isinstance(kind, str) and kind.startswith("Input."):
            self._input(element, page)
        elif isinstance(element.get("fallback"), dict):
            self._element(element["fallback"], page, inputs)

    def _text_block(self, element: dict[str, Any], page: _Page) -> None:
        lines = wrap(_plain(element.get("text", "")), page.width)
        bold = str(element.get("weight", "")).lower() == "bolder"
        size = str(element.get("size", "")).lower()
        underline = ""
        if bold and size in ("large", "extralarge"):
            underline = "="
        elif (bold and size == "medium") or str(element.get("style", "")).lower() == "heading":
            underline = "-"
        page.add(lines)
        if underline:
            page.add([underline * min(max(len(line) for line in lines), page.width)])
            page.gap()  # a heading always stands apart from what follows

    def _facts(self, facts: list[Any], page: _Page) -> None:
        pairs = [
            (_plain(f.get("title", "")).strip(), _plain(f.get("value", "")).strip())
            for f in facts
            if isinstance(f, dict)
        ]
        if not pairs:
            return
        column = min(max(len(title) for title, _ in pairs), 24) + 2
        for title, value in pairs:
            head = f"{title}:".ljust(column + 1)
            page.add(
                textwrap.wrap(
                    value or "-",
                    page.width,
                    initial_indent=head,
                    subsequent_indent=" " * (column + 1),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                or [head.rstrip()]
            )

    def _columns(self, columns: list[Any], page: _Page, inputs: list[dict[str, Any]]) -> None:
        columns = [c for c in columns if isinstance(c, dict) and c.get("isVisible") is not False]
        cells = [self._cell(column.get("items") or [], page) for column in columns]
        joined = "   ".join(cell[0] for cell in cells if cell)
        if all(cell is not None for cell in cells) and len(joined) <= page.width:
            page.add([joined] if joined else [])
            return
        self._elements([{**column, "type": "Column"} for column in columns], page, inputs)

    def _table(self, table: dict[str, Any], page: _Page, inputs: list[dict[str, Any]]) -> None:
        for row_number, row in enumerate(table.get("rows") or []):
            if not isinstance(row, dict):
                continue
            cells = [
                self._cell(c.get("items") or [], page)
                for c in row.get("cells") or []
                if isinstance(c, dict)
            ]
            if all(cell is not None for cell in cells):
                line = " | ".join(cell[0] if cell else "" for cell in cells)
                page.add(wrap(line, page.width))
                if row_number == 0 and table.get("firstRowAsHeader", True) and line:
                    page.add(["-" * min(len(line), page.width)])
            else:
                for cell in row.get("cells") or []:
                    if isinstance(cell, dict):
                        self._elements(cell.get("items") or [], page, inputs)

    def _cell(self, items: list[Any], page: _Page) -> list[str] | None:
        """A cell's text when it is one short line with nothing to choose; else None."""
        scratch = _Page(page.next_number, page.width)
        self._elements(items, scratch, [])
        text = [line for line in scratch.lines if line]
        if scratch.actions or len(text) > 1 or any(_is_input(i) for i in _walk(items)):
            return None
        return text

    def _input(self, element: dict[str, Any], page: _Page) -> None:
        label = _input_label(element)
        required = " (required)" if element.get("isRequired") else ""
        default = element.get("value")
        now = f"; now: {_describe_value(element, default)}" if default not in (None, "") else ""
        page.add(wrap(f"{label}{required}: ____ ({_input_hint(element)}{now})", page.width))

    def _actions(self, actions: list[Any], page: _Page, inputs: list[dict[str, Any]]) -> None:
        for action in actions or []:
            if not isinstance(action, dict) or action.get("isEnabled") is False:
                continue
            kind = str(action.get("type", ""))
            title = _plain(action.get("title") or action.get("tooltip") or kind).strip()
            if kind == "Action.ToggleVisibility":
                continue
            associated = [] if action.get("associatedInputs") == "none" else list(inputs)
            if kind == "Action.OpenUrl":
                url = str(action.get("url", ""))
                page.action(CardAction(title, kind, url=url), note=f" (link: {url})")
            elif kind == "Action.ShowCard":
                card = action.get("card") if isinstance(action.get("card"), dict) else {}
                page.action(CardAction(title, kind, card=card, inputs=list(inputs)), note=" ...")
            else:
                page.action(
                    CardAction(
                        title,
                        kind,
                        data=action.get("data"),
                        inputs=associated,
                        verb=action.get("verb"),
                    )
                )

    # ---- hero and thumbnail cards ---------------------------------------------------------

    def _hero(self, card: dict[str, Any], page: _Page) -> None:
        if card.get("title"):
            title = wrap(_plain(card["title"]), page.width)
            page.add([*title, "-" * min(max(len(line) for line in title), page.width)])
        for key in ("subtitle", "text"):
            if card.get(key):
                page.gap()
                page.add(wrap(_plain(card[key]), page.width))
        for image in card.get("images") or []:
            alt = image.get("alt") if isinstance(image, dict) else None
            page.add([f"[image: {_plain(alt)}]" if alt else "[image]"])
        buttons = [b for b in card.get("buttons") or [] if isinstance(b, dict)]
        if buttons:
            page.gap()
        for button in buttons:
            action = _card_action(button)
            note = f" (link: {action.url})" if action.kind == "openUrl" else ""
            page.action(action, note=note)


def _card_action(button: Any) -> CardAction:
    """A Bot Framework CardAction (hero card button or suggested action), dict or object."""

    def get(name: str, attribute: str | None = None) -> Any:
        if isinstance(button, dict):
            return button.get(name)
        return getattr(button, attribute or name, None)

    kind = str(get("type") or "imBack")
    value = get("value")
    title = _plain(get("title") or value or kind).strip()
    return CardAction(
        title,
        kind,
        data=value,
        url=str(value) if kind == "openUrl" else None,
        text=get("text"),
    )


def _walk(elements: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """Every element under these, depth first, without entering show-cards."""
    for element in elements:
        if not isinstance(element, dict):
            continue
        yield element
        for key in ("items", "columns", "rows", "cells"):
            yield from _walk(element.get(key) or [])


def _is_input(element: dict[str, Any]) -> bool:
    return str(element.get("type", "")).startswith("Input.")


def _collect_inputs(body: list[Any], into: list[dict[str, Any]]) -> None:
    """The inputs of a card's body, in order (hidden ones too: Teams submits them)."""
    into.extend(e for e in _walk(body) if _is_input(e) and e.get("id"))


def _describe_value(element: dict[str, Any], value: Any) -> str:
    """A stored input value as a person would read it (choice titles, yes/no)."""
    kind = element.get("type")
    if kind == "Input.ChoiceSet":
        titles = {str(c.get("value")): _plain(c.get("title", "")) for c in _choices(element)}
        return ", ".join(titles.get(v, v) for v in str(value).split(",") if v)
    if kind == "Input.Toggle":
        return "yes" if str(value) == str(element.get("valueOn", "true")) else "no"
    return str(value)


# ---- asking for a card's inputs ---------------------------------------------------------------


def ask_input(element: dict[str, Any], ask: InputFn, out: TextIO) -> str | None:
    """Prompt for one card input; returns the string Teams would submit, None if left unset."""
    label = _input_label(element)
    kind = str(element.get("type", "Input.Text"))
    required = bool(element.get("isRequired"))
    default = element.get("value")
    has_default = default not in (None, "")
    if kind == "Input.Toggle":
        on, off = str(element.get("valueOn", "true")), str(element.get("valueOff", "false"))
        current = "y" if has_default and str(default) == on else "n"
        while True:
            raw = ask(f"{INDENT}{label} (y/n, Enter = {current}): ").strip().lower()
            answer = raw or current
            if answer in ("y", "yes"):
                return on
            if answer in ("n", "no"):
                return off
            out.write(f"{INDENT}  Please answer y or n.\n")
    if _is_people_picker(element) and not _choices(element):
        out.write(f"{INDENT}{label}: Teams' people picker can't search the directory here.\n")
        return None
    choices = _choices(element) if kind == "Input.ChoiceSet" else []
    if kind == "Input.ChoiceSet":
        out.write(f"{INDENT}{label}:\n")
        for number, choice in enumerate(choices, start=1):
            out.write(f"{INDENT}  {number}. {_plain(choice.get('title', choice.get('value')))}\n")
    hint = _prompt_hint(element, kind)
    if has_default:
        blank = f"Enter keeps {_describe_value(element, default)}"
    else:
        blank = "required" if required else "Enter to skip"
    while True:
        notes = "; ".join(part for part in (hint, blank) if part)
        raw = ask(f"{INDENT}{'Your choice' if choices else label} ({notes}): ").strip()
        if not raw:
            if has_default:
                return str(default)
            if not required:
                return None
            out.write(f"{INDENT}  This one is required.\n")
            continue
        answer, problem = _check(element, kind, raw, choices)
        if problem is None:
            return answer
        out.write(f"{INDENT}  {problem}\n")


def _prompt_hint(element: dict[str, Any], kind: str) -> str:
    if kind == "Input.ChoiceSet":
        return "numbers, e.g. 1,3" if element.get("isMultiSelect") else "a number"
    return {
        "Input.Date": "YYYY-MM-DD",
        "Input.Time": "HH:MM",
        "Input.Number": "a number",
    }.get(kind, "")


Checked = tuple[str, str | None]  # the value to submit, or why the answer is not acceptable


def _check(element: dict[str, Any], kind: str, raw: str, choices: list[dict[str, Any]]) -> Checked:
    """The value to submit for `raw`, or why it is not acceptable."""
    if kind == "Input.ChoiceSet":
        return _check_choice(element, raw, choices)
    if kind == "Input.Number":
        return _check_number(element, raw)
    if kind == "Input.Date":
        return _check_date(element, raw)
    if kind == "Input.Time":
        if not _TIME.match(raw):
            return "", "Please type a time as HH:MM (24-hour), e.g. 14:30."
        return raw, None
    return _check_text(element, raw)


def _check_choice(element: dict[str, Any], raw: str, choices: list[dict[str, Any]]) -> Checked:
    multi = bool(element.get("isMultiSelect"))
    picks = [p.strip() for p in re.split(r"[,\s]+", raw) if p.strip()] if multi else [raw]
    titles = {_plain(c.get("title", "")).strip().lower(): c for c in choices}
    chosen: list[str] = []
    for pick in picks:
        if pick.isdigit() and 1 <= int(pick) <= len(choices):
            chosen.append(str(choices[int(pick) - 1].get("value")))
        elif pick.lower() in titles:
            chosen.append(str(titles[pick.lower()].get("value")))
        else:
            return "", f"Please answer with the numbers shown (1 to {len(choices)})."
    return ",".join(chosen), None


def _check_number(element: dict[str, Any], raw: str) -> Checked:
    try:
        number = float(raw)
    except ValueError:
        return "", "Please type a number."
    low, high = element.get("min"), element.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        lowest = low if low is not None else "..."
        highest = high if high is not None else "..."
        return "", f"Please type a number from {lowest} to {highest}."
    return raw, None


def _check_date(element: dict[str, Any], raw: str) -> Checked:
    try:
        date.fromisoformat(raw)
    except ValueError:
        return "", "Please type a date as YYYY-MM-DD, e.g. 2025-03-31."
    if len(raw) != 10:
        return "", "Please type a date as YYYY-MM-DD, e.g. 2025-03-31."
    low, high = element.get("min"), element.get("max")
    if (low and raw < str(low)) or (high and raw > str(high)):
        return "", f"Please choose a date from {low or 'any'} to {high or 'any'}."
    return raw, None


def _check_text(element: dict[str, Any], raw: str) -> Checked:
    limit = element.get("maxLength")
    if isinstance(limit, int) and limit > 0 and len(raw) > limit:
        return "", f"That is too long: {limit} characters at most."
    pattern = element.get("regex")
    if isinstance(pattern, str) and pattern and not re.fullmatch(pattern, raw):
        return "", str(element.get("errorMessage") or "That doesn't look right. Please try again.")
    return raw, None
