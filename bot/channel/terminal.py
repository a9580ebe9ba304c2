"""`edi-bot chat`: the same bot, state and database, in a terminal.

Activities are shaped as Teams sends them (channel msteams, a personal conversation, an
Entra object id derived from the name given), so every feature behaves as it does in Teams.
Adaptive Cards are printed as text with numbered actions; choosing an action asks for the
card's inputs one by one, then submits them as Teams would: `value` is the action's data
with the inputs' values (strings) written over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import textwrap
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ResourceResponse,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.channel.adapter import send_or_hold
from bot.config import Settings
from bot.core.content import WORD_JOINER
from bot.db import migrate
from bot.db.engine import create_engine
from bot.runtime import build_runtime

WIDTH = 78
INDENT = "  "
TEXT_WIDTH = WIDTH - len(INDENT)
SERVICE_URL = "terminal://local"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
HERO = "application/vnd.microsoft.card.hero"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"

_SLUG = re.compile(r"[^a-z0-9]+")
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


def _wrap(text: str, width: int = TEXT_WIDTH) -> list[str]:
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
        self.add(_wrap(f"[{number}] {action.title}{note}", self.width))

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


class CardTextRenderer:
    """Adaptive Card (and hero card) JSON to readable text."""

    def render_activity(self, activity: Activity, first_number: int = 1) -> Rendered:
        """Text, cards and suggested actions of one outgoing activity."""
        page = _Page(first_number)
        if activity.text:
            page.add(_wrap(_plain(activity.text)))
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
        page.add(_wrap(f"{action.title}:"))
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
                page.add(_wrap("(Choosing a button asks for the fields above.)", page.width))
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
            page.add(_wrap(_plain(runs), page.width))
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
        lines = _wrap(_plain(element.get("text", "")), page.width)
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
                page.add(_wrap(line, page.width))
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
        page.add(_wrap(f"{label}{required}: ____ ({_input_hint(element)}{now})", page.width))

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
            title = _wrap(_plain(card["title"]), page.width)
            page.add([*title, "-" * min(max(len(line) for line in title), page.width)])
        for key in ("subtitle", "text"):
            if card.get(key):
                page.gap()
                page.add(_wrap(_plain(card[key]), page.width))
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


def _ask_input(element: dict[str, Any], ask: InputFn, out: TextIO) -> str | None:
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


def _check(
    element: dict[str, Any], kind: str, raw: str, choices: list[dict[str, Any]]
) -> tuple[str, str | None]:
    """The value to submit for `raw`, or why it is not acceptable."""
    if kind == "Input.ChoiceSet":
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
    if kind == "Input.Number":
        try:
            number = float(raw)
        except ValueError:
            return "", "Please type a number."
        low, high = element.get("min"), element.get("max")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            return "", f"Please type a number from {low if low is not None else '...'} to " + (
                f"{high if high is not None else '...'}."
            )
        return raw, None
    if kind == "Input.Date":
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
    if kind == "Input.Time":
        if not _TIME.match(raw):
            return "", "Please type a time as HH:MM (24-hour), e.g. 14:30."
        return raw, None
    limit = element.get("maxLength")
    if isinstance(limit, int) and limit > 0 and len(raw) > limit:
        return "", f"That is too long: {limit} characters at most."
    pattern = element.get("regex")
    if isinstance(pattern, str) and pattern and not re.fullmatch(pattern, raw):
        return "", str(element.get("errorMessage") or "That doesn't look right. Please try again.")
    return raw, None


# ---- the adapter and the chat ----------------------------------------------------------------


class TerminalAdapter(BotAdapter):
    """Runs turns in-process; what the bot sends goes to `deliver`."""

    def __init__(self, deliver: Callable[[Activity], None]) -> None:
        super().__init__()
        self._deliver = deliver

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        """Send now, or hold until the turn's transaction commits (as the web service does)."""
        return await send_or_hold(context, activities, self._send)

    async def _send(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[BotAdapter._INVOKE_RESPONSE_KEY] = activity
            elif activity.type == ActivityTypes.message:
                self._deliver(activity)
            responses.append(ResourceResponse(id=uuid.uuid4().hex))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        """A message the bot changed is printed again."""
        self._deliver(activity)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        """Nothing printed can be taken back."""
        return None


def _slug(user: str) -> str:
    return _SLUG.sub("-", user.lower()).strip("-") or "user"


class TerminalChat:
    """One person's chat with the bot: builds Teams-shaped activities and prints replies."""

    def __init__(
        self,
        *,
        user: str,
        tenant_id: str,
        on_turn: Callable[[TurnContext], Awaitable[None]],
        on_error: Callable[[TurnContext, Exception], Awaitable[None]],
        out: TextIO,
        bot_id: str = "28:edi-bot",
    ) -> None:
        slug = _slug(user)
        self.user = ChannelAccount(
            id=f"29:terminal-{slug}",
            name=user,
            aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"edi-bot-terminal:{slug}")),
        )
        self.bot = ChannelAccount(id=bot_id, name="EDI bot")
        self.conversation = ConversationAccount(
            id=f"a:terminal-{slug}", conversation_type="personal", tenant_id=tenant_id
        )
        self.tenant_id = tenant_id
        self._on_turn = on_turn
        self._out = out
        self.renderer = CardTextRenderer()
        self.actions: list[CardAction] = []
        self._new_turn = True
        self.output_closed = False
        self.adapter = TerminalAdapter(self._print)
        self.adapter.on_turn_error = on_error

    def activity(self, kind: str, **fields: Any) -> Activity:
        """An activity from this person, shaped as Teams sends it."""
        now = datetime.now(UTC)
        return Activity(
            type=kind,
            id=uuid.uuid4().hex,
            timestamp=now,
            local_timestamp=now.astimezone(),
            channel_id="msteams",
            service_url=SERVICE_URL,
            from_property=self.user,
            recipient=self.bot,
            conversation=self.conversation,
            channel_data={"tenant": {"id": self.tenant_id}},
            locale="en-GB",
            **fields,
        )

    def _show(self, rendered: Rendered) -> None:
        # Output that has gone away (`edi-bot chat | head`) must not fail the bot's turn:
        # a failed turn resets the conversation. The loop ends the chat instead.
        try:
            self._out.write("\n")
            for line in rendered.lines:
                self._out.write(f"{INDENT}{line}\n" if line else "\n")
            self._out.flush()
        except BrokenPipeError:
            self.output_closed = True

    def _print(self, activity: Activity) -> None:
        # Every action the bot sends in one turn is numbered in one sequence; a turn that
        # sends new actions replaces the old ones (as a newer card does on screen).
        keep = [] if self._new_turn else self.actions
        rendered = self.renderer.render_activity(activity, first_number=len(keep) + 1)
        if rendered.actions:
            self.actions = [*keep, *rendered.actions]
            self._new_turn = False
        self._show(rendered)

    def show_actions(self) -> None:
        """List the actions a number can choose now."""
        if not self.actions:
            self._out.write(f"\n{INDENT}There are no buttons to choose at the moment.\n")
            return
        lines = [f"[{n}] {a.title}" for n, a in enumerate(self.actions, start=1)]
        self._show(Rendered(lines))

    async def _run(self, activity: Activity) -> TurnContext:
        self._new_turn = True
        context = TurnContext(self.adapter, activity)
        await self.adapter.run_pipeline(context, self._on_turn)
        return context

    async def open(self) -> None:
        """Start the chat as Teams does when the app is opened: the bot joins."""
        await self._run(self.activity(ActivityTypes.conversation_update, members_added=[self.bot]))

    async def say(self, text: str) -> None:
        """Send typed text."""
        await self._run(self.activity(ActivityTypes.message, text=text))

    async def submit(self, value: Any, text: str | None = None) -> None:
        """Send what a card's Action.Submit sends."""
        await self._run(self.activity(ActivityTypes.message, value=value, text=text))

    async def execute(self, verb: str | None, data: dict[str, Any]) -> None:
        """Send what a card's Action.Execute sends (an adaptiveCard/action invoke)."""
        action = {"type": "Action.Execute", "verb": verb, "data": data}
        context = await self._run(
            self.activity(
                ActivityTypes.invoke,
                name="adaptiveCard/action",
                value={"action": action, "trigger": "manual"},
            )
        )
        response = context.turn_state.get(BotAdapter._INVOKE_RESPONSE_KEY)
        value = getattr(response, "value", None)
        status = getattr(value, "status", None)
        body = getattr(value, "body", None)
        if status is not None and not 200 <= int(status) < 300:
            self._out.write(f"\n{INDENT}(The bot refused that button.)\n")
        elif isinstance(body, dict) and body.get("type") == ADAPTIVE:
            card = body.get("value")
            if isinstance(card, dict):
                rendered = self.renderer.render_card(card)
                self.actions = rendered.actions
                self._show(rendered)

    async def choose(self, number: int, ask: InputFn) -> None:
        """Carry out action `number` of the last card, asking for its inputs first."""
        action = self.actions[number - 1]
        if action.kind in ("Action.OpenUrl", "openUrl"):
            self._show(Rendered(_wrap(f"Open this link in your browser: {action.url}")))
            return
        if action.kind == "Action.ShowCard":
            rendered = self.renderer.render_show_card(action, len(self.actions) + 1)
            self.actions = [*self.actions, *rendered.actions]
            self._show(rendered)
            return
        if action.kind in ("imBack", "postBack"):
            await self.say(str(action.data))
            return
        if action.kind == "messageBack":
            await self.submit(_json_object(action.data), text=action.text)
            return
        if action.kind not in ("Action.Submit", "Action.Execute"):
            self._show(Rendered(_wrap(f"The terminal can't do “{action.title}” buttons.")))
            return
        values: dict[str, str] = {}
        for element in action.inputs:
            answer = _ask_input(element, ask, self._out)
            if answer is not None:
                values[str(element["id"])] = answer
        await self._press(action, values)

    async def _press(self, action: CardAction, values: dict[str, str]) -> None:
        data = action.data
        if action.kind == "Action.Execute":
            await self.execute(action.verb, {**(data if isinstance(data, dict) else {}), **values})
            return
        if isinstance(data, str):
            await self.say(data)  # a string submit arrives as typed text
            return
        data = dict(data) if isinstance(data, dict) else {}
        teams = data.pop("msteams", None)
        kind = teams.get("type") if isinstance(teams, dict) else None
        if isinstance(teams, dict) and kind == "imBack":
            await self.say(str(teams.get("value", "")))
        elif isinstance(teams, dict) and kind == "messageBack":
            value = _json_object(teams.get("value"))
            await self.submit({**(value or {}), **values}, text=teams.get("text"))
        elif kind is not None:
            self._show(
                Rendered(_wrap("That button opens a Teams window, which the terminal cannot show."))
            )
        else:
            await self.submit({**data, **values})


