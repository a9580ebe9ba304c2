"""Self-declaration end to end: the real app on a real port, Teams-shaped activities over
HTTP, replies (and the annual prompt, through the outbox) received by the stand-in
connector; SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RUNTIME_KEY
from bot.channel.transport import build_worker
from bot.config import Settings
from bot.core.logs import configure_logging
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.declarations.repo import countable_answers
from bot.declarations.review import ReviewPrompter
from bot.declarations.service import today_utc
from bot.runtime import Runtime
from scheduler.jobs import declaration_review_prompts
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.declarations.test_declarations import form_data, seen
from tests.harness import dev_settings
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

OWN_WORDS = "Kestrel-5530 Scottish Traveller heritage"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The outbox worker is drained by the test, so deliveries happen when the test says.
    return dev_settings(database_url=database_url, outbox_worker=False)


def runtime_of(service: Service) -> Runtime:
    runtime: Runtime = service.runner.app[RUNTIME_KEY]
    return runtime


async def counted(engine: AsyncEngine) -> dict[str, dict[str, str]]:
    async with create_sessionmaker(engine)() as session:
        found = await countable_answers(session)
    return {p: {q: a.code for q, a in answers.items()} for p, answers in found.items()}


async def rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_declare_skip_resume_change_export_object_and_withdraw_over_http(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    runtime = runtime_of(service)
    user = TeamsUser(name="Morgan Reid")
    chat = Chat(service, connector, user)
    pseudonym = runtime.privacy.pseudonyms.of(PersonKey(user.tenant_id, user.aad_object_id))
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        await chat.post(user.installed(connector.url))

        # Declare, by forms: the notice first, then a card per part.
        assert (await chat.say("declare")).startswith("Equality information about you")
        assert "Part 1 of 4" in await chat.press("A form for each part")
        shown = await chat.press("Next", age_band="55_64", sex="female")
        assert "Part 2 of 4" in shown
        stale = form_data(chat.last)

        # Step aside to the menu; "my data" later offers to resume where it stopped.
        assert "Hello, I'm the EDI bot" in await chat.say("menu")
        assert "You have answers you haven't saved yet" in await chat.say("my data")
        assert "Part 2 of 4" in await chat.press("Carry on")
        shown = await chat.press(
            "Next",
            ethnic_group="white_other",
            ethnic_group_words=OWN_WORDS,
            religion="prefer_not_to_say",
        )
        assert "Part 3 of 4" in shown
        # The part-2 card again (a double tap): recognised as out of date, nothing applied.
        assert (await chat.say({**stale, "religion": "sikh"})).startswith(
            "That card is out of date"
        )
        shown = await chat.press("Skip this part")  # health
        assert "Part 4 of 4" in shown
        shown = await chat.press("Check my answers", caring="no")
        assert shown.startswith("Check your answers")
        assert f'Ethnic group: Any other White background: "{OWN_WORDS}"' in shown
        assert "Long-term health condition: Not answered" in shown
        assert await counted(engine) == {}
        assert (await chat.press("Save my answers")).startswith("Saved. Thank you")
        assert await counted(engine) == {
            pseudonym: {
                "age_band": "55_64",
                "sex": "female",
                "ethnic_group": "white_other",
                "religion": "prefer_not_to_say",
                "caring": "no",
            }
        }

        # Change one answer.
        assert "Sex: Female" in await chat.say("my data")
        assert "Which answer would you like to change?" in await chat.press("Change an answer")
        assert "Changing one answer" in await chat.press("Sex (now: Female)")
        assert "Sex: Male (changed)" in await chat.press("Male")
        assert (await chat.press("Save my answers")).startswith("Saved: 1 answer(s) changed")
        assert (await counted(engine))[pseudonym]["sex"] == "male"

        # A copy: a link to the file of everything held (test_declarations_copy.py), and a
        # short summary here, their own words decrypted for them.
        shown = await chat.say("export my data")
        assert shown.startswith("A copy of everything held about you")
        [link] = [
            action["url"]
            for reply in chat.last
            for attachment in reply["attachments"]
            for action in attachment["content"]["actions"]
            if action["type"] == "Action.OpenUrl"
        ]
        token = link.rsplit("/", 1)[1]
        async with service.http.get(f"{service.base}/my-data/{token}") as response:
            assert response.status == 200
            assert OWN_WORDS in await response.text()
        shown = await chat.press("Show a summary here")
        assert shown.startswith("A short summary of what's held about you")
        assert "Sex: Male" in shown
        assert OWN_WORDS in shown
        assert pseudonym not in json.dumps(chat.last)

        # Object: kept, but counted nowhere.
        await chat.say("my data")
        assert "paragraph 8(5)" in await chat.press("Stop counting my answers")
        assert (await chat.press("Yes, stop counting them")).startswith("Done: your answers")
        assert await counted(engine) == {}
        assert await rows(engine, "declaration_answers") == 5

        # Withdraw: confirmed, then everything is gone, history included.
        shown = await chat.say("delete my data")
        assert "can't be undone" in shown
        shown = await chat.press("Yes, delete all of it")
        assert shown.startswith("Done: I've deleted all your equality information")
        for table in (
            "declarations",
            "declaration_answers",
            "declaration_descriptions",
            "declaration_history",
        ):
            assert await rows(engine, table) == 0, table
        assert await counted(engine) == {}
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    logged = stream.getvalue()
    assert "request" in logged  # logging was on, at DEBUG
    for secret in ("Kestrel-5530", "Traveller", "white_other", "55_64", "female", token, pseudonym):
        assert secret not in logged, secret
    assert "/my-data/{token}" in logged  # the download was logged by its route alone


async def test_the_annual_prompt_reaches_the_person_through_the_outbox(
    service: Service, connector: StandInConnector, engine: AsyncEngine, settings: Settings
) -> None:
    runtime = runtime_of(service)
    e2e_settings = settings
    user = TeamsUser(name="Jo Okafor")
    chat = Chat(service, connector, user)
    await chat.post(user.installed(connector.url))
    await chat.say("declare")
    await chat.press("One question at a time")
    await chat.press("45 to 54")
    await chat.say("finish later")
    await chat.say("my data")
    await chat.press("Carry on")
    for _ in range(9):
        await chat.say("skip")
    assert (await chat.press("Save my answers")).startswith("Saved.")
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE declarations SET reviewed_on = :on"),
            {"on": today_utc() - timedelta(days=e2e_settings.declaration_review_days + 1)},
        )
    prompter = ReviewPrompter(
        content=runtime.content,
        pseudonyms=runtime.privacy.pseudonyms,
        outbox=runtime.outbox,
        after_days=e2e_settings.declaration_review_days,
    )
    run = await declaration_review_prompts(runtime.sessions, prompter)
    assert run.prompted == 1
    before = len(connector.replies(user.conversation_id))
    worker = build_worker(e2e_settings, runtime.outbox, runtime.sessions)
    try:
        result = await worker.drain()
    finally:
        await worker.stop()
    assert result.sent == 1
    [prompt] = connector.replies(user.conversation_id)[before:]
    shown = seen([prompt])
    assert shown.startswith("A yearly reminder")
    assert "45 to 54" not in json.dumps(prompt) and "45_54" not in json.dumps(prompt)
    chat.last = [prompt]
    assert (await chat.press("My data")).startswith("Your equality information")
    assert "Age: 45 to 54" in seen(chat.last)
    # A second run finds nobody due: the prompt is not sent twice.
    assert (await declaration_review_prompts(runtime.sessions, prompter)).prompted == 0
