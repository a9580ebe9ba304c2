"""Production mode: an image pasted into a message is fetched from the activity's own Bot
Connector with the bot's token, and a Teams file download link is fetched without it (it is
pre-authenticated); the token never leaves for any other place. Real HTTP, real JWTs (a
local stand-in for the Bot Framework's signing keys), SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botframework.connector.auth import MicrosoftAppCredentials
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RUNTIME_KEY
from bot.incidents.models import IncidentIntakeFile
from tests.cards import visible_text
from tests.channel.test_inbound_trust import APP_ID, HOME_TENANT, OpenIdStandIn, openid
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e
__all__ = ["openid"]  # the fixture, used here

BOT_TOKEN = "bot-token-from-entra"


@pytest.fixture
async def production(
    database_url: str,
    engine: AsyncEngine,
    openid: OpenIdStandIn,
    connector: StandInConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Service]:
    # The bot's own token would come from Entra ID, which tests cannot reach.
    def fake_token(self: Any, *args: Any, **kwargs: Any) -> str:
        return BOT_TOKEN

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", fake_token)
    settings = dev_settings(
        database_url=database_url,
        app_id=APP_ID,
        app_password="not-used-offline",
        app_tenant_id=HOME_TENANT,
        allowed_tenants=[HOME_TENANT],
        openid_metadata_url=openid.metadata_url,
        outbox_worker=False,
        evidence_download_hosts=[connector.url.rstrip("/")],
    )
    assert not settings.development_mode
    service = await start_service(settings, engine)
    try:
        yield service
    finally:
        await stop_service(service)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(out, "PNG")
    return out.getvalue()


async def test_the_bots_token_goes_to_the_connector_for_inline_images_and_nowhere_else(
    production: Service, openid: OpenIdStandIn, connector: StandInConnector
) -> None:
    user = TeamsUser(tenant_id=HOME_TENANT)
    connector.inline_token = BOT_TOKEN
    token = openid.token(connector.url)

    async def send(activity: dict[str, Any]) -> str:
        before = len(connector.replies(user.conversation_id))
        status, _ = await production.post(activity, headers={"Authorization": f"Bearer {token}"})
        assert status == 201
        return "\n".join(visible_text(r) for r in connector.replies(user.conversation_id)[before:])

    assert "in danger right now" in await send(user.message("report", connector.url))
    pasted = connector.serve_inline(png(), "image/png")
    seen = await send(user.inline_image(connector.url, content_url=pasted))
    assert "I've added “image-1.png”" in seen
    assert connector.file_requests[-1] == (pasted[len(connector.url) - 1 :], f"Bearer {BOT_TOKEN}")

    link = connector.serve_file("statement.txt", b"What he said, word for word.\n", "text/plain")
    seen = await send(user.file_message(connector.url, name="statement.txt", download_url=link))
    assert "I've added “statement.txt”" in seen
    assert connector.file_requests[-1][1] is None, "no token to a download link"

    # An "inline image" on another origin than the connector is refused, unfetched.
    asked = len(connector.file_requests)
    elsewhere = connector.url.replace("127.0.0.1", "localhost") + "v3/attachments/1/views/original"
    seen = await send(user.inline_image(connector.url, content_url=elsewhere))
    assert "I can only take files sent here in Teams" in seen
    assert len(connector.file_requests) == asked
    runtime = production.runner.app[RUNTIME_KEY]
    async with runtime.sessions() as session:
        waiting = await session.execute(select(func.count()).select_from(IncidentIntakeFile))
    assert waiting.scalar() == 2
