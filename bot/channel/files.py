"""Files a person sends in the chat: which attachments are files, and fetching them safely.

Teams delivers a file sent in a personal chat (with `supportsFiles` in the app manifest) as an
attachment of type `application/vnd.microsoft.teams.file.download.info`, whose `downloadUrl`
is a short-lived, pre-authenticated SharePoint/OneDrive link; an image pasted into the message
comes as an `image/*` attachment whose `contentUrl` is on the Bot Connector (the activity's
service URL) and needs the bot's own token.

Where a file may be fetched from is decided here, before any request is made:

- an inline image only from the activity's own service URL origin (scheme, host and port),
  which Bot Framework authentication has already bound to the caller in production; the bot's
  token is sent there and nowhere else;
- a download link only from a host in `EDI_EVIDENCE_DOWNLOAD_HOSTS` (https; `*.` matches any
  subdomain; `http://HOST:PORT` names one plain-http origin, for tests), never with a token;
- never with a user name or password in the URL; a redirect is followed (three at most) only
  to a place the same rule allows; in production a host name must resolve to public
  addresses only (so a DNS answer cannot point the bot at the council's own network).

A body is read in chunks and abandoned as soon as it passes the size limit; the whole fetch
has a time limit. Nothing here logs a URL, a file name or a token.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from botbuilder.core import BotAdapter, TurnContext
from yarl import URL

from bot.core.logs import describe_exception

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class SentFile:
    """One file in a message: what it was called and where Teams says it is (never logged)."""

    name: str
    url: str
    inline: bool  # pasted into the message (Bot Connector, bot's token), else a download link


class FetchRefused(Exception):
    """A file not fetched. `reason`: not_allowed (the place), too_big, or failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HostRule:
    """One entry of the download allow-list."""

    scheme: str
    host: str  # lower case; "*.example.com" for any subdomain of example.com
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """ "*.sharepoint.com" (https only) or "http://127.0.0.1:8080" (that origin only)."""
        text, scheme = entry.strip().lower(), "https"
        if "://" in text:
            scheme, text = text.split("://", 1)
        host, port = text.split("/", 1)[0], None
        if host.count(":") == 1:
            host, given = host.split(":")
            port = int(given) if given.isdigit() else None
        return cls(scheme, host.rstrip("."), port)

    def allows(self, url: URL) -> bool:
        """Whether `url` is on a host (and scheme and port) this entry names."""
        host = (url.raw_host or "").lower().rstrip(".")
        if url.scheme != self.scheme or self.scheme not in _DEFAULT_PORTS or not host:
            return False
        if url.port != (self.port or _DEFAULT_PORTS[self.scheme]):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


@dataclass(frozen=True)
class FilePolicy:
    """Where files may come from, how big they may be, and how long a fetch may take."""

    download_hosts: tuple[HostRule, ...]
    max_bytes: int
    timeout_seconds: float
    public_addresses_only: bool  # production: host names must resolve to public addresses

    @classmethod
    def of(
        cls, hosts: list[str], *, max_bytes: int, timeout_seconds: float, production: bool
    ) -> FilePolicy:
        """The policy from settings' values."""
        rules = tuple(HostRule.parse(entry) for entry in hosts if entry.strip())
        return cls(rules, max_bytes, timeout_seconds, production)


def files_in(activity: Any) -> list[SentFile]:
    """The files in a message: Teams file downloads, inline images, and anything else with a
    link (listed, so it can be refused in words). Cards and the HTML copy of the message are
    not files."""
    found = []
    for attachment in getattr(activity, "attachments", None) or []:
        kind = str(getattr(attachment, "content_type", "") or "").lower()
        name = str(getattr(attachment, "name", "") or "")
        content = getattr(attachment, "content", None)
        link = getattr(attachment, "content_url", None)
        if kind == FILE_DOWNLOAD_INFO:
            url = content.get("downloadUrl") if isinstance(content, dict) else None
            found.append(SentFile(name, url if isinstance(url, str) else "", inline=False))
        elif kind.startswith("image/") and isinstance(link, str):
            found.append(SentFile(name, link, inline=True))
        elif isinstance(link, str) and link:
            found.append(SentFile(name, "", inline=False))  # not a Teams file: refused
    return found


