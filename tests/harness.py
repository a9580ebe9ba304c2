"""Drive the real bot in-process: Teams-shaped activities in, the replies a person sees out."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapter import send_or_hold
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


class RecordingAdapter(BotAdapter):
    """Runs turns through the middleware pipeline; records what would reach Teams."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        return await send_or_hold(context, activities, self._record)

    async def _record(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[BotAdapter._INVOKE_RESPONSE_KEY] = activity
            else:
                self.sent.append(activity)
        return [ResourceResponse(id=uuid.uuid4().hex) for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        return None

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        return None


class BotHarness:
    """The runtime the service builds, with one person chatting to it."""

    SERVICE_URL = "https://smba.trafficmanager.net/uk/"

    def __init__(self, settings: Settings, engine: AsyncEngine, user: TeamsUser | None = None):
        self.runtime: Runtime = build_runtime(settings, engine)
        self.adapter = RecordingAdapter()
        self.adapter.on_turn_error = self.runtime.on_turn_error
        self.user = user or TeamsUser()

    async def send(self, activity: dict[str, Any]) -> list[Activity]:
        """Run one turn for a wire-format activity; return the replies it produced."""
        before = len(self.adapter.sent)
        context = TurnContext(self.adapter, Activity().deserialize(activity))
        await self.adapter.run_pipeline(context, self.runtime.bot.on_turn)
        return self.adapter.sent[before:]

    async def say(self, text: str) -> list[Activity]:
        """The person types `text`."""
        return await self.send(self.user.message(text, self.SERVICE_URL))

    async def tap(self, value: Any) -> list[Activity]:
        """The person presses a card button that submits `value`."""
        return await self.send(self.user.submit(value, self.SERVICE_URL))
