"""Replies to the Bot Connector: wire JSON without msrest, posted over one aiohttp session.

botbuilder sends every reply through msrest: the activity is deserialized, validated and
serialized again, then `requests` posts it from a thread pool. That was a fifth of a turn's
CPU (docs/benchmarks.md). Here:

* `to_wire(model)` builds the JSON straight from each model's `_attribute_map`. It gives
  exactly what msrest's `Serializer.body(model, "<Type>")` gives; anything outside the
  shapes it knows (validation rules, flattened keys, values of an unexpected type) is
  handed to msrest itself, so the output cannot differ.
* `ReplySender` posts on one shared `aiohttp.ClientSession`, with a short, bounded retry.
* `use_reply_sender(client, sender)` makes a connector client send replies that way;
  every other connector call (update, delete, members, create conversation) stays msrest's.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from enum import Enum
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import aiohttp
import requests.utils
from botbuilder.schema import ResourceResponse
from botframework.connector import models as connector_models
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import AppCredentials
from msrest.serialization import Model, Serializer
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from yarl import URL

log = logging.getLogger(__name__)

# The classes the connector client's own Serializer knows (as `ConnectorClient` builds it).
_CONNECTOR_MODELS: Mapping[str, type] = MappingProxyType(
    {name: value for name, value in vars(connector_models).items() if isinstance(value, type)}
)
# msrest's own formats for attribute types: none of them is a model.
_FORMATS = frozenset(
    {"rfc-1123", "unix-time", "duration", "date", "time", "decimal", "long", "bytearray", "base64"}
)
_BASIC: Mapping[str, type] = MappingProxyType({"bool": bool, "int": int, "float": float})
_RETRYABLE = frozenset({429, 502, 503, 504})

# ---- serialization ---------------------------------------------------------------------------


class _Unusual(Exception):
    """A value outside the shapes `to_wire` handles itself: msrest serializes the whole model."""


def to_wire(model: Model) -> dict[str, Any]:
    """The JSON msrest's `Serializer.body(model, type)` gives, so also `model.serialize()`'s."""
    if not isinstance(model, Model):
        raise TypeError(f"to_wire() takes an msrest model, not {type(model).__name__}")
    try:
        return _model(model)
    except _Unusual:
        # The rare shapes (a dict where a model belongs, an enum inside channel data, ...)
        # go through msrest itself, with its own results and its own exceptions.
        serializer = Serializer(dict(_CONNECTOR_MODELS))  # type: ignore[no-untyped-call]
        wire: dict[str, Any] = serializer.body(model, type(model).__name__)  # type: ignore[no-untyped-call]
        return wire


def _iso(value: datetime.datetime) -> str:
    """A datetime as msrest writes it: UTC, milliseconds at least, a "Z"."""
    return str(Serializer.serialize_iso(value))  # type: ignore[no-untyped-call]


def _model(value: Model) -> dict[str, Any]:
    cls = type(value)
    if cls._validation or hasattr(cls, "_xml_map"):
        raise _Unusual  # required/readonly/pattern rules, or an XML model: msrest's own ways
    out: dict[str, Any] = {}
    try:
        for attr, desc in cls._attribute_map.items():
            key = desc["key"]
            if attr == "additional_properties" and key == "":
                extra = value.additional_properties
                if extra is not None:
                    if type(extra) is not dict:
                        raise _Unusual
                    out.update(extra)  # as msrest: merged as they are, not serialized
                continue
            item = getattr(value, attr)
            if item is None:
                continue
            if "." in key:
                raise _Unusual  # a flattened key ("a.b" means {"a": {"b": ...}})
            # msrest keeps a key that is already there (an additional property of that name).
            out.setdefault(key, _typed(item, desc["type"]))
    except AttributeError as error:
        raise _Unusual from error
    return out


def _typed(item: Any, kind: Any) -> Any:
    """`item` (not None) serialized as the attribute type `kind` says."""
    if kind == "str":
        if type(item) is str:
            return item
        if isinstance(item, Enum):
            return item.value
        raise _Unusual
    if kind == "object":
        return _object(item)
    if kind == "iso-8601":
        if type(item) is datetime.datetime:
            return _iso(item)
        raise _Unusual
    if kind == "bool" or kind == "int" or kind == "float":
        if type(item) is _BASIC[kind]:
            return item
        raise _Unusual  # msrest converts (int("3"), float(2), bool(...)) or raises
    if not isinstance(kind, str) or not kind:
        raise _Unusual
    if kind[0] == "[" and kind[-1] == "]":
        if type(item) is not list:
            raise _Unusual
        inner = kind[1:-1]
        return [None if element is None else _typed(element, inner) for element in item]
    if kind[0] == "{" and kind[-1] == "}":
        if type(item) is not dict:
            raise _Unusual
        inner = kind[1:-1]
        out: dict[str, Any] = {}
        for key, element in item.items():
            if type(key) is not str:
                raise _Unusual
            out[key] = None if element is None else _typed(element, inner)
        return out
    if isinstance(item, Model) and kind not in _FORMATS:
        target = _CONNECTOR_MODELS.get(kind)
        if target is None or issubclass(target, Model):
            # msrest serializes a model by its own class's map, whatever the declared type.
            return _model(item)
    raise _Unusual  # an enum or format type, or a dict/str where a model belongs


def _object(item: Any) -> Any:
    """An `object` attribute (channel data, card content, value) as msrest's serialize_object."""
    kind = type(item)
    if kind is str or kind is int or kind is float or kind is bool or item is None:
        return item
    if kind is dict:
        out: dict[str, Any] = {}
        for key, element in item.items():
            if type(key) is not str:
                raise _Unusual
            out[key] = _object(element)
        return out
    if kind is list:
        return [_object(element) for element in item]
    if kind is datetime.datetime:
        return _iso(item)
    if isinstance(item, Model):
        return _model(item)
    raise _Unusual  # enums, tuples, dict subclasses, dates, decimals: msrest's own rules


