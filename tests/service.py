"""The bot's web service running in the test's event loop on a real loopback port."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Settings


@dataclass
class Service:
    """One running bot process (in this event loop) on a real port."""

    base: str
    runner: web.AppRunner
    http: aiohttp.ClientSession

    async def post(self, body: Any, **kwargs: Any) -> tuple[int, Any]:
        """POST to /api/messages; the status and the decoded JSON body (or None)."""
        if "data" not in kwargs and "json" not in kwargs:
            kwargs["json"] = body
        async with self.http.post(f"{self.base}/api/messages", **kwargs) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if raw else None

    async def get(self, path: str) -> tuple[int, Any]:
        """GET a path; status and JSON body."""
        async with self.http.get(f"{self.base}{path}") as response:
            return response.status, await response.json()


async def start_service(settings: Settings, engine: AsyncEngine | None = None) -> Service:
    """Start the app from its factory on a free loopback port."""
    runner = web.AppRunner(create_app(settings, engine=engine), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return Service(f"http://{host}:{port}", runner, aiohttp.ClientSession())


async def stop_service(service: Service) -> None:
    """Stop as a process would: close connections, run the app's cleanup."""
    await service.http.close()
    await service.runner.cleanup()
