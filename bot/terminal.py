"""`edi-bot chat`: the same bot, state and database, in a terminal.

Activities are shaped as Teams sends them (channel msteams, a personal conversation, an
Entra object id derived from the name given), so every feature behaves as it does in Teams.
Adaptive Cards are printed as text with numbered actions; choosing an action asks for the
card's inputs one by one, then submits them exactly as Teams would (`value` = inputs + data).
"""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ResourceResponse,
)

from bot.adapter import send_or_hold
from bot.config import Settings
from bot.db import migrate
from bot.db.engine import create_engine
from bot.runtime import build_runtime

WIDTH = 78
SERVICE_URL = "terminal://local"
_SLUG = re.compile(r"[^a-z0-9]+")

InputFn = Callable[[str], str]


@dataclass
class CardAction:
    """One numbered action printed under a message."""

    title: str
    kind: str
    data: Any = None
    url: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Rendered:
    """A message as lines of text plus the actions a person can choose."""

    lines: list[str] = field(default_factory=list)
    actions: list[CardAction] = field(default_factory=list)


def _wrap(text: str, indent: str = "") -> list[str]:
    out: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        out.extend(
            textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent)
            or [indent.rstrip()]
        )
    return out


def _plain(text: str) -> str:
    return str(text).replace("**", "").replace("__", "")


class CardTextRenderer:
    """Adaptive Card (and hero card) JSON to readable text."""

    def render_activity(self, activity: Activity) -> Rendered:
        """Text, cards and suggested actions of one outgoing activity."""
        rendered = Rendered()
        if activity.text:
            rendered.lines.extend(_wrap(_plain(activity.text)))
        for attachment in activity.attachments or []:
            content = attachment.content if isinstance(attachment.content, dict) else {}
            if attachment.content_type == "application/vnd.microsoft.card.adaptive":
                self._card(content, rendered)
            elif attachment.content_type == "application/vnd.microsoft.card.hero":
                self._hero(content, rendered)
            else:
                rendered.lines.append(f"[attachment: {attachment.name or attachment.content_type}]")
        suggested = getattr(activity, "suggested_actions", None)
        for action in getattr(suggested, "actions", None) or []:
            rendered.actions.append(
                CardAction(action.title or str(action.value), "imBack", data=action.value)
            )
        return rendered

    def _card(self, card: dict[str, Any], rendered: Rendered) -> None:
        inputs: list[dict[str, Any]] = []
        self._elements(card.get("body", []), rendered, inputs)
        self._actions(card.get("actions", []), rendered, inputs)

    def _hero(self, card: dict[str, Any], rendered: Rendered) -> None:
        for key in ("title", "subtitle", "text"):
            if card.get(key):
                rendered.lines.extend(_wrap(_plain(card[key])))
        for button in card.get("buttons", []):
            kind = button.get("type", "imBack")
            rendered.actions.append(
                CardAction(
                    button.get("title", ""), kind, data=button.get("value"), url=button.get("value")
                )
            )

    def _elements(self, elements: list[Any], rendered: Rendered, inputs: list[Any]) -> None:
        for element in elements or []:
            if not isinstance(element, dict) or element.get("isVisible") is False:
                continue
            kind = element.get("type")
            if kind == "TextBlock":
                text = _plain(element.get("text", ""))
                if element.get("weight") == "Bolder" and element.get("size") in ("Large", "Medium"):
                    text = text.upper()
                if element.get("separator"):
                    rendered.lines.append("")
                rendered.lines.extend(_wrap(text))
            elif kind == "RichTextBlock":
                runs = "".join(
                    str(i.get("text", i) if isinstance(i, dict) else i)
                    for i in element.get("inlines", [])
                )
                rendered.lines.extend(_wrap(_plain(runs)))
            elif kind == "FactSet":
                for fact in element.get("facts", []):
                    rendered.lines.extend(
                        _wrap(f"{fact.get('title', '')}: {fact.get('value', '')}", "  ")
                    )
            elif kind in ("Container", "Column"):
                if element.get("separator"):
                    rendered.lines.append("")
                self._elements(element.get("items", []), rendered, inputs)
            elif kind == "ColumnSet":
                for column in element.get("columns", []):
                    self._elements([{**column, "type": "Column"}], rendered, inputs)
            elif kind == "Image":
                rendered.lines.append(f"[image: {element.get('altText', 'picture')}]")
            elif kind == "ActionSet":
                self._actions(element.get("actions", []), rendered, inputs)
            elif isinstance(kind, str) and kind.startswith("Input."):
                inputs.append(element)
                label = element.get("label") or element.get("placeholder") or element.get("id")
                rendered.lines.append(f"  ({label}: asked when you choose an action)")

    def _actions(self, actions: list[Any], rendered: Rendered, inputs: list[Any]) -> None:
        for action in actions or []:
            if not isinstance(action, dict):
                continue
            kind = str(action.get("type", ""))
            title = str(action.get("title", ""))
            if kind == "Action.ShowCard":
                rendered.lines.append(f"[{title}]")
                self._card(action.get("card", {}), rendered)
            else:
                rendered.actions.append(
                    CardAction(
                        title,
                        kind,
                        data=action.get("data"),
                        url=action.get("url"),
                        inputs=list(inputs),
                    )
                )


