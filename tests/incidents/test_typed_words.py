"""No typed word is lost in the report's conversations: a reply typed into the chat after a
report's status is kept and added (or dropped only when the person says so), and nothing
about which report was checked is kept in the conversation. Both databases, real HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.db.models import BotStateDocument
from bot.incidents.models import IncidentMessage
from tests.cards import inputs
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.incidents.test_incidents import (
    count,
    make_handler,
    receipt_value,
    runtime_of,
    settings,  # noqa: F401 - the fixture: outbox drained by hand
    sweep,
    walk_to_review,
)
from tests.service import Service

pytestmark = pytest.mark.e2e

TYPED = "It happened again this morning, by the lifts."


async def report(chat: Chat, mode: str) -> tuple[str, str | None]:
    await walk_to_review(chat, mode)
    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    passphrase = receipt_value(seen, "Your passphrase") if mode == "Anonymously" else None
    return reference, passphrase


async def state_bytes(service: Service) -> bytes:
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        rows = (await session.execute(select(BotStateDocument))).scalars().all()
    return b"".join(repr(vars(row)).encode() for row in rows)


async def test_a_reply_typed_after_the_status_is_kept_and_added(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    reference, _ = await report(chat, "Confidentially")
    await chat.say("check report")
    seen = await chat.say(reference)
    assert f"Report {reference}" in seen
    seen = await chat.say(TYPED)
    assert "Add this to your report?" in seen
    [note] = [i for r in chat.last for i in inputs(r) if i["id"] == "note"]
    assert note["value"] == TYPED  # their words, in the box, ready to send
    assert reference.encode() not in await state_bytes(service)  # which report: not kept
    seen = await chat.press("Add to my report", reference=reference, passphrase="")
    assert f"I've added that to report {reference}" in seen
    assert await count(service, IncidentMessage) == 1
    await chat.say("check report")
    assert TYPED in await chat.say(reference)


async def test_a_wrong_passphrase_keeps_the_typed_words_and_anonymous_words_wait_for_release(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    reference, passphrase = await report(chat, "Anonymously")
    assert passphrase
    await chat.say("check report")
    await chat.say(f"{reference} {passphrase}")
    await chat.say(TYPED)
    seen = await chat.press("Add to my report", reference=reference, passphrase="not-the-right-one")
    assert "nothing was added" in seen
    [note] = [i for r in chat.last for i in inputs(r) if i["id"] == "note"]
    assert note["value"] == TYPED
    state = await state_bytes(service)
    assert reference.encode() not in state and passphrase.encode() not in state
    seen = await chat.press("Add to my report", reference=reference, passphrase=passphrase)
    assert f"I've added that to report {reference}" in seen and "within a day" in seen
    await sweep(service, date.today())
    assert await count(service, IncidentMessage) == 1


async def test_words_are_dropped_only_when_the_person_says_so(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    reference, _ = await report(chat, "Confidentially")
    await chat.say("check report")
    await chat.say(reference)
    await chat.say("thanks")
    seen = await chat.press("Don't add it")
    assert "I haven't added that" in seen
    assert await count(service, IncidentMessage) == 0


async def test_the_status_cards_send_button_still_works_and_does_not_ask_again(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    reference, _ = await report(chat, "Confidentially")
    await chat.say("check report")
    await chat.say(reference)
    seen = await chat.press("Add to my report", note=TYPED)
    assert f"I've added that to report {reference}" in seen
    assert "Back to" not in seen and "Type your reference" not in seen
    assert await count(service, IncidentMessage) == 1


async def test_a_handlers_message_typed_into_the_chat_goes_into_the_form(
    service: Service, connector: StandInConnector
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector)
    reference, _ = await report(chat, "Confidentially")
    await handler.say("cases")
    await handler.press(f"Open {reference}")
    await handler.press("Message the reporter")
    seen = await handler.say("Thank you for telling us. Can we talk on Monday?")
    assert "I've put what you typed in the box" in seen
    [body] = [i for r in handler.last for i in inputs(r) if i["id"] == "body"]
    assert body["value"] == "Thank you for telling us. Can we talk on Monday?"
    assert "Message saved" in await handler.press("Save")
    await chat.say("check report")
    assert "Can we talk on Monday?" in await chat.say(reference)
