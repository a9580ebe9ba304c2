"""The full HR report in Teams, on SQLite and PostgreSQL: the card's "Get the full report" gives
someone holding `hr` their own link, valid for 15 minutes, to a zip of the HTML report and
every CSV; the role is checked again when the link is opened, each download is audited, and
a forged, expired or revoked link gets a plain sentence, never the report. The card says,
for each target, whether it is met and what changed since the last quarter."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RUNTIME_KEY
from bot.config import Settings
from bot.core.people import PersonKey
from bot.db.models import AuditEntry, utcnow
from bot.db.session import unit_of_work
from bot.hr.links import report_links
from bot.hr.quarters import Quarter
from bot.privacy.roles import Role, grant_role, revoke_role
from bot.runtime import Runtime
from tests.cards import cards
from tests.chat import converse
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.hr.test_hr_report import TENANT, seed_workforce
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False)


@pytest.fixture
async def service(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


def last_card(connector: StandInConnector, user: TeamsUser) -> dict[str, Any]:
    return cards(connector.replies(user.conversation_id)[-1])[0]


def link_in(card: dict[str, Any]) -> str:
    """The path of the card's "Download the full report" link."""
    [url] = [
        str(a["url"])
        for a in card.get("actions", [])
        if a.get("type") == "Action.OpenUrl" and a.get("title") == "Download the full report"
    ]
    return url[url.index("/hr/report/") :]


async def get(service: Service, path: str) -> tuple[int, str, bytes, dict[str, str]]:
    async with service.http.get(f"{service.base}{path}") as response:
        body = await response.read()
        return response.status, response.content_type, body, dict(response.headers)


async def test_hr_gets_the_full_report_from_the_card_through_their_own_expiring_link(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    runtime: Runtime = service.runner.app[RUNTIME_KEY]
    await seed_workforce(engine)
    hr_user = TeamsUser(name="Harriet HR", tenant_id=TENANT)
    someone = TeamsUser(name="Sam Staff", tenant_id=TENANT)
    for user in (hr_user, someone):
        await converse(service, connector, user, "hello")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session, role=Role.HR, person=hr_user.aad_object_id, tenant_id=None, granted_by="t"
        )
    shown = await converse(service, connector, hr_user, "hr report")
    assert "full report" in shown and "edi-bot report quarterly" not in shown
    # Each target: met or how far short, and (the first quarter) no change to show yet.
    assert "points short of the target; the first quarter with figures" in shown or (
        "Target met; the first quarter with figures" in shown
    )
    [full] = [
        a["data"]
        for a in last_card(connector, hr_user)["actions"]
        if a["title"] == "Get the full report"
    ]
    said = await converse(service, connector, hr_user, full)
    assert "The link works for 15 minutes. Don't forward it" in said
    path = link_in(last_card(connector, hr_user))

    status, kind, body, headers = await get(service, path)
    assert (status, kind) == (200, "application/zip")
    assert headers["Cache-Control"] == "private, no-store"
    quarter = str(Quarter.last_completed(utcnow().date()))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        page = archive.read(f"edi-hr-report-{quarter}/report-{quarter}.html").decode()
    assert any(name.endswith(".csv") for name in names) and len(names) > 5
    assert "Workforce equality report" in page
    async with runtime.sessions() as session:
        hows = (
            await session.execute(
                select(AuditEntry.detail).where(AuditEntry.action == "hr.report.viewed")
            )
        ).scalars()
        assert any('"download"' in detail for detail in hows)

    # Someone without the role is refused the button; a forged link is no report.
    assert "Download the full report" not in await converse(service, connector, someone, full)
    status, _, body, _ = await get(service, path[:-4] + "AAAA")
    assert status == 404 and b"No such report" in body
    status, _, body, _ = await get(service, "/hr/report/" + "x" * 5000)
    assert status == 404
    # An old link has expired, with a sentence saying how to get a new one.
    links = report_links(runtime.settings, runtime.privacy)
    person = PersonKey(TENANT, hr_user.aad_object_id)
    old = links.token(person, Quarter.parse(quarter), now=utcnow() - timedelta(minutes=16))
    status, _, body, _ = await get(service, f"/hr/report/{old}")
    assert status == 403 and b'Type "hr report" in your chat' in body
    # Once the role is taken away, the link they still hold opens nothing.
    async with unit_of_work(runtime.sessions) as session:
        await revoke_role(session, role=Role.HR, person=hr_user.aad_object_id)
    status, _, body, _ = await get(service, path)
    assert status == 403 and b"you no longer do" in body
