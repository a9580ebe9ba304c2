"""Private records end to end: real HTTP in, replies at the stand-in connector, on SQLite and
PostgreSQL. A record is kept sealed under the person's pseudonym, outlives every purge, is
listed, added to, copied and deleted by its owner, and by nobody else, however the card is
forged. Turning one into a report is in test_record_to_report.py."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.core.logs import configure_logging
from bot.core.people import PersonKey
from bot.db.models import BotStateDocument, utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.incidents.models import IncidentIntake, IncidentReport
from bot.privacy import rotation
from bot.privacy.retention import purge, retention_rules
from bot.records.service import PrivateRecords, export_records
from dialogs.incidents.record_ui import moment_text
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import TEST_ENCRYPTION_KEYS, dev_settings
from tests.incidents.test_incidents import make_handler, runtime_of
from tests.privacy.test_privacy import KEY_B, cipher_for
from tests.privacy.test_privacy_cli import env_for
from tests.records.support import STORY, columns, keep_record, pseudonym_of, stored_records
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

NOT_FOUND = "I can't find that private record"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False)


async def count(service: Service, table: type) -> int:
    async with runtime_of(service).sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar() or 0)


def download_link(chat: Chat) -> str:
    """The "Download my data" link on the last card."""
    [link] = [
        action["url"]
        for reply in chat.last
        for attachment in reply.get("attachments") or []
        for action in attachment["content"].get("actions", [])
        if action.get("type") == "Action.OpenUrl" and action["title"] == "Download my data"
    ]
    return str(link)


async def test_a_record_is_kept_sealed_outlives_the_purge_and_is_listed_and_copied(
    service: Service, connector: StandInConnector, settings: Settings, database_url: str
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    handler = await make_handler(service, connector, "Casey Handler")
    seen = await keep_record(rosa)
    [row] = await stored_records(service)
    written = moment_text(row.created_at)
    assert "Kept. Only you can see this record" in seen
    assert f"Written down on {written}" in seen
    assert abs(row.created_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)) < timedelta(
        minutes=1
    ), "the moment it was written down"

    # Stored sealed, under the keyed pseudonym; nothing in clear names the person or says
    # what happened.
    assert row.owner == pseudonym_of(service, rosa)
    stored = json.dumps(columns(row), default=str)
    for secret in (STORY, "mocked", rosa.user.aad_object_id, rosa.user.name, rosa.user.user_id):
        assert secret not in stored
    # Nobody else sees it: no report, nothing in the intake, no case, no alert.
    assert await count(service, IncidentReport) == 0
    assert await count(service, IncidentIntake) == 0
    assert "There are no open cases" in await handler.say("cases")

    # An unfinished record is an unfinished conversation: a purge long after deletes it, and
    # never the kept record.
    await rosa.say("keep a record")
    await rosa.press("Next", narrative="Half written, not kept.")
    runtime = runtime_of(service)
    rules = retention_rules(settings, runtime.privacy.audit, FEATURES)
    counts = await purge(
        runtime.sessions, rules, runtime.privacy.audit, now=utcnow() + timedelta(days=3650)
    )
    assert counts["drafts"] >= 1 and counts["private_records"] == 0
    assert await count(service, BotStateDocument) == 0
    assert [r.id for r in await stored_records(service)] == [row.id]
    code, out, _ = await run_cli("retention", "purge", env=env_for(database_url))
    assert code == 0
    assert "rule private_records: private records: kept until the person deletes them" in out
    assert [r.id for r in await stored_records(service)] == [row.id]

    # Listed in "my records", and opened.
    seen = await rosa.say("my records")
    assert f"1. Written down on {written}" in seen
    assert f"{STORY[:79]}…" in seen, "the first words"
    seen = await rosa.press("Open")
    assert "Your private record" in seen and STORY in seen and "Who did it: A manager" in seen

    # In the copy of everything held about them, with when it was written down.
    seen = await rosa.press("Back to my records")
    seen = await rosa.press("Get a copy")
    assert "Your private records are in it in full" in seen
    path = download_link(rosa).split("127.0.0.1:3978", 1)[1]
    async with service.http.get(f"{service.base}{path}") as response:
        assert response.status == 200
        copy = json.loads(await response.read())
    [kept] = copy["private_records"]
    assert kept["what_happened"]["narrative"] == STORY
    assert kept["what_happened"]["perpetrator"] == "manager"
    assert kept["written_down_at"].startswith(row.created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert "Private records you kept" in copy["about_this_file"]["sections"]["private_records"]
    assert row.owner not in json.dumps(copy)
    # ... and counted in "my data"'s short summary, without its words.
    await rosa.say("export my data")
    seen = await rosa.press("Show a summary here")
    assert "Private records you kept: 1" in seen and STORY not in seen


async def test_a_record_is_added_to_deleted_after_asking_and_cancel_keeps_nothing(
    service: Service, connector: StandInConnector
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    await keep_record(rosa)
    await rosa.say("my records")
    await rosa.press("Open")
    seen = await rosa.press("Add it", addition="It happened again on Friday.")
    assert "Added to your record, timestamped" in seen
    assert "Added later" in seen and "It happened again on Friday." in seen
    # Words typed instead of using the box are shown back, not lost and not added unasked.
    [before] = await stored_records(service)
    seen = await rosa.say("He said it in front of the director too.")
    assert "Add this to your record?" in seen
    [after] = await stored_records(service)
    assert columns(after) == columns(before)
    seen = await rosa.press("Add it to my record")
    assert "He said it in front of the director too." in seen
    seen = await rosa.say("and then nothing else")
    seen = await rosa.press("Don't add it")
    assert "Nothing was added" in seen and "and then nothing else" not in seen
    # Too long to add: said, and nothing added.
    limit = runtime_of(service).service("records", PrivateRecords).limits.addition_chars
    seen = await rosa.press("Add it", addition="x" * (limit + 1))
    assert f"({limit:,} characters at most)" in seen
    # Deleting asks first; "no" keeps it.
    seen = await rosa.press("Delete it")
    assert "Delete this private record?" in seen and "can't be brought back" in seen
    assert "still kept" in await rosa.press("No, keep it")
    assert len(await stored_records(service)) == 1
    await rosa.say("my records")
    await rosa.press("Open")
    await rosa.press("Delete it")
    old_delete = rosa.button("Yes, delete it")
    seen = await rosa.press("Yes, delete it")
    assert "has been deleted" in seen
    assert await stored_records(service) == []
    # The same button again, and the record's other old buttons: a sentence, never an error.
    assert NOT_FOUND in await rosa.tap(old_delete)
    assert "You haven't kept any private records" in await rosa.say("my records")

    # A story over the limit is refused with its length; the draft is kept; cancel deletes it.
    await rosa.say("keep a record")
    seen = await rosa.press("Next", narrative="y" * 6001)
    assert "That's 6,001 characters; the limit is 6,000" in seen
    seen = await rosa.say("cancel")
    assert "Your unsaved record has been deleted. Nothing was kept." in seen
    assert await stored_records(service) == []
    assert await count(service, IncidentReport) == 0


@pytest.mark.parametrize(
    "forged",
    [
        {"do": "open"},
        {"do": "add", "addition": "Planted words."},
        {"do": "delete"},
        {"do": "delete_yes"},
        {"do": "keep"},
        {"do": "typed"},
    ],
)
async def test_nobody_else_can_open_add_to_delete_or_report_a_record(
    service: Service, connector: StandInConnector, forged: dict[str, str]
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    mallory = Chat(service, connector, TeamsUser(name="Mallory Other"))
    for chat in (rosa, mallory):
        await chat.install()
    await keep_record(rosa)
    [record] = await stored_records(service)
    before = columns(record)

    seen = await mallory.tap({"command": "my records", "record": str(record.id), **forged})
    assert NOT_FOUND in seen and STORY not in seen
    # The report's button with her record's id starts nothing and shows nothing.
    seen = await mallory.tap({"command": "report", "record": str(record.id)})
    assert NOT_FOUND in seen and STORY not in seen and "How would you like to report" not in seen
    # Odd values where the id goes: the same sentence, never an error.
    for odd in ("abc", "-5", str(10**30), 12.5, ["1"], {"id": 1}, None, True, ""):
        seen = await mallory.tap({"command": "my records", "do": "open", "record": odd})
        assert NOT_FOUND in seen or "You haven't kept any private records" in seen
    [after] = await stored_records(service)
    assert columns(after) == before
    assert await count(service, IncidentReport) == 0
    # Rosa's own record is untouched.
    seen = await rosa.tap({"command": "my records", "do": "open", "record": str(record.id)})
    assert STORY in seen and "Planted words" not in seen


async def test_records_are_erased_with_the_person_and_rotated_with_the_keys(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    alex = Chat(service, connector, TeamsUser(name="Alex Keeps"))
    for chat in (rosa, alex):
        await chat.install()
        await keep_record(chat)
    runtime = runtime_of(service)

    results = await rotation.rotate(
        runtime.sessions, cipher_for(f"{KEY_B},{TEST_ENCRYPTION_KEYS}"), FEATURES
    )
    assert {r.column: r.reencrypted for r in results}["private_records.document"] == 2
    async with runtime.sessions() as session:
        [opened] = await export_records(
            session, cipher_for(KEY_B), owner=pseudonym_of(service, rosa)
        )
    assert opened["what_happened"]["narrative"] == STORY

    env = env_for(database_url, keys=f"{KEY_B},{TEST_ENCRYPTION_KEYS}")
    person = ("person", "export", rosa.user.aad_object_id, "--tenant", rosa.user.tenant_id)
    code, out, _ = await run_cli(*person, env=env)
    assert code == 0 and STORY in out
    erase = ("person", "erase", rosa.user.aad_object_id, "--tenant", rosa.user.tenant_id, "--yes")
    code, out, _ = await run_cli(*erase, env=env)
    assert code == 0
    [left] = await stored_records(service)
    assert left.owner == pseudonym_of(service, alex)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("I want to write down what happened but not report it", "A private record is for you"),
        ("I'm not ready to report, I just want to note down what he said", "A private record is"),
        ("keep a record", "A private record is for you alone"),
        ("private record", "A private record is for you alone"),
        ("my records", "You haven't kept any private records"),
        ("show me what I wrote down before", "You haven't kept any private records"),
    ],
)
async def test_peoples_own_words_reach_private_records(
    service: Service, connector: StandInConnector, typed: str, expected: str
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Sam Words"))
    await chat.install()
    assert expected in await chat.say(typed)


async def test_private_records_are_kept_only_in_the_one_to_one_chat(
    service: Service, connector: StandInConnector
) -> None:
    user = TeamsUser(name="Rosa Record")
    chat = Chat(service, connector, user)
    await chat.install()
    await keep_record(chat)
    [record] = await stored_records(service)
    for value in (
        {"command": "my records"},
        {"command": "my records", "do": "open", "record": str(record.id)},
        {"command": "report", "record": str(record.id)},
        {"command": "keep a record"},
    ):
        activity = user.submit(value, connector.url)
        activity["conversation"]["conversationType"] = "groupChat"
        seen = chat.seen(await chat.post(activity))
        assert "only in our one-to-one chat" in seen and STORY[:20] not in seen


async def test_a_record_at_every_limit_still_opens_reports_and_is_kept_on_cancel(
    service: Service, connector: StandInConnector
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    await keep_record(rosa, story="*" * 6000)  # the longest story, all Markdown to escape
    [record] = await stored_records(service)
    runtime = runtime_of(service)
    records = runtime.service("records", PrivateRecords)
    limits = records.limits
    person = PersonKey(rosa.user.tenant_id, rosa.user.aad_object_id)
    async with unit_of_work(runtime.sessions) as session:
        for n in range(limits.additions_per_record):
            words = f"Addition {n:02d} " + "_" * (limits.addition_chars - 12)
            await records.add(session, person, record.id, words, now=utcnow())

    await rosa.say("my records")
    seen = await rosa.press("Open")
    assert "Addition 49" in seen and "Addition 39" not in seen
    assert "And 40 earlier addition(s), not shown here" in seen
    seen = await rosa.press("Add it", addition="One more.")
    assert f"as many additions as I can keep ({limits.additions_per_record})" in seen
    # Into a report: the story fills the report's box, so the additions are left out, said.
    seen = await rosa.press("Turn it into a report")
    assert "50 later addition(s) didn't fit in the report" in seen
    assert "How would you like to report?" in seen
    seen = await rosa.say("cancel")
    assert "Your draft has been deleted" in seen
    assert "Your private record is unchanged, still only for you." in seen
    [kept] = await stored_records(service)
    assert kept.id == record.id
    assert await count(service, IncidentReport) == 0


async def test_nothing_about_a_record_is_logged(
    service: Service, connector: StandInConnector
) -> None:
    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        await keep_record(rosa)
        [record] = await stored_records(service)
        await rosa.say("my records")
        await rosa.press("Open")
        await rosa.press("Add it", addition="Zebra-4471 said it again.")
        await rosa.press("Delete it")
        await rosa.press("Yes, delete it")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    logged = stream.getvalue()
    assert "request" in logged, "logging was on, at DEBUG"
    events = {json.loads(line)["event"] for line in logged.splitlines() if line.strip()}
    assert not any(e.startswith(("records", "audit")) for e in events), events
    for secret in (STORY, "mocked my accent", "Zebra-4471", str(record.id), record.owner):
        assert secret not in logged


async def test_a_file_sent_while_writing_a_record_is_not_fetched_and_the_words_are_kept(
    service: Service, connector: StandInConnector
) -> None:
    """A record keeps words only: a photo sent while writing one is not fetched or kept, the
    person is told where it can go, and the record carries on."""
    from bot.incidents.models import IncidentIntakeFile
    from tests.incidents.test_evidence import gps_jpeg, send_file

    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    seen = await rosa.say("keep a record")
    assert "In your own words, what happened?" in seen
    seen = await send_file(rosa, "bruise.jpg", gps_jpeg())
    assert "A private record keeps your words only, not files" in seen
    assert "In your own words, what happened?" in seen  # asked again
    assert await count(service, IncidentIntakeFile) == 0
    assert connector.file_requests == []  # never fetched
    assert "A few more details" in await rosa.press("Next", narrative=STORY)
