"""How the outbox worker reaches Teams: the Bot Framework connector, over real HTTP.

The outbox (bot/outbox/) queues plain card dicts and paces the sending; this is the only
part of sending that knows the SDK.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import requests
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel.adapter import EdiCloudAdapter, build_authentication
from bot.channel.card_text import ADAPTIVE
from bot.channel.replies import ReplyNotDelivered, ReplySender, retry_after_seconds
from bot.channel.wire import from_wire
from bot.config import Settings
from bot.outbox.queue import Outbox
from bot.outbox.worker import OutboxWorker, SendOutcome, WorkerPolicy


def activity_of(message: dict[str, Any]) -> dict[str, Any]:
    """The Bot Framework message activity (wire JSON) for a queued card or text.

    Rows queued before messages were stored as plain data hold the activity itself."""
    if "type" in message:
        return message
    if "card" in message:
        activity: dict[str, Any] = {
            "type": "message",
            "attachments": [{"contentType": ADAPTIVE, "content": message["card"]}],
        }
        if message.get("summary"):
            activity["summary"] = message["summary"]
        return activity
    return {"type": "message", "text": message.get("text", ""), "textFormat": "markdown"}


class ConnectorTransport:
    """Sends through the Bot Framework adapter's `continue_conversation`, real HTTP to the
    reference's serviceUrl, on its own reply session that does not retry (the worker does)."""

    def __init__(self, settings: Settings) -> None:
        self._replies = ReplySender(timeout=settings.outbox_send_timeout_seconds, retries=0)
        self._adapter = EdiCloudAdapter(build_authentication(settings, self._replies))
        self._app_id = settings.app_id

    async def send(self, reference: dict[str, Any], message: dict[str, Any]) -> SendOutcome:
        """Post `message` (as its activity) into the conversation `reference` names."""
        try:
            target = from_wire(ConversationReference, reference)
            activity = from_wire(Activity, activity_of(message))
        except Exception as error:  # noqa: BLE001 - msrest raises many types for bad shapes
            return SendOutcome(None, f"bad_{type(error).__name__}")

        async def deliver(context: TurnContext) -> None:
            # botbuilder gives the continuation activity a made-up id, which would turn the
            # message into a reply to it; a proactive message is a new one in the chat.
            context.activity.id = None
            await context.send_activity(activity)

        try:
            await self._adapter.continue_conversation(target, deliver, self._app_id)
        except ReplyNotDelivered as error:
            wait = retry_after_seconds(error.retry_after) if error.retry_after else None
            return SendOutcome(error.status, error.reason, wait)
        except (aiohttp.ClientError, OSError, requests.RequestException) as error:
            return SendOutcome(None, type(error).__name__)
        except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the rest
            return SendOutcome(None, f"error_{type(error).__name__}")
        return SendOutcome(201)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._replies.close()


def build_worker(
    settings: Settings, outbox: Outbox, sessions: async_sessionmaker[AsyncSession]
) -> OutboxWorker:
    """A worker sending through the Bot Framework connector, paced by `settings`."""
    return OutboxWorker(
        outbox, sessions, ConnectorTransport(settings), WorkerPolicy.from_settings(settings)
    )