def _json_object(value: Any) -> Any:
    """A messageBack value: JSON text becomes the object it describes."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


# ---- the loop behind `edi-bot chat` -----------------------------------------------------------

HELP = """\
How this works:
- Type a message and press Enter; the bot answers as it would in Teams.
- Type a button's number (e.g. 1) to press that button on the latest card.
  If the card has fields, you are asked for each first (Enter skips one).
- Ctrl-C while filling in fields drops that button press.
- Your conversation is saved: leave and come back, and it carries on.

Commands:
  /buttons     list the buttons you can press now
  /say TEXT    send TEXT as a message, even if it is a number
  /help        show this help
  /quit        leave (Ctrl-D or Ctrl-C at the prompt also leave)"""

PROMPT = "you> "


def safe_url(url: str) -> str:
    """The database URL as it may be shown: any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(a database URL that could not be read)"


def _read(ask: InputFn, prompt: str) -> str:
    """`ask(prompt)`, with Ctrl-C raising KeyboardInterrupt at once, even under asyncio."""
    if threading.current_thread() is not threading.main_thread():
        return ask(prompt)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return ask(prompt)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _tenant(settings: Settings) -> str:
    """The tenant the chat claims: the app's own, else one the service serves."""
    return settings.app_tenant_id or next(iter(settings.allowed_tenants), "") or "terminal"


