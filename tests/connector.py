"""A stand-in for the Bot Framework connector service (Teams' side of the protocol).

It listens on a real loopback port, accepts what the bot sends to `/v3/conversations/...`
exactly as the Bot Connector REST API defines it, and records each activity so tests can
assert what a person would have seen.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web


@dataclass
class Received:
    """One call the bot made to the connector."""

    method: str
    path: str
    conversation_id: str
    activity: dict[str, Any]
    authorization: str | None
    raw_path: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    reply_id: str = ""  # the id the stand-in answered with
    at: float = field(default_factory=time.monotonic)


@dataclass
class Refused:
    """One call the stand-in answered with an error status (see `fail_next`)."""

    method: str
    path: str
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class StandInConnector:
    """Records replies per conversation; `url` is the serviceUrl to put on activities."""

    received: list[Received] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    _failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _conversation_failures: dict[str, list[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _by_conversation: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    # What Teams says about a member (GET .../members/{id}, as TeamsInfo.get_member asks).
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Files people send (see `serve_file`, `serve_inline`): path -> (bytes, content type).
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Every request for a file: (path, the Authorization header it carried, or None).
    file_requests: list[tuple[str, str | None]] = field(default_factory=list)
    # The token an inline image needs (as the Bot Connector wants the bot's own token);
    # None: any request may have it (development mode, where the bot has no token).
    inline_token: str | None = None
    # Bytes /files/endless wrote before the bot stopped reading.
    endless_sent: int = 0
    _changed: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> StandInConnector:
        """Listen on a free loopback port."""
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        base = "/v3/conversations/{conversation_id}/activities"
        app.router.add_post(base, self._record)
        app.router.add_post(base + "/{activity_id}", self._record)
        app.router.add_put(base + "/{activity_id}", self._record)
        app.router.add_delete(base + "/{activity_id}", self._deleted)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_get("/v3/conversations/{conversation_id}/members/{member_id}", self._member)
        app.router.add_get("/v3/attachments/{attachment_id}/views/original", self._inline)
        app.router.add_get("/files/endless", self._endless)
        app.router.add_get("/files/redirect", self._redirect)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}/"
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` calls with `status` (and `headers`) without recording them."""
        self._failures.extend([(status, dict(headers or {}))] * times)

    def fail_conversation(
        self,
        conversation_id: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` calls to one conversation with `status` (and `headers`)."""
        self._conversation_failures[conversation_id].extend([(status, dict(headers or {}))] * times)

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.json()
        aimed = self._conversation_failures.get(request.match_info["conversation_id"])
        if aimed or self._failures:
            status, headers = aimed.pop(0) if aimed else self._failures.pop(0)
            self.refused.append(Refused(request.method, request.path, status))
            # A body a careless client might echo into its logs or exception messages.
            return web.json_response(
                {"error": {"code": "Refused", "message": "SECRET-BODY-TEXT"}},
                status=status,
                headers=headers,
            )
        conversation_id = request.match_info["conversation_id"]
        item = Received(
            method=request.method,
            path=request.path,
            conversation_id=conversation_id,
            activity=body,
            authorization=request.headers.get("Authorization"),
            raw_path=request.raw_path,
            headers={name.lower(): value for name, value in request.headers.items()},
            reply_id=uuid.uuid4().hex,
        )
        assert self._changed is not None
        async with self._changed:
            self.received.append(item)
            self._by_conversation[conversation_id].append(item)
            self._changed.notify_all()
        return web.json_response({"id": item.reply_id})

    async def _deleted(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    def add_member(self, user_id: str, *, name: str, aad_object_id: str, upn: str) -> None:
        """Let `get_member` find this person, with their UPN (as Teams answers it)."""
        self.members[user_id] = {
            "id": user_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "userPrincipalName": upn,
            "email": upn,
        }

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["member_id"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"a:{uuid.uuid4().hex}", "activityId": uuid.uuid4().hex})

    # ---- files people send -----------------------------------------------------------------

    def serve_file(
        self, name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> str:
        """Serve `data` as a Teams file download would (pre-authenticated, no token
        wanted); the `downloadUrl` to put in the activity."""
        path = f"/files/{uuid.uuid4().hex}-{name}"
        self.files[path] = (data, content_type)
        return self.url.rstrip("/") + path

    def serve_inline(self, data: bytes, content_type: str = "image/png") -> str:
        """Serve `data` as an image pasted into a message (on the connector, wanting the
        bot's token when `inline_token` is set); the `contentUrl`."""
        path = f"/v3/attachments/{uuid.uuid4().hex}/views/original"
        self.files[path] = (data, content_type)
        return self.url.rstrip("/") + path

    def redirect_to(self, target: str) -> str:
        """A link that answers 302 to `target`."""
        return self.url.rstrip("/") + "/files/redirect?to=" + quote(target, safe="")

    def _serve(self, request: web.Request) -> web.Response:
        self.file_requests.append((request.path, request.headers.get("Authorization")))
        found = self.files.get(request.path)
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def _file(self, request: web.Request) -> web.Response:
        return self._serve(request)

    async def _inline(self, request: web.Request) -> web.Response:
        wanted = f"Bearer {self.inline_token}" if self.inline_token else None
        if wanted is not None and request.headers.get("Authorization") != wanted:
            self.file_requests.append((request.path, request.headers.get("Authorization")))
            return web.Response(status=401)
        return self._serve(request)

    async def _redirect(self, request: web.Request) -> web.Response:
        self.file_requests.append((request.path, request.headers.get("Authorization")))
        raise web.HTTPFound(request.query["to"])

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        """A body with no length that never ends, until the reader stops."""
        self.file_requests.append((request.path, request.headers.get("Authorization")))
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        chunk = b"\xff" * 65536
        try:
            while self.endless_sent < 1024**3:
                await response.write(chunk)
                self.endless_sent += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    def replies(self, conversation_id: str) -> list[dict[str, Any]]:
        """Activities sent to a conversation so far, oldest first."""
        return [item.activity for item in self._by_conversation.get(conversation_id, [])]

    async def wait_for(
        self, conversation_id: str, count: int, within: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until a conversation has at least `count` replies; return them all."""
        assert self._changed is not None

        def enough() -> bool:
            return len(self._by_conversation.get(conversation_id, [])) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), within)
        return self.replies(conversation_id)

    def forget(self) -> None:
        """Clear what was recorded."""
        self.file_requests.clear()
        self.received.clear()
        self.refused.clear()
        self._failures.clear()
        self._conversation_failures.clear()
        self._by_conversation.clear()