def allowed(url: URL, *, file: SentFile, service_url: str, policy: FilePolicy) -> bool:
    """Whether the bot may fetch `url` for this file (see the module's docstring)."""
    if url.user is not None or url.password is not None or url.scheme not in _DEFAULT_PORTS:
        return False
    if file.inline:
        service = URL(service_url)
        return (
            url.scheme == service.scheme
            and (url.raw_host or "").lower() == (service.raw_host or "").lower()
            and url.port == service.port
        )
    return any(rule.allows(url) for rule in policy.download_hosts)


class _PublicOnlyResolver(ThreadedResolver):
    """Resolves names to public addresses only (IP literals are not resolved, so an address
    named in the allow-list itself is used as configured)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        public = [r for r in found if ipaddress.ip_address(r["host"]).is_global]
        if not public:
            raise OSError("the name does not resolve to a public address")
        return public


async def fetch(
    file: SentFile, *, service_url: str, token: str | None, policy: FilePolicy
) -> bytes:
    """The file's bytes (at most `policy.max_bytes`), or FetchRefused."""
    if not file.url:
        raise FetchRefused("not_allowed")
    try:
        url = URL(file.url)
    except (ValueError, TypeError):
        raise FetchRefused("not_allowed") from None
    resolver = _PublicOnlyResolver() if policy.public_addresses_only else ThreadedResolver()
    timeout = aiohttp.ClientTimeout(total=policy.timeout_seconds)
    try:
        async with aiohttp.ClientSession(
            timeout=timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(resolver=resolver, limit=2),
        ) as http:
            return await _follow(
                http, url, file=file, service_url=service_url, token=token, policy=policy
            )
    except FetchRefused:
        raise
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
        log.warning("evidence.fetch_failed", extra={"error": describe_exception(error)})
        raise FetchRefused("failed") from None


async def _follow(
    http: aiohttp.ClientSession,
    url: URL,
    *,
    file: SentFile,
    service_url: str,
    token: str | None,
    policy: FilePolicy,
) -> bytes:
    for _ in range(_MAX_REDIRECTS + 1):
        if not allowed(url, file=file, service_url=service_url, policy=policy):
            log.warning("evidence.fetch_refused", extra={"inline": file.inline})
            raise FetchRefused("not_allowed")
        headers = {"Accept-Encoding": "identity"}
        if file.inline and token:
            headers["Authorization"] = f"Bearer {token}"
        async with http.get(url, headers=headers, allow_redirects=False) as response:
            if response.status in _REDIRECTS and response.headers.get("Location"):
                url = url.join(URL(response.headers["Location"]))
                continue
            if response.status != 200:
                log.warning("evidence.fetch_failed", extra={"status": response.status})
                raise FetchRefused("failed")
            if (response.content_length or 0) > policy.max_bytes:
                raise FetchRefused("too_big")
            body = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > policy.max_bytes:
                    raise FetchRefused("too_big")
            return bytes(body)
    log.warning("evidence.fetch_failed", extra={"status": "too_many_redirects"})
    raise FetchRefused("failed")


async def bot_token(context: TurnContext) -> str | None:
    """The bot's own token for the Bot Connector this turn came through (None in development
    mode, where the bot has no app id): sent only to fetch inline images."""
    client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    credentials = getattr(getattr(client, "config", None), "credentials", None)
    if credentials is None or not getattr(credentials, "microsoft_app_id", None):
        return None
    try:
        return str(await asyncio.to_thread(credentials.get_access_token))
    except Exception as error:  # noqa: BLE001 - msal raises many kinds; no token, no fetch
        log.warning("evidence.token_failed", extra={"error": describe_exception(error)})
        return None
