"""The conversation shell: welcome, menu, cancel anywhere, help for anything not understood."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.handler import MAX_TEXT_CHARS
from bot.config import Settings
from bot.db.session import current_session
from bot.privacy.crypto import Sealed
from dialogs.shell.about_edi import AboutEdiDialog
from tests.cards import buttons, visible_text
from tests.harness import BotHarness


@pytest.fixture
def chat(settings: Settings, engine: AsyncEngine) -> BotHarness:
    return BotHarness(settings, engine)


def only(replies: list[Any]) -> str:
    assert len(replies) == 1, [visible_text(r) for r in replies]
    return visible_text(replies[0])


@pytest.mark.parametrize("word", ["hi", "Hello!", "help", "MENU", "menu."])
async def test_greetings_and_help_show_the_welcome_card(chat: BotHarness, word: str) -> None:
    replies = await chat.say(word)
    assert "Hello, I'm the EDI bot" in only(replies)
    shown = buttons(replies[0])
    assert shown[0] == ("About EDI", {"command": "about"})
    assert ("Report a hate incident", {"command": "report"}) in shown
    titles = [title for title, _ in shown]
    # Role-only entries need the role; button-only entries are never listed.
    assert not {"Bot status", "Incident cases", "Add to a report"} & set(titles)
    assert "type **cancel** at any time" in visible_text(replies[0])


async def test_install_welcomes_the_person(chat: BotHarness) -> None:
    replies = await chat.send(chat.user.bot_added(chat.SERVICE_URL))
    assert "Hello, I'm the EDI bot" in only(replies)


async def test_unknown_text_gets_a_helpful_answer(chat: BotHarness) -> None:
    replies = await chat.say("flibbertigibbet wombat")
    assert only(replies).startswith("I'm not sure what you meant")
    assert ("Show me everything", {"command": "menu"}) in buttons(replies[0])


async def test_cancel_with_nothing_to_cancel_says_so(chat: BotHarness) -> None:
    assert only(await chat.say("cancel")).startswith("There's nothing to cancel.")


@pytest.mark.parametrize("word", ["cancel", "stop", "Quit", "never mind"])
async def test_cancel_ends_the_dialog_and_says_which(chat: BotHarness, word: str) -> None:
    await chat.say("about")
    assert only(await chat.say(word)) == (
        "OK, I've stopped “About EDI”. Type **menu** when you want to do something else."
    )
    # The dialog is really gone: a topic name no longer answers its question.
    assert "The Public Sector Equality Duty" not in only(await chat.say("duty"))


async def test_menu_in_the_middle_of_a_dialog_cancels_it_and_shows_the_menu(
    chat: BotHarness,
) -> None:
    await chat.say("about")
    replies = await chat.say("menu")
    assert [visible_text(r).splitlines()[0] for r in replies] == [
        "OK, I've stopped “About EDI”. Type **menu** when you want to do something else.",
        "Hello, I'm the EDI bot",
    ]


async def test_welcome_button_starts_the_feature(chat: BotHarness) -> None:
    replies = await chat.tap({"command": "about"})
    assert "What would you like to know about?" in only(replies)


async def test_a_menu_button_mid_dialog_runs_that_feature_and_then_comes_back(
    chat: BotHarness,
) -> None:
    await chat.say("about")
    started = only(await chat.tap({"command": "report"}))
    assert "in danger" in started  # the report's first question, not an answer to About EDI
    replies = [visible_text(r) for r in await chat.say("cancel")]
    assert replies[0].startswith("OK, I've stopped “Report a hate incident”.")
    assert replies[-2:] == [
        "Back to “About EDI”, where we left off (type **cancel** to stop it).",
        replies[-1],
    ]
    assert "What would you like to know about?" in replies[-1]
    # ... and About EDI really is waiting again.
    assert "The Public Sector Equality Duty" in only(await chat.say("duty"))


async def test_typing_another_feature_mid_dialog_asks_before_switching(chat: BotHarness) -> None:
    await chat.say("about")
    replies = await chat.say("report")
    offer = only(replies)
    assert offer.startswith("We're in the middle of “About EDI”")
    assert "in danger" not in offer  # nothing started, nothing answered yet
    assert buttons(replies[0]) == [
        ("Go to “Report a hate incident”", {"command": "report"}),
        ("Carry on with “About EDI”", {"command": "carry on"}),
    ]
    assert "What would you like to know about?" in only(await chat.tap({"command": "carry on"}))
    assert "The Public Sector Equality Duty" in only(await chat.say("duty"))

    await chat.say("report")
    assert "in danger" in only(await chat.tap({"command": "report"}))  # "Go to …"
    replies = [visible_text(r) for r in await chat.say("cancel")]
    assert replies[-2].startswith("Back to “About EDI”")
    # Carry on from an old offer after the conversation ended: explained, nothing breaks.
    await chat.say("cancel")
    assert only(await chat.tap({"command": "carry on"})).startswith("That button belongs to")


async def test_a_button_from_a_finished_conversation_is_explained(chat: BotHarness) -> None:
    assert only(await chat.tap({"choice": "duty"})).startswith(
        "That button belongs to a conversation that has already finished."
    )


@pytest.mark.parametrize("value", [["a", "b"], "about", 42, {"unexpected": True}, {"command": 7}])
async def test_odd_card_values_get_a_clear_message(chat: BotHarness, value: object) -> None:
    await chat.say("about")
    assert only(await chat.tap(value)).startswith("I couldn't read what that card sent.")
    # ... and lose nothing: the dialog is still waiting for a topic.
    assert "The Public Sector Equality Duty" in only(await chat.say("duty"))


async def test_a_message_without_text_is_answered(chat: BotHarness) -> None:
    activity = chat.user.message("", chat.SERVICE_URL)
    activity["attachments"] = [{"contentType": "image/png", "contentUrl": "https://x/y.png"}]
    assert only(await chat.send(activity)).startswith("I can only read typed messages")


async def test_huge_text_is_refused_politely_and_the_dialog_survives(chat: BotHarness) -> None:
    await chat.say("about")
    assert only(await chat.say("x" * (MAX_TEXT_CHARS + 1))).startswith(
        "That message is longer than I can take (20,000 characters at most)."
    )
    assert "Who does what" in only(await chat.say("who"))


async def test_dialog_state_is_kept_in_the_database(chat: BotHarness, engine: AsyncEngine) -> None:
    await chat.say("about")
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT key, document, key_id FROM bot_state"))).all()
    assert [key for key, _, _ in rows] == [f"msteams/conversations/{chat.user.conversation_id}"]
    key, document, key_id = rows[0]
    assert AboutEdiDialog.__name__ not in document  # encrypted at rest
    opened = chat.runtime.privacy.cipher.open(Sealed(key_id, document), context=f"bot_state:{key}")
    assert AboutEdiDialog.__name__ in opened


async def test_a_turn_that_loses_a_race_is_rerun_and_only_its_winner_speaks(
    chat: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("about")
    bot = chat.runtime.bot
    route = bot._route
    attempts: list[int] = []

    async def interfering_route(turn_context, command, **flags):
        attempts.append(1)
        await route(turn_context, command, **flags)
        if len(attempts) == 1:
            # Another replica saves this conversation while our turn is still running.
            session = current_session()
            assert session is not None
            await session.execute(text("UPDATE bot_state SET etag = 'someone-else'"))

    monkeypatch.setattr(bot, "_route", interfering_route)
    replies = await chat.say("duty")

    assert len(attempts) == 2
    # One topic card, not two: the losing attempt's reply was never sent.
    assert "The Public Sector Equality Duty" in only(replies)


async def test_a_retried_attempt_starts_as_not_yet_responded(chat: BotHarness) -> None:
    from botbuilder.core import TurnContext
    from botbuilder.schema import Activity

    from bot.channel.adapter import ReplyBuffer

    context = TurnContext(
        chat.adapter, Activity().deserialize(chat.user.message("hi", chat.SERVICE_URL))
    )
    buffer = ReplyBuffer(context)
    buffer.start()
    await context.send_activity("from the attempt that will lose")
    assert context.responded
    buffer.discard()
    buffer.start()
    assert not context.responded
    assert chat.sent == []


async def test_replies_that_fail_after_the_commit_do_not_reset_the_conversation(
    chat: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("about")

    async def connector_down(context, activities):
        raise ConnectionError("connector unreachable")

    monkeypatch.setattr(chat.adapter, "_send", connector_down)
    assert await chat.say("duty") == []  # nothing reached Teams, and no apology was sent
    monkeypatch.undo()
    # The turn's state was committed: the dialog moved on to "anything else?".
    assert "Who does what" in only(await chat.say("who"))


async def test_reopening_the_chat_mid_dialog_picks_up_where_it_was(chat: BotHarness) -> None:
    await chat.say("about")
    await chat.say("duty")
    replies = await chat.send(chat.user.bot_added(chat.SERVICE_URL))
    assert [visible_text(r).splitlines()[0] for r in replies] == [
        "Welcome back. We were in the middle of “About EDI”: carry on where you left off, "
        "type **cancel** to stop it, or **menu** for the menu.",
        "The Public Sector Equality Duty",  # the question it was waiting on, asked again
    ]
    assert "Who does what" in only(await chat.say("who"))


async def test_a_turn_that_changes_nothing_writes_nothing(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    async def stored() -> list[tuple[str, str]]:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT key, etag FROM bot_state"))
            return [(key, etag) for key, etag in rows]

    await chat.say("hi")
    first = await stored()  # botbuilder records an empty dialog stack on first contact
    await chat.say("hi")
    assert await stored() == first
    await chat.say("about")
    [(key, etag)] = await stored()
    await chat.tap(["not", "a", "command"])  # answered, but the dialog is untouched
    assert await stored() == [(key, etag)]
    await chat.say("duty")
    assert (await stored())[0][1] != etag
