"""People's own sentences in the chat: reaching the feature, guesses, small talk, harm words.

Driven through the real bot (tests.harness), on both databases, asserting what the person
sees: never "Sorry, I didn't understand" with nothing to press.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.session import unit_of_work
from bot.privacy.roles import Role, grant_role
from tests.cards import buttons, elements, visible_text
from tests.harness import BotHarness

DANGER = "in danger right now?"
EVERYTHING = "Show me everything"


@pytest.fixture
def chat(settings: Settings, engine: AsyncEngine) -> BotHarness:
    return BotHarness(settings, engine)


def seen(replies: list[Any]) -> str:
    return "\n".join(visible_text(reply) for reply in replies)


def titles(replies: list[Any]) -> list[str]:
    return [title for reply in replies for title, _ in buttons(reply)]


async def press(chat: BotHarness, replies: list[Any], title: str) -> list[Any]:
    """Press the button titled `title` on the replies shown."""
    for reply in replies:
        for shown, data in buttons(reply):
            if shown == title:
                return await chat.tap(data)
    raise AssertionError(f"no {title!r} among {titles(replies)}")


@pytest.mark.parametrize(
    "sentence",
    [
        "I want to report racism",
        "hate crime",
        "racist abuse",
        "Report a hate incident",
    ],
)
async def test_asking_to_report_in_plain_words_starts_the_report(
    chat: BotHarness, sentence: str
) -> None:
    assert DANGER in seen(await chat.say(sentence))


@pytest.mark.parametrize(
    "sentence",
    [
        "I was harassed at work",
        "a customer called me a horrible name because of my religion",
        "my manager keeps mocking my accent and I'm scared to go in",
    ],
)
async def test_words_of_harm_reach_the_report_or_offer_it_first_with_999(
    chat: BotHarness, sentence: str
) -> None:
    replies = await chat.say(sentence)
    shown = seen(replies)
    if DANGER not in shown:
        assert "999" in shown
        assert titles(replies)[0] == "Report a hate incident"
        assert DANGER in seen(await chat.tap({"command": "report"}))
    assert "didn't understand" not in shown


async def test_i_need_help_is_never_a_dead_end(chat: BotHarness) -> None:
    replies = await chat.say("I need help")
    assert "Report a hate incident" in titles(replies) or DANGER in seen(replies)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Equality information", "Equality information about you"),
        ("Check a report", "reference"),
        ("what's in this month's newsletter", "bulletin"),
    ],
)
async def test_the_menus_own_titles_and_plain_requests_start_the_feature(
    chat: BotHarness, sentence: str, expected: str
) -> None:
    assert expected.lower() in seen(await chat.say(sentence)).lower()


@pytest.mark.parametrize(
    "sentence",
    ["thanks", "thank you so much!", "ok", "hello there", "\U0001f44d\U0001f3fd", "\U0001f64f"],
)
async def test_small_talk_gets_a_friendly_answer_and_the_menu_never_a_report(
    chat: BotHarness, sentence: str
) -> None:
    replies = await chat.say(sentence)
    shown = seen(replies)
    assert DANGER not in shown
    assert "Hello, I'm the EDI bot" in shown  # the menu follows
    assert "Report a hate incident" in titles(replies)


async def test_words_that_match_nothing_offer_everything_rather_than_a_dead_end(
    chat: BotHarness,
) -> None:
    replies = await chat.say("zxqv blorp")
    shown = seen(replies)
    assert "didn't understand" not in shown
    assert EVERYTHING in titles(replies)
    assert "Hello, I'm the EDI bot" in seen(await chat.tap({"command": "menu"}))


@pytest.mark.parametrize("sentence", ["\U0001f44d\U0001f622", "\U0001f937"])
async def test_emoji_that_mean_no_one_thing_are_not_guessed_at(
    chat: BotHarness, sentence: str
) -> None:
    replies = await chat.say(sentence)
    assert "You're welcome" not in seen(replies) and "OK." not in seen(replies)
    assert EVERYTHING in titles(replies)


async def test_features_for_a_role_are_neither_started_nor_offered_without_it(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    replies = await chat.say("show me this quarter's workforce equality report for HR")
    assert "Workforce equality report" not in titles(replies)
    assert "only for people with the hr role" not in seen(replies)
    async with unit_of_work(chat.runtime.sessions) as session:
        await grant_role(
            session, role=Role.HR, person=chat.user.aad_object_id, tenant_id=None, granted_by="t"
        )
    again = await chat.say("show me this quarter's workforce equality report for HR")
    assert "Workforce equality" in seen(again)


async def test_mid_conversation_another_feature_in_own_words_is_offered_and_nothing_lost(
    chat: BotHarness,
) -> None:
    await chat.say("about")
    replies = await chat.say("actually I want to report racism")
    assert "Go to “Report a hate incident”" in titles(replies)
    assert "Carry on with “About EDI”" in titles(replies)
    back = await chat.tap({"command": "carry on"})
    assert "What would you like to know about?" in seen(back)


async def test_small_talk_mid_conversation_answers_and_offers_the_way_back(
    chat: BotHarness,
) -> None:
    await chat.say("about")
    replies = await chat.say("ok cool")
    assert seen(replies).startswith("OK.")
    assert "Carry on with “About EDI”" in titles(replies)
    assert DANGER not in seen(replies)


async def test_menu_mid_report_says_the_draft_is_kept_and_how_to_carry_on(
    chat: BotHarness,
) -> None:
    asked = await chat.say("report")
    await press(chat, asked, "No, nobody is in danger now")
    replies = await chat.say("menu")
    shown = seen(replies)
    assert "kept your answers so far" in shown
    assert "**report**" in shown
    assert "Hello, I'm the EDI bot" in shown


async def test_what_they_typed_about_harm_starts_the_story_of_what_happened(
    chat: BotHarness,
) -> None:
    said = "my manager keeps mocking my accent and I'm scared to go in"
    replies = await chat.say(said)
    if DANGER not in seen(replies):
        replies = await press(chat, replies, "Report a hate incident")
    replies = await press(chat, replies, "No, nobody is in danger now")
    replies = await press(chat, replies, "Confidentially")
    replies = await press(chat, replies, "It happened to me")
    assert "I've started this with what you typed earlier" in seen(replies)
    boxes = [
        element
        for reply in replies
        for element in elements(reply)
        if element.get("id") == "narrative"
    ]
    assert boxes and boxes[0]["value"] == said
