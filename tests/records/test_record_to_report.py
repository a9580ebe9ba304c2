"""A private record becomes a report with one button, keeping when it was written down, on
SQLite and PostgreSQL: confidentially (the case handler sees the moment; the person chooses
whether to keep the record), and anonymously (the record is deleted as the report is sent,
the report carries the month alone and goes through the intake, and afterwards nothing on
disk links the person to it). Also: the report's first question offers a record instead."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.core.logs import configure_logging
from bot.db.session import unit_of_work
from bot.incidents.repo import forget_released
from dialogs.incidents.record_ui import in_london, moment_text
from scheduler.jobs import find_job, run_recorded
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.incidents.test_anonymous_trail import PERSON_TABLES, rows_with_system_columns
from tests.incidents.test_incidents import make_handler, receipt_value, runtime_of
from tests.privacy.test_privacy_cli import env_for
from tests.records.support import STORY, keep_record, stored_records, written_down_at
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

# Five weeks ago, to the minute: the moment the report must keep.
WRITTEN = (datetime.now(UTC) - timedelta(days=37)).replace(second=0, microsecond=0)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False)


async def to_the_review(chat: Chat, mode: str) -> str:
    """From "my records": open the record, turn it into a report, up to the review."""
    await chat.say("my records")
    await chat.press("Open")
    seen = await chat.press("Turn it into a report")
    assert f"from your private record written down on {moment_text(WRITTEN)}" in seen
    assert "How would you like to report?" in seen
    assert "Keep a private record instead" not in seen, "it is one already"
    assert "Who did this happen to?" in await chat.press(mode)
    # The story and details came from the record: not asked again.
    assert "Support and what happens next" in await chat.press("It happened to me")
    seen = await chat.press("Next")
    assert "Check your report" in seen and STORY in seen and "Who did it: A manager" in seen
    return seen


async def test_a_record_becomes_a_confidential_report_that_keeps_when_it_was_written(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    await keep_record(rosa)
    [record] = await stored_records(service)
    await written_down_at(service, record.id, WRITTEN)
    await rosa.say("my records")
    await rosa.press("Open")
    await rosa.press("Add it", addition="It happened again at the away day.")

    seen = await to_the_review(rosa, "Confidentially")
    assert f"Written down: {moment_text(WRITTEN)}" in seen
    month = in_london(datetime.now(UTC)).strftime("%B %Y")
    assert f"Added later, in {month}: It happened again at the away day." in seen
    seen = await rosa.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    assert f"Written down: {moment_text(WRITTEN)}" in seen
    assert "Your private record is still kept" in seen

    # The case handler sees when it was written down, beside when it was received.
    await handler.say("cases")
    seen = await handler.press(f"Open {reference}")
    assert f"Written down: {moment_text(WRITTEN)}" in seen and STORY in seen
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        report = await runtime.incidents.by_reference(session, reference)
        assert report is not None
        view = await runtime.incidents.view(session, report)
    assert view.written_down == WRITTEN.isoformat()
    code, out, _ = await run_cli("cases", "show", reference, env=env_for(database_url))
    assert code == 0 and json.loads(out)["written_down"] == WRITTEN.isoformat()

    # The person chose: keep it. It says which report was made from it.
    assert "still kept" in await rosa.press("Keep it")
    seen = await rosa.say("my records")
    assert f"({reference}, confidentially)" in seen
    # Later, from the card after the report, they delete it after all (asked first).
    await rosa.tap({"command": "my records", "do": "delete", "record": str(record.id)})
    assert "has been deleted" in await rosa.press("Yes, delete it")
    assert await stored_records(service) == []


async def test_a_record_becomes_an_anonymous_report_and_nothing_links_them_afterwards(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    alex = Chat(service, connector, TeamsUser(name="Alex Keeps"))
    for chat in (rosa, alex):
        await chat.install()
        await keep_record(chat)
    runtime = runtime_of(service)
    pseudonyms = runtime.privacy.pseudonyms
    [record] = [r for r in await stored_records(service) if r.owner == pseudonyms.of(_person(rosa))]
    await written_down_at(service, record.id, WRITTEN)
    [sealed] = [r.document for r in await stored_records(service) if r.id == record.id]
    who = [rosa.user.aad_object_id, rosa.user.user_id, rosa.user.conversation_id, rosa.user.name]

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        seen = await to_the_review(rosa, "Anonymously")
        month = in_london(WRITTEN).strftime("%B %Y")
        assert "your private record will be deleted when you do" in seen
        assert f"Written down: {month}" in seen and moment_text(WRITTEN) not in seen
        mark = len(stream.getvalue())
        seen = await rosa.press("Submit my report")
        submission_logs = stream.getvalue()[mark:]
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    reference = receipt_value(seen, "Your reference")
    assert receipt_value(seen, "Your passphrase")
    assert "has been deleted, so nothing links you to this anonymous report" in seen
    # Gone in the same turn (Alex's stays); the report waits in the intake like any other.
    assert [r.owner for r in await stored_records(service)] == [pseudonyms.of(_person(alex))]
    held = await rows_with_system_columns(engine)
    assert len(held["incident_intake"]) == 1 and held["incident_reports"] == []
    # Nothing logged at that moment (no incident, record or audit event).
    events = {json.loads(line)["event"] for line in submission_logs.splitlines() if line.strip()}
    assert not any(e.startswith(("incident", "records", "audit")) for e in events), events

    # The release, then the jobs that make the database forget what was deleted.
    async with unit_of_work(runtime.sessions) as session:
        assert (await runtime.incidents.release(session, today=_today(), force=True))[
            "released_reports"
        ] == 1
    await forget_released(engine)
    records_job = find_job("records")
    assert records_job is not None
    await run_recorded(records_job, runtime)
    async with unit_of_work(runtime.sessions) as session:
        await runtime.incidents.sweep(session, today=_today())

    # The report keeps the month it was written down, nothing finer.
    await handler.say("cases")
    seen = await handler.press(f"Open {reference}")
    assert f"Written down: {month}" in seen and STORY in seen
    async with runtime.sessions() as session:
        report = await runtime.incidents.by_reference(session, reference)
        assert report is not None and report.reporter_pseudonym is None
        view = await runtime.incidents.view(session, report)
    assert view.written_down == in_london(WRITTEN).strftime("%Y-%m")

    tables = await rows_with_system_columns(engine)
    [row] = [r for r in tables["incident_reports"] if r["reference"] == reference]
    assert not _mentions(row, who) and row["reporter"] is None
    # Nothing stored about Rosa names the report, and no record of hers is left to match.
    rosas = [r for name in PERSON_TABLES for r in tables.get(name, []) if _mentions(r, who)]
    assert rosas, "her own conversation is stored, as anyone's"
    assert not any(_mentions(r, [reference]) for r in rosas)
    assert [r["owner"] for r in tables["private_records"]] == [pseudonyms.of(_person(alex))]
    # The deleted record is gone from disk too, not only from the table.
    if engine.dialect.name == "postgresql":
        assert await _tuples_on_disk(engine, "private_records") == len(tables["private_records"])
    else:
        database = Path(str(make_url(str(engine.url)).database))
        stored = await asyncio.to_thread(_files_of, database)
        assert sealed[:48].encode() not in stored


async def test_the_reports_first_question_offers_a_private_record_instead(
    service: Service, connector: StandInConnector
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    # Words of harm start a report with them; "not ready" takes them to a record instead.
    words = "a visitor shouted abuse at me about my accent"
    seen = await rosa.say(words)
    assert "in danger right now" in seen
    seen = await rosa.press("No, nobody is in danger now")
    assert "Not ready to report?" in seen
    seen = await rosa.press("Keep a private record instead")
    assert "A private record is for you alone" in seen
    assert "I've started this with what you typed earlier" in seen
    assert rosa.prefilled("Next")["narrative"] == words
    await rosa.press("Next")
    await rosa.press("Skip all of these")
    seen = await rosa.press("Keep my record")
    assert "Kept. Only you can see this record" in seen
    [record] = await stored_records(service)
    # Nothing of a report was kept: "report" starts afresh.
    seen = await rosa.say("report")
    assert "in danger right now" in seen and "carry on" not in seen.lower()
    # "Turn it into a report" on the kept card works as the one in my records.
    await rosa.say("cancel")
    seen = await rosa.tap({"command": "report", "record": str(record.id)})
    assert "from your private record written down on" in seen


def _person(chat: Chat) -> Any:
    from bot.core.people import PersonKey

    return PersonKey(chat.user.tenant_id, chat.user.aad_object_id)


def _mentions(row: dict[str, Any], needles: list[str]) -> bool:
    flat = json.dumps(row, default=str).lower()
    return any(needle.lower() in flat for needle in needles)


def _today() -> Any:
    from bot.core.clock import today_in_london

    return today_in_london()


async def _tuples_on_disk(engine: AsyncEngine, table: str) -> int:
    """Every row version in the table's pages, live or dead (PostgreSQL's pageinspect)."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        pages = await connection.scalar(
            text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
        )
        found = 0
        for page in range(int(pages or 0)):
            found += int(
                await connection.scalar(
                    text(
                        f"SELECT count(*) FROM heap_page_items(get_raw_page('{table}', {page}))"
                        " WHERE t_xmin IS NOT NULL"
                    )
                )
                or 0
            )
        return found


def _files_of(database: Path) -> bytes:
    """The SQLite database and its write-ahead log, as bytes on disk."""
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
