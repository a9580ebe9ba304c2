"""The About EDI conversation, through botbuilder's DialogTestClient."""

from __future__ import annotations

import pytest
from botbuilder.dialogs import DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import Content
from dialogs.shell.about_edi import AboutEdiDialog
from tests.cards import buttons, visible_text


@pytest.fixture
def client() -> DialogTestClient:
    return DialogTestClient("msteams", AboutEdiDialog(Content(DEFAULT_CONTENT_DIR)))


async def test_starts_with_a_card_of_every_topic(client: DialogTestClient) -> None:
    reply = await client.send_activity("about")
    assert "What would you like to know about?" in visible_text(reply)
    assert [title for title, _ in buttons(reply)] == [
        "What EDI means",
        "Protected characteristics",
        "Our legal duty",
        "Who does what",
    ]
    assert client.dialog_turn_result.status == DialogTurnStatus.Waiting


async def test_a_typed_topic_shows_it_and_offers_the_others(client: DialogTestClient) -> None:
    await client.send_activity("about")
    reply = await client.send_activity("protected characteristics")
    text = visible_text(reply)
    assert "The protected characteristics" in text
    assert "sexual orientation" in text
    assert "Source: Equality Strategy 2020-24, section 1.3.1" in text
    assert "Anything else you'd like to know about?" in text
    titles = [title for title, _ in buttons(reply)]
    assert "Protected characteristics" not in titles
    assert titles[-1] == "That's all, thanks"


async def test_a_number_picks_the_button_with_that_number(client: DialogTestClient) -> None:
    await client.send_activity("about")
    reply = await client.send_activity("3")
    assert "The Public Sector Equality Duty" in visible_text(reply)
    # After the duty topic the buttons are: meaning, characteristics, who, done.
    reply = await client.send_activity("3")
    assert "Who does what" in visible_text(reply)


async def test_done_ends_the_conversation_politely(client: DialogTestClient) -> None:
    await client.send_activity("about")
    await client.send_activity("meaning")
    reply = await client.send_activity("That's all, thanks")
    assert reply.text.startswith("You're welcome.")
    assert client.dialog_turn_result.status == DialogTurnStatus.Complete


# Words that are no topic are left to the shell (the dialog returns Empty): see
# tests/intents/test_own_words_chat.py, where the person is offered "Carry on with “About EDI”".


async def test_card_button_data_is_recognised_once_turned_into_text(
    client: DialogTestClient,
) -> None:
    # The shell turns {"choice": "who"} from a card button into the text "who".
    await client.send_activity("about")
    reply = await client.send_activity(Activity(type=ActivityTypes.message, text="who"))
    assert "Corporate Equalities Board" in visible_text(reply)
