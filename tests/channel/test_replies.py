"""Replies without msrest: `to_wire` gives msrest's exact JSON, and `ReplySender` delivers it
over real HTTP to the stand-in connector, with bounded retries and the right credentials."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from azure.core.exceptions import SerializationError
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    ActionTypes,
    Activity,
    ActivityTypes,
    AttachmentLayoutTypes,
    CardAction,
    ChannelAccount,
    DeliveryModes,
    Entity,
    HeroCard,
    InputHints,
    Mention,
    TextFormatTypes,
)
from botframework.connector import models as connector_models
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import ClaimsIdentity, MicrosoftAppCredentials
from msrest.serialization import Model, Serializer

from bot.channel import replies
from bot.channel.adapter import build_adapter
from bot.channel.replies import ReplyingConversations, ReplyNotDelivered, ReplySender, to_wire
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.teams import TeamsUser

SERVICE_URL = "https://smba.trafficmanager.net/uk/"
CHANNEL_CONVERSATION = "19:3f1c2d7e0a@thread.tacv2;messageid=1700000000000"


def msrest_body(model: Model) -> dict[str, Any]:
    """What the connector client sent before: its own Serializer's `body`."""
    classes = {k: v for k, v in vars(connector_models).items() if isinstance(v, type)}
    serializer: Any = Serializer(classes)  # type: ignore[no-untyped-call]
    body: dict[str, Any] = serializer.body(model, type(model).__name__)
    return body


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


_MESSAGE = TeamsUser().message("about", SERVICE_URL)  # one fixed message, parsed afresh each time


def inbound(text: str = "about") -> Activity:
    """A Teams message as the bot parses it (entities, channel data, timestamps, tenant)."""
    return Activity().deserialize({**_MESSAGE, "text": text})


def reply_to(activity: Activity, reply: Activity) -> Activity:
    """`reply` addressed as botbuilder addresses a reply to `activity`."""
    reference = TurnContext.get_conversation_reference(activity)
    return TurnContext.apply_conversation_reference(reply, reference)


# ---- to_wire equals msrest -------------------------------------------------------------------

ADAPTIVE_CARD = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.4",
    "body": [
        {"type": "TextBlock", "text": "Our legal duty", "wrap": True, "size": "Large"},
        {
            "type": "TextBlock",
            "text": "Caf\u00e9 \u2013 \u201cquotes\u201d \u2713",
            "isSubtle": None,
        },
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Our legal duty", "data": {"choice": "duty"}},
        {"type": "Action.Submit", "title": "Done", "data": {"choice": "done", "n": 2.5}},
    ],
}


def text_reply() -> Activity:
    return reply_to(inbound(), MessageFactory.text("What would you like to know about?"))


def card_reply() -> Activity:
    return reply_to(inbound(), MessageFactory.attachment(CardFactory.adaptive_card(ADAPTIVE_CARD)))


def suggested_actions_reply() -> Activity:
    actions = [
        CardAction(type=ActionTypes.im_back, title="Menu", value="menu"),
        CardAction(type=ActionTypes.message_back, title="Done", text="done", value={"a": 1}),
    ]
    return reply_to(inbound(), MessageFactory.suggested_actions(actions, "Pick one"))


def conversation_reference() -> Any:
    reference = TurnContext.get_conversation_reference(inbound())
    reference.activity_id = None
    return reference


def parsed_inbound() -> Activity:
    return inbound("hello there")