# ---- sending ---------------------------------------------------------------------------------


class ReplyNotDelivered(Exception):
    """The Bot Connector did not take a reply; says the status code, never the body."""

    def __init__(
        self, status: int | None, attempts: int, reason: str = "", retry_after: str | None = None
    ) -> None:
        self.status = status
        self.attempts = attempts
        self.reason = reason  # the exception class when the connector was not reached
        self.retry_after = retry_after  # the connector's Retry-After header, if it sent one
        if status is not None:
            what = f"answered HTTP {status}"
        else:
            what = f"could not be reached ({reason or 'connection failed'})"
        super().__init__(f"Bot Connector {what} after {attempts} attempt(s)")


TokenSource = Callable[[], Awaitable[str | None]]


def _ssl_context() -> ssl.SSLContext:
    # The CA bundle `requests` (msrest's transport) would use, so both trust the same roots.
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle or DEFAULT_CA_BUNDLE_PATH)


class ReplySender:
    """Posts activities to the Bot Connector on one shared session, retrying briefly.

    It runs inside Teams' HTTP request, so it is bounded: on 429, 502, 503 or 504 it waits
    `Retry-After` (when given, and at most `max_wait` seconds, else it gives up at once) or
    a short jittered back-off, and on a connection failure it backs off likewise; at most
    `retries` retries. A timeout is not retried: the reply may have arrived.
    The session is created on first use inside the running loop; `close()` ends it.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        max_wait: float = 2.0,
        backoff: float = 0.1,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._max_wait = max_wait
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _client_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # Not trust_env: aiohttp would then re-read the proxy variables and stat ~/.netrc
            # (in a worker thread) on every request, a tenth of a turn. Proxies are resolved
            # once per host instead (`_proxy_for`), as `requests` resolves them.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                trust_env=False,
                connector=aiohttp.TCPConnector(ssl=_ssl_context()),
            )
            self._loop = loop
        return self._session

    async def close(self) -> None:
        """Close the shared session (on application cleanup); a later send opens a new one."""
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    async def post(
        self,
        url: str,
        body: dict[str, Any],
        headers: Mapping[str, str],
        token: TokenSource | None = None,
    ) -> ResourceResponse | None:
        """POST `body` as JSON to an already-quoted `url`; the connector's ResourceResponse."""
        data = json.dumps(body).encode("utf-8")
        sent = dict(headers)
        if token is not None:
            bearer = await token()
            if bearer is not None:
                sent["Authorization"] = f"Bearer {bearer}"
        target = URL(url, encoded=True)
        proxy = self._proxy_for(target)
        attempts = 0
        while True:
            attempts += 1
            try:
                async with self._client_session().post(
                    target, data=data, headers=sent, proxy=proxy
                ) as answer:
                    status = answer.status
                    payload = await answer.read()  # read fully, so the connection is reused
                    retry_after = answer.headers.get("Retry-After")
            except aiohttp.ClientSSLError as error:  # a certificate problem: retrying won't help
                raise ReplyNotDelivered(None, attempts, type(error).__name__) from error
            except aiohttp.ConnectionTimeoutError as error:  # never connected: safe to retry
                delay = self._delay(attempts, None)
                if delay is None:
                    raise ReplyNotDelivered(None, attempts, type(error).__name__) from error
            except TimeoutError as error:  # sent, no answer in time: it may have arrived
                raise ReplyNotDelivered(None, attempts, type(error).__name__) from error
            except aiohttp.ClientConnectionError as error:
                delay = self._delay(attempts, None)
                if delay is None:
                    raise ReplyNotDelivered(None, attempts, type(error).__name__) from error
            else:
                if 200 <= status < 300:
                    return _resource(payload)
                delay = self._delay(attempts, retry_after) if status in _RETRYABLE else None
                if delay is None:
                    raise ReplyNotDelivered(status, attempts, retry_after=retry_after)
                log.info("reply.retry", extra={"status": status, "delay_s": round(delay, 2)})
            await asyncio.sleep(delay)

    def _proxy_for(self, url: URL) -> str | None:
        """The proxy HTTPS_PROXY/HTTP_PROXY name for this host (none if NO_PROXY covers it)."""
        key = (url.scheme, url.host or "")
        if key not in self._proxies:
            found = requests.utils.get_environ_proxies(str(url.with_path("/")))
            self._proxies[key] = found.get(url.scheme) or found.get("all")
        return self._proxies[key]

    def _delay(self, attempts: int, retry_after: str | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempts > self._retries:
            return None
        if retry_after is not None:
            wait = retry_after_seconds(retry_after)
            if wait is not None:
                return wait if wait <= self._max_wait else None
        step = self._backoff * 2.0 ** (attempts - 1)
        return min(step + random.uniform(0, step), self._max_wait)


def retry_after_seconds(retry_after: str) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds from now."""
    text = retry_after.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def _resource(payload: bytes) -> ResourceResponse | None:
    """The ResourceResponse in a 2xx body; None when there is none to read."""
    if not payload:
        return None
    try:
        found = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    reply_id = found.get("id")
    return ResourceResponse(id=reply_id if isinstance(reply_id, str) else None)


# ---- the connector client's conversations ---------------------------------------------------


class ReplyingConversations(ConversationsOperations):
    """msrest's conversation operations, except that replies go through a `ReplySender`."""

    def __init__(self, client: Any, sender: ReplySender) -> None:
        # The same parts `ConnectorClient.__init__` builds its ConversationsOperations from.
        super().__init__(client._client, client.config, client._serialize, client._deserialize)
        self._sender = sender
        self._base = str(client.config.base_url).rstrip("/")
        self._user_agent = str(client.config.user_agent)
        self._credentials: AppCredentials = client.config.credentials

    async def reply_to_activity(
        self,
        conversation_id: str,
        activity_id: str,
        activity: Any,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        """POST /v3/conversations/{conversationId}/activities/{activityId}."""
        if raw or operation_config:
            return await super().reply_to_activity(
                conversation_id,
                activity_id,
                activity,
                custom_headers=custom_headers,
                raw=raw,
                **operation_config,
            )
        path = f"/v3/conversations/{_quoted(conversation_id)}/activities/{_quoted(activity_id)}"
        headers = {"x-ms-conversation-id": conversation_id}
        return await self._post(path, activity, headers, custom_headers)

    async def send_to_conversation(
        self,
        conversation_id: str,
        activity: Any,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        """POST /v3/conversations/{conversationId}/activities."""
        if raw or operation_config:
            return await super().send_to_conversation(
                conversation_id,
                activity,
                custom_headers=custom_headers,
                raw=raw,
                **operation_config,
            )
        path = f"/v3/conversations/{_quoted(conversation_id)}/activities"
        return await self._post(path, activity, {}, custom_headers)

    async def _post(
        self,
        path: str,
        activity: Any,
        headers: dict[str, str],
        custom_headers: dict[str, str] | None,
    ) -> ResourceResponse | None:
        if activity is None:
            raise ValueError("activity is required")
        if isinstance(activity, Model):
            body = to_wire(activity)
        else:  # a plain dict: msrest builds the Activity from it first
            body = self._serialize.body(activity, "Activity")
        sent = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self._user_agent,
            **headers,
            **(custom_headers or {}),
        }
        token = self._token if _should_authorise(self._credentials) else None
        return await self._sender.post(self._base + path, body, sent, token)

    async def _token(self) -> str | None:
        # Synchronous and may refresh over the network (MSAL caches it): off the event loop.
        token = await asyncio.to_thread(self._credentials.get_access_token)
        return str(token)


def _quoted(value: str) -> str:
    """A path segment as msrest's Serializer.url quotes it."""
    if value is None:
        raise ValueError("conversation and activity ids are required")
    return quote(str(value), safe="")


def _should_authorise(credentials: AppCredentials) -> bool:
    """Whether msrest would sign the request: `AppCredentials._should_set_token`."""
    return bool(credentials._should_set_token(None))


def use_reply_sender(client: Any, sender: ReplySender) -> bool:
    """Send this connector client's replies with `sender`; False if its credentials don't fit.

    Only botframework `AppCredentials` (what botbuilder's credential factories make) are
    taken over: other credential types keep msrest's request signing.
    """
    if isinstance(client.conversations, ReplyingConversations):
        return True
    if not isinstance(client.config.credentials, AppCredentials):
        return False
    client.conversations = ReplyingConversations(client, sender)
    return True


__all__ = [
    "ReplyNotDelivered",
    "ReplySender",
    "ReplyingConversations",
    "to_wire",
    "use_reply_sender",
]
