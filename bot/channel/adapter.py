"""The Bot Framework adapter: authentication, reused connector clients, buffered replies.

Two things differ from a stock `CloudAdapter`:

* Connector and user-token clients are built once per service URL and reused. botbuilder
  builds two fresh msrest clients per turn, and each build rescans a 999 x 500 retry table
  (most of a bare echo bot's CPU); reuse also keeps HTTP connections alive.
* Those connector clients post replies through `bot.channel.replies` (JSON built without msrest, one
  shared aiohttp session) instead of msrest and `requests` in a thread pool; every other
  connector call is msrest's as before. `EdiCloudAdapter.close()` closes that session.
* While a turn's database transaction is open, replies are held back (`ReplyBuffer`) and
  sent only after it commits, so a turn that loses a race on its state and is retried never
  leaves a reply from the losing attempt behind.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core import turn_context as turn_context_module
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ChannelValidation,
    ClaimsIdentity,
    ConnectorFactory,
)

from bot.channel.replies import ReplySender, use_reply_sender
from bot.config import Settings

log = logging.getLogger(__name__)

_BUFFER_KEY = "edi.reply_buffer"
_CLIENT_CACHE_SIZE = 64


class ReplyBuffer:
    """Replies of the current turn attempt, held until its transaction has committed."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        self._held: list[Activity] = []
        self._responded_before = bool(context.responded)
        self.active = False
        context.turn_state[_BUFFER_KEY] = self

    def start(self) -> None:
        """Hold every reply from now on; forget any held from an earlier attempt."""
        self._held.clear()
        # A discarded attempt's replies were never sent, so the turn has not responded.
        # (Prompts only re-ask when `responded` is false; botbuilder offers no reset.)
        self._context._responded = self._responded_before
        self.active = True

    def hold(self, activities: list[Activity]) -> list[ResourceResponse]:
        """Keep these replies for later."""
        self._held.extend(activities)
        return [ResourceResponse(id="") for _ in activities]

    def discard(self) -> None:
        """Drop what is held and send directly from now on (the turn failed)."""
        self._held.clear()
        self.active = False

    async def flush(self) -> None:
        """Send what is held, in order, and send directly from now on."""
        self.active = False
        held, self._held = self._held, []
        if held:
            await self._context.adapter.send_activities(self._context, held)

    @staticmethod
    def of(context: TurnContext) -> ReplyBuffer | None:
        """The buffer installed on this turn, if any."""
        buffer = context.turn_state.get(_BUFFER_KEY)
        return buffer if isinstance(buffer, ReplyBuffer) else None


async def send_or_hold(
    context: TurnContext,
    activities: list[Activity],
    send: Callable[[TurnContext, list[Activity]], Awaitable[list[ResourceResponse]]],
) -> list[ResourceResponse]:
    """Send now, or hold while the turn's buffer is active. Invoke responses never wait."""
    buffer = ReplyBuffer.of(context)
    if buffer is None or not buffer.active:
        return await send(context, activities)
    immediate = [a for a in activities if a.type == ActivityTypes.invoke_response]
    later = [a for a in activities if a.type != ActivityTypes.invoke_response]
    responses = await send(context, immediate) if immediate else []
    return responses + buffer.hold(later)


class _ReusingConnectorFactory(ConnectorFactory):
    def __init__(
        self,
        inner: ConnectorFactory,
        app_id: str,
        cache: OrderedDict[Any, Any],
        replies: ReplySender,
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache
        self._replies = replies

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            use_reply_sender(client, self._replies)
            self._cache[key] = client
            if len(self._cache) > _CLIENT_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return client


class ReusingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates authentication unchanged; reuses the connector clients it hands out."""

    def __init__(
        self, inner: BotFrameworkAuthentication, replies: ReplySender | None = None
    ) -> None:
        self._inner = inner
        self.replies = replies if replies is not None else ReplySender()
        self._connectors: OrderedDict[Any, Any] = OrderedDict()
        self._token_clients: dict[str, Any] = {}

    @staticmethod
    def _app_id(claims_identity: ClaimsIdentity | None) -> str:
        claims = getattr(claims_identity, "claims", None) or {}
        return str(claims.get("appid") or claims.get("azp") or claims.get("aud") or "")

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusingConnectorFactory(
                result.connector_factory,
                self._app_id(result.claims_identity),
                self._connectors,
                self.replies,
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = self._inner.create_connector_factory(claims_identity)
        return _ReusingConnectorFactory(
            inner, self._app_id(claims_identity), self._connectors, self.replies
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        app_id = self._app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


@dataclass(frozen=True)
class _BotFrameworkConfig:
    # The attribute names ConfigurationBotFrameworkAuthentication reads.
    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def build_authentication(settings: Settings, replies: ReplySender | None = None) -> Any:
    """Bot Framework authentication from settings; off (anonymous) in development mode.

    `EDI_OPENID_METADATA_URL` replaces where channel tokens' signing keys are fetched from. Setting
    any endpoint through the configuration would switch botbuilder to its "parameterized"
    code path, which validates differently; ChannelValidation's own override (process-wide)
    keeps the public-cloud behaviour and changes only the URL.
    """
    ChannelValidation.open_id_metadata_endpoint = settings.openid_metadata_url
    config = _BotFrameworkConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password.get_secret_value(),
        # botbuilder's "auth disabled" case exists only for the MultiTenant credential factory.
        APP_TYPE="MultiTenant" if settings.development_mode else str(settings.app_type),
        APP_TENANTID=settings.app_tenant_id,
    )
    inner = ConfigurationBotFrameworkAuthentication(config)
    return ReusingBotFrameworkAuthentication(inner, replies)


class EdiCloudAdapter(CloudAdapter):
    """`CloudAdapter` whose sends respect the turn's reply buffer."""

    async def close(self) -> None:
        """Close the HTTP session replies are posted on; call it on application cleanup."""
        authentication = self.bot_framework_authentication
        if isinstance(authentication, ReusingBotFrameworkAuthentication):
            await authentication.replies.close()

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        return await send_or_hold(context, activities, super().send_activities)


ErrorHandler = Callable[[TurnContext, Exception], Awaitable[None]]


def address_replies_without_deep_copies() -> None:
    """botbuilder deep-copies every activity a turn sends before addressing it
    (`TurnContext.send_activities`); addressing only assigns top-level fields (conversation,
    recipient, ids), so a shallow copy keeps the caller's activity untouched just the same,
    without copying a whole card each time (a form or a case card: a third of a millisecond
    a turn; docs/benchmarks.md). Idempotent."""
    turn_context_module.deepcopy = copy.copy


def build_adapter(settings: Settings, on_error: ErrorHandler) -> EdiCloudAdapter:
    """The adapter for `/api/messages`, with its one error handler."""
    address_replies_without_deep_copies()
    adapter = EdiCloudAdapter(build_authentication(settings))
    adapter.on_turn_error = on_error
    return adapter


__all__ = ["EdiCloudAdapter", "ReplyBuffer", "build_adapter", "send_or_hold"]