def everything_activity() -> Activity:
    """Enums, timestamps with offsets and microseconds, entities, channel data, models in
    `object` slots, nested lists, an Entity carrying unmapped extra properties."""
    clientinfo = Entity().deserialize({"type": "clientInfo", "locale": "en-GB", "country": "GB"})
    assert clientinfo.additional_properties  # set by msrest, but not in Entity's map
    mention = Mention(
        mentioned=ChannelAccount(id="29:1abc", name="Alex Taylor", aad_object_id="a-b-c"),
        text="<at>Alex Taylor</at>",
        type="mention",
    )
    hero = CardFactory.hero_card(
        HeroCard(title="Hero", buttons=[CardAction(type=ActionTypes.open_url, value="https://x")])
    )
    activity = reply_to(
        inbound(),
        Activity(
            type=ActivityTypes.message,
            text="Hello <at>Alex Taylor</at>",
            text_format=TextFormatTypes.markdown,
            input_hint=InputHints.accepting_input,
            delivery_mode=DeliveryModes.normal,
            attachment_layout=AttachmentLayoutTypes.carousel,
            timestamp=datetime(2026, 11, 22, 20, 1, 2, 345678, tzinfo=UTC),
            local_timestamp=datetime(
                2026, 11, 22, 20, 1, 2, 120000, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
            expiration=datetime(2027, 1, 1, tzinfo=UTC),
            entities=[mention, clientinfo],
            attachments=[hero, CardFactory.adaptive_card(ADAPTIVE_CARD)],
            channel_data={
                "notification": {"alert": True},
                "tenant": {"id": "t-1"},
                "feedback": None,
                "list": [1, 2.5, "three", None, {"deep": [True, False]}],
                "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                "model": ChannelAccount(id="29:x", role="user"),
            },
            value={"choice": "duty", "inputs": [{"id": "a", "v": None}]},
            members_added=[ChannelAccount(id="28:bot"), ChannelAccount(id="29:user", name="U")],
            listen_for=["yes", "no"],
            importance="high",
            summary=None,
        ),
    )
    return activity


class WithExtras(Model):
    """A model that keeps unknown properties on the wire (the `additional_properties` key '')."""

    _attribute_map = {
        "additional_properties": {"key": "", "type": "{object}"},
        "name": {"key": "name", "type": "str"},
        "account": {"key": "account", "type": "ChannelAccount"},
        "seen": {"key": "seenAt", "type": "iso-8601"},
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.additional_properties = dict(kwargs.get("additional_properties") or {})
        self.name = kwargs.get("name")
        self.account = kwargs.get("account")
        self.seen = kwargs.get("seen")


def with_additional_properties() -> Any:
    return WithExtras(
        additional_properties={"colour": "blue", "name": "wins over the attribute", "n": [1]},
        name="attribute",
        account=ChannelAccount(id="29:1", name="A"),
        seen=datetime(2026, 5, 6, 7, 8, 9, 1000, tzinfo=UTC),
    )


# Shapes outside to_wire's own fast path; msrest's result must come back all the same.
def dict_attachment_and_string_timestamp() -> Activity:
    activity = text_reply()
    activity.attachments = [{"contentType": "text/plain", "content": "hi", "ignored": 1}]
    activity.timestamp = "2026-11-22T20:01:02.5+01:00"
    activity.channel_data = {"pair": (1, 2)}
    return activity


CASES: dict[str, Callable[[], Any]] = {
    "text message": text_reply,
    "adaptive card": card_reply,
    "suggested actions": suggested_actions_reply,
    "conversation reference": conversation_reference,
    "parsed inbound Teams message": parsed_inbound,
    "enums, timestamps, entities, channel data": everything_activity,
    "additional properties": with_additional_properties,
    "msrest's own rules (dict attachment, string timestamp, tuple)": (
        dict_attachment_and_string_timestamp
    ),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_to_wire_is_exactly_msrest_body(make: Callable[[], Any]) -> None:
    # Two separate objects: msrest's body() may rewrite the model it is given.
    ours = to_wire(make())
    theirs = msrest_body(make())
    assert canonical(ours) == canonical(theirs)
    assert json.dumps(ours).encode() == json.dumps(theirs).encode()  # key order too


@pytest.mark.parametrize(
    "make",
    [conversation_reference, everything_activity, with_additional_properties, card_reply],
    ids=["conversation reference", "everything", "additional properties", "adaptive card"],
)
def test_to_wire_is_exactly_model_serialize(make: Callable[[], Any]) -> None:
    assert canonical(to_wire(make())) == canonical(make().serialize())


def test_the_usual_shapes_never_reach_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoSerializer(Serializer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("msrest's Serializer was used")

    monkeypatch.setattr(replies, "Serializer", NoSerializer)
    for name, make in CASES.items():
        if make is dict_attachment_and_string_timestamp:
            with pytest.raises(AssertionError):  # this one is msrest's to serialize
                to_wire(make())
        else:
            assert to_wire(make()), name


def test_to_wire_spells_out_what_matters_on_the_wire() -> None:
    wire = to_wire(everything_activity())
    assert wire["type"] == "message" and wire["textFormat"] == "markdown"
    assert wire["timestamp"] == "2026-11-22T20:01:02.345678Z"
    assert wire["localTimestamp"] == "2026-11-22T14:31:02.120Z"  # msrest writes UTC
    assert wire["from"] == {"id": "28:edi-bot-test", "name": "EDI bot"}
    assert wire["conversation"]["id"].startswith("a:1")
    assert wire["entities"][1] == {"type": "clientInfo"}  # Entity maps no extra keys
    assert wire["channelData"]["feedback"] is None and wire["channelData"]["list"][3] is None
    assert "summary" not in wire and "id" not in wire
    extras = to_wire(with_additional_properties())
    assert extras["name"] == "wins over the attribute" and extras["colour"] == "blue"


def test_to_wire_raises_what_msrest_raises_for_what_it_cannot_serialize() -> None:
    activity = text_reply()
    activity.channel_data = {"kind": ActivityTypes.message}  # an enum inside `object`
    with pytest.raises(SerializationError):
        msrest_body(activity)
    with pytest.raises(SerializationError):
        to_wire(activity)


def test_to_wire_leaves_the_model_as_it_was() -> None:
    activity = everything_activity()
    before = activity.serialize()
    to_wire(activity)
    assert canonical(activity.serialize()) == canonical(before)


# ---- sending over HTTP -----------------------------------------------------------------------


@pytest.fixture
async def sender() -> AsyncIterator[ReplySender]:
    made = ReplySender(backoff=0.02)
    try:
        yield made
    finally:
        await made.close()


def connector_client(service_url: str, sender: ReplySender, credentials: Any = None) -> Any:
    """A connector client as botbuilder builds it, sending replies through `sender`."""
    client = ConnectorClient(credentials or MicrosoftAppCredentials.empty(), base_url=service_url)
    client.conversations = ReplyingConversations(client, sender)
    return client


def message_to(conversation_id: str, text: str = "Hello") -> Activity:
    activity = reply_to(inbound(), MessageFactory.text(text))
    activity.conversation.id = conversation_id
    return activity


async def test_a_reply_arrives_at_its_path_with_msrest_body_and_headers(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    activity = message_to(CHANNEL_CONVERSATION)
    expected = msrest_body(message_to(CHANNEL_CONVERSATION))

    response = await client.conversations.reply_to_activity(
        CHANNEL_CONVERSATION, "1700000000000", activity
    )

    [call] = connector.received
    assert call.method == "POST"
    assert call.conversation_id == CHANNEL_CONVERSATION
    assert call.raw_path == (
        "/v3/conversations/19%3A3f1c2d7e0a%40thread.tacv2%3Bmessageid%3D1700000000000"
        "/activities/1700000000000"
    )
    assert canonical(call.activity) == canonical(expected)
    assert call.headers["content-type"] == "application/json; charset=utf-8"
    assert call.headers["accept"] == "application/json"
    assert call.headers["x-ms-conversation-id"] == CHANNEL_CONVERSATION
    assert call.headers["user-agent"] == client.config.user_agent  # msrest's, not aiohttp's
    assert call.authorization is None  # empty credentials: development mode
    assert response.id == call.reply_id


async def test_a_new_message_is_sent_to_the_conversation(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    user = TeamsUser()
    activity = message_to(user.conversation_id, "Hello, I'm the EDI bot")

    response = await client.conversations.send_to_conversation(user.conversation_id, activity)

    [call] = connector.received
    assert call.path == f"/v3/conversations/{user.conversation_id}/activities"
    assert call.activity["text"] == "Hello, I'm the EDI bot"
    assert "x-ms-conversation-id" not in call.headers  # as msrest: only on replies
    assert response.id == call.reply_id


async def test_429_waits_for_retry_after_then_delivers_once(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    user = TeamsUser()
    connector.fail_next(429, headers={"Retry-After": "1"})

    await client.conversations.send_to_conversation(user.conversation_id, message_to("a:1x"))

    assert [r.status for r in connector.refused] == [429]
    [call] = connector.received
    assert call.at - connector.refused[0].at >= 0.95


async def test_429_asking_for_longer_than_the_cap_gives_up_at_once(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    connector.fail_next(429, times=3, headers={"Retry-After": "30"})
    started = time.monotonic()

    with pytest.raises(ReplyNotDelivered) as raised:
        await client.conversations.send_to_conversation("a:1x", message_to("a:1x"))

    assert raised.value.status == 429 and raised.value.attempts == 1
    assert len(connector.refused) == 1 and connector.received == []
    assert time.monotonic() - started < 1


async def test_503_twice_then_delivered(connector: StandInConnector, sender: ReplySender) -> None:
    client = connector_client(connector.url, sender)
    connector.fail_next(503, times=2)

    response = await client.conversations.reply_to_activity("a:1x", "1", message_to("a:1x"))

    assert [r.status for r in connector.refused] == [503, 503]
    [call] = connector.received
    assert response.id == call.reply_id


async def test_gateway_errors_stop_after_two_retries(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    connector.fail_next(502, times=1)
    connector.fail_next(504, times=5)

    with pytest.raises(ReplyNotDelivered) as raised:
        await client.conversations.reply_to_activity("a:1x", "1", message_to("a:1x"))

    assert [r.status for r in connector.refused] == [502, 504, 504]
    assert connector.received == []
    assert (raised.value.status, raised.value.attempts) == (504, 3)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
async def test_other_errors_raise_at_once_with_the_status_but_never_the_body(
    connector: StandInConnector, sender: ReplySender, status: int
) -> None:
    client = connector_client(connector.url, sender)
    connector.fail_next(status, times=3)

    with pytest.raises(ReplyNotDelivered) as raised:
        await client.conversations.reply_to_activity("a:1x", "1", message_to("a:1x", "private"))

    assert len(connector.refused) == 1 and connector.received == []
    assert raised.value.status == status
    assert str(status) in str(raised.value)
    for leak in ("SECRET-BODY-TEXT", "Refused", "private", "a:1x"):
        assert leak not in str(raised.value) and leak not in repr(raised.value)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused_raises_after_the_bounded_retries(sender: ReplySender) -> None:
    client = connector_client(f"http://127.0.0.1:{closed_port()}/", sender)

    with pytest.raises(ReplyNotDelivered) as raised:
        await client.conversations.send_to_conversation("a:1x", message_to("a:1x"))

    assert (raised.value.status, raised.value.attempts) == (None, 3)
    assert isinstance(raised.value.__cause__, aiohttp.ClientConnectorError)


async def test_a_dropped_connection_is_tried_three_times_in_all(sender: ReplySender) -> None:
    connections = 0

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = connector_client(f"http://127.0.0.1:{port}/", sender)
        with pytest.raises(ReplyNotDelivered) as raised:
            await client.conversations.send_to_conversation("a:1x", message_to("a:1x"))
    finally:
        server.close()
        await server.wait_closed()

    assert connections == 3
    assert isinstance(raised.value.__cause__, aiohttp.ClientConnectionError)


async def test_credentials_with_an_app_id_send_a_bearer_token_fetched_off_the_loop(
    connector: StandInConnector, sender: ReplySender, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []

    def fake_token(self: Any, *args: Any, **kwargs: Any) -> str:
        threads.append(threading.get_ident())
        return f"token-for-{self.microsoft_app_id}"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", fake_token)
    credentials = MicrosoftAppCredentials("6d1b3a52-app", "secret")
    client = connector_client(connector.url, sender, credentials)

    await client.conversations.reply_to_activity("a:1x", "1", message_to("a:1x"))
    await client.conversations.send_to_conversation("a:1x", message_to("a:1x"))

    assert [c.authorization for c in connector.received] == ["Bearer token-for-6d1b3a52-app"] * 2
    assert len(threads) == 2 and threading.get_ident() not in threads


@pytest.mark.parametrize("app_id", ["", "AnonymousSkill"])
async def test_credentials_without_an_app_id_send_no_authorization(
    connector: StandInConnector,
    sender: ReplySender,
    monkeypatch: pytest.MonkeyPatch,
    app_id: str,
) -> None:
    def no_token(self: Any, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("no token may be fetched without an app id")

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", no_token)
    client = connector_client(connector.url, sender, MicrosoftAppCredentials(app_id, ""))

    await client.conversations.send_to_conversation("a:1x", message_to("a:1x"))

    [call] = connector.received
    assert call.authorization is None


async def test_other_connector_calls_still_go_through_msrest(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    assert type(client.conversations).update_activity is ConversationsOperations.update_activity
    activity = message_to("a:1x", "edited")
    activity.id = "1234"

    await client.conversations.update_activity("a:1x", "1234", activity)
    await client.conversations.delete_activity("a:1x", "1234")

    [call] = connector.received
    assert (call.method, call.path) == ("PUT", "/v3/conversations/a:1x/activities/1234")
    assert call.activity["text"] == "edited"
    assert "aiohttp" not in call.headers["user-agent"]
    assert "python-requests" not in call.headers["user-agent"]


async def test_the_adapter_hands_out_reused_clients_that_reply_on_one_session(
    connector: StandInConnector,
) -> None:
    async def on_error(context: TurnContext, error: Exception) -> None:
        raise error

    adapter = build_adapter(dev_settings(database_url="sqlite+aiosqlite://"), on_error)
    factory = adapter.bot_framework_authentication.create_connector_factory(
        ClaimsIdentity({}, True)
    )
    first = await factory.create(connector.url, None)
    again = await factory.create(connector.url, None)
    assert first is again
    assert isinstance(first.conversations, ReplyingConversations)
    try:
        await first.conversations.send_to_conversation("a:1x", message_to("a:1x", "one"))
        await again.conversations.send_to_conversation("a:1x", message_to("a:1x", "two"))
        sender = adapter.bot_framework_authentication.replies
        session = sender._session
        assert session is not None and not session.closed
    finally:
        await adapter.close()
    assert session.closed
    assert [c.activity["text"] for c in connector.received] == ["one", "two"]
    assert [c.authorization for c in connector.received] == [None, None]  # development mode


async def test_a_closed_sender_opens_a_new_session_when_used_again(
    connector: StandInConnector, sender: ReplySender
) -> None:
    client = connector_client(connector.url, sender)
    await client.conversations.send_to_conversation("a:1x", message_to("a:1x", "before"))
    await sender.close()
    await sender.close()  # twice is harmless

    await client.conversations.send_to_conversation("a:1x", message_to("a:1x", "after"))

    assert [c.activity["text"] for c in connector.received] == ["before", "after"]


def test_proxies_come_from_the_environment_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yarl import URL

    from bot.channel.replies import ReplySender

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.council.example:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    sender = ReplySender()
    teams = URL("https://smba.trafficmanager.net/uk/v3/conversations/a/activities")
    assert sender._proxy_for(teams) == "http://proxy.council.example:8080"
    assert sender._proxy_for(URL("http://127.0.0.1:9/v3/conversations/a/activities")) is None
    monkeypatch.delenv("HTTPS_PROXY")
    assert sender._proxy_for(teams) == "http://proxy.council.example:8080"  # read once