class TerminalAdapter(BotAdapter):
    """Runs turns in-process; what the bot sends goes to `deliver`."""

    def __init__(self, deliver: Callable[[Activity], None]) -> None:
        super().__init__()
        self._deliver = deliver

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
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
        self._deliver(activity)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        return None


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
    ) -> None:
        slug = _SLUG.sub("-", user.lower()).strip("-") or "user"
        self.user = ChannelAccount(
            id=f"29:terminal-{slug}",
            name=user,
            aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"edi-bot-terminal:{slug}")),
        )
        self.bot = ChannelAccount(id="28:edi-bot", name="EDI bot")
        self.conversation = ConversationAccount(
            id=f"a:terminal-{slug}", conversation_type="personal", tenant_id=tenant_id
        )
        self.tenant_id = tenant_id
        self._on_turn = on_turn
        self._out = out
        self.renderer = CardTextRenderer()
        self.actions: list[CardAction] = []
        self.adapter = TerminalAdapter(self._print)
        self.adapter.on_turn_error = on_error

    def _activity(self, kind: str, **fields: Any) -> Activity:
        return Activity(
            type=kind,
            id=uuid.uuid4().hex,
            channel_id="msteams",
            service_url=SERVICE_URL,
            from_property=self.user,
            recipient=self.bot,
            conversation=self.conversation,
            channel_data={"tenant": {"id": self.tenant_id}},
            locale="en-GB",
            **fields,
        )

    def _print(self, activity: Activity) -> None:
        rendered = self.renderer.render_activity(activity)
        self._out.write("\n".join(["", *rendered.lines]) + "\n")
        if rendered.actions:
            self.actions = rendered.actions
            for number, action in enumerate(rendered.actions, start=1):
                self._out.write(f"  [{number}] {action.title}\n")
        self._out.flush()

    async def _run(self, activity: Activity) -> None:
        await self.adapter.run_pipeline(TurnContext(self.adapter, activity), self._on_turn)

    async def open(self) -> None:
        """Start the chat as Teams does when the app is opened: the bot joins."""
        await self._run(self._activity(ActivityTypes.conversation_update, members_added=[self.bot]))

    async def say(self, text: str) -> None:
        """Send typed text."""
        await self._run(self._activity(ActivityTypes.message, text=text))

    async def submit(self, value: dict[str, Any]) -> None:
        """Send what a card's Action.Submit sends."""
        await self._run(self._activity(ActivityTypes.message, value=value))

    async def choose(self, number: int, ask: InputFn) -> None:
        """Carry out action `number` of the last card, asking for its inputs first."""
        action = self.actions[number - 1]
        if action.kind in ("Action.OpenUrl", "openUrl"):
            self._out.write(f"Open this link: {action.url}\n")
            return
        if action.kind in ("imBack", "messageBack", "postBack"):
            await self.say(str(action.data))
            return
        value: dict[str, Any] = {}
        for element in action.inputs:
            answer = _ask_input(element, ask, self._out)
            if answer is not None:
                value[str(element.get("id"))] = answer
        data = action.data if isinstance(action.data, dict) else {}
        await self.submit({**value, **data})


def _ask_input(element: dict[str, Any], ask: InputFn, out: TextIO) -> str | None:
    """Prompt for one card input; returns the string Teams would submit, None if left blank."""
    label = _plain(element.get("label") or element.get("placeholder") or element.get("id") or "")
    kind = element.get("type")
    if kind == "Input.ChoiceSet":
        choices = element.get("choices", [])
        for number, choice in enumerate(choices, start=1):
            out.write(f"    {number}. {choice.get('title')}\n")
        multi = bool(element.get("isMultiSelect"))
        hint = "numbers separated by commas" if multi else "a number"
        while True:
            raw = ask(f"  {label} ({hint}, blank to skip): ").strip()
            if not raw:
                return None
            picks = [p.strip() for p in raw.split(",")] if multi else [raw]
            if all(p.isdigit() and 1 <= int(p) <= len(choices) for p in picks):
                return ",".join(str(choices[int(p) - 1].get("value")) for p in picks)
            out.write("    Please answer with the numbers shown.\n")
    if kind == "Input.Toggle":
        raw = ask(f"  {label} (y/n): ").strip().lower()
        on, off = element.get("valueOn", "true"), element.get("valueOff", "false")
        return str(on if raw.startswith("y") else off)
    hints = {"Input.Date": " (YYYY-MM-DD)", "Input.Time": " (HH:MM)", "Input.Number": " (number)"}
    raw = ask(f"  {label}{hints.get(str(kind), '')}: ")
    return raw if raw.strip() else None


HELP = "Type to chat. A number picks an action of the last card. /quit (or Ctrl-D) leaves."


async def run_chat(
    settings: Settings,
    *,
    user: str,
    ask: InputFn = input,
    out: TextIO = sys.stdout,
) -> int:
    """The interactive loop behind `edi-bot chat`."""
    engine = create_engine(settings.database_url)
    try:
        if settings.development_mode:
            await migrate.upgrade(engine)
        elif not await migrate.is_current(engine):
            out.write("The database schema is behind: run `edi-bot db upgrade` first.\n")
            return 1
        runtime = build_runtime(settings, engine)
        chat = TerminalChat(
            user=user,
            tenant_id=settings.app_tenant_id or "terminal",
            on_turn=runtime.bot.on_turn,
            on_error=runtime.on_turn_error,
            out=out,
        )
        out.write(f"Chatting as {user}. {HELP}\n")
        await chat.open()
        while True:
            try:
                line = await asyncio.to_thread(ask, "\nyou> ")
            except EOFError:
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if text in ("/help", "/?"):
                out.write(HELP + "\n")
                continue
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(chat.actions):
                await chat.choose(int(text), ask)
            else:
                await chat.say(text)
        out.write("Goodbye.\n")
        return 0
    finally:
        await engine.dispose()
