"""Drive the real bot in-process: Teams-shaped activities in, the replies a person sees out."""

from __future__ import annotations

import base64
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.terminal import TerminalAdapter
from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from tests.teams import TeamsUser

TEST_ENCRYPTION_KEYS = "ktest1:" + base64.b64encode(bytes(range(32))).decode()
TEST_PSEUDONYM_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def dev_settings(**values: Any) -> Settings:
    """Development-mode settings from keyword values (no .env file), with fixed test keys."""
    values.setdefault("encryption_keys", TEST_ENCRYPTION_KEYS)
    values.setdefault("pseudonym_key", TEST_PSEUDONYM_KEY)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotHarness:
    """The runtime the service builds, with one person chatting to it."""

    SERVICE_URL = "https://smba.trafficmanager.net/uk/"

    def __init__(self, settings: Settings, engine: AsyncEngine, user: TeamsUser | None = None):
        self.runtime: Runtime = build_runtime(settings, engine)
        self.sent: list[Activity] = []
        # The terminal chat's in-process adapter: replies held until commit, as in service.
        self.adapter = TerminalAdapter(self.sent.append)
        self.adapter.on_turn_error = self.runtime.on_turn_error
        self.user = user or TeamsUser()

    async def send(self, activity: dict[str, Any]) -> list[Activity]:
        """Run one turn for a wire-format activity; return the replies it produced."""
        before = len(self.sent)
        context = TurnContext(self.adapter, Activity().deserialize(activity))
        await self.adapter.run_pipeline(context, self.runtime.bot.on_turn)
        return self.sent[before:]

    async def say(self, text: str) -> list[Activity]:
        """The person types `text`."""
        return await self.send(self.user.message(text, self.SERVICE_URL))

    async def tap(self, value: Any) -> list[Activity]:
        """The person presses a card button that submits `value`."""
        return await self.send(self.user.submit(value, self.SERVICE_URL))
