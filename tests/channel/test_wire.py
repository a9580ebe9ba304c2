"""Wire JSON to models and back: the same result as msrest, in less time; state documents
written with and without the model handler both read back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity
from jsonpickle import handlers
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from msrest.serialization import Model
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.replies import to_wire
from bot.channel.storage import SqlStorage
from bot.channel.wire import from_wire, register_model_handler
from bot.db.engine import create_sessionmaker
from bot.privacy.crypto import FieldCipher
from bot.privacy.keys import load_keys
from tests.harness import dev_settings
from tests.teams import TeamsUser

URL = "https://smba.trafficmanager.net/uk/"


def _inbound() -> list[dict[str, Any]]:
    user = TeamsUser()
    message = user.message("<at>EDI bot</at> about", URL)
    message["attachments"] = [{"contentType": "text/html", "content": "<p>about</p>"}]
    message["unknownExtra"] = {"kept": True}
    invoke = user.message("", URL)
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "data": {"command": "about"}}},
    )
    return [
        message,
        user.submit({"choice": "duty", "note": "x"}, URL),
        user.installed(URL),
        user.uninstalled(URL),
        user.bot_added(URL),
        invoke,
    ]


@pytest.mark.parametrize("body", _inbound(), ids=lambda b: b["type"])
def test_from_wire_builds_what_msrest_builds(body: dict[str, Any]) -> None:
    ours = from_wire(Activity, body)
    theirs = Activity().deserialize(body)
    assert json.dumps(ours.serialize(), sort_keys=True) == json.dumps(
        theirs.serialize(), sort_keys=True
    )
    assert ours.from_property.aad_object_id == body["from"]["aadObjectId"]


def test_from_wire_refuses_what_msrest_refuses() -> None:
    body = TeamsUser().message("hi", URL)
    body["timestamp"] = "yesterday-ish"
    with pytest.raises(DeserializationError):
        Activity().deserialize(body)
    with pytest.raises(DeserializationError):
        from_wire(Activity, body)


def _prompt_state() -> dict[str, Any]:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Pick one"}],
    }
    prompt = MessageFactory.attachment(CardFactory.adaptive_card(card))
    return {"DialogState": {"options": {"prompt": prompt, "retry": MessageFactory.text("Again")}}}


def test_models_in_state_are_stored_as_their_wire_json() -> None:
    register_model_handler()
    state = _prompt_state()
    flat = Pickler().flatten(state)
    stored = flat["DialogState"]["options"]["prompt"]
    assert stored["wire"] == to_wire(state["DialogState"]["options"]["prompt"])
    restored = Unpickler().restore(json.loads(json.dumps(flat)))
    for name in ("prompt", "retry"):
        assert to_wire(restored["DialogState"]["options"][name]) == to_wire(
            state["DialogState"]["options"][name]
        )


def test_documents_written_before_the_handler_still_read() -> None:
    handlers.unregister(Model)
    try:
        old = json.loads(json.dumps(Pickler().flatten(_prompt_state())))
    finally:
        register_model_handler()
    assert "wire" not in json.dumps(old)
    restored = Unpickler().restore(old)
    assert to_wire(restored["DialogState"]["options"]["prompt"]) == to_wire(
        _prompt_state()["DialogState"]["options"]["prompt"]
    )


async def test_a_stored_prompt_round_trips_through_the_database(engine: AsyncEngine) -> None:
    storage = SqlStorage(
        engine, create_sessionmaker(engine), FieldCipher(load_keys(dev_settings()))
    )
    await storage.write({"conv/1": _prompt_state()})
    read = (await storage.read(["conv/1"]))["conv/1"]
    prompt = read["DialogState"]["options"]["prompt"]
    assert isinstance(prompt, Activity)
    assert prompt.attachments[0].content["body"][0]["text"] == "Pick one"
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM bot_state"))).scalar() == 1
