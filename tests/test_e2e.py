"""End to end: the real app on a real port, Teams-shaped activities over HTTP, replies
received by the stand-in connector, state in SQLite and in PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RUNTIME_KEY
from bot.config import Settings
from bot.core.logs import configure_logging
from bot.core.people import PersonKey
from bot.db import migrate
from bot.db import references as repo_references
from bot.db.engine import create_sessionmaker
from bot.db.models import ConversationReferenceRecord
from bot.db.session import unit_of_work
from bot.privacy.roles import Role, grant_role
from tests.cards import visible_text
from tests.chat import converse
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e


# ---- the protocol ------------------------------------------------------------------------


async def test_install_welcomes_through_the_connector_as_a_reply(
    service: Service, connector: StandInConnector
) -> None:
    user = TeamsUser()
    activity = user.bot_added(connector.url)
    status, _ = await service.post(activity)
    assert status == 201
    [call] = connector.received
    assert call.method == "POST"
    # botbuilder starts a new thread for a conversationUpdate rather than replying to it.
    assert call.path == f"/v3/conversations/{user.conversation_id}/activities"
    assert call.activity["type"] == "message"
    assert call.activity["recipient"]["id"] == user.user_id
    assert call.authorization is None  # development mode: no token to the connector
    assert "Hello, I'm the EDI bot" in visible_text(call.activity)


async def test_a_whole_conversation_over_http(
    service: Service, connector: StandInConnector
) -> None:
    user = TeamsUser()
    assert "What would you like to know about?" in await converse(service, connector, user, "about")
    [call] = connector.received
    assert call.path.endswith(f"/activities/{call.activity['replyToId']}")  # a reply
    shown = await converse(service, connector, user, {"choice": "duty"})
    assert "The Public Sector Equality Duty" in shown
    assert "Foster good relations" in shown
    assert "You're welcome." in await converse(service, connector, user, "That's all, thanks")
    # The topics have ended: "duty" now starts afresh rather than answering the old question.
    assert "The Public Sector Equality Duty" not in await converse(service, connector, user, "duty")


async def test_action_execute_is_handled_like_a_submit(
    service: Service, connector: StandInConnector
) -> None:
    user = TeamsUser()
    invoke = user.message("", connector.url)
    invoke.update(type="invoke", name="adaptiveCard/action")
    invoke["value"] = {
        "action": {"type": "Action.Execute", "verb": "go", "data": {"command": "about"}}
    }
    del invoke["text"]
    status, body = await service.post(invoke)
    assert status == 200
    assert body["statusCode"] == 200
    assert "What would you like to know about?" in visible_text(
        connector.replies(user.conversation_id)[-1]
    )


async def test_an_unknown_invoke_is_refused_with_a_4xx(
    service: Service, connector: StandInConnector
) -> None:
    invoke = TeamsUser().message("", connector.url)
    invoke.update(type="invoke", name="composeExtension/query", value={})
    status, body = await service.post(invoke)
    assert status == 400
    assert body == {"error": "This bot does not handle that invoke."}


# ---- conversation references ---------------------------------------------------------------


async def stored_reference(engine: AsyncEngine, user: TeamsUser) -> Any:
    async with create_sessionmaker(engine)() as session:
        return await repo_references.get_reference(
            session, person=PersonKey(user.tenant_id, user.aad_object_id)
        )


async def test_references_are_captured_updated_and_marked_gone(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    user = TeamsUser()
    assert await stored_reference(engine, user) is None

    await service.post(user.installed(connector.url))
    stored = await stored_reference(engine, user)
    assert stored.status == "active"
    assert stored.conversation_id == user.conversation_id
    assert stored.service_url == connector.url
    assert stored.reference["user"]["aadObjectId"] == user.aad_object_id
    assert stored.reference["conversation"]["tenantID"] == user.tenant_id  # botbuilder's key
    assert "activityId" not in stored.reference

    moved = user.message("hi", connector.url.replace("127.0.0.1", "localhost"))
    await service.post(moved)
    assert (await stored_reference(engine, user)).service_url.startswith("http://localhost:")

    await service.post(user.uninstalled(connector.url))
    assert (await stored_reference(engine, user)).status == "gone"

    await service.post(user.installed(connector.url))
    assert (await stored_reference(engine, user)).status == "active"
    # When someone was last seen is kept to the day, never to the second.
    async with engine.connect() as connection:
        times = (
            await connection.execute(
                select(
                    ConversationReferenceRecord.created_at, ConversationReferenceRecord.updated_at
                )
            )
        ).one()
    assert all((t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0) for t in times)


async def test_group_chats_do_not_overwrite_a_personal_reference(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    user = TeamsUser()
    await service.post(user.message("hi", connector.url))
    group = user.message("<at>EDI bot</at> hi", connector.url)
    group["conversation"] = {
        "conversationType": "groupChat",
        "tenantId": user.tenant_id,
        "id": "19:group@thread.v2",
    }
    await service.post(group)
    assert (await stored_reference(engine, user)).conversation_id == user.conversation_id


# ---- bad input -------------------------------------------------------------------------------


def _valid(connector: StandInConnector) -> dict[str, Any]:
    return TeamsUser().message("hi", connector.url)


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (
            lambda c: {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "Body is not valid JSON.",
        ),
        (
            lambda c: {"data": b"\xff\xfe", "headers": {"Content-Type": "application/json"}},
            400,
            "Body is not valid JSON.",
        ),
        (
            lambda c: {"json": [1, 2, 3]},
            400,
            "Body is not a Bot Framework activity (expected a JSON object).",
        ),
        (lambda c: {"json": {**_valid(c), "type": ""}}, 400, "Activity has no type."),
        (
            lambda c: {"json": {k: v for k, v in _valid(c).items() if k != "serviceUrl"}},
            400,
            "Activity has no serviceUrl.",
        ),
        (
            lambda c: {"json": {**_valid(c), "serviceUrl": "file:///etc/passwd"}},
            400,
            "Activity serviceUrl is not an http(s) URL.",
        ),
        (
            lambda c: {"json": {**_valid(c), "conversation": {}}},
            400,
            "Activity has no conversation.id.",
        ),
        (lambda c: {"json": {**_valid(c), "from": "someone"}}, 400, "Activity has no from.id."),
        (
            lambda c: {"json": {**_valid(c), "text": {"nested": True}}},
            400,
            "Activity text is not a string.",
        ),
        (
            lambda c: {"json": {**_valid(c), "timestamp": "yesterday-ish"}},
            400,
            "Activity fields have the wrong shape.",
        ),
        (
            lambda c: {"json": {**_valid(c), "channelData": {"tenant": {"id": "another"}}}},
            400,
            "Activity names two different tenants.",
        ),
        (
            lambda c: {"data": b"hi", "headers": {"Content-Type": "text/plain"}},
            415,
            "Send the activity as application/json.",
        ),
    ],
)
async def test_malformed_requests_get_a_4xx_with_a_reason_and_store_nothing(
    service: Service,
    connector: StandInConnector,
    engine: AsyncEngine,
    make: Any,
    status: int,
    reason: str,
) -> None:
    got_status, body = await service.post(None, **make(connector))
    assert (got_status, body) == (status, {"error": reason})
    assert connector.received == []
    async with engine.connect() as connection:
        for table in ("bot_state", "conversation_references"):
            count = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table


async def test_an_oversized_body_gets_413(service: Service, connector: StandInConnector) -> None:
    activity = _valid(connector)
    activity["text"] = "x" * (300 * 1024)
    status, body = await service.post(activity)
    assert status == 413
    assert body == {"error": "Body is larger than 262144 bytes."}


async def test_wrong_method_gets_405(service: Service) -> None:
    async with service.http.get(f"{service.base}/api/messages") as response:
        assert response.status == 405
        assert await response.json() == {"error": "Method Not Allowed"}


async def test_activities_from_other_tenants_are_refused_unprocessed(
    database_url: str, engine: AsyncEngine, connector: StandInConnector
) -> None:
    ours = TeamsUser()
    settings = dev_settings(database_url=database_url, allowed_tenants=[ours.tenant_id])
    running = await start_service(settings, engine)
    try:
        outsider = TeamsUser(tenant_id="00000000-0000-0000-0000-0000000bad00")
        status, body = await running.post(outsider.message("hi", connector.url))
        assert (status, body) == (403, {"error": "This bot does not serve that organisation."})
        assert connector.received == []
        assert await stored_reference(engine, outsider) is None
        status, _ = await running.post(ours.message("hi", connector.url))
        assert status == 201
        assert len(connector.received) == 1
    finally:
        await stop_service(running)


# ---- health ------------------------------------------------------------------------------


async def test_health_and_readiness(service: Service, engine: AsyncEngine) -> None:
    assert await service.get("/healthz") == (200, {"status": "alive"})
    assert await service.get("/readyz") == (
        200,
        {"status": "ready", "database": "ok", "schema": migrate.head_revision()},
    )
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM alembic_version"))
    status, body = await service.get("/readyz")
    assert status == 503
    assert body == {
        "status": "not ready",
        "database": "ok",
        "schema": None,
        "expected": migrate.head_revision(),
    }


# ---- durability ------------------------------------------------------------------------------


async def test_a_second_process_on_the_same_database_continues_the_dialog(
    settings: Settings, engine: AsyncEngine, connector: StandInConnector, database_url: str
) -> None:
    first = await start_service(settings, engine)
    second_engine_settings = dev_settings(database_url=database_url)
    second = await start_service(second_engine_settings)  # its own engine and pool
    try:
        user = TeamsUser()
        assert "What would you like to know about?" in await converse(
            first, connector, user, "about"
        )
        assert "Who does what" in await converse(second, connector, user, "who")
        assert "The protected characteristics" in await converse(
            first, connector, user, {"choice": "characteristics"}
        )
    finally:
        await stop_service(first)
        await stop_service(second)


async def test_a_restarted_service_continues_the_dialog(
    settings: Settings, engine: AsyncEngine, connector: StandInConnector
) -> None:
    user = TeamsUser()
    before = await start_service(settings, engine)
    await converse(before, connector, user, "about")
    await stop_service(before)
    after = await start_service(settings, engine)
    try:
        assert "What equality, diversity and inclusion mean" in await converse(
            after, connector, user, "meaning"
        )
    finally:
        await stop_service(after)


async def test_simultaneous_turns_of_one_conversation_stay_coherent(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    user = TeamsUser()
    await converse(service, connector, user, "about")
    before = len(connector.replies(user.conversation_id))
    # A double tap: the same button twice at once.
    statuses = await asyncio.gather(
        *(service.post(user.submit({"choice": "duty"}, connector.url)) for _ in range(2))
    )
    assert [s for s, _ in statuses] == [201, 201]
    replies = [visible_text(r) for r in connector.replies(user.conversation_id)[before:]]
    assert len(replies) == 2
    # The two replies are posted to Teams concurrently, each after its own turn commits, so
    # they may arrive in either order: one shows the topic, and the other tap was run against
    # the state the first left (an answer to "anything else?", where duty is not offered, so
    # it is asked again) or showed the topic too.
    first, second = sorted(replies, key=lambda r: "The Public Sector Equality Duty" not in r)
    assert "The Public Sector Equality Duty" in first
    assert "Something went wrong" not in " ".join(replies)
    assert "The Public Sector Equality Duty" in second or "Please choose" in second


# ---- errors and logs --------------------------------------------------------------------------

SECRET = "Zebra-7319 my manager called me a slur"


async def test_a_failing_turn_apologises_with_a_reference_and_resets_without_logging_text(
    service: Service,
    connector: StandInConnector,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "text", stream=stream)
    try:
        user = TeamsUser()
        await converse(service, connector, user, "about")
        bot = service.runner.app[RUNTIME_KEY].bot

        async def broken_route(turn_context: Any, command: str, **flags: bool) -> None:
            # A bug whose exception message quotes what the person typed, as int() would.
            raise ValueError(f"cannot handle {turn_context.activity.text!r}")

        monkeypatch.setattr(bot, "_route", broken_route)
        seen = await converse(service, connector, user, SECRET)
        monkeypatch.undo()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    assert seen.startswith("Sorry, something went wrong on my side")
    reference = seen.split("reference **")[1].split("**")[0]
    logged = stream.getvalue()
    assert f"correlation_id={reference}" in logged
    assert "ValueError" in logged
    assert "Zebra-7319" not in logged
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM bot_state"))).scalar() == 0
    # The topics have ended: "duty" now starts afresh rather than answering the old question.
    assert "The Public Sector Equality Duty" not in await converse(service, connector, user, "duty")


async def test_no_log_line_contains_what_people_typed_or_tapped(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    staff, admin = TeamsUser(), TeamsUser()
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await grant_role(
            session, role=Role.ADMIN, person=admin.aad_object_id, tenant_id=None, granted_by="test"
        )
    try:
        # Every conversation that exists, with distinctive text at each step.
        turns: list[tuple[TeamsUser, str | dict[str, Any]]] = [
            (staff, "hi"),
            (staff, "about"),
            (staff, SECRET),
            (staff, {"choice": "duty", "note": SECRET}),
            (staff, "who"),
            (staff, SECRET),
            (staff, "cancel"),
            (staff, SECRET),
            (staff, {"command": SECRET}),
            (staff, "status"),  # refused: not an admin
            (admin, "status"),
            (admin, SECRET),
            (admin, {"command": "status", "comment": SECRET}),
        ]
        for user, said in turns:
            await converse(service, connector, user, said)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    shown = [visible_text(r) for r in connector.replies(admin.conversation_id)]
    assert sum("Bot status" in text for text in shown) == 2  # the admin path really ran
    logged = stream.getvalue()
    assert "request" in logged  # logging was on, at DEBUG
    assert "Zebra-7319" not in logged
    assert "slur" not in logged
