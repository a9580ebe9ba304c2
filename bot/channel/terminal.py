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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
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
from bot.channel.card_text import (
    ADAPTIVE,
    INDENT,
    CardAction,
    CardTextRenderer,
    InputFn,
    Rendered,
    ask_input,
    wrap,
)
from bot.config import Settings
from bot.db import migrate
from bot.db.engine import create_engine
from bot.runtime import build_runtime

SERVICE_URL = "terminal://local"
_SLUG = re.compile(r"[^a-z0-9]+")


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
            self._show(Rendered(wrap(f"Open this link in your browser: {action.url}")))
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
            self._show(Rendered(wrap(f"The terminal can't do “{action.title}” buttons.")))
            return
        values: dict[str, str] = {}
        for element in action.inputs:
            answer = ask_input(element, ask, self._out)
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
                Rendered(wrap("That button opens a Teams window, which the terminal cannot show."))
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
    out.write("\n" + "".join(f"{INDENT}{line}\n" for line in wrap(text)))
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
