"""A bare, stock botbuilder echo bot: the baseline `bench.turns` measures our bot against.

It is the Microsoft sample's shape and nothing more: the stock aiohttp `CloudAdapter` with
`ConfigurationBotFrameworkAuthentication` in development mode (no app id, so no auth), an
`ActivityHandler` that answers each message with "Echo: <text>", no state and no database.
It deliberately keeps botbuilder's defaults (two fresh msrest clients per turn, replies sent
through `requests` in a thread pool), because those defaults are what is being measured.
This is the one botbuilder import outside bot/ and dialogs/: it measures the SDK itself.

Run: `python -m bench.echo_bot --port 3979`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

log = logging.getLogger("bench.echo_bot")


@dataclass(frozen=True)
class DevelopmentConfig:
    """The settings `ConfigurationBotFrameworkAuthentication` reads; empty id = no auth."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""


class EchoBot(ActivityHandler):
    """Replies to every message with "Echo: <text>"."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Echo the text back."""
        text = turn_context.activity.text
        await turn_context.send_activity(MessageFactory.text(f"Echo: {text}"))


async def on_error(turn_context: TurnContext, error: Exception) -> None:
    """Log the failure and tell the sender, as the sample does."""
    log.error("echo turn failed: %s: %s", type(error).__name__, error)
    await turn_context.send_activity("The echo bot encountered an error.")


def create_app() -> web.Application:
    """The echo bot's aiohttp application: POST /api/messages."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DevelopmentConfig()))
    adapter.on_turn_error = on_error
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response: web.Response = await adapter.process(request, bot)
        return response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the echo bot until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.echo_bot", description="A bare stock botbuilder echo bot."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=3979, help="port to listen on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
