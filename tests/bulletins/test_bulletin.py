"""The monthly bulletin end to end: the scheduled publish on the right day, delivery through
the outbox over HTTP, feedback and unsubscribe from the card, the chat command, the CLI and
a person's data; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RUNTIME_KEY
from bot.bulletins.models import BulletinFeedback, BulletinReach
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.clock import LONDON
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.privacy import rotation
from bot.privacy.retention import purge, retention_rules
from bot.privacy.subject_access import erase_person, export_person
from bot.runtime import Runtime
from tests.cards import buttons, cards, inputs, visible_text
from tests.chat import Chat, converse
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)  # the first working day of November
DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """The real content (with the real November and December bulletins) in a scratch copy."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


@pytest.fixture
def bulletin_settings(database_url: str, content_dir: Path) -> Settings:
    return dev_settings(
        database_url=database_url, content_dir=content_dir, outbox_poll_seconds=0.05
    )


@pytest.fixture
async def service(bulletin_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(bulletin_settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


def runtime_of(service: Service) -> Runtime:
    return service.runner.app[RUNTIME_KEY]


async def staff(service: Service, connector: StandInConnector, count: int) -> list[TeamsUser]:
    """People who installed the bot (so it holds a reference for each)."""
    people = [TeamsUser(name=f"Person {n}") for n in range(count)]
    for user in people:
        status, _ = await service.post(user.installed(connector.url))
        assert status == 201
    return people


async def received_bulletin(connector: StandInConnector, user: TeamsUser) -> dict[str, Any]:
    [activity] = await connector.wait_for(user.conversation_id, 1)
    return activity


def feedback(month: str, rating: str, comment: str | None = None) -> dict[str, Any]:
    """What the card's Useful / Not useful button sends (data + the comment input)."""
    value: dict[str, Any] = {"command": "bulletin feedback", "bulletin": month, "rating": rating}
    if comment is not None:
        value["comment"] = comment
    return value


# ---- scheduled delivery ---------------------------------------------------------------------


async def test_the_bulletin_goes_out_on_the_first_working_day_to_everyone_once(
    service: Service, connector: StandInConnector
) -> None:
    people = await staff(service, connector, 3)
    bulletins = runtime_of(service).bulletins
    assert await bulletins.publish_due(NOV_2 - timedelta(days=1)) is None  # Sunday the 1st
    assert connector.received == []
    result = await bulletins.publish_due(NOV_2)
    assert result is not None and (result.month, result.queued) == ("2026-11", 3)
    for user in people:
        activity = await received_bulletin(connector, user)
        assert activity["summary"].startswith("November's EDI bulletin")
        shown = visible_text(activity)
        assert "Equality, diversity and inclusion bulletin\nNovember 2026" in shown
        assert "Commitments the council has made" in shown
        assert [title for title, _ in buttons(activity)] == [
            "Useful",
            "Not useful",
            "Stop sending me the bulletin",
        ]
    # The job fires every working day; the month is never sent twice.
    assert await bulletins.publish_due(NOV_2 + timedelta(days=1)) is None
    status = await bulletins.status("2026-11")
    assert status.issue is not None and status.issue.published_by == "system:scheduler"
    assert len(connector.received) == 3


async def test_a_bulletin_with_a_later_publish_date_waits_for_it(
    service: Service, connector: StandInConnector, content_dir: Path
) -> None:
    path = content_dir / "bulletins" / "2026-11.md"
    path.write_text(
        path.read_text().replace("month: 2026-11\n", "month: 2026-11\npublish_date: 2026-11-04\n")
    )
    await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    assert await bulletins.publish_due(NOV_2) is None
    assert await bulletins.publish_due(NOV_2 + timedelta(days=1)) is None
    result = await bulletins.publish_due(NOV_2 + timedelta(days=2))
    assert result is not None and result.queued == 1


async def test_a_broken_bulletin_is_not_sent_and_nothing_crashes(
    service: Service, connector: StandInConnector, content_dir: Path
) -> None:
    (content_dir / "bulletins" / "2026-11.md").write_text("---\ntitle: [oops\n---\n")
    await staff(service, connector, 1)
    assert await runtime_of(service).bulletins.publish_due(NOV_2) is None
    assert connector.received == []


# ---- feedback, unsubscribe and the chat command -------------------------------------------


async def test_feedback_from_the_card_is_recorded_with_the_comment_sealed(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    reader, other = await staff(service, connector, 2)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    await received_bulletin(connector, other)

    said = await converse(
        service, connector, reader, feedback("2026-11", "useful", "More on disability, please")
    )
    assert said == (
        "Thank you. I've recorded that you found the November 2026 bulletin useful. "
        "Your comment has been passed on to the team, without your name."
    )
    said = await converse(service, connector, other, feedback("2026-11", "not_useful", ""))
    assert said.startswith("Thank you. I've recorded that the November 2026 bulletin wasn't")
    assert "comment" not in said

    status = await bulletins.status("2026-11")
    assert (status.feedback.useful, status.feedback.not_useful) == (1, 1)
    assert (status.feedback.comments, status.feedback.reached) == (1, 2)
    assert (status.deliveries.sent, status.deliveries.queued) == (2, 0)
    assert await bulletins.comments("2026-11") == [("useful", "More on disability, please")]
    async with engine.connect() as connection:
        stored = (await connection.execute(select(BulletinFeedback.comment))).scalars().all()
        pseudonyms = (await connection.execute(select(BulletinReach.pseudonym))).scalars().all()
    assert not any("disability" in (value or "") for value in stored)
    assert not {reader.aad_object_id, other.aad_object_id} & set(pseudonyms)

    # Changing one's mind replaces the reaction and keeps the earlier comment.
    await converse(service, connector, reader, feedback("2026-11", "not_useful"))
    status = await bulletins.status("2026-11")
    assert (status.feedback.useful, status.feedback.not_useful, status.feedback.comments) == (
        0,
        2,
        1,
    )


async def test_odd_feedback_gets_a_clear_answer(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    await runtime_of(service).bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    unknown = "I couldn't find that bulletin. Type **bulletin** to see the latest one."
    assert await converse(service, connector, reader, feedback("2026-12", "useful")) == unknown
    assert await converse(service, connector, reader, feedback("11/2026", "useful")) == unknown
    assert await converse(service, connector, reader, feedback("2026-11", "brilliant")) == unknown
    too_long = await converse(service, connector, reader, feedback("2026-11", "useful", "x" * 1001))
    assert too_long.startswith("That comment is longer than I can take (1,000 characters")
    status = await runtime_of(service).bulletins.status("2026-11")
    assert status.feedback.useful == 0


async def test_unsubscribe_is_honoured_next_month_and_subscribe_restores_it(
    service: Service, connector: StandInConnector
) -> None:
    leaver, stayer = await staff(service, connector, 2)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, leaver)
    await received_bulletin(connector, stayer)

    said = await converse(service, connector, leaver, {"command": "unsubscribe bulletin"})
    assert said.startswith("Done: you won't be sent the monthly bulletin any more.")
    [reply] = connector.replies(leaver.conversation_id)[-1:]
    assert buttons(reply) == [("Send me the bulletin again", {"command": "subscribe bulletin"})]
    assert (await converse(service, connector, leaver, "stop bulletins")).startswith(
        "You're already not being sent the bulletin."
    )

    result = await bulletins.publish_due(DEC_1)
    assert result is not None and (result.queued, result.unsubscribed) == (1, 1)
    [_, december] = await connector.wait_for(stayer.conversation_id, 2)
    assert "December 2026" in visible_text(december)
    assert len(connector.replies(leaver.conversation_id)) == 3  # Nov + two answers only

    # Still readable on demand, and back on the list with a word.
    shown = await converse(service, connector, leaver, "bulletin")
    assert "December 2026" in shown
    assert (await converse(service, connector, leaver, "subscribe")).startswith(
        "Done: you'll be sent the bulletin"
    )


async def test_bulletin_in_chat_shows_the_latest_or_says_there_is_none(
    service: Service, connector: StandInConnector
) -> None:
    reader = TeamsUser()
    assert await converse(service, connector, reader, "bulletin") == (
        "No bulletin has been published yet. The bulletin comes out on the first working day "
        "of each month."
    )
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await bulletins.publish_due(DEC_1)
    # Having messaged the bot, the reader is on the list: both months arrive.
    before = len(await connector.wait_for(reader.conversation_id, 3))
    assert "December 2026" in await converse(service, connector, reader, "latest bulletin")
    [reply] = connector.replies(reader.conversation_id)[before:]
    assert len(cards(reply)) == 1
    # Opening it on demand counts as reach.
    assert (await bulletins.status("2026-12")).feedback.reached == 1


# ---- the command line -----------------------------------------------------------------------


async def test_cli_validate_reports_every_problem_with_its_line(content_dir: Path) -> None:
    broken = content_dir / "bulletins" / "2027-01.md"
    broken.write_text("---\ntitle: x\nmonth: 2027-1\nsummary: y\n---\n# Heading\n")
    # Validating reads only the content: no database is opened.
    env = env_for("sqlite+aiosqlite:///nowhere/unused.db") | {"EDI_CONTENT_DIR": str(content_dir)}
    code, out, err = await run_cli("bulletin", "validate", "2027-01", env=env)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{broken}:3: month: must be YYYY-MM, e.g. 2026-11 (got '2027-1')",
        f"{broken}:6: use '## ' for section headings; the title comes from the front matter",
        f"{broken}:6: the body needs at least one '## ' section",
        "3 problem(s): fix them and validate again",
    ]
    code, out, _ = await run_cli("bulletin", "validate", "2026-11", env=env)
    assert code == 0
    assert "goes out Monday 02 November 2026 at 09:00 (Europe/London)" in out
    code, _, err = await run_cli("bulletin", "validate", "November", env=env)
    assert code == 2 and "a month is written YYYY-MM" in err


async def test_cli_preview_publish_and_status(
    engine: AsyncEngine,
    database_url: str,
    content_dir: Path,
    bulletin_settings: Settings,
    connector: StandInConnector,
) -> None:
    env = env_for(database_url) | {"EDI_CONTENT_DIR": str(content_dir)}
    code, out, _ = await run_cli("bulletin", "preview", "2026-12", env=env)
    assert code == 0
    assert out.startswith("Notification: December's EDI bulletin")
    assert "[1] Useful" in out and "[3] Stop sending me the bulletin" in out

    future = content_dir / "bulletins" / "2099-01.md"
    future.write_text(
        (content_dir / "bulletins" / "2026-12.md").read_text().replace("2026-12", "2099-01")
    )
    code, out, _ = await run_cli("bulletin", "publish", "2099-01", env=env)
    assert code == 2
    assert "goes out by itself on Friday 02 January 2099 at 09:00; add --now" in out

    running = await start_service(bulletin_settings, engine)
    try:
        people = await staff(running, connector, 2)
        code, out, _ = await run_cli("bulletin", "publish", "2026-11", "--wait", env=env)
        for user in people:
            await received_bulletin(connector, user)
        await converse(running, connector, people[0], feedback("2026-11", "useful", "Good"))
    finally:
        await stop_service(running)
    lines = out.splitlines()
    assert code == 0
    assert lines[1] == "2 people have the bot installed; 0 of them have unsubscribed"
    assert lines[2].startswith("queued for 2 people (message ")
    assert lines[-1] == "sent 2 of 2; queued 0, failed 0, gone 0"

    assert (await run_cli("bulletin", "publish", "2026-11", env=env))[1].splitlines()[1] == (
        "2026-11 was already published: 2 queued then; nothing new"
    )
    code, out, _ = await run_cli("bulletin", "status", "2026-11", env=env)
    assert code == 0
    assert out.splitlines()[1:] == [
        "deliveries: queued 0, sent 2, failed 0, gone 0, unreachable 0",
        "reached: 2 people (sent, or opened it in chat)",
        "reactions: useful 1, not useful 0; comments 1",
    ]
    code, out, _ = await run_cli("bulletin", "comments", "2026-11", env=env)
    assert (code, out) == (0, "[useful] Good\n")
    assert (await run_cli("bulletin", "status", "2026-12", env=env))[
        1
    ] == "2026-12: not published\n"


# ---- a person's data, retention, keys -----------------------------------------------------


async def test_a_bulletin_nobody_can_get_is_not_published_and_the_month_stays_free(
    content_dir: Path, database_url: str, service: Service, connector: StandInConnector
) -> None:
    env = env_for(database_url) | {"EDI_CONTENT_DIR": str(content_dir)}
    code, out, _ = await run_cli("bulletin", "publish", "2026-11", env=env)
    assert code == 1
    assert out.splitlines()[1:] == [
        "0 people have the bot installed; 0 of them have unsubscribed",
        "not published: nobody can be sent it yet, so the 2026-11 bulletin is still "
        "unpublished and will go out once people have the bot",
    ]
    bulletins = runtime_of(service).bulletins
    assert (await bulletins.status("2026-11")).issue is None
    # The schedule's run on its day does the same, and goes ahead once someone can get it.
    assert (await bulletins.publish_due(NOV_2)).to_nobody  # type: ignore[union-attr]
    [reader] = await staff(service, connector, 1)
    result = await bulletins.publish_due(NOV_2 + timedelta(days=1))
    assert result is not None and result.queued == 1
    await received_bulletin(connector, reader)


async def test_export_erase_retention_and_rotation_cover_bulletin_data(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    reader, other = await staff(service, connector, 2)
    runtime = runtime_of(service)
    await runtime.bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    await received_bulletin(connector, other)
    await converse(service, connector, reader, feedback("2026-11", "useful", "Clear and short"))
    await converse(service, connector, reader, "unsubscribe")
    await converse(service, connector, other, feedback("2026-11", "useful", "Thanks"))

    async with runtime.sessions() as session:
        usage = await rotation.key_usage(session, FEATURES)
    assert usage["bulletin_feedback.comment"] == {runtime.privacy.cipher.active_id: 2}

    async with unit_of_work(runtime.sessions) as session:
        found = await export_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=reader.tenant_id,
            aad_object_id=reader.aad_object_id,
        )
        held = found["bulletin"]
        assert [r["month"] for r in held["sent_or_opened"]] == ["2026-11"]
        assert held["feedback"][0]["comment"] == "Clear and short"
        assert held["feedback"][0]["rating"] == "useful"
        assert len(held["unsubscribed"]) == 1
        counts, _ = await erase_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=reader.tenant_id,
            aad_object_id=reader.aad_object_id,
        )
    assert counts["bulletin_rows"] == 3
    assert await runtime.bulletins.comments("2026-11") == [("useful", "Thanks")]

    settings = runtime.settings
    rules = retention_rules(settings, runtime.privacy.audit, FEATURES)
    months = settings.retention_bulletin_months
    counts = await purge(
        runtime.sessions,
        rules,
        runtime.privacy.audit,
        now=utcnow().replace(year=2026 + months // 12 + 1),
    )
    assert counts["bulletin"] == 2  # the other person's reach and feedback
    assert (await runtime.bulletins.status("2026-11")).feedback.reached == 0


async def test_feedback_pressed_mid_conversation_is_recorded_and_the_conversation_resumes(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    await runtime_of(service).bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    asked = await converse(service, connector, reader, "report")

    said = await converse(service, connector, reader, feedback("2026-11", "useful"))
    thanks, back = said.split("\n", 1)
    assert thanks.startswith("Thank you. I've recorded that you found the November 2026")
    assert back.startswith("Back to “Report a hate incident”, where we left off")
    assert back.endswith(asked)  # the waiting question, asked again
    status = await runtime_of(service).bulletins.status("2026-11")
    assert status.feedback.useful == 1
    # The report is still in progress: "cancel" now stops it, and nothing is left waiting.
    stopped = await converse(service, connector, reader, "cancel")
    assert stopped.startswith("OK, I've stopped “Report a hate incident”.")
    assert stopped.endswith("Your draft has been deleted. Nothing was sent.")
    assert "Back to" not in stopped


async def test_a_second_comment_keeps_the_first_and_says_so(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    await converse(service, connector, reader, feedback("2026-11", "useful", "First thought"))
    said = await converse(
        service, connector, reader, feedback("2026-11", "not_useful", "Second thought")
    )
    assert "I've added this to the comment you sent before" in said
    assert await bulletins.comments("2026-11") == [
        ("not_useful", "First thought\n\nSecond thought")
    ]


async def test_someone_unsubscribed_is_offered_the_bulletin_again_not_stop(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    await runtime_of(service).bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    await converse(service, connector, reader, {"command": "unsubscribe bulletin"})
    chat = Chat(service, connector, reader)
    await chat.say("bulletin")
    titles = [title for reply in chat.last for title, _ in buttons(reply)]
    assert "Stop sending me the bulletin" not in titles
    assert "Send me the bulletin each month" in titles
    said = await chat.press("Send me the bulletin each month")
    assert said.startswith("Done: you'll be sent the bulletin")
    await chat.say("bulletin")
    assert "Stop sending me the bulletin" in [t for r in chat.last for t, _ in buttons(r)]


async def test_a_comment_typed_after_the_bulletin_is_offered_back_to_send(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    chat = Chat(service, connector, reader)
    await chat.say("bulletin")
    seen = await chat.say("More about carers next month please")
    assert "Send this as a comment on the November 2026 bulletin?" in seen
    said = await chat.press("Useful")
    assert "Your comment has been passed on to the team" in said
    assert await bulletins.comments("2026-11") == [
        ("useful", "More about carers next month please")
    ]
    # Words dropped only when the person says so; another feature just starts.
    await chat.say("bulletin")
    await chat.say("never mind that")
    assert "I haven't sent that" in await chat.press("Don't send it")
    await chat.say("bulletin")
    assert "Upcoming" in await chat.say("events") or "event" in chat.seen(chat.last).lower()
    assert "We're in the middle of" not in chat.seen(chat.last)


# ---- people's own words ------------------------------------------------------------------------


async def reached(service: Service, month: str, count: int) -> None:
    """Wait until the outbox has recorded `count` people reached by `month`'s bulletin."""
    for _ in range(100):
        if (await runtime_of(service).bulletins.status(month)).feedback.reached >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{month} reached fewer than {count}")


def comment_boxes(chat: Chat) -> list[str]:
    """The values the last cards put in their comment boxes."""
    return [
        str(element.get("value"))
        for reply in chat.last
        for element in inputs(reply)
        if element.get("id") == "comment" and "value" in element
    ]


async def test_each_reaction_says_truthfully_what_became_of_the_rating_and_the_comment(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    first = feedback("2026-11", "useful", "First thought")
    assert (await converse(service, connector, reader, first)).startswith(
        "Thank you. I've recorded that you found the November 2026 bulletin useful."
    )
    # The same card pressed twice: the comment is not stored twice, and the reply says so.
    again = await converse(service, connector, reader, first)
    assert again == (
        "You'd already told me that the November 2026 bulletin was useful. I already have "
        "this comment, so I haven't added it again. It has been passed on to the team, "
        "without your name."
    )
    assert await bulletins.comments("2026-11") == [("useful", "First thought")]
    second = await converse(
        service, connector, reader, feedback("2026-11", "not_useful", "Second thought")
    )
    assert second.startswith("Thank you. I've changed your answer: the November 2026 bulletin")
    assert "I've added this to the comment you sent before" in second
    # A reaction without a comment changes the rating only: both comments stay.
    third = await converse(service, connector, reader, feedback("2026-11", "useful"))
    assert third == (
        "Thank you. I've changed your answer: you now found the November 2026 bulletin useful."
    )
    assert await bulletins.comments("2026-11") == [("useful", "First thought\n\nSecond thought")]


async def test_a_buttons_title_typed_is_that_button(
    service: Service, connector: StandInConnector
) -> None:
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    chat = Chat(service, connector, reader)
    said = await chat.say("Stop sending me the bulletin")
    assert said.startswith("Done: you won't be sent the monthly bulletin any more.")
    assert [title for reply in chat.last for title, _ in buttons(reply)] == [
        "Send me the bulletin again"
    ]
    # Nobody left to send December to: it waits (the month is not used up).
    assert (await bulletins.publish_due(DEC_1)).to_nobody  # type: ignore[union-attr]
    assert len(connector.replies(reader.conversation_id)) == 2  # November and the answer
    said = await chat.say("Send me the bulletin each month")
    assert said.startswith("Done: you'll be sent the bulletin on the first working day")
    assert [title for reply in chat.last for title, _ in buttons(reply)] == [
        "Stop sending me the bulletin"
    ]
    assert (await bulletins.publish_due(DEC_1 + timedelta(days=1))).queued == 1  # type: ignore[union-attr]
    await connector.wait_for(reader.conversation_id, 4)
    # After the bulletin, "Useful" typed is the card's Useful: a reaction, no comment.
    await chat.say("bulletin")
    assert (await chat.say("useful")).startswith(
        "Thank you. I've recorded that you found the December 2026 bulletin useful."
    )
    status = await bulletins.status("2026-12")
    assert (status.feedback.useful, status.feedback.comments) == (1, 0)


async def test_words_typed_after_the_bulletin_are_all_kept_on_the_card_until_sent_or_dropped(
    service: Service, connector: StandInConnector, caplog: pytest.LogCaptureFixture
) -> None:
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    caplog.set_level(logging.DEBUG, logger="bot")
    chat = Chat(service, connector, reader)
    await chat.say("bulletin")
    await chat.say("More about carers, confidential 5521")
    seen = await chat.say("and about the menopause policy")
    assert "Send this as a comment on the November 2026 bulletin?" in seen
    both = "More about carers, confidential 5521\n\nand about the menopause policy"
    assert comment_boxes(chat) == [both]
    # "Carry on" (the shell's way back) shows the words again, still unsent.
    await chat.tap({"command": "carry on"})
    assert comment_boxes(chat) == [both]
    assert await bulletins.comments("2026-11") == []
    said = await chat.say("Not useful")  # the card's button, typed: sends what it holds
    assert said.endswith("Your comment has been passed on to the team, without your name.")
    assert await bulletins.comments("2026-11") == [("not_useful", both)]
    assert "5521" not in caplog.text
    # "bulletin" typed while the card is out asks for the bulletin, not a comment.
    await chat.say("bulletin")
    await chat.say("One more thing")
    assert "November 2026" in await chat.say("bulletin")
    assert comment_boxes(chat) == []
    # Dropped only when the person says so (typed or pressed), and nothing is stored.
    await chat.say("One more thing")
    assert "I haven't sent that" in await chat.say("Don't send it")
    assert await bulletins.comments("2026-11") == [("not_useful", both)]


async def test_words_that_start_the_bulletin_are_offered_as_a_comment_once_it_was_had(
    service: Service, connector: StandInConnector
) -> None:
    newcomer = TeamsUser(name="New Starter")
    [reader] = await staff(service, connector, 1)
    bulletins = runtime_of(service).bulletins
    await bulletins.publish_due(NOV_2)
    await received_bulletin(connector, reader)
    await reached(service, "2026-11", 1)
    # Words the shell carried on a button ("said") after the bulletin reached them.
    chat = Chat(service, connector, reader)
    await chat.tap({"command": "bulletin", "said": "More on carers please"})
    assert "Send this as a comment on the November 2026 bulletin?" in chat.seen(chat.last)
    assert comment_boxes(chat) == ["More on carers please"]
    chat.last = chat.last[-1:]  # the card holding the words (the bulletin is shown above it)
    said = await chat.press("Useful")
    assert "Your comment has been passed on" in said
    assert await bulletins.comments("2026-11") == [("useful", "More on carers please")]
    # Typed words the shell read as being about the bulletin start it the same way.
    await chat.say("comment on the bulletin: the events list was great")
    assert comment_boxes(chat) == ["comment on the bulletin: the events list was great"]
    # A request in the menu's own words is only a request; and someone who had not had this
    # bulletin is shown it, their words not taken for a comment on what they had not read.
    await chat.say("what's in the newsletter")
    assert comment_boxes(chat) == []
    other = Chat(service, connector, newcomer)
    await other.tap({"command": "bulletin", "said": "More on carers please"})
    assert "November 2026" in other.seen(other.last) and comment_boxes(other) == []
