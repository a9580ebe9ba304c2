"""The Bot Framework's HTTP edge: `POST /api/messages`, from request body to turn.

The body is checked (shape, size, nesting, ids) before anything parses it as an activity,
the caller's token is verified, the tenant is checked, and only then does the turn run.
Every refusal is a 4xx with a plain reason; nothing here returns a stack trace.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import requests
from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.schema import Activity

from bot.channel.activity_limits import TOO_DEEP, refusal
from bot.channel.adapter import EdiCloudAdapter, build_adapter
from bot.channel.teams import tenant_of
from bot.channel.wire import from_wire
from bot.config import Settings
from bot.core.logs import describe_exception

log = logging.getLogger(__name__)

TurnHandler = Callable[[TurnContext], Awaitable[None]]
ErrorHandler = Callable[[TurnContext, Exception], Awaitable[None]]


@dataclass(frozen=True)
class Channel:
    """What the messages route needs: settings, the adapter, and the bot's turn handler."""

    settings: Settings
    adapter: EdiCloudAdapter
    on_turn: TurnHandler


CHANNEL_KEY = web.AppKey("channel", Channel)


def build_channel(settings: Settings, on_turn: TurnHandler, on_error: ErrorHandler) -> Channel:
    """The adapter for `settings`, with the bot's turn and error handlers."""
    return Channel(settings, build_adapter(settings, on_error), on_turn)


def problem(status: int, reason: str) -> web.Response:
    """A short JSON error body: what was wrong, never a stack trace."""
    return web.json_response({"error": reason}, status=status)


def parse_activity(body: Any) -> tuple[Activity | None, str | None]:
    """The activity in a request body, or a short reason why it is not one."""
    if not isinstance(body, dict):
        return None, "Body is not a Bot Framework activity (expected a JSON object)."
    refused = refusal(body)
    if refused is not None:
        return None, refused
    kind = body.get("type")
    if not isinstance(kind, str) or not kind.strip():
        return None, "Activity has no type."
    for field in ("serviceUrl", "channelId"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            return None, f"Activity has no {field}."
    if not str(body["serviceUrl"]).startswith(("https://", "http://")):
        return None, "Activity serviceUrl is not an http(s) URL."
    for field in ("conversation", "from", "recipient"):
        part = body.get(field)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return None, f"Activity has no {field}.id."
    if "text" in body and body["text"] is not None and not isinstance(body["text"], str):
        return None, "Activity text is not a string."
    try:
        activity = from_wire(Activity, body)
    except Exception:  # noqa: BLE001 - msrest raises many types for malformed fields
        return None, "Activity fields have the wrong shape."
    if not activity.conversation or not activity.conversation.id:
        return None, "Activity has no conversation.id."
    # Teams sends conversation.tenantId; botbuilder-python's model only reads "tenantID".
    tenant = body["conversation"].get("tenantId") or body["conversation"].get("tenantID")
    channel_data = body.get("channelData")
    channel_tenant = None
    if isinstance(channel_data, dict) and isinstance(channel_data.get("tenant"), dict):
        channel_tenant = channel_data["tenant"].get("id")
    if tenant is not None and not isinstance(tenant, str):
        return None, "Activity conversation.tenantId is not a string."
    if tenant and channel_tenant and tenant != channel_tenant:
        return None, "Activity names two different tenants."
    if tenant:
        activity.conversation.tenant_id = tenant
    return activity, None


async def messages(request: web.Request) -> web.StreamResponse:
    """POST /api/messages: one Bot Framework activity in, the turn run, 2xx or a 4xx reason."""
    channel = request.app[CHANNEL_KEY]
    settings = channel.settings
    if request.content_type != "application/json":
        return problem(415, "Send the activity as application/json.")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return problem(413, f"Body is larger than {settings.max_body_bytes} bytes.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return problem(400, "Body is not valid JSON.")
    except RecursionError:  # nested thousands deep: refused before anything reads it
        return problem(400, TOO_DEEP)
    activity, reason = parse_activity(body)
    if activity is None:
        return problem(400, reason or "Not an activity.")
    adapter = channel.adapter
    try:
        authenticated = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
    except PermissionError as error:  # an OSError too: must come first
        log.warning("auth.refused", extra={"error": describe_exception(error)})
        return problem(401, "Missing or invalid Bot Framework token.")
    except (OSError, requests.RequestException) as error:
        reference = uuid.uuid4().hex[:8].upper()
        log.error(
            "auth.metadata_unreachable",
            extra={"correlation_id": reference, "error": describe_exception(error)},
        )
        return problem(503, f"Cannot verify tokens right now (ref {reference}).")
    except Exception as error:  # noqa: BLE001 - botbuilder raises bare Exception for bad tokens
        log.warning("auth.refused", extra={"error": describe_exception(error)})
        return problem(401, "Missing or invalid Bot Framework token.")
    # Only an authenticated caller learns whether its tenant is served.
    if settings.allowed_tenants and tenant_of(activity) not in settings.allowed_tenants:
        log.warning("request.foreign_tenant", extra={"activity_type": activity.type})
        return problem(403, "This bot does not serve that organisation.")
    try:
        invoke_response = await adapter.process_activity(authenticated, activity, channel.on_turn)
    except Exception as error:  # noqa: BLE001 - outside the turn: the connector, the database
        reference = uuid.uuid4().hex[:8].upper()
        log.error(
            "request.failed",
            extra={"correlation_id": reference, "error": describe_exception(error)},
        )
        return problem(503, f"Temporarily unable to process the activity (ref {reference}).")
    if invoke_response is not None:
        body = invoke_response.body
        # Plain JSON stays as it is; msrest models (botbuilder's own responses) are serialised.
        data = body if body is None or isinstance(body, dict | list) else serializer_helper(body)
        return web.json_response(data=data, status=invoke_response.status)
    return web.Response(status=201)