def _banner(settings: Settings, user: str) -> str:
    return (
        f"EDI bot: terminal chat\n"
        f"You are {user}. Database: {safe_url(settings.database_url)}\n"
        f"Type a message, or a button's number. /help for help, /quit to leave.\n"
    )


async def run_chat(
    settings: Settings,
    *,
    user: str,
    ask: InputFn = input,
    out: TextIO = sys.stdout,
) -> int:
    """The interactive loop behind `edi-bot chat`."""
    user = " ".join(user.split()) or "Terminal User"
    if ask is input and sys.stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
    engine = create_engine(settings.database_url)
    try:
        try:
            if settings.development_mode:
                await migrate.upgrade(engine)
            elif not await migrate.is_current(engine):
                out.write("The database schema is behind: run `edi-bot db upgrade` first.\n")
                return 1
        except (OSError, SQLAlchemyError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            out.write(f"Cannot open the database {safe_url(settings.database_url)}: {reason}\n")
            return 1
        runtime = build_runtime(settings, engine)
        chat = TerminalChat(
            user=user,
            tenant_id=_tenant(settings),
            on_turn=runtime.bot.on_turn,
            on_error=runtime.on_turn_error,
            out=out,
            bot_id=f"28:{settings.app_id or 'edi-bot'}",
        )
        try:
            out.write(_banner(settings, user))
            # As Teams does when the chat is opened; the bot welcomes, or welcomes back.
            await chat.open()
            await _loop(chat, ask, out)
            out.write("Goodbye.\n")
            out.flush()
        except BrokenPipeError:
            _discard_output(out)
        return 0
    finally:
        await engine.dispose()


def _discard_output(out: TextIO) -> None:
    """Output was closed by its reader: send whatever is still buffered nowhere."""
    if out is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


def _note(out: TextIO, text: str) -> None:
    """A line from the terminal itself (not the bot), wrapped and indented like replies."""
    out.write("\n" + "".join(f"{INDENT}{line}\n" for line in _wrap(text)))
    out.flush()


async def _loop(chat: TerminalChat, ask: InputFn, out: TextIO) -> None:
    def asker(prompt: str) -> str:
        return _read(ask, prompt)

    while True:
        if chat.output_closed:
            raise BrokenPipeError("the terminal's output was closed")
        out.write("\n")
        out.flush()
        try:
            line = asker(PROMPT)
        except (EOFError, KeyboardInterrupt):
            out.write("\n")
            return
        text = line.strip()
        command = text.lower()
        if not text:
            continue
        if command in ("/quit", "/exit", "/q"):
            return
        if command in ("/help", "/?", "/h"):
            out.write("\n" + textwrap.indent(HELP, INDENT) + "\n")
            continue
        if command in ("/buttons", "/b"):
            chat.show_actions()
            continue
        if command.startswith("/say "):
            await chat.say(text[5:].strip())
            continue
        if text.startswith("/"):
            _note(out, f"Unknown command {text.split()[0]}. Type /help for the commands.")
            continue
        if text.isdigit() and chat.actions:
            number = int(text)
            if not 1 <= number <= len(chat.actions):
                _note(
                    out,
                    f"There is no button {number}: choose 1 to {len(chat.actions)} (/buttons"
                    f" lists them), or type /say {number} to send it as a message.",
                )
                continue
            try:
                await chat.choose(number, asker)
            except KeyboardInterrupt:
                out.write("\n")
                _note(out, "Nothing was sent.")
            except EOFError:
                # The input ended (Ctrl-D, or a piped script ran out) half-way through a form.
                out.write("\n")
                _note(out, "Nothing was sent.")
                return
            continue
        await chat.say(text)
