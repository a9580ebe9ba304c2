"""Self-declaration: the conversation as a person has it, and what is stored (SQLite and
PostgreSQL), through the real runtime in-process."""

from __future__ import annotations

import base64
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import Content, ContentError
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.session import unit_of_work
from bot.declarations.factory import taxonomy_of
from bot.declarations.repo import (
    count_declarations,
    countable_answers,
    countable_answers_query,
)
from bot.declarations.review import REVIEW_KIND, ReviewPrompter
from bot.declarations.service import today_utc
from bot.declarations.taxonomy import Answer, load_taxonomy
from bot.features import FEATURES
from bot.outbox.queue import payload_context
from bot.privacy.crypto import FieldCipher, Sealed
from bot.privacy.keys import Keys
from bot.privacy.rotation import key_usage, rotate
from bot.privacy.subject_access import erase_person, export_person
from scheduler.jobs import declaration_review_prompts
from tests.harness import TEST_ENCRYPTION_KEYS, BotHarness
from tests.teams import TeamsUser

OWN_WORDS = "Heron-4821 pansexual and proud"
TAXONOMY = taxonomy_of(Content(DEFAULT_CONTENT_DIR))

# ---- reading replies ------------------------------------------------------------------------


def _card_bodies(activity: Any) -> list[dict[str, Any]]:
    data = activity if isinstance(activity, dict) else activity.serialize()
    return [
        a["content"]
        for a in data.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def _walk(elements: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for element in elements or []:
        if isinstance(element, dict):
            found.append(element)
            found.extend(_walk(element.get("items", [])))
    return found


def seen(replies: list[Any]) -> str:
    """Everything the person can read in these replies: text, TextBlocks and facts."""
    lines: list[str] = []
    for activity in replies:
        data = activity if isinstance(activity, dict) else activity.serialize()
        if data.get("text"):
            lines.append(str(data["text"]))
        for card in _card_bodies(activity):
            for element in _walk(card.get("body", [])):
                if element.get("type") == "TextBlock":
                    lines.append(str(element["text"]))
                if element.get("type") == "FactSet":
                    lines.extend(f"{f['title']}: {f['value']}" for f in element["facts"])
    return "\n".join(lines)


def buttons(replies: list[Any]) -> dict[str, Any]:
    """Title -> data of every Action.Submit, in the body (ActionSets) or the card's actions."""
    found: dict[str, Any] = {}
    for activity in replies:
        for card in _card_bodies(activity):
            actions = [
                action
                for element in _walk(card.get("body", []))
                if element.get("type") == "ActionSet"
                for action in element["actions"]
            ]
            for action in [*actions, *card.get("actions", [])]:
                if action.get("type") == "Action.Submit":
                    found[action["title"]] = action.get("data")
    return found


def links(replies: list[Any]) -> dict[str, str]:
    """Title -> url of every Action.OpenUrl on the replies' cards."""
    return {
        action["title"]: action["url"]
        for activity in replies
        for card in _card_bodies(activity)
        for action in card.get("actions", [])
        if action.get("type") == "Action.OpenUrl"
    }


def inputs(replies: list[Any]) -> dict[str, dict[str, Any]]:
    """Id -> element of every input on the replies' cards."""
    return {
        element["id"]: element
        for activity in replies
        for card in _card_bodies(activity)
        for element in _walk(card.get("body", []))
        if str(element.get("type", "")).startswith("Input.")
    }


def form_data(replies: list[Any]) -> dict[str, Any]:
    """The data of the card's form button (the one that carries a token)."""
    [data] = [d for d in buttons(replies).values() if isinstance(d, dict) and "form" in d]
    return dict(data)


# ---- the database --------------------------------------------------------------------------


async def query(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def counted(engine: AsyncEngine) -> dict[str, dict[str, str]]:
    async with create_sessionmaker(engine)() as session:
        found = await countable_answers(session)
    return {p: {q: a.code for q, a in answers.items()} for p, answers in found.items()}


@pytest.fixture
def chat(settings: Settings, engine: AsyncEngine) -> BotHarness:
    return BotHarness(settings, engine)


def pseudonym(chat: BotHarness) -> str:
    person = PersonKey(chat.user.tenant_id, chat.user.aad_object_id)
    return chat.runtime.privacy.pseudonyms.of(person)


async def declare_one_at_a_time(chat: BotHarness) -> list[Any]:
    """Answer every question one at a time (buttons and typing, skips, own words); save."""
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:35_44"})
    await chat.say("Female")
    await chat.say("skip")  # gender identity
    await chat.tap({"choice": "sexual_orientation:other"})
    await chat.say(OWN_WORDS)
    await chat.tap({"choice": "ethnic_group:group:asian"})
    await chat.tap({"choice": "ethnic_group:asian_indian"})
    await chat.say("Prefer not to say")  # religion
    await chat.tap({"choice": "disability:yes"})
    await chat.tap({"choice": "disability_impact:a_little"})
    await chat.say("skip")  # marital status
    await chat.tap({"choice": "pregnancy_maternity:no"})
    await chat.tap({"choice": "caring:up_to_9"})
    return await chat.tap({"choice": "save"})


# ---- the taxonomy (pure) --------------------------------------------------------------------


def test_every_question_explains_itself_and_offers_prefer_not_to_say() -> None:
    assert TAXONOMY.version
    for question in TAXONOMY.questions:
        assert question.why and question.standard and question.question
        assert question.options[-1].code == "prefer_not_to_say"
        assert question.options[-1].label == "Prefer not to say"
    ethnic = TAXONOMY.question("ethnic_group")
    assert ethnic is not None
    assert len(ethnic.options) == 19 + 1 and len(ethnic.groups) == 5
    describable = {q.id for q in TAXONOMY.questions if any(o.describe for o in q.options)}
    assert describable == {"gender_identity", "sexual_orientation", "ethnic_group", "religion"}
    impact = TAXONOMY.question("disability_impact")
    assert impact is not None and not impact.applies({"disability": "no"})
    assert impact.applies({"disability": "yes"})


def test_answers_outside_the_lists_are_named_and_nothing_passes() -> None:
    problems = TAXONOMY.problems(
        {
            "sex": Answer("intersex"),
            "religion": Answer("christian", "a description it doesn't take"),
            "nonsense": Answer("x"),
            "disability_impact": Answer("a_lot"),
            "sexual_orientation": Answer("other", "x" * 201),
        }
    )
    assert {p.question for p in problems} == {
        "sex",
        "religion",
        "nonsense",
        "disability_impact",
        "sexual_orientation",
    }
    assert TAXONOMY.problems({"sex": Answer("female"), "religion": Answer("other", "Pagan")}) == []


def test_a_malformed_taxonomy_is_refused_with_a_reason() -> None:
    raw = yaml.safe_load((DEFAULT_CONTENT_DIR / "declarations" / "taxonomy.yaml").read_text())
    raw["questions"][1]["options"].append({"code": "female", "label": "Again"})
    with pytest.raises(ContentError, match="repeats a code"):
        load_taxonomy(raw)
    raw = yaml.safe_load((DEFAULT_CONTENT_DIR / "declarations" / "taxonomy.yaml").read_text())
    raw["questions"][0]["part"] = "nowhere"
    with pytest.raises(ContentError, match="unknown part"):
        load_taxonomy(raw)


# ---- declaring ----------------------------------------------------------------------------


async def test_the_privacy_notice_comes_first_and_nothing_is_stored_yet(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    replies = await chat.say("declare")
    shown = seen(replies)
    assert shown.startswith("Equality information about you")
    assert "voluntary" in shown
    assert "Schedule 1, paragraph 8" in shown
    assert "Who sees your answers:** nobody" in shown
    assert "small numbers hidden" in shown
    assert "**How long:**" in shown and "delete all of it" in shown
    assert list(buttons(replies)) == ["One question at a time", "A form for each part", "Not now"]
    replies = await chat.tap({"choice": "not now"})
    assert seen(replies).startswith("That's fine.")
    assert await query(engine, "SELECT * FROM declarations") == []


async def test_declaring_one_question_at_a_time_stores_codes_under_the_pseudonym(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await chat.say("declare")
    first = await chat.tap({"choice": "one at a time"})
    assert "Question 1 of 10" in seen(first)
    assert "Why we ask: Age is a protected characteristic" in seen(first)
    assert "Prefer not to say" in buttons(first)
    assert buttons(first)["Skip this question"] == {"choice": "skip"}
    replies = await chat.tap({"choice": "age_band:35_44"})
    assert "What is your sex?" in seen(replies)
    await chat.say("Female")
    await chat.say("skip")
    replies = await chat.tap({"choice": "sexual_orientation:other"})
    assert "In your own words (optional)" in seen(replies)
    replies = await chat.say(OWN_WORDS)
    assert "First, which group best describes you?" in seen(replies)
    replies = await chat.tap({"choice": "ethnic_group:group:asian"})
    assert "Asian or Asian British: which of these" in seen(replies)
    assert "Pakistani" in buttons(replies) and "Irish" not in buttons(replies)
    await chat.tap({"choice": "ethnic_group:asian_indian"})
    await chat.say("prefer not to say")
    replies = await chat.tap({"choice": "disability:yes"})
    # The follow-up keeps its question's number: the total never jumps mid-way.
    assert "Question 7 of 10, a follow-up to your answer" in seen(replies)
    replies = await chat.tap({"choice": "disability_impact:a_little"})
    assert "Question 8 of 10" in seen(replies)
    await chat.say("skip")
    await chat.tap({"choice": "pregnancy_maternity:no"})
    summary = await chat.tap({"choice": "caring:up_to_9"})
    shown = seen(summary)
    assert shown.startswith("Check your answers")
    assert "Age: 35 to 44" in shown
    assert "Gender identity: Not answered" in shown
    assert f'Sexual orientation: Other sexual orientation: "{OWN_WORDS}"' in shown
    assert "Religion or belief: Prefer not to say" in shown
    assert "Effect on day-to-day activities: Yes, a little" in shown
    assert await query(engine, "SELECT * FROM declarations") == []  # not until saved

    saved = await chat.tap({"choice": "save"})
    assert seen(saved).startswith("Saved. Thank you")
    stored = await query(
        engine,
        "SELECT pseudonym, question, code, taxonomy_version FROM declaration_answers"
        " ORDER BY question",
    )
    assert {(q, c) for _, q, c, _ in stored} == {
        ("age_band", "35_44"),
        ("sex", "female"),
        ("sexual_orientation", "other"),
        ("ethnic_group", "asian_indian"),
        ("religion", "prefer_not_to_say"),
        ("disability", "yes"),
        ("disability_impact", "a_little"),
        ("pregnancy_maternity", "no"),
        ("caring", "up_to_9"),
    }
    assert {p for p, _, _, _ in stored} == {pseudonym(chat)}
    assert {v for _, _, _, v in stored} == {TAXONOMY.version}
    [(sealed, key_id, description_id)] = await query(
        engine, "SELECT text, key_id, id FROM declaration_descriptions"
    )
    assert OWN_WORDS not in sealed
    opened = chat.runtime.privacy.cipher.open(
        Sealed(key_id, sealed), context=f"declaration_descriptions:{description_id}"
    )
    assert opened == OWN_WORDS
    events = [e for (e,) in await query(engine, "SELECT event FROM declaration_history")]
    assert events == ["declared", *["answered"] * 9]
    assert (await counted(engine))[pseudonym(chat)]["sex"] == "female"


async def test_menu_steps_aside_declare_resumes_and_cancel_throws_the_draft_away(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:25_34"})
    replies = await chat.say("menu")
    assert "Hello, I'm the EDI bot" in seen(replies)
    replies = await chat.say("my data")
    assert seen(replies).startswith("You have answers you haven't saved yet")
    replies = await chat.tap({"choice": "carry on"})
    assert "Question 2 of 10" in seen(replies)
    assert "What is your sex?" in seen(replies)
    replies = await chat.tap({"choice": "back"})
    assert "Your answer now: 25 to 34" in seen(replies)
    # The chat reopened mid-question: welcomed back to the same question.
    replies = await chat.send(chat.user.bot_added(chat.SERVICE_URL))
    assert seen(replies).startswith("Welcome back. We were in the middle of “Equality")
    assert "Which age group are you in?" in seen(replies)
    await chat.say("finish later")
    replies = await chat.say("declare")
    assert "You have answers you haven't saved yet" in seen(replies)
    await chat.tap({"choice": "carry on"})
    replies = await chat.say("cancel")
    assert seen(replies).startswith("OK, I've stopped “Equality information”")
    replies = await chat.say("declare")
    assert seen(replies).startswith("Equality information about you")  # the draft is gone
    assert await query(engine, "SELECT * FROM declarations") == []


async def test_forms_one_card_per_part_with_stale_and_forged_forms_refused(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await chat.say("declare")
    replies = await chat.tap({"choice": "forms"})
    assert "Part 1 of 4" in seen(replies)
    assert set(inputs(replies)) == {
        "age_band",
        "sex",
        "gender_identity",
        "gender_identity_words",
        "sexual_orientation",
        "sexual_orientation_words",
    }
    assert "prefer_not_to_say" in [c["value"] for c in inputs(replies)["sex"]["choices"]]
    first = form_data(replies)
    assert first["form"] == "declaration_part" and first["version"] == TAXONOMY.version

    # A forged code: nothing from the form is kept, and the person is told which.
    forged = {**first, "age_band": "25_34", "sex": "intersex"}
    replies = await chat.tap(forged)
    assert "I couldn't use that form: Sex has an answer that isn't on the current list" in seen(
        replies
    )
    assert inputs(replies)["age_band"]["value"] == "25_34"  # what they gave is shown again

    good = {**first, "age_band": "25_34", "sex": "male", "gender_identity": "no"}
    good["gender_identity_words"] = "Non-binary"
    replies = await chat.tap(good)
    assert "Part 2 of 4" in seen(replies)
    # The same form again (a double tap, or an old card): recognised, not applied twice.
    replies = await chat.tap({**good, "sex": "female"})
    assert seen(replies).startswith("That card is out of date")
    second = form_data(replies)
    # A form from an older list of answers.
    replies = await chat.tap({**second, "version": "1999.1", "religion": "none"})
    assert seen(replies).startswith("The list of answers has changed")
    await chat.tap({**second, "ethnic_group": "white_irish", "religion": "none"})
    replies = await chat.tap({"choice": "skip"})  # health
    assert "Part 4 of 4" in seen(replies)
    summary = await chat.tap({**form_data(replies), "marital_status": "married"})
    shown = seen(summary)
    assert "Sex: Male" in shown
    assert 'Gender identity: No: "Non-binary"' in shown
    assert "Ethnic group: Irish" in shown
    assert "Long-term health condition: Not answered" in shown
    await chat.tap({"choice": "save"})
    assert (await counted(engine))[pseudonym(chat)] == {
        "age_band": "25_34",
        "sex": "male",
        "gender_identity": "no",
        "ethnic_group": "white_irish",
        "religion": "none",
        "marital_status": "married",
    }


async def test_answers_not_on_the_list_or_for_another_question_are_refused(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:45_54"})
    replies = await chat.tap({"choice": "sex:intersex"})  # not on the list: forged or old
    assert seen(replies).startswith("The list of answers has changed")
    assert "What is your sex?" in seen(replies)
    replies = await chat.tap({"choice": "age_band:16_24"})  # the previous question's card
    assert seen(replies).startswith("That button was for a different question")
    replies = await chat.say("purple")
    assert seen(replies).startswith('Sorry, "purple" isn\'t one of the answers')
    replies = await chat.tap({"form": "declaration_part", "token": "guessed", "sex": "male"})
    assert seen(replies).startswith("That card is out of date")
    replies = await chat.say("2")
    assert "Is the gender you identify with" in seen(replies)
    await chat.say("finish later")
    [state] = await query(engine, "SELECT document FROM bot_state")
    assert "male" not in state[0]  # the draft is in encrypted state, not readable
    assert await query(engine, "SELECT * FROM declaration_answers") == []


async def test_a_double_tap_on_save_saves_once(chat: BotHarness, engine: AsyncEngine) -> None:
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:45_54"})
    for _ in range(9):
        replies = await chat.say("skip")
    assert seen(replies).startswith("Check your answers")
    await chat.tap({"choice": "save"})
    replies = await chat.tap({"choice": "save"})
    assert "already finished" in seen(replies)
    assert len(await query(engine, "SELECT * FROM declarations")) == 1
    assert len(await query(engine, "SELECT * FROM declaration_history")) == 2


async def test_equality_information_is_only_asked_in_a_one_to_one_chat(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    group = chat.user.message("<at>EDI bot</at> declare", chat.SERVICE_URL)
    group["conversation"]["conversationType"] = "groupChat"
    replies = await chat.send(group)
    assert seen(replies).startswith("For your privacy I only ask about equality information")


# ---- my data --------------------------------------------------------------------------------


async def test_my_data_shows_what_is_held_and_changes_one_answer(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    replies = await chat.say("my data")
    shown = seen(replies)
    assert shown.startswith("Your equality information")
    assert "Sex: Female" in shown
    assert "Gender identity: Not answered" in shown
    assert f'Sexual orientation: Other sexual orientation: "{OWN_WORDS}"' in shown
    assert "Your answers are counted" in shown
    replies = await chat.tap({"choice": "change"})
    assert "Sex (now: Female)" in buttons(replies)
    replies = await chat.tap(buttons(replies)["Long-term health condition (now: Yes)"])
    assert "Changing one answer" in seen(replies)
    summary = await chat.tap({"choice": "disability:no"})
    shown = seen(summary)
    assert shown.startswith("Check your change")
    assert "Long-term health condition: No (changed)" in shown
    assert "Effect on day-to-day activities" not in shown  # no longer applies
    replies = await chat.tap({"choice": "save"})
    assert seen(replies).startswith("Saved: 2 answer(s) changed")
    answers = (await counted(engine))[pseudonym(chat)]
    assert answers["disability"] == "no" and "disability_impact" not in answers
    replies = await chat.say("my data")
    replies = await chat.tap({"choice": "history"})
    shown = seen(replies)
    assert "Changed Long-term health condition from Yes to No" in shown
    assert "Removed your answer to Effect on day-to-day activities" in shown


async def test_get_a_copy_gives_a_link_and_a_summary_and_never_the_pseudonym(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    await chat.say("my data")
    replies = await chat.tap({"choice": "export"})  # "Get a copy"
    shown = seen(replies)
    assert shown.startswith("A copy of everything held about you")
    # What the file holds, in words.
    for held in ("your equality information", "any adjustments you asked for", "bulletin"):
        assert held in shown, held
    assert (
        "reports you made confidentially or with your name; private records you kept; roles"
        in shown
    )
    assert "works for 15 minutes" in shown
    assert "Would you like a short summary here as well?" in shown
    [(title, url)] = links(replies).items()
    assert title == "Download my data"
    assert re.fullmatch(r"http://127\.0\.0\.1:3978/my-data/[A-Za-z0-9_-]{100,}", url)
    assert buttons(replies) == {
        "Show a summary here": {"choice": "copy:summary"},
        "Back to my data": {"choice": "copy:back"},
        "Done": {"choice": "copy:done"},
    }
    replies = await chat.tap({"choice": "copy:summary"})
    shown = seen(replies)
    assert shown.startswith("A short summary of what's held about you")
    assert "Sex: Female" in shown
    assert f'Sexual orientation: Other sexual orientation: "{OWN_WORDS}"' in shown
    assert "Counted in statistics: Yes" in shown
    assert "Events you signed up for: None" in shown
    assert "Reports you made confidentially or with your name: None" in shown
    assert "Bulletin: You're sent it each month" in shown
    assert buttons(replies) == {"Back to my data": {"command": "my data"}}
    # And from the summary, back to my data and the history: the same, still nothing coded.
    await chat.tap({"command": "my data"})
    await chat.tap({"choice": "history"})
    # A fresh link each time; "Back to my data" from the copy card.
    again = await chat.say("export my data")
    assert list(links(again).values()) != [url]
    assert seen(await chat.tap({"choice": "copy:back"})).startswith("Your equality information")
    # The keyed pseudonym links all of a person's records: it is never shown to anyone.
    everything = json.dumps([activity.serialize() for activity in chat.sent])
    assert pseudonym(chat) not in everything
    assert pseudonym(chat)[:8] not in everything
    assert "Your coded reference" not in seen(chat.sent)


async def test_a_copy_is_offered_without_a_declaration_and_never_in_a_group_chat(
    chat: BotHarness,
) -> None:
    replies = await chat.say("export my data")
    assert seen(replies).startswith("A copy of everything held about you")
    assert list(links(replies)) == ["Download my data"]
    assert "Back to my data" not in buttons(replies)
    replies = await chat.say("show a summary")
    shown = seen(replies)
    assert "Your equality information: You haven't given any." in shown
    assert buttons(replies) == {}
    replies = await chat.say("export my data")
    assert "Done" in buttons(replies)
    assert seen(await chat.say("done")).startswith("OK. Type **my data**")

    group = chat.user.message("<at>EDI bot</at> export my data", chat.SERVICE_URL)
    group["conversation"]["conversationType"] = "groupChat"
    replies = await chat.send(group)
    assert seen(replies).startswith("For your privacy I only ask about equality information")
    assert links(replies) == {} and "/my-data/" not in json.dumps([r.serialize() for r in replies])


async def test_objecting_keeps_the_answers_but_no_aggregate_counts_them(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    other = BotHarness(chat.runtime.settings, engine, TeamsUser(name="Sam Patel"))
    await declare_one_at_a_time(other)
    assert set(await counted(engine)) == {pseudonym(chat), pseudonym(other)}

    await chat.say("my data")
    replies = await chat.tap({"choice": "object"})
    assert "paragraph 8(5)" in seen(replies)
    replies = await chat.tap({"choice": "object:yes"})
    assert seen(replies).startswith("Done: your answers are kept but won't be counted")
    assert set(await counted(engine)) == {pseudonym(other)}
    async with create_sessionmaker(engine)() as session:
        assert await count_declarations(session) == {"declarations": 2, "objecting": 1}
    # The query form, grouped in SQL as an aggregate would: the objector is not in it.
    answers = countable_answers_query().subquery()
    by_sex = (
        select(answers.c.code, func.count())
        .where(answers.c.question == "sex")
        .group_by(answers.c.code)
    )
    async with engine.connect() as connection:
        assert list(await connection.execute(by_sex)) == [("female", 1)]
    assert len(await query(engine, "SELECT * FROM declaration_answers")) == 18  # kept
    replies = await chat.say("my data")
    assert "You asked on" in seen(replies) and "not counted" in seen(replies)
    assert "Count my answers again" in buttons(replies)
    replies = await chat.tap({"choice": "count again"})
    assert seen(replies).startswith("Done: your answers will be counted again")
    assert set(await counted(engine)) == {pseudonym(chat), pseudonym(other)}


async def test_withdrawing_deletes_everything_after_confirmation(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    replies = await chat.say("delete my data")
    shown = seen(replies)
    assert shown.startswith("Delete all your equality information?")
    assert "your 9 answer(s)" in shown and "can't be undone" in shown
    replies = await chat.tap({"choice": "withdraw:no"})
    assert seen(replies) == "OK, nothing has been deleted."
    assert pseudonym(chat) in await counted(engine)

    await chat.say("my data")
    await chat.tap({"choice": "delete"})
    replies = await chat.tap({"choice": "withdraw:yes"})
    assert seen(replies).startswith("Done: I've deleted all your equality information")
    for table in (
        "declarations",
        "declaration_answers",
        "declaration_descriptions",
        "declaration_history",
    ):
        assert await query(engine, f"SELECT * FROM {table}") == [], table
    assert await counted(engine) == {}
    replies = await chat.say("my data")
    assert seen(replies).startswith("Equality information about you")  # a fresh start


async def test_withdrawing_while_a_change_is_open_removes_the_draft_too(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    await chat.say("my data")
    await chat.tap({"choice": "change"})
    await chat.tap({"choice": "pick:sex"})  # a change draft is now open, on the sex question
    await chat.say("delete my data")
    replies = await chat.tap({"choice": "withdraw:no"})  # back to where they were
    assert seen(replies).startswith("OK, nothing has been deleted.")
    assert "What is your sex?" in seen(replies)
    replies = await chat.say("delete my data")
    shown = seen(replies)
    assert "This also deletes the answers you haven't saved yet." in shown
    replies = await chat.tap({"choice": "withdraw:yes"})
    assert "and the answers you hadn't saved yet" in seen(replies)
    assert await query(engine, "SELECT * FROM declaration_answers") == []
    replies = await chat.say("declare")
    assert seen(replies).startswith("Equality information about you")  # no resume offered


async def test_withdrawing_an_unsaved_draft_only(chat: BotHarness, engine: AsyncEngine) -> None:
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:25_34"})
    await chat.say("menu")
    replies = await chat.say("delete my data")
    assert "your" not in seen(replies).split("\n")[1]  # no saved answers to mention
    replies = await chat.tap({"choice": "withdraw:yes"})
    assert seen(replies).startswith("Done: you hadn't saved anything yet")
    replies = await chat.say("delete my data")
    assert seen(replies).startswith("I don't hold any equality information about you")


async def test_a_card_naming_another_person_is_refused_and_changes_nothing(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    victim = BotHarness(chat.runtime.settings, engine, TeamsUser(name="Sam Patel"))
    await declare_one_at_a_time(victim)
    before = await counted(engine)
    replies = await chat.tap({"command": "my data", "pseudonym": pseudonym(victim)})
    assert seen(replies).startswith("That card carries someone else's details")
    await chat.say("declare")
    replies = await chat.tap({"form": "declaration_part", "pseudonym": pseudonym(victim)})
    assert seen(replies).startswith("That card carries someone else's details")
    await chat.tap({"choice": "forms"})
    replies = await chat.tap({"choice": "delete", "aadObjectId": victim.user.aad_object_id})
    assert "That card carries someone else's details" in seen(replies)
    assert await counted(engine) == before


# ---- privacy of what is stored ------------------------------------------------------------


async def test_no_table_holds_a_raw_identifier_for_a_declarant(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    """Only conversation_references (how to reach the person: tenant, Entra id, conversation,
    and the reference Teams gave, without their name), people_names' key (whose name it is;
    the name is sealed) and bot_state's key (botbuilder keys state by conversation id; the
    document is encrypted) may hold an identifier. The name is nowhere in plain text, and
    nothing declared may be readable anywhere."""
    await chat.send(chat.user.installed(chat.SERVICE_URL))
    await declare_one_at_a_time(chat)
    await chat.say("my data")  # leaves a conversation in progress, too
    user = chat.user
    identifiers = {
        "entra id": user.aad_object_id,
        "teams user id": user.user_id,
        "name": user.name,
        "conversation id": user.conversation_id,
    }
    readable = {"own words": OWN_WORDS}

    def scan(connection: Connection) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f"SELECT * FROM {table}")).mappings()
            for row in rows:
                for column, value in row.items():
                    for what, needle in {**identifiers, **readable}.items():
                        if value is not None and needle.lower() in str(value).lower():
                            found.setdefault(what, set()).add(f"{table}.{column}")
        return found

    async with engine.connect() as connection:
        found = await connection.run_sync(scan)
    assert found.pop("own words", set()) == set()
    allowed = {
        "conversation_references.aad_object_id",
        "conversation_references.conversation_id",
        "conversation_references.reference",
        "people_names.aad_object_id",
        "people_names.person",
        "bot_state.key",
    }
    assert set().union(*found.values()) <= allowed, found
    assert "name" not in found, found
    assert "declarations.pseudonym" not in set().union(*found.values())
    [(stored,)] = await query(engine, "SELECT pseudonym FROM declarations")
    assert stored == pseudonym(chat) and len(stored) == 64


async def test_people_export_and_erase_include_the_declaration(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    privacy = chat.runtime.privacy
    ids = {"tenant_id": chat.user.tenant_id, "aad_object_id": chat.user.aad_object_id}
    async with create_sessionmaker(engine)() as session:
        exported = await export_person(session, privacy, FEATURES, **ids)
    declaration = exported["equality_declaration"]
    assert declaration["pseudonym"] == pseudonym(chat)
    assert declaration["answers"]["sexual_orientation"]["description"] == OWN_WORDS
    assert declaration["answers"]["sex"] == {
        "code": "female",
        "taxonomy_version": TAXONOMY.version,
        "answered_on": declaration["declared_on"],
        "description": None,
    }
    assert declaration["history"][0]["event"] == "declared"
    async with unit_of_work(create_sessionmaker(engine)) as session:
        counts, _ = await erase_person(session, privacy, FEATURES, **ids)
    assert counts["equality_declaration_rows"] == 1 + 9 + 1 + 10
    assert await query(engine, "SELECT * FROM declaration_history") == []
    assert await counted(engine) == {}


async def test_key_rotation_reencrypts_self_descriptions(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await declare_one_at_a_time(chat)
    old = chat.runtime.privacy.keys
    new_key = base64.b64decode(TEST_ENCRYPTION_KEYS.split(":")[1])[::-1]
    rotated = FieldCipher(
        Keys(
            encryption={"knew": new_key, **old.encryption},
            active_id="knew",
            pseudonym=old.pseudonym,
        )
    )
    await rotate(create_sessionmaker(engine), rotated, FEATURES)
    async with create_sessionmaker(engine)() as session:
        usage = await key_usage(session, FEATURES)
    assert usage["declaration_descriptions.text"] == {"knew": 1}
    [(sealed, description_id)] = await query(
        engine, "SELECT text, id FROM declaration_descriptions"
    )
    assert (
        rotated.open(Sealed("knew", sealed), context=f"declaration_descriptions:{description_id}")
        == OWN_WORDS
    )


# ---- the annual review prompt ----------------------------------------------------------------


async def test_the_review_prompt_goes_through_the_outbox_to_those_due_and_reveals_nothing(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    runtime = chat.runtime
    recent = BotHarness(runtime.settings, engine, TeamsUser(name="Recent Declarer"))
    unreachable = BotHarness(runtime.settings, engine, TeamsUser(name="Since Uninstalled"))
    never = BotHarness(runtime.settings, engine, TeamsUser(name="Never Declared"))
    for harness in (chat, recent, never, unreachable):
        await harness.send(harness.user.installed(harness.SERVICE_URL))
    for harness in (chat, recent, unreachable):
        await declare_one_at_a_time(harness)
    await unreachable.send(unreachable.user.uninstalled(unreachable.SERVICE_URL))
    year_ago = today_utc() - timedelta(days=400)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE declarations SET reviewed_on = :on WHERE pseudonym != :recent"),
            {"on": year_ago, "recent": pseudonym(recent)},
        )
    prompter = ReviewPrompter(
        content=runtime.content,
        pseudonyms=runtime.privacy.pseudonyms,
        outbox=runtime.outbox,
        after_days=runtime.settings.declaration_review_days,
    )
    sessions = create_sessionmaker(engine)

    run = await declaration_review_prompts(sessions, prompter)
    assert (run.due, run.prompted, run.unreachable) == (2, 1, 1)
    messages = await query(engine, "SELECT id, kind, payload, key_id FROM outbox_messages")
    [(message_id, kind, payload, key_id)] = messages
    assert kind == REVIEW_KIND
    delivered_to = await query(
        engine,
        "SELECT r.aad_object_id FROM outbox_deliveries d "
        "JOIN conversation_references r ON r.id = d.reference_id",
    )
    assert delivered_to == [(chat.user.aad_object_id,)]
    activity = runtime.privacy.cipher.open(
        Sealed(key_id, payload), context=payload_context(message_id)
    )
    assert "check the equality information" in activity
    for revealing in ("Female", "female", "Indian", "35 to 44", OWN_WORDS, "disab", "sex"):
        assert revealing not in activity
    prompted = await query(
        engine, "SELECT pseudonym FROM declarations WHERE review_prompted_on IS NOT NULL"
    )
    assert prompted == [(pseudonym(chat),)]

    again = await declaration_review_prompts(sessions, prompter)  # safe to run twice
    assert (again.due, again.prompted) == (1, 0)  # only the unreachable one is still due
    assert len(await query(engine, "SELECT * FROM outbox_messages")) == 1

    # Reviewing ("it's all still right") starts the year again.
    await chat.say("my data")
    replies = await chat.tap({"choice": "still right"})
    assert seen(replies).startswith("Thank you for checking")
    [(reviewed,)] = await query(
        engine, "SELECT reviewed_on FROM declarations WHERE pseudonym = :p", p=pseudonym(chat)
    )
    assert str(reviewed) == today_utc().isoformat()


async def test_after_a_taxonomy_change_old_answers_are_shown_and_old_drafts_asked_again(
    chat: BotHarness, engine: AsyncEngine, tmp_path: Path
) -> None:
    # Saved, and a change begun, on today's lists.
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:55_64"})
    await chat.tap({"choice": "sex:male"})
    for _ in range(8):
        await chat.say("skip")
    await chat.tap({"choice": "save"})
    await chat.say("my data")
    await chat.tap({"choice": "change"})
    await chat.tap({"choice": "pick:sex"})
    await chat.say("finish later")

    # The council splits the 55 to 64 band and publishes a new version of the lists.
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    path = content / "declarations" / "taxonomy.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["version"] = "2027.1"
    ages = raw["questions"][0]["options"]
    ages[4:5] = [{"code": "55_59", "label": "55 to 59"}, {"code": "60_64", "label": "60 to 64"}]
    path.write_text(yaml.safe_dump(raw))
    later = BotHarness(chat.runtime.settings.model_copy(update={"content_dir": content}), engine)
    later.user = chat.user

    replies = await later.say("declare")
    assert "You were changing an answer" in seen(replies)
    replies = await later.tap({"choice": "carry on"})
    assert "cleared 1 answer(s) that are no longer on it" in seen(replies)
    # The stored answer still counts, with the version it was given under.
    async with create_sessionmaker(engine)() as session:
        held = (await countable_answers(session))[pseudonym(chat)]
    assert (held["age_band"].code, held["age_band"].taxonomy_version) == ("55_64", TAXONOMY.version)
    await later.say("cancel")
    replies = await later.say("my data")
    assert 'Age: an answer from an older list ("55_64")' in seen(replies)
    replies = await later.tap({"choice": "change"})
    replies = await later.tap({"choice": "pick:age_band"})
    assert "60 to 64" in buttons(replies)
    await later.tap({"choice": "age_band:60_64"})
    await later.tap({"choice": "save"})
    async with create_sessionmaker(engine)() as session:
        held = (await countable_answers(session))[pseudonym(chat)]
    assert (held["age_band"].code, held["age_band"].taxonomy_version) == ("60_64", "2027.1")
    assert held["sex"].taxonomy_version == "2027.1"  # re-recorded on the new lists


async def test_own_words_beside_an_answer_that_does_not_take_them_are_never_dropped_silently(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    await chat.say("declare")
    replies = await chat.tap({"choice": "forms"})
    label = inputs(replies)["sexual_orientation_words"]["label"]
    assert '"Other sexual orientation"' in label and "describe" not in label
    first = form_data(replies)
    # "queer" typed beside "Gay or lesbian", which takes no words: told why, kept on the form.
    replies = await chat.tap(
        {**first, "sexual_orientation": "gay_lesbian", "sexual_orientation_words": "queer"}
    )
    shown = seen(replies)
    assert 'your words "queer" for Sexual orientation need the answer' in shown
    assert '"Other sexual orientation"' in shown
    assert inputs(replies)["sexual_orientation_words"]["value"] == "queer"
    assert await query(engine, "SELECT * FROM declarations") == []
    # Words with no answer chosen at all: the same, never silently lost.
    replies = await chat.tap({**form_data(replies), "gender_identity_words": "genderfluid"})
    assert 'your words "genderfluid" for Gender identity need the answer "No"' in seen(replies)
    # Choosing the answer that takes them keeps them.
    replies = await chat.tap(
        {**form_data(replies), "sexual_orientation": "other", "sexual_orientation_words": "queer"}
    )
    assert "Part 2 of 4" in seen(replies)


async def test_the_question_counter_never_jumps(chat: BotHarness) -> None:
    await chat.say("declare")
    replies = await chat.tap({"choice": "one at a time"})
    totals, numbers = set(), []
    answers = ["age_band:35_44", "sex:female", "skip", "skip", "skip", "skip", "disability:yes"]
    for answer in [*answers, "disability_impact:a_lot", "skip"]:
        found = re.search(r"Question (\d+) of (\d+)", seen(replies))
        assert found, seen(replies)
        numbers.append(int(found.group(1)))
        totals.add(int(found.group(2)))
        replies = await (chat.tap({"choice": answer}) if ":" in answer else chat.say(answer))
    assert len(totals) == 1
    assert numbers == sorted(numbers)


async def test_my_data_works_while_the_privacy_notice_is_shown_as_it_promises(
    chat: BotHarness,
) -> None:
    notice = seen(await chat.say("declare"))
    assert "type my data at any time" in notice.lower().replace("**", "")
    replies = await chat.say("my data")
    assert "didn't follow" not in seen(replies)
    assert "I don't hold any equality information about you" in seen(replies)


async def test_cancel_says_what_it_deleted_and_what_it_kept(chat: BotHarness) -> None:
    await chat.say("declare")
    await chat.tap({"choice": "one at a time"})
    await chat.tap({"choice": "age_band:35_44"})
    replies = await chat.say("cancel")
    shown = seen(replies)
    assert "I've stopped" in shown
    assert "I've deleted the answers you hadn't saved yet" in shown
    replies = await chat.say("declare")
    assert "carry on" not in seen(replies).lower()  # really gone: no draft to resume
